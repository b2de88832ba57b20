//! The source-agnostic sync side: the [`SyncEngine`] interface a job runner drives, the runner that takes a
//! claimed job through its lifecycle ([`runner`]), the content engine ([`engine`]) that streams a source's
//! documents (the [`crate::source`] boundary) through sync [`rules`] and [`document`] preparation into the
//! bounded [`queue`] and the bulk [`sink`] (with its [`error_monitor`]). This module never names a source: the
//! registry it consults is handed in by `main`.

pub mod delete_guard;
pub mod document;
pub mod download;
pub mod engine;
pub mod error_monitor;
pub mod memory;
pub mod queue;
pub mod rules;
pub mod runner;
pub mod sink;
pub mod spool;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::es::{Connector, EsError, JobStats, SyncJob};
use crate::source::{ApiTotals, ApiUsage, BudgetTotals, Registry, SourceError};

/// Everything a sync needs: the claimed job (its connector snapshot is what to sync), the live connector as it
/// was when the job started, the service configuration, the counters to keep up to date, and a token that fires
/// when the sync must stop (cancel requested, connector or job gone, or shutdown).
pub struct SyncContext {
    pub job: SyncJob,
    pub connector: Connector,
    pub config: Arc<Config>,
    pub stats: Arc<SyncStats>,
    pub stop: CancellationToken,
}

/// What a finished sync hands back to the runner.
#[derive(Debug, Default)]
pub struct SyncOutcome {
    /// Saved on the connector after a completed content sync; an incremental sync resumes from it.
    pub sync_cursor: Option<Value>,
    /// Written to the job's `metadata` (for example, which parts of the listing failed).
    pub metadata: Option<Value>,
    /// A completed sync that still needs a person's attention (for example, deletions held back): the job's and
    /// the connector's `error` text, while the job stays `completed`.
    pub warning: Option<String>,
    /// Fields the connector is updated with at the end (for example, an operator's one-time setting reset).
    pub connector_update: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The engine noticed [`SyncContext::stop`] and stopped early.
    #[error("the sync was stopped")]
    Stopped,
    #[error(transparent)]
    Elasticsearch(#[from] EsError),
    /// The connector's configuration is not usable (missing or invalid values, rejected credentials).
    #[error("{0}")]
    Configuration(String),
    #[error("InvalidFilteringError: {0}")]
    InvalidFiltering(String),
    #[error("UnsupportedJobType: {0}")]
    UnsupportedJobType(String),
    /// The source's stream failed (after the source's own retries); the kind says why.
    #[error("the source failed: {0}")]
    Source(SourceError),
    /// Anything else the engine reports, worded for the job's `error` field.
    #[error("{0}")]
    Failed(String),
}

/// Drives the content of a sync. The service calls [`check`](SyncEngine::check) on every scheduler poll and
/// before each sync, and [`run`](SyncEngine::run) once per claimed job.
#[async_trait]
pub trait SyncEngine: Send + Sync {
    /// Source-specific checks beyond the schema (credentials work, the service is reachable). The error's
    /// message is written to the connector's `error`.
    async fn check(
        &self,
        service_type: &str,
        configuration: &Map<String, Value>,
    ) -> Result<(), SourceError>;

