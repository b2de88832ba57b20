//! One job from claim to terminal state (spec §6.1 steps 1–2, 4–6, 8–9): mark the connector busy, claim the job,
//! check configuration and sync rules, run the [`SyncEngine`] while watching for cancellation and reporting
//! progress, then write the terminal job and connector updates — for every outcome, including shutdown
//! (`suspended`) and a vanished job or connector (`error`).
//!
//! Who writes what: the runner owns the job's `status`, `error`, `*_at`, counters and `last_seen` while it runs,
//! and the connector's `last_sync_*`/`last_access_control_sync_*`, `last_synced`, `last_*_document_count`,
//! `sync_cursor`, `status` and `error` at start and end.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{rules, SyncContext, SyncEngine, SyncError, SyncOutcome, SyncStats};
use crate::clock::Clock;
use crate::config::model::runner_defaults;
use crate::config::Config;
use crate::es::store::occ_retry;
use crate::es::{time, Connector, ConnectorProtocol, EsError, JobStatus, JobType, SyncJob};
use crate::source::Registry;

/// How often a running job is checked for cancellation and how often its counters are pushed (defaults:
/// `config::model::runner_defaults`).
#[derive(Debug, Clone, Copy)]
pub struct RunnerTiming {
    pub watch_every: Duration,
    pub report_every: Duration,
    /// How long the engine may take to wind down after it was told to stop.
    pub stop_grace: Duration,
}

impl Default for RunnerTiming {
    fn default() -> Self {
        RunnerTiming {
            watch_every: runner_defaults::WATCH_EVERY,
            report_every: runner_defaults::REPORT_EVERY,
            stop_grace: runner_defaults::STOP_GRACE,
        }
    }
}

pub struct Runner {
    pub protocol: Arc<dyn ConnectorProtocol>,
    pub engine: Arc<dyn SyncEngine>,
    /// The sources `main` registered (whether a service type runs access-control syncs, its defaults).
    pub sources: Registry,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub hostname: String,
    /// Serverless projects refresh on their own and reject `_refresh`.
    pub serverless: bool,
    pub timing: RunnerTiming,
}

/// How a job ended, as written to its document.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    Completed {
        sync_cursor: Option<Value>,
        /// The engine's report for the job's `metadata`.
        metadata: Option<Value>,
        /// Something a person must see although the sync completed (the job's and connector's `error`).
        warning: Option<String>,
        /// Extra connector fields to write at the end.
        connector_update: Option<Value>,
    },
    Failed(String),
    Canceled,
    Suspended,
}

impl Ending {
    fn status(&self) -> JobStatus {
        match self {
            Ending::Completed { .. } => JobStatus::Completed,
            Ending::Failed(_) => JobStatus::Error,
            Ending::Canceled => JobStatus::Canceled,
            Ending::Suspended => JobStatus::Suspended,
        }
    }

