//! What a data source gives the sync engine: a stream of documents, each with an optional lazy content download,
//! interleaved with reports that part of the listing failed. The engine never knows which source it runs; a
//! source never knows Elasticsearch.
//!
//! Completeness is explicit: a source that could not list some part (a page or a subtree failed after its own
//! retries) says so with [`SourceEvent::Incomplete`] and goes on with the rest. The engine then indexes what it
//! got and deletes nothing, because a document it did not see may still exist. A failure that makes the whole
//! listing meaningless is an `Err` in the stream and fails the sync, also without deletes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde_json::{Map, Value};

/// The connector configuration value (a bool) with which an operator lets one full sync delete past the engine's
/// delete guard. A source that wants the switch in Kibana puts a field of this name into its configuration.
pub const ACCEPT_LARGE_DELETION: &str = "accept_large_deletion";

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

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// What a source's remote API cost during one sync: requests, throttling answers, and the time spent waiting them
/// out. The source's client counts; the runner puts the totals on the job's last log line, whatever the outcome.
#[derive(Debug, Default)]
pub struct ApiUsage {
    requests: AtomicU64,
    throttled: AtomicU64,
    throttle_wait_ms: AtomicU64,
}

/// The counters of an [`ApiUsage`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiTotals {
    pub requests: u64,
    pub throttled: u64,
    pub throttle_wait: Duration,
}

impl ApiTotals {
    /// Seconds waited for throttling, to the millisecond, for log lines.
    pub fn throttle_wait_secs(&self) -> f64 {
        self.throttle_wait.as_millis() as f64 / 1000.0
    }
}

impl ApiUsage {
    pub fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a throttling answer and the wait it costs. True for the first one, which deserves a log line.
    pub fn add_throttled(&self, wait: Duration) -> bool {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.throttle_wait_ms.fetch_add(ms, Ordering::Relaxed);
        self.throttled.fetch_add(1, Ordering::Relaxed) == 0
    }

    pub fn totals(&self) -> ApiTotals {
        ApiTotals {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttle_wait: Duration::from_millis(self.throttle_wait_ms.load(Ordering::Relaxed)),
        }
    }
}

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
