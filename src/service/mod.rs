//! The long-running side of the service: preflight, then the loops selected by `--action`. The loops themselves
//! (scheduler, job executors, cleanup) arrive with the connector-protocol issue; until then the service passes
//! preflight and waits for a shutdown signal. Shutdown is a `CancellationToken` passed in, never a global.

pub mod preflight;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::es::EsClient;

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
    Setup(#[from] crate::es::EsError),
}

/// Runs preflight, then the selected services until `shutdown` fires.
pub async fn run(
    config: &Config,
    actions: &[ServiceAction],
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let client = EsClient::new(&config.elasticsearch)?;
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
        "Preflight passed; selected services: {}",
        names.join(", ")
    );
    tracing::warn!("The service loops (scheduler, sync job executors, cleanup) are not implemented in this build yet; idling until stopped");
    shutdown.cancelled().await;
    tracing::info!("Shutdown requested; stopped");
    Ok(())
}
