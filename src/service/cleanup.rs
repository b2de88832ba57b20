//! The `cleanup` loop (spec §5.5): every `service.job_cleanup_interval` seconds (first run at start), fail jobs
//! that can no longer finish — running jobs whose connector was deleted, and running jobs of supported
//! connectors that have not reported for five minutes (their worker died) — and record the failure on the
//! connector. Pending jobs are never touched.

use std::sync::Arc;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{supported_connectors, Context, ServiceError};
use crate::es::{queries, time, EsError, JobStats, JobStatus, SyncJob};
use crate::sync::runner::{connector_sync_done, Ending};

/// A running job reports at least every 10 s; five minutes of silence means its worker is gone.
pub const IDLE_JOB_SECS: u64 = 300;
pub const STALE_JOB_MESSAGE: &str = "The job has not seen any update for some time.";

pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) -> Result<(), ServiceError> {
    let mut budget = ctx.error_budget();
    loop {
        if let Err(e) = clean(&ctx).await {
            tracing::error!("Job cleanup failed: {e}");
            if !budget.spend(tokio::time::Instant::now()) {
                return Err(ServiceError::TooManyErrors("cleanup", e.to_string()));
            }
        }
        let pause = ctx.config.service.job_cleanup_interval.get();
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// One cleanup pass.
pub async fn clean(ctx: &Context) -> Result<(), EsError> {
    let store = ctx.protocol.store();
    let all_ids: Vec<String> = store
        .search_connectors(json!({"match_all": {}}))
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for job in store
        .search_jobs(queries::orphaned_jobs(&all_ids), None)
        .await?
    {
        tracing::warn!(job_id = %job.id, "Failing a job whose connector no longer exists");
        fail(ctx, &job).await?;
    }
    let supported: Vec<String> = supported_connectors(ctx)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if supported.is_empty() {
        return Ok(());
    }
    for job in store
        .search_jobs(queries::idle_jobs(&supported, IDLE_JOB_SECS), None)
        .await?
    {
        tracing::warn!(job_id = %job.id, "Failing a job that stopped reporting");
        fail(ctx, &job).await?;
        let Some(connector_id) = job.connector_id() else {
            continue;
        };
        if store.get_connector(connector_id).await?.is_none() {
            continue;
        }
        let Some(job) = store.get_job(&job.id).await? else {
            continue;
        };
        let counters = JobStats {
            indexed_document_count: job.doc.indexed_document_count.unwrap_or(0),
            indexed_document_volume: job.doc.indexed_document_volume.unwrap_or(0),
            deleted_document_count: job.doc.deleted_document_count.unwrap_or(0),
        };
        let now = time::format(ctx.clock.now());
        let ending = Ending::Failed(STALE_JOB_MESSAGE.into());
        let doc = connector_sync_done(
            job.job_type(),
            JobStatus::Error,
            Some(STALE_JOB_MESSAGE),
            &counters,
            &ending,
            true,
            &now,
        );
        store.update_connector(connector_id, doc, None).await?;
    }
    Ok(())
}

async fn fail(ctx: &Context, job: &SyncJob) -> Result<(), EsError> {
    let now = time::format(ctx.clock.now());
    let doc = json!({"status": JobStatus::Error, "error": STALE_JOB_MESSAGE, "completed_at": now, "last_seen": now});
    match ctx.protocol.store().update_job(&job.id, doc).await {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}