    /// Runs the sync; must return soon after `ctx.stop` fires.
    async fn run(&self, ctx: SyncContext) -> Result<SyncOutcome, SyncError>;
}

/// Whether a connector configuration can sync: its service type is in `sources`, no field of the source's
/// default configuration is missing, the values validate, and the engine accepts them. The error's message is
/// for the connector's or job's `error`. The scheduler runs this every poll; the runner before each sync.
pub async fn check_configuration(
    sources: &Registry,
    engine: &dyn SyncEngine,
    service_type: &str,
    configuration: &Map<String, Value>,
) -> Result<(), SourceError> {
    let source = sources.find(service_type).ok_or_else(|| {
        SourceError::configuration(format!("unknown service type `{service_type}`"))
    })?;
    let missing = crate::es::configuration::missing_fields(configuration, &source.defaults());
    if !missing.is_empty() {
        return Err(SourceError::configuration(format!(
            "the configuration is missing fields: {}",
            missing.join(", ")
        )));
    }
    crate::es::configuration::validate(configuration)
        .map_err(|problems| SourceError::configuration(problems.join(" ")))?;
    engine.check(service_type, configuration).await
}

/// Counters of a running sync, updated by the engine and read by the progress reporter.
#[derive(Debug, Default)]
pub struct SyncStats {
    indexed: AtomicU64,
    deleted: AtomicU64,
    indexed_bytes: AtomicU64,
    /// The source's API counters, once the engine has a source (log-only: not a job field).
    api: OnceLock<Arc<ApiUsage>>,
}

impl SyncStats {
    /// One successful `index`/`update` bulk item whose JSON body had `bytes` bytes.
    pub fn add_indexed(&self, bytes: u64) {
        self.indexed.fetch_add(1, Ordering::Relaxed);
        self.indexed_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn add_deleted(&self) {
        self.deleted.fetch_add(1, Ordering::Relaxed);
    }

    /// Follows the source's API counters from now on (the first source of a sync; a second call is ignored).
    pub fn track_api(&self, usage: Arc<ApiUsage>) {
        let _ = self.api.set(usage);
    }

    /// The source's API totals so far; zeros when the sync has no source (yet).
    pub fn api_totals(&self) -> ApiTotals {
        self.api.get().map(|u| u.totals()).unwrap_or_default()
    }

    /// The source's per-budget totals (Teams: per Graph endpoint class); empty without a source.
    pub fn api_budgets(&self) -> Vec<(&'static str, BudgetTotals)> {
        self.api.get().map(|u| u.budgets()).unwrap_or_default()
    }

    /// One line per request budget the source used (Teams: per Graph endpoint class): requests, the server's
    /// refusals, the time spent on the source's own pacing, and the rate achieved against the one allowed at the
    /// start and at the end (units per second: requests, or SharePoint resource units; `inf` = not paced).
    pub fn log_api_budgets(&self) {
        let round = |rate: f64| (rate * 100.0).round() / 100.0;
        for (name, b) in self.api_budgets().iter().filter(|(_, b)| b.requests > 0) {
            tracing::info!(
                budget = %name, requests = b.requests, units = b.units, throttled_429 = b.throttled_429,
                unavailable_503 = b.unavailable_503, paced_wait_s = round(b.paced_wait.as_secs_f64()),
                achieved_per_s = round(b.achieved_rate()), allowed_per_s = round(b.allowed_rate),
                start_per_s = round(b.start_rate), ceiling_per_s = round(b.ceiling_rate),
                "API budget at the end of the sync"
            );
        }
    }

    /// The job counters; the volume is whole MiB, rounded (spec §3.3).
    pub fn snapshot(&self) -> JobStats {
        let bytes = self.indexed_bytes.load(Ordering::Relaxed);
        JobStats {
            indexed_document_count: self.indexed.load(Ordering::Relaxed),
            indexed_document_volume: (bytes as f64 / 1_048_576.0).round() as u64,
            deleted_document_count: self.deleted.load(Ordering::Relaxed),
        }
    }
}

/// An engine without sources: checks pass on the schema alone and every job fails with a message saying so. The
/// service-loop tests use it where the loops, not the content, are under test.
pub struct NoEngine;

#[async_trait]
impl SyncEngine for NoEngine {
    async fn check(
        &self,
        _service_type: &str,
        _configuration: &Map<String, Value>,
    ) -> Result<(), SourceError> {
        Ok(())
    }

    async fn run(&self, ctx: SyncContext) -> Result<SyncOutcome, SyncError> {
        let service_type = ctx
            .job
            .doc
            .connector
            .as_ref()
            .and_then(|c| c.service_type.clone());
        Err(SyncError::Failed(format!(
            "this engine has no source for service type `{}`",
            service_type.unwrap_or_default()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_is_rounded_mib() {
        let s = SyncStats::default();
        s.add_indexed(700_000);
        s.add_indexed(100);
        s.add_deleted();
        assert_eq!(
            s.snapshot(),
            JobStats {
                indexed_document_count: 2,
                indexed_document_volume: 1,
                deleted_document_count: 1
            }
        );
        let small = SyncStats::default();
        small.add_indexed(500_000);
        assert_eq!(small.snapshot().indexed_document_volume, 0);
    }
}