    fn error(&self) -> Option<&str> {
        match self {
            Ending::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The text for the `error` fields: the failure, or a completed sync's warning.
    fn message(&self) -> Option<&str> {
        match self {
            Ending::Completed { warning, .. } => warning.as_deref(),
            other => other.error(),
        }
    }
}

/// The connector fields that describe the last sync of this job's kind (content or access control).
fn last_sync_fields(job_type: JobType) -> (&'static str, &'static str) {
    if job_type.is_content() {
        ("last_sync_status", "last_sync_error")
    } else {
        (
            "last_access_control_sync_status",
            "last_access_control_sync_error",
        )
    }
}

impl Runner {
    /// Runs `job` to a terminal (or suspended) state. Returns how it ended, or `None` if it was not started
    /// (connector gone or busy, or another worker claimed it) and was left as it was.
    ///
    /// Everything the job logs, including the engine's and the source's tasks, is in a span naming the connector,
    /// the job and the index: the reference's `[Sync Job id: …, connector id: …, index name: …]` prefix and
    /// `labels.*` fields. It is an ERROR-level span so that it is enabled at every log level.
    pub async fn run(&self, job: SyncJob, shutdown: &CancellationToken) -> Option<Ending> {
        let span = tracing::error_span!(
            "sync_job",
            connector_id = %job.connector_id().unwrap_or_default(),
            sync_job_id = %job.id,
            index_name = %job.index_name().unwrap_or_default(),
        );
        self.run_in_span(job, shutdown).instrument(span).await
    }

    async fn run_in_span(&self, job: SyncJob, shutdown: &CancellationToken) -> Option<Ending> {
        let job_type = job.job_type();
        let connector_id = job.connector_id()?.to_string();
        let previous_status = match occ_retry(|| self.sync_starts(&connector_id, job_type)).await {
            Ok(Some(previous)) => previous,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!("Could not mark the connector as syncing: {e}");
                return None;
            }
        };
        // The job was found by a search that may be stale: another worker may have run it since. Real
        // Elasticsearch's `_claim` does not check the job's status, so check here, now that the connector is ours.
        match self.protocol.store().get_job(&job.id).await {
            Ok(Some(current)) if JobStatus::RUNNABLE.contains(&current.status()) => {}
            outcome => {
                if let Err(e) = outcome {
                    tracing::warn!("Could not re-read the job before claiming it: {e}");
                }
                self.restore_last_status(&connector_id, job_type, previous_status)
                    .await;
                return None;
            }
        }
        let cursor = match job_type {
            JobType::Incremental => self.live_cursor(&connector_id).await,
            _ => None,
        };
        if let Err(e) = self
            .protocol
            .claim_job(&job, &self.hostname, cursor.as_ref(), self.clock.now())
            .await
        {
            tracing::warn!("Could not claim the job (another worker may have): {e}");
            self.restore_last_status(&connector_id, job_type, previous_status)
                .await;
            return None;
        }
        tracing::info!(job_type = %job_type.as_str(), "Sync job started");
        let stats = Arc::new(SyncStats::default());
        let mut ending = match self.preflight(&job).await {
            Err(e) => Ending::Failed(self.describe(&job, &e)),
            Ok(connector) => self.execute(&job, connector, stats.clone(), shutdown).await,
        };
        self.note_persistent_incompleteness(&job, &connector_id, &mut ending)
            .await;
        self.finish(&job, &connector_id, &ending, &stats).await;
        Some(ending)
    }

    /// Step 1, OCC-retried: reload the connector; skip if it is gone or already syncing; else mark it syncing.
    /// Returns the previous last-sync status so a lost claim can put it back.
    async fn sync_starts(
        &self,
        connector_id: &str,
        job_type: JobType,
    ) -> Result<Option<Value>, EsError> {
        let store = self.protocol.store();
        let Some(connector) = store.get_connector(connector_id).await? else {
            tracing::warn!("Connector of a pending job no longer exists; leaving the job");
            return Ok(None);
        };
        let (status_field, error_field) = last_sync_fields(job_type);
        let previous = if job_type.is_content() {
            connector.doc.last_sync_status
        } else {
            connector.doc.last_access_control_sync_status
        };
        if previous == Some(JobStatus::InProgress) {
            tracing::debug!("Connector is already syncing; the job stays pending");
            return Ok(None);
        }
        let doc = json!({"status": "connected", "error": null, status_field: "in_progress", error_field: null});
        store
            .update_connector(connector_id, doc, connector.occ())
            .await?;
        Ok(Some(json!(previous)))
    }

    async fn live_cursor(&self, connector_id: &str) -> Option<Value> {
        match self.protocol.store().get_connector(connector_id).await {
            Ok(Some(c)) => Some(c.doc.sync_cursor).filter(|v| !v.is_null()),
            _ => None,
        }
    }

    async fn restore_last_status(&self, connector_id: &str, job_type: JobType, previous: Value) {
        let (status_field, _) = last_sync_fields(job_type);
        let doc = json!({ status_field: previous });
        if let Err(e) = self
            .protocol
            .store()
            .update_connector(connector_id, doc, None)
            .await
        {
            tracing::warn!("Could not restore the connector's last sync status: {e}");
        }
    }

    /// Steps 4–6: the snapshot's configuration is complete and valid, the source accepts it, the job type is
    /// supported, and the snapshot's sync rules are valid. Returns the live connector.
    async fn preflight(&self, job: &SyncJob) -> Result<Connector, SyncError> {
        let snapshot = job.doc.connector.clone().unwrap_or_default();
        let service_type = snapshot.service_type.unwrap_or_default();
        if job.job_type() == JobType::AccessControl {
            let source = self.sources.find(&service_type);
            if !source.is_some_and(|s| s.supports_access_control()) {
                let name = source.map_or(service_type.as_str(), |s| s.display_name);
                return Err(SyncError::UnsupportedJobType(format!(
                    "access control syncs are not available for {name} connectors: this service does not support document-level security for them yet"
                )));
            }
        }
        let configuration = snapshot.configuration.unwrap_or_default();
        super::check_configuration(
            &self.sources,
            self.engine.as_ref(),
            &service_type,
            &configuration,
        )
        .await
        .map_err(|e| SyncError::Configuration(e.to_string()))?;
        let store = self.protocol.store();
        let connector_id = job.connector_id().unwrap_or_default();
        let connector = store.get_connector(connector_id).await?.ok_or_else(|| {
            SyncError::Failed(format!("connector {connector_id} no longer exists"))
        })?;
        if job.job_type() == JobType::Incremental && !connector.doc.incremental_sync_enabled() {
            return Err(SyncError::UnsupportedJobType(
                "incremental syncs are not enabled for this connector".into(),
            ));
        }
        if connector.doc.sync_rules_enabled() {
            let result = rules::validate(&snapshot.filtering);
            if !result.errors.is_empty() {
                return Err(SyncError::InvalidFiltering(format!(
                    "Filtering in state invalid, errors: {}",
                    rules::describe(&result)
                )));
            }
        }
        Ok(connector)
    }

    /// Step 8: the engine, raced against the watcher (cancellation, vanished documents, shutdown) and the
    /// progress reporter.
    async fn execute(
        &self,
        job: &SyncJob,
        connector: Connector,
        stats: Arc<SyncStats>,
        shutdown: &CancellationToken,
    ) -> Ending {
        let stop = CancellationToken::new();
        let ctx = SyncContext {
            job: job.clone(),
            connector,
            config: self.config.clone(),
            stats: stats.clone(),
            stop: stop.clone(),
        };
        let engine = self.engine.clone();
        let run = engine.run(ctx);
        tokio::pin!(run);
        let interrupted = tokio::select! {
            result = &mut run => return self.engine_ending(job, result),
            ending = self.watch(job, &stats, shutdown) => ending,
        };
        stop.cancel();
        // Give the engine a moment to wind down cleanly; past that, dropping its future cancels it.
        let _ = tokio::time::timeout(self.timing.stop_grace, &mut run).await;
        interrupted
    }

    fn engine_ending(&self, job: &SyncJob, result: Result<SyncOutcome, SyncError>) -> Ending {
        match result {
            Ok(outcome) => Ending::Completed {
                sync_cursor: outcome.sync_cursor,
                metadata: outcome.metadata,
                warning: outcome.warning,
                connector_update: outcome.connector_update,
            },
            Err(e) => {
                if let SyncError::Source(source) = &e {
                    // The kind tells an operator (and the log pipeline) a permission gap from a network blip.
                    tracing::warn!(
                        error_kind = source.kind().as_str(),
                        retryable = source.is_retryable(),
                        "The source failed: {source}"
                    );
                }
                Ending::Failed(self.describe(job, &e))
            }
        }
    }

    /// Returns when the sync must stop; meanwhile pushes the counters every `report_every`.
    async fn watch(
        &self,
        job: &SyncJob,
        stats: &SyncStats,
        shutdown: &CancellationToken,
    ) -> Ending {
        let store = self.protocol.store();
        let connector_id = job.connector_id().unwrap_or_default();
        let mut ticker = tokio::time::interval(self.timing.watch_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        let started = tokio::time::Instant::now();
        let mut last_report = started;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ending::Suspended,
                _ = ticker.tick() => {}
            }
            if last_report.elapsed() >= self.timing.report_every {
                last_report = tokio::time::Instant::now();
                if let Err(e) = self
                    .protocol
                    .report_stats(&job.id, &stats.snapshot(), self.clock.now())
                    .await
                {
                    tracing::warn!("Could not report sync progress: {e}");
                }
            }
            let checked = async {
                let connector = store.get_connector(connector_id).await?;
                let current = store.get_job(&job.id).await?;
                Ok::<_, EsError>((connector, current))
            };
            match checked.await {
                Err(e) => {
                    tracing::warn!("Could not check the job's status (will retry): {e}")
                }
                Ok((None, _)) => {
                    return Ending::Failed(format!(
                        "Connector {connector_id} was deleted while the job was running"
                    ))
                }
                Ok((_, None)) => {
                    return Ending::Failed(format!("Job {} was deleted while running", job.id))
                }
                Ok((_, Some(current))) => match current.status() {
                    JobStatus::InProgress => {}
                    JobStatus::Canceling => return Ending::Canceled,
                    other => {
                        return Ending::Failed(format!(
                            "Job status changed to `{other}` while the job was running"
                        ))
                    }
                },
            }
        }
    }

