//! Starting and stopping the whole stand-in: osmem child first, then the front's listener and server task,
//! and the reverse on stop. The binary adds CLI parsing, signals and the ready line on top of this.

use std::fmt;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::api_keys::ApiKeyStore;
use super::faults::FaultStore;
use super::info::ClusterIdentity;
use super::ingest::PipelineStore;
use super::osmem::{OsmemChild, OsmemError};
use super::proxy::Upstream;
use super::request_log::RequestLog;
use super::server::{router, FrontState};

/// How long in-flight requests may take to finish once a stop is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The pretended cluster's settings.
#[derive(Clone)]
pub struct FrontConfig {
    /// Password of the `elastic` user.
    pub password: String,
    pub es_version: String,
    pub build_flavor: String,
    pub license_type: String,
}

impl fmt::Debug for FrontConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrontConfig")
            .field("password", &"***")
            .field("es_version", &self.es_version)
            .field("build_flavor", &self.build_flavor)
            .field("license_type", &self.license_type)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrontStartError {
    #[error(transparent)]
    Osmem(#[from] OsmemError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot build the osmem HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("cannot set up the cluster identity: {0}")]
    Identity(String),
}

/// A running stand-in: osmem plus the front serving on `url`.
#[derive(Debug)]
pub struct Front {
    pub url: String,
    pub osmem_url: String,
    osmem: OsmemChild,
    shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl Front {
    /// Starts osmem from `osmem_bin`, then binds `host:port` (port 0 picks a free one) and serves.
    pub async fn start(
        config: FrontConfig,
        host: &str,
        port: u16,
        osmem_bin: &Path,
    ) -> Result<Front, FrontStartError> {
        let osmem = OsmemChild::start(osmem_bin).await?;
        let identity = ClusterIdentity::new(
            &config.es_version,
            &config.build_flavor,
            &config.license_type,
        )
        .map_err(|e| FrontStartError::Identity(e.to_string()))?;
        let state = Arc::new(FrontState {
            identity,
            password: config.password,
            keys: ApiKeyStore::default(),
            upstream: Upstream::new(&osmem.url)?,
            pipelines: PipelineStore::with_builtins(),
            faults: FaultStore::default(),
            requests: RequestLog::default(),
        });
        let addr = format!("{host}:{port}");
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| FrontStartError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| FrontStartError::Bind { addr, source })?;
        let shutdown = CancellationToken::new();
        let app = router(state);
        let server = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .into_future(),
        );
        Ok(Front {
            url: public_url(local),
            osmem_url: osmem.url.clone(),
            osmem,
            shutdown,
            server,
        })
    }

    pub fn osmem_pid(&self) -> Option<u32> {
        self.osmem.pid()
    }

    /// Resolves if osmem dies underneath the front; the front is useless without it.
    pub async fn osmem_exited(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.osmem.exited().await
    }

    /// Stops serving (letting in-flight requests finish, bounded), then stops osmem.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let mut server = self.server;
        match tokio::time::timeout(DRAIN_TIMEOUT, &mut server).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "front server ended with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "front server task failed"),
            Ok(Ok(Ok(()))) => {}
            Err(_) => server.abort(),
        }
        self.osmem.stop().await;
    }
}

/// The URL clients should use: a wildcard bind is reachable on loopback.
fn public_url(addr: SocketAddr) -> String {
    let host = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => "127.0.0.1".to_string(),
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => "[::1]".to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    format!("http://{host}:{}", addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_for_wildcard_and_specific_binds() {
        assert_eq!(
            public_url("0.0.0.0:9200".parse().unwrap()),
            "http://127.0.0.1:9200"
        );
        assert_eq!(
            public_url("127.0.0.1:1234".parse().unwrap()),
            "http://127.0.0.1:1234"
        );
        assert_eq!(
            public_url("[::]:9200".parse().unwrap()),
            "http://[::1]:9200"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let config = FrontConfig {
            password: "hunter2".into(),
            es_version: "9.6.0".into(),
            build_flavor: "default".into(),
            license_type: "platinum".into(),
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
