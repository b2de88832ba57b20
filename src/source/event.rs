//! What a source's stream carries: documents (each with an optional lazy download) and reports about the
//! listing — a part that could not be listed, a document that no longer exists.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::SourceError;

/// A file's bytes, fetched only when the engine decides the document needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A download that has not started: the future does nothing until polled, and dropping it costs nothing.
pub type Download = BoxFuture<'static, Result<Option<Attachment>, SourceError>>;

pub struct SourceDoc {
    /// The document; `_id` names it (a missing or empty `_id` drops it with a warning), `_timestamp` is the
    /// source's last-modified value used to skip unchanged documents.
    pub doc: Map<String, Value>,
    pub download: Option<Download>,
}

impl std::fmt::Debug for SourceDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceDoc")
            .field("doc", &self.doc)
            .field("download", &self.download.is_some())
            .finish()
    }
}

#[derive(Debug)]
pub enum SourceEvent {
    Doc(SourceDoc),
    /// Part of the listing failed after retries; `part` names it for the job's report.
    Incomplete {
        part: String,
        reason: String,
    },
    /// The document with this `_id` no longer exists (delta listings report deletions this way).
    Deleted {
        id: String,
    },
}
