//! The Microsoft Graph fixture server: a real HTTP server imitating the Graph v1.0 endpoints and the Entra
//! ID token endpoint the Teams connector uses, over a deterministic data set, with expected-document
//! counts, mutations, request counters and injectable faults for tests. Test infrastructure only.
//!
//! Roles: `data` (the tenant and its generation), `auth`/`jwt` (tokens), `routes` (Graph endpoints),
//! `gate` (per-request auth, counting, throttling, faults), `throttle`/`faults` (the misbehaviour
//! models), `expected` (what a correct sync indexes), `mutate` (changes between syncs), `control`
//! (`/_fixture/*`). See ftest/README.md, "The Graph fixture server".

pub mod auth;
pub mod control;
pub mod counters;
pub mod data;
pub mod errors;
pub mod expected;
pub mod faults;
pub mod gate;
pub mod html_text;
pub mod jwt;
pub mod mutate;
pub mod paging;
pub mod rng;
pub mod routes;
pub mod throttle;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::http::HeaderMap;
use tokio_util::sync::CancellationToken;

use auth::{Credentials, Tokens};
use counters::Counters;
use data::generate::Identity;
use data::{Corpus, DataSize, Dataset};
use faults::Faults;

/// Everything the server is started with.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    pub seed: u64,
    pub size: DataSize,
    /// `--heavy-files`: see [`data::generate_with`].
    pub heavy_files: bool,
    pub credentials: Credentials,
    pub corpus: Corpus,
}

/// Shared by every handler.
pub struct AppState {
    pub creds: Credentials,
    pub size: DataSize,
    data: RwLock<Dataset>,
    pub corpus: Corpus,
    tokens: Mutex<Tokens>,
    faults: Mutex<Faults>,
    counters: Mutex<Counters>,
    /// In-flight Outlook requests per (app, mailbox), for the 4-concurrent-requests limit.
    pub inflight: Arc<Mutex<HashMap<String, usize>>>,
    /// `http://host:port` as bound; links use the request's `Host` instead when it has one.
    pub bound_url: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    pub fn new(config: GraphConfig, bound_url: String) -> AppState {
        let identity = Identity {
            tenant: config.credentials.tenant.clone(),
            username: config.credentials.username.clone(),
        };
        let ds = data::generate_with(
            config.seed,
            config.size,
            config.heavy_files,
            &identity,
            &config.corpus,
        );
        AppState {
            creds: config.credentials,
            size: config.size,
            data: RwLock::new(ds),
            corpus: config.corpus,
            tokens: Mutex::new(Tokens::default()),
            faults: Mutex::new(Faults::new()),
            counters: Mutex::new(Counters::default()),
            inflight: Arc::new(Mutex::new(HashMap::new())),
            bound_url,
        }
    }

    pub fn data(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn data_mut(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub fn counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    /// The public base URL for links in a response: the request's `Host`, else the bound address.
    pub fn base(&self, headers: &HeaderMap) -> String {
        headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .map(|h| format!("http://{h}"))
            .unwrap_or_else(|| self.bound_url.clone())
    }
}

/// A running server.
pub struct GraphServer {
    pub url: String,
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl GraphServer {
    /// Generates the data, binds `host:port` (0 = any free port) and serves until [`GraphServer::stop`].
    pub async fn start(config: GraphConfig, host: &str, port: u16) -> std::io::Result<GraphServer> {
        let listener = tokio::net::TcpListener::bind((host, port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let state = Arc::new(AppState::new(config, url.clone()));
        let app = routes::router(state);
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { signal.cancelled().await })
                .await
        });
        Ok(GraphServer {
            url,
            addr,
            shutdown,
            task,
        })
    }

    /// Resolves if the server stops on its own (an accept loop error).
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        // Slow-fault sleeps and large downloads may hold connections open: do not wait for ever.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.task).await;
    }
}
