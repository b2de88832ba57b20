//! The long-running side of the service: preflight, then the loops selected by `--action` — [`scheduler`],
//! [`executor`] (content and access-control jobs) and [`cleanup`] — run concurrently until shutdown. The first
//! loop to fail stops the others. Shutdown is a `CancellationToken` passed in, never a global.

pub mod budget;
pub mod cleanup;
pub mod executor;
pub mod preflight;
pub mod scheduler;

use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::es::protocol::{self, ConnectorProtocol, ProtocolMode};
use crate::es::{queries, Connector, EsClient, EsError, Store};
use crate::net::Outbound;
use crate::source::{Registry, SourceError};
use crate::sync::runner::RunnerTiming;
use crate::sync::SyncEngine;

/// The `--action` values that run the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceAction {
    Schedule,
    SyncContent,
    SyncAccessControl,
    Cleanup,
}

impl ServiceAction {
    pub const ALL: [ServiceAction; 4] = [
        ServiceAction::Schedule,
        ServiceAction::SyncContent,
        ServiceAction::SyncAccessControl,
        ServiceAction::Cleanup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServiceAction::Schedule => "schedule",
            ServiceAction::SyncContent => "sync_content",
            ServiceAction::SyncAccessControl => "sync_access_control",
            ServiceAction::Cleanup => "cleanup",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Preflight(#[from] preflight::PreflightError),
    #[error("{0}")]
    Setup(#[from] EsError),
    /// A source could not be set up from config.yml (for example an unreadable `graph.ca_certs`).
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("the {0} loop failed too often in a row (service.max_errors); last error: {1}")]
    TooManyErrors(&'static str, String),
}

/// What every loop shares.
pub struct Context {
    pub config: Arc<Config>,
    pub protocol: Arc<dyn ConnectorProtocol>,
    pub engine: Arc<dyn SyncEngine>,
    /// The sources this binary runs (from `main`): their default configurations, features and migrations.
    pub sources: Registry,
    pub clock: Arc<dyn Clock>,
    /// Written to claimed jobs as `worker_hostname`.
    pub hostname: String,
    pub serverless: bool,
    pub timing: RunnerTiming,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("protocol", &self.protocol.mode())
            .field("hostname", &self.hostname)
            .field("serverless", &self.serverless)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub fn new(
        config: Arc<Config>,
        client: EsClient,
        engine: Arc<dyn SyncEngine>,
        sources: Registry,
        serverless: bool,
    ) -> Self {
        let mode = if config.elasticsearch.feature_use_connectors_api {
            ProtocolMode::ConnectorApi
        } else {
            ProtocolMode::DirectIndex
        };
        Context {
            protocol: protocol::for_mode(Store::new(client), mode),
            engine,
            sources,
            clock: Arc::new(SystemClock),
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            serverless,
            timing: RunnerTiming::default(),
            config,
        }
    }

    fn error_budget(&self) -> budget::ErrorBudget {
        budget::ErrorBudget::new(
            self.config.service.max_errors,
            self.config.service.max_errors_span.get(),
        )
    }

    /// Sleeps `service.idling`; `true` if shutdown was requested meanwhile.
    async fn idle(&self, shutdown: &CancellationToken) -> bool {
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tokio::time::sleep(self.config.service.idling.get()) => false,
        }
    }

    /// Ids of the connectors this service handles (configured ones; in worker mode also its service types).
    fn handled(&self) -> (Vec<String>, Vec<String>) {
        let ids = self
            .config
            .connectors
            .iter()
            .map(|c| c.connector_id.clone())
            .collect();
        let types = if self.config.service.worker_mode {
            self.config.service.service_types.clone()
        } else {
            Vec::new()
        };
        (ids, types)
    }
}

/// The connector documents this service handles (not soft-deleted).
async fn supported_connectors(ctx: &Context) -> Result<Vec<Connector>, EsError> {
    let (ids, types) = ctx.handled();
    match queries::supported_connectors(&ids, &types) {
        Some(query) => ctx.protocol.store().search_connectors(query).await,
        None => Ok(Vec::new()),
    }
}

/// Runs preflight, then the selected services until `shutdown` fires, syncing with the content engine over the
/// sources `main` registered.
pub async fn run(
    config: &Config,
    actions: &[ServiceAction],
    sources: Registry,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let outbound = Outbound::from_env(&config.env.network);
    let factories = sources.factories(config, &outbound)?;
    let engine = Arc::new(crate::sync::engine::ContentEngine::new(Arc::new(factories)));
    run_with_engine(config, actions, sources, engine, shutdown).await
}

/// [`run`] with the engine that performs the syncs.
pub async fn run_with_engine(
    config: &Config,
    actions: &[ServiceAction],
    sources: Registry,
    engine: Arc<dyn SyncEngine>,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let client = EsClient::new(
        &config.elasticsearch,
        &Outbound::from_env(&config.env.network),
    )?;
    let outcome = match preflight::run(&client, config, &shutdown).await {
        Err(preflight::PreflightError::Aborted) => {
            tracing::info!("Stopped during preflight");
            return Ok(());
        }
        other => other?,
    };
    let names: Vec<&str> = actions.iter().map(|a| a.name()).collect();
    tracing::info!(
        es_version = %outcome.info.number,
        serverless = outcome.serverless,
        connectors = config.connectors.len(),
        connector_api = config.elasticsearch.feature_use_connectors_api,
        "Preflight passed; starting services: {}",
        names.join(", ")
    );
    let ctx = Arc::new(Context::new(
        Arc::new(config.clone()),
        client,
        engine,
        sources,
        outcome.serverless,
    ));
    run_loops(ctx, actions, shutdown).await
}

/// Runs the selected loops; the first to fail stops the rest.
pub async fn run_loops(
    ctx: Arc<Context>,
    actions: &[ServiceAction],
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let stop = shutdown.child_token();
    let mut loops = JoinSet::new();
    for action in actions {
        let (ctx, stop) = (ctx.clone(), stop.clone());
        match action {
            ServiceAction::Schedule => loops.spawn(scheduler::run(ctx, stop)),
            ServiceAction::SyncContent => {
                loops.spawn(executor::run(ctx, executor::JobKind::Content, stop))
            }
            ServiceAction::SyncAccessControl => {
                loops.spawn(executor::run(ctx, executor::JobKind::AccessControl, stop))
            }
            ServiceAction::Cleanup => loops.spawn(cleanup::run(ctx, stop)),
        };
    }
    let mut result = Ok(());
    while let Some(done) = loops.join_next().await {
        let outcome = match done {
            Ok(outcome) => outcome,
            Err(e) => Err(ServiceError::TooManyErrors(
                "service",
                format!("a loop panicked: {e}"),
            )),
        };
        if let Err(e) = outcome {
            if result.is_ok() {
                tracing::error!("Stopping all services: {e}");
                stop.cancel();
                result = Err(e);
            }
        }
    }
    if result.is_ok() {
        tracing::info!("Shutdown requested; all services stopped");
    }
    result
}
