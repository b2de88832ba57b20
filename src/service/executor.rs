//! The `sync_content` and `sync_access_control` loops (spec §5.3): every `service.idling` seconds, find pending
//! and suspended jobs of the supported connectors (oldest first) and start a [`Runner`] for each while the pool
//! of `max_concurrent_*_syncs` has room; the rest wait for a later poll. On shutdown, running jobs are told to
//! stop and end `suspended`; the loop waits for them before returning.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{supported_connectors, Context, ServiceError};
use crate::es::queries;
use crate::es::{EsError, JobStatus, JobType};
use crate::sync::runner::Runner;

/// Which jobs a loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Content,
    AccessControl,
}

impl JobKind {
    fn job_types(self) -> &'static [JobType] {
        match self {
            JobKind::Content => &[JobType::Full, JobType::Incremental],
            JobKind::AccessControl => &[JobType::AccessControl],
        }
    }

    fn name(self) -> &'static str {
        match self {
            JobKind::Content => "sync_content",
            JobKind::AccessControl => "sync_access_control",
        }
    }
}

/// Longest wait at shutdown for running jobs to record `suspended`.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub async fn run(
    ctx: Arc<Context>,
    kind: JobKind,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let capacity = match kind {
        JobKind::Content => ctx.config.service.max_concurrent_content_syncs,
        JobKind::AccessControl => ctx.config.service.max_concurrent_access_control_syncs,
    };
    let pool = Arc::new(Semaphore::new(capacity.max(1)));
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut budget = ctx.error_budget();
    let result = loop {
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = done {
                tracing::error!("A sync job task panicked: {e}");
            }
        }
        if let Err(e) = poll(&ctx, kind, &pool, &running, &mut tasks, &shutdown).await {
            tracing::error!("{} poll failed: {e}", kind.name());
            if !budget.spend(tokio::time::Instant::now()) {
                break Err(ServiceError::TooManyErrors(kind.name(), e.to_string()));
            }
        }
        if ctx.idle(&shutdown).await {
            break Ok(());
        }
    };
    // Running jobs see the shutdown token and suspend themselves; wait for them to write that down.
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!("A sync job task panicked: {e}");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("Sync jobs did not stop within {SHUTDOWN_GRACE:?}; abandoning them (cleanup will fail them)");
    }
    result
}

async fn poll(
    ctx: &Arc<Context>,
    kind: JobKind,
    pool: &Arc<Semaphore>,
    running: &Arc<Mutex<HashSet<String>>>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> Result<(), EsError> {
    let connectors = supported_connectors(ctx).await?;
    if connectors.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = connectors.iter().map(|c| c.id.clone()).collect();
    let (query, sort) = queries::runnable_jobs(&ids, kind.job_types());
    let store = ctx.protocol.store();
    for job in store.search_jobs(query, Some(sort)).await? {
        if crate::lock::lock(running).contains(&job.id) {
            continue;
        }
        let service_type = job
            .doc
            .connector
            .as_ref()
            .and_then(|c| c.service_type.clone())
            .unwrap_or_default();
        let Some(source) = ctx.sources.find(&service_type) else {
            tracing::error!(job_id = %job.id, "Job has unknown service type `{service_type}`; skipping it");
            continue;
        };
        let Some(connector) = store
            .get_connector(job.connector_id().unwrap_or_default())
            .await?
        else {
            continue;
        };
        let busy = match kind {
            JobKind::Content => connector.doc.last_sync_status == Some(JobStatus::InProgress),
            // Access-control jobs wait until document-level security is enabled on the connector. A source
            // without access control never gets there, so its jobs run and end in a clear error instead of
            // staying pending forever (the reference) or crawling content into the ACL index.
            JobKind::AccessControl => {
                (source.supports_access_control() && !connector.doc.dls_enabled())
                    || connector.doc.last_access_control_sync_status == Some(JobStatus::InProgress)
            }
        };
        if busy {
            continue;
        }
        let Ok(permit) = pool.clone().try_acquire_owned() else {
            tracing::debug!("All {} slots busy; remaining jobs wait", kind.name());
            break;
        };
        crate::lock::lock(running).insert(job.id.clone());
        let runner = ctx.runner();
        let running = running.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            let id = job.id.clone();
            runner.run(job, &shutdown).await;
            crate::lock::lock(&running).remove(&id);
            drop(permit);
        });
    }
    Ok(())
}

impl Context {
    pub(crate) fn runner(&self) -> Runner {
        Runner {
            protocol: self.protocol.clone(),
            engine: self.engine.clone(),
            sources: self.sources,
            config: self.config.clone(),
            clock: self.clock.clone(),
            hostname: self.hostname.clone(),
            serverless: self.serverless,
            timing: self.timing,
        }
    }
}