    /// A completed sync that could not list some part, as the last `incomplete_syncs_before_error - 1` completed
    /// syncs could not either: the parts they all share become the sync's warning (so the connector's `error` shows
    /// them while syncs go on) and `metadata.incomplete_listing.persistent_parts`. One failed part now and then
    /// heals on the next sync and stays in the job's metadata only.
    async fn note_persistent_incompleteness(
        &self,
        job: &SyncJob,
        connector_id: &str,
        ending: &mut Ending,
    ) {
        let Ending::Completed {
            metadata: Some(metadata),
            warning,
            ..
        } = ending
        else {
            return;
        };
        let streak = self.config.service.incomplete_syncs_before_error as usize;
        let mut common = incomplete_parts(metadata);
        if streak == 0 || common.is_empty() {
            return;
        }
        let query = crate::es::queries::completed_content_jobs(connector_id, &job.id);
        let previous = match self.protocol.store().latest_jobs(query, streak - 1).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(
                    "Could not read the previous syncs to see whether parts keep failing: {e}"
                );
                return;
            }
        };
        if previous.len() + 1 < streak {
            return;
        }
        for earlier in &previous {
            let theirs = incomplete_parts(&earlier.doc.metadata);
            common.retain(|part, _| theirs.contains_key(part));
        }
        if common.is_empty() {
            return;
        }
        let listed: Vec<String> = common
            .iter()
            .take(5)
            .map(|(part, reason)| format!("{part} ({reason})"))
            .collect();
        let message = format!(
            "{} part(s) of the listing failed in each of the last {streak} syncs, so documents removed from them are never deleted: {}{}. Fix the cause or stop syncing that part.",
            common.len(),
            listed.join("; "),
            if common.len() > listed.len() { "; …" } else { "" },
        );
        tracing::error!("{message}");
        metadata["incomplete_listing"]["persistent_parts"] =
            json!(common.keys().collect::<Vec<_>>());
        if warning.is_none() {
            *warning = Some(message);
        }
    }

    /// The job's `error` text; a 403 on the content index gets the reference's actionable wording.
    fn describe(&self, job: &SyncJob, e: &SyncError) -> String {
        match e {
            SyncError::Elasticsearch(EsError::Forbidden { .. }) => format!(
                "Connector is not authorized to access index [{}]. API key may need to be regenerated. Status code: [403].",
                job.index_name().unwrap_or_default()
            ),
            other => other.to_string(),
        }
    }

    /// Step 9: terminal job update, then the connector's view of the last sync.
    async fn finish(&self, job: &SyncJob, connector_id: &str, ending: &Ending, stats: &SyncStats) {
        let store = self.protocol.store();
        let now = time::format(self.clock.now());
        let counters = stats.snapshot();
        let connector_exists = matches!(store.get_connector(connector_id).await, Ok(Some(_)));
        let job_exists = !matches!(store.get_job(&job.id).await, Ok(None));
        let status = ending.status();
        let mut error = ending.message().map(str::to_string);
        if job_exists {
            let mut doc = json!({
                "last_seen": now, "status": status, "error": error,
                "indexed_document_count": counters.indexed_document_count,
                "indexed_document_volume": counters.indexed_document_volume,
                "deleted_document_count": counters.deleted_document_count,
            });
            if let Ending::Completed {
                metadata: Some(metadata),
                ..
            } = ending
            {
                doc["metadata"] = metadata.clone();
            }
            if status.is_terminal() {
                doc["completed_at"] = json!(now);
            }
            if status == JobStatus::Canceled {
                doc["canceled_at"] = json!(now);
            }
            if connector_exists {
                if let Some(index) = job.index_name() {
                    match store.count_documents(index, !self.serverless).await {
                        Ok(n) => doc["total_document_count"] = json!(n),
                        Err(e) => {
                            tracing::warn!("Could not count the index's documents: {e}")
                        }
                    }
                }
            }
            if let Err(e) = store.update_job(&job.id, doc).await {
                tracing::error!("Could not write the job's final state: {e}");
            }
        } else {
            error = Some("Couldn't find the job".into());
        }
        let api = stats.api_totals();
        tracing::info!(
            %status, indexed = counters.indexed_document_count,
            deleted = counters.deleted_document_count, api_requests = api.requests,
            api_throttled = api.throttled, api_throttle_wait_s = api.throttle_wait_secs(),
            error = error.as_deref(), "Sync job ended"
        );
        stats.log_api_budgets();
        if !connector_exists {
            return;
        }
        let doc = connector_sync_done(
            job.job_type(),
            status,
            error.as_deref(),
            &counters,
            ending,
            job_exists,
            &now,
        );
        if let Err(e) = store.update_connector(connector_id, doc, None).await {
            tracing::error!("Could not record the sync's end on the connector: {e}");
        }
    }
}

