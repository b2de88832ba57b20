//! Preflight (spec §1 step 2): wait for Elasticsearch, check its version, ping the extraction service, create the
//! two system indices. Every wait is bounded and cancellable by the shutdown token; failures that cannot heal by
//! waiting (bad credentials, missing privilege, TLS misconfiguration) fail at once with a message saying which.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::es::{ClusterInfo, CreateOutcome, EsClient, EsError, CONNECTORS_INDEX, JOBS_INDEX};
use crate::net::probe::{self, Probe};
use crate::net::Outbound;
use crate::retry::Backoff;

/// Oldest Elasticsearch this service supports: the release line whose connector API has every endpoint the
/// protocol uses (`_sync_job/{id}/_claim` among them).
pub const MIN_ES_VERSION: (u64, u64) = (8, 17);
/// Newest major known to work.
pub const MAX_ES_MAJOR: u64 = 9;

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("preflight aborted by a shutdown signal")]
    Aborted,
    #[error("Elasticsearch at {host} did not become available within {waited:.1?} ({attempts} attempts); last error: {last}")]
    Unreachable {
        host: String,
        waited: Duration,
        attempts: u32,
        last: EsError,
    },
    #[error("cannot use Elasticsearch at {host}: {source}")]
    Es { host: String, source: EsError },
    #[error("{0}")]
    Version(String),
    #[error("cannot create system index {index}: {source}")]
    SystemIndex { index: String, source: EsError },
}

/// What preflight learned about the cluster.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub info: ClusterInfo,
    /// Serverless clusters skip the version check (and later `_refresh`).
    pub serverless: bool,
}

