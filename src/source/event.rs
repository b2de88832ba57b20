//! What a source's stream carries: documents (each with an optional lazy download) and reports about the
//! listing — a part that could not be listed, a document that no longer exists.

use std::future::Future;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use futures::{FutureExt, StreamExt};
use serde_json::{Map, Value};

use super::{ErrorKind, SourceError};

/// A file's content as a source hands it over: its bytes as a stream of chunks, which the engine reads under its
/// memory budget (and stops reading at its size cap, whatever the source said), so no source ever holds a whole
/// file.
pub struct Attachment {
    pub filename: String,
    /// The size the answer announced before any byte was read (an HTTP `Content-Length`), if any.
    pub size: Option<u64>,
    pub body: BoxStream<'static, Result<Bytes, SourceError>>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Attachment {
    /// A file whose bytes are already in memory (test sources, small generated content).
    pub fn from_bytes(filename: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes: Bytes = bytes.into();
        Attachment {
            filename: filename.into(),
            size: Some(bytes.len() as u64),
            body: stream::once(async move { Ok(bytes) }).boxed(),
        }
    }

    /// Reads the whole body, failing once it passes `max_bytes`.
    pub async fn read_all(mut self, max_bytes: usize) -> Result<Vec<u8>, SourceError> {
        let mut out = Vec::with_capacity(self.size.map_or(0, |s| s.min(max_bytes as u64) as usize));
        while let Some(chunk) = self.body.next().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > max_bytes {
                return Err(SourceError::new(
                    ErrorKind::InvalidData,
                    format!("{} is larger than {max_bytes} bytes", self.filename),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// A download that has not started: the future does nothing until polled, and dropping it costs nothing.
pub struct Download {
    /// The file's size as the listing gave it, if known: the engine reserves memory for it before starting
    /// (and again, more, if the answer announces a larger size).
    pub listed_size: Option<u64>,
    pub fetch: BoxFuture<'static, Result<Option<Attachment>, SourceError>>,
}

impl Download {
    pub fn new(
        listed_size: Option<u64>,
        fetch: impl Future<Output = Result<Option<Attachment>, SourceError>> + Send + 'static,
    ) -> Self {
        Download {
            listed_size,
            fetch: fetch.boxed(),
        }
    }
}

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