/// The parts a job's `metadata.incomplete_listing` names, with their reasons.
fn incomplete_parts(metadata: &Value) -> std::collections::BTreeMap<String, String> {
    metadata["incomplete_listing"]["examples"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["part"].as_str()?.to_string(),
                e["reason"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// The connector update at the end of a job (spec §6.1 step 9); also used by cleanup for abandoned jobs.
pub fn connector_sync_done(
    job_type: JobType,
    status: JobStatus,
    error: Option<&str>,
    counters: &crate::es::JobStats,
    ending: &Ending,
    job_exists: bool,
    now: &str,
) -> Value {
    let (status_field, error_field) = last_sync_fields(job_type);
    // A completed sync's warning is shown in `error`, but the connector stays connected.
    let connector_status = if error.is_some() && status != JobStatus::Completed {
        "error"
    } else {
        "connected"
    };
    let mut doc = json!({
        "last_synced": now, "status": connector_status, "error": error,
        status_field: status, error_field: error,
    });
    if !job_exists {
        for (s, e) in [
            last_sync_fields(JobType::Full),
            last_sync_fields(JobType::AccessControl),
        ] {
            doc[s] = json!(JobStatus::Error);
            doc[e] = json!(error);
        }
    }
    if let Ending::Completed {
        sync_cursor,
        connector_update,
        ..
    } = ending
    {
        if job_type.is_content() {
            doc["sync_cursor"] = sync_cursor.clone().unwrap_or(Value::Null);
        }
        if let (Some(extra), Some(doc)) = (
            connector_update.as_ref().and_then(Value::as_object),
            doc.as_object_mut(),
        ) {
            for (k, v) in extra {
                doc.insert(k.clone(), v.clone());
            }
        }
    }
    if status.is_terminal() {
        doc["last_indexed_document_count"] = json!(counters.indexed_document_count);
        doc["last_deleted_document_count"] = json!(counters.deleted_document_count);
    }
    doc
}