pub async fn run(
    client: &EsClient,
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<Outcome, PreflightError> {
    let info = wait_for_es(client, config, shutdown).await?;
    let serverless = info.build_flavor.as_deref() == Some("serverless");
    match check_version(&info, serverless, config.env.allow_es_version_mismatch)? {
        VersionCheck::Ok => {
            tracing::info!(version = %info.number, "Elasticsearch version is supported")
        }
        VersionCheck::Skipped(why) => {
            tracing::info!(version = %info.number, "Elasticsearch version check skipped: {why}")
        }
        VersionCheck::Warn(msg) => tracing::warn!("{msg}"),
    }
    if let Some(host) = config
        .extraction_service
        .as_ref()
        .and_then(|x| x.host.as_deref())
    {
        ping_extraction_service(host, &Outbound::from_env(&config.env.network)).await;
    }
    ensure_system_indices(client, config, shutdown).await?;
    Ok(Outcome { info, serverless })
}

/// `GET /` until it answers, sleeping `initial_backoff_duration × backoff_multiplier^n` between attempts, for at
/// most `max_wait_duration` in all.
async fn wait_for_es(
    client: &EsClient,
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<ClusterInfo, PreflightError> {
    let es = &config.elasticsearch;
    let max_wait = es.max_wait_duration.get();
    let mut backoff = Backoff::exponential(
        es.initial_backoff_duration.get(),
        es.backoff_multiplier,
        max_wait.max(Duration::from_secs(1)),
    );
    let start = Instant::now();
    let mut attempts = 0;
    tracing::info!(host = client.host(), "Waiting for Elasticsearch");
    loop {
        attempts += 1;
        // One attempt never outlives the overall wait (a black-holed host would otherwise take request_timeout).
        let remaining = max_wait
            .saturating_sub(start.elapsed())
            .max(Duration::from_secs(1));
        let result = tokio::select! {
            _ = shutdown.cancelled() => return Err(PreflightError::Aborted),
            r = tokio::time::timeout(remaining, client.info()) => r.unwrap_or(Err(EsError::Timeout { host: client.host().into() })),
        };
        let err = match result {
            Ok(info) => return Ok(info),
            Err(e) if e.is_retryable() => e,
            Err(source) => {
                return Err(PreflightError::Es {
                    host: client.host().into(),
                    source,
                })
            }
        };
        let waited = start.elapsed();
        if waited >= max_wait {
            return Err(PreflightError::Unreachable {
                host: client.host().into(),
                waited,
                attempts,
                last: err,
            });
        }
        let delay = backoff.next_delay().min(max_wait - waited);
        tracing::warn!(
            attempt = attempts,
            "Elasticsearch is not available yet ({err}); retrying in {delay:.1?}"
        );
        tokio::select! {
            _ = shutdown.cancelled() => return Err(PreflightError::Aborted),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum VersionCheck {
    Ok,
    Skipped(&'static str),
    Warn(String),
}

/// Supported: Elasticsearch 8.17 and later 8.x, and 9.x. Serverless has no meaningful version number.
pub fn check_version(
    info: &ClusterInfo,
    serverless: bool,
    allow_mismatch: bool,
) -> Result<VersionCheck, PreflightError> {
    if serverless {
        return Ok(VersionCheck::Skipped("serverless project"));
    }
    if allow_mismatch {
        return Ok(VersionCheck::Skipped("ALLOW_ES_VERSION_MISMATCH is set"));
    }
    let (major, minor) = parse_version(&info.number).ok_or_else(|| {
        PreflightError::Version(format!("cannot understand the Elasticsearch version `{}` (set ALLOW_ES_VERSION_MISMATCH=true to skip the check)", info.number))
    })?;
    let supported = format!(
        "{}.{}+ and {MAX_ES_MAJOR}.x",
        MIN_ES_VERSION.0, MIN_ES_VERSION.1
    );
    if (major, minor) < MIN_ES_VERSION {
        return Err(PreflightError::Version(format!(
            "Elasticsearch {} is too old for this service (supported: {supported}); upgrade the cluster or set ALLOW_ES_VERSION_MISMATCH=true to try anyway",
            info.number
        )));
    }
    if major > MAX_ES_MAJOR {
        return Err(PreflightError::Version(format!(
            "Elasticsearch {} is newer than this service supports (supported: {supported}); set ALLOW_ES_VERSION_MISMATCH=true to try anyway",
            info.number
        )));
    }
    let protocol = parse_version(crate::PROTOCOL_VERSION).unwrap_or((MAX_ES_MAJOR, 0));
    if (major, minor) > protocol {
        return Ok(VersionCheck::Warn(format!(
            "Elasticsearch {} is newer than the connector protocol this service was built for ({}); it is expected to work",
            info.number,
            crate::PROTOCOL_VERSION
        )));
    }
    Ok(VersionCheck::Ok)
}

/// `9.6.0`, `9.6.0-SNAPSHOT`, `8.17.1` → `(major, minor)`.
fn parse_version(number: &str) -> Option<(u64, u64)> {
    let core = number.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// `GET {host}/ping/` with a 5 s timeout; the result is only logged (the reference does the same).
async fn ping_extraction_service(host: &str, outbound: &Outbound) {
    let url = format!("{}/ping/", host.trim_end_matches('/'));
    match probe::get(outbound, &url, Duration::from_secs(5)).await {
        Probe::Answered(status) if (200..300).contains(&status) => {
            tracing::info!(%url, "Extraction service is reachable")
        }
        Probe::Answered(status) => {
            tracing::warn!(%url, status, "Extraction service answered with an error")
        }
        Probe::Unreachable(e) => tracing::warn!(%url, "Extraction service is not reachable: {e}"),
    }
}

/// `HEAD` each system index and `PUT` it when missing; retryable failures are retried up to
/// `preflight_max_attempts` times, `preflight_idle` apart.
async fn ensure_system_indices(
    client: &EsClient,
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<(), PreflightError> {
    let max_attempts = config.service.preflight_max_attempts;
    for index in [CONNECTORS_INDEX, JOBS_INDEX] {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Err(PreflightError::Aborted),
                r = ensure_index(client, index) => r,
            };
            match result {
                Ok(()) => break,
                Err(e) if e.is_retryable() && attempt < max_attempts => {
                    let idle = config.service.preflight_idle.get();
                    tracing::warn!(
                        index,
                        attempt,
                        "Cannot prepare the system index ({e}); retrying in {idle:.0?}"
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => return Err(PreflightError::Aborted),
                        _ = tokio::time::sleep(idle) => {}
                    }
                }
                Err(source) => {
                    return Err(PreflightError::SystemIndex {
                        index: index.into(),
                        source,
                    })
                }
            }
        }
    }
    Ok(())
}

async fn ensure_index(client: &EsClient, index: &str) -> Result<(), EsError> {
    if client.index_exists(index).await? {
        return Ok(());
    }
    match client.create_index(index).await? {
        CreateOutcome::Created => tracing::info!(index, "Created system index"),
        CreateOutcome::AlreadyExists => {
            tracing::debug!(index, "System index was created concurrently")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(number: &str) -> ClusterInfo {
        ClusterInfo {
            number: number.into(),
            build_flavor: Some("default".into()),
        }
    }

    #[test]
    fn version_policy() {
        assert_eq!(
            check_version(&info("9.6.0"), false, false).unwrap(),
            VersionCheck::Ok
        );
        assert_eq!(
            check_version(&info("9.0.0-SNAPSHOT"), false, false).unwrap(),
            VersionCheck::Ok
        );
        assert_eq!(
            check_version(&info("8.17.2"), false, false).unwrap(),
            VersionCheck::Ok
        );
        assert_eq!(
            check_version(&info("8.19.0"), false, false).unwrap(),
            VersionCheck::Ok
        );
        assert!(matches!(
            check_version(&info("9.7.0"), false, false).unwrap(),
            VersionCheck::Warn(_)
        ));
        let e = check_version(&info("8.16.0"), false, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("too old") && e.contains("ALLOW_ES_VERSION_MISMATCH"),
            "{e}"
        );
        assert!(check_version(&info("7.17.0"), false, false).is_err());
        let e = check_version(&info("10.0.0"), false, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer than this service supports"), "{e}");
        assert!(check_version(&info("banana"), false, false).is_err());
    }

    #[test]
    fn mismatch_flag_and_serverless_skip_the_check() {
        assert!(matches!(
            check_version(&info("7.0.0"), false, true).unwrap(),
            VersionCheck::Skipped(_)
        ));
        assert!(matches!(
            check_version(&info("8.11.0"), true, false).unwrap(),
            VersionCheck::Skipped(_)
        ));
    }
}
