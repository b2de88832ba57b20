//! The boundary between the sync engine and the data sources: what a source gives the engine (a stream of
//! [`SourceEvent`]s: documents, each with an optional lazy content download, interleaved with reports about the
//! listing), how it fails ([`SourceError`], typed by [`ErrorKind`]), what its remote API cost ([`ApiUsage`]), and
//! the [`Registry`] a binary's sources are listed in. The engine and the service loops depend on this module and
//! never on a source; each source depends on this module and never on Elasticsearch.
//!
//! Completeness is explicit: a source that could not list some part (a page or a subtree failed after its own
//! retries) says so with [`SourceEvent::Incomplete`] and goes on with the rest. The engine then indexes what it
//! got and deletes nothing, because a document it did not see may still exist. A failure that makes the whole
//! listing meaningless is an `Err` in the stream and fails the sync, also without deletes.

mod error;
mod event;
mod registry;
mod usage;

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::{Map, Value};

pub use error::{ErrorKind, SourceError};
pub use event::{Attachment, Download, SourceDoc, SourceEvent};
pub use registry::{BuildFactory, Factories, Registry, SourceInfo};
pub use usage::{ApiTotals, ApiUsage, BudgetTotals};

/// The connector configuration value (a bool) with which an operator lets one full sync delete past the engine's
/// delete guard. A source that wants the switch in Kibana puts a field of this name into its configuration.
pub const ACCEPT_LARGE_DELETION: &str = "accept_large_deletion";

/// Which sync the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    Full,
    /// The reference's incremental flavour: a full listing, skipping unchanged documents.
    Incremental,
}

#[async_trait]
pub trait Source: Send + Sync {
    /// A cheap reachability and credentials check.
    async fn ping(&self) -> Result<(), SourceError>;

    /// The documents to sync. `cursor` is the connector's saved `sync_cursor` (incremental jobs only).
    fn docs(
        &self,
        kind: SyncKind,
        cursor: Option<Value>,
    ) -> BoxStream<'_, Result<SourceEvent, SourceError>>;

    /// Whether the listing for `kind` from `cursor` holds only what changed since the cursor (a delta). Then the
    /// engine neither reads the index's existing documents nor deletes what was not listed: only
    /// [`SourceEvent::Deleted`] deletes.
    fn lists_changes_only(&self, _kind: SyncKind, _cursor: Option<&Value>) -> bool {
        false
    }

    /// The cursor to save after a completed sync (a delta token, for example), as a JSON object; `None` keeps none.
    fn sync_cursor(&self) -> Option<Value> {
        None
    }

    /// The counters of this source's remote API, when it has one worth reporting.
    fn api_usage(&self) -> Option<Arc<ApiUsage>> {
        None
    }
}

/// Builds a source for a service type from a connector's effective configuration values.
pub trait SourceFactory: Send + Sync {
    fn create(
        &self,
        service_type: &str,
        values: &Map<String, Value>,
    ) -> Result<Box<dyn Source>, SourceError>;
}
