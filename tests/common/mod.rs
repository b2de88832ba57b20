//! Shared harness for the service-crate integration tests: a real stand-in, a config for it, the service loops
//! started in-process with a given engine, and helpers to read and write the system indices.
#![allow(dead_code)]

pub mod ecs;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use elastic_ingest::config::{self, Config, Environment};
use elastic_ingest::es::{EsClient, JobType, RetryPolicy, TriggerMethod};
use elastic_ingest::net::Outbound;
use elastic_ingest::service::{self, preflight, Context, ServiceAction};
use elastic_ingest::sync::runner::RunnerTiming;
use elastic_ingest::sync::{NoEngine, SyncEngine};
use ftest::standin::{StandIn, StandInOptions};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Api,
    Direct,
}

pub struct Harness {
    pub es: StandIn,
    pub http: reqwest::Client,
    pub config: Config,
    _dir: tempfile::TempDir,
}

pub const CID: &str = "teams-1";

impl Harness {
    pub async fn start(mode: Mode) -> Harness {
        let es = StandIn::start(StandInOptions::default())
            .expect("start the stand-in (make es-install)");
        let dir = tempfile::tempdir().unwrap();
        let yaml = format!(
            "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\n  feature_use_connectors_api: {}\n\
             service:\n  idling: 0.3\n  heartbeat: 300\n  job_cleanup_interval: 0.5\n\
             connectors:\n  - connector_id: {CID}\n    service_type: microsoft_teams\n",
            es.url,
            mode == Mode::Api
        );
        let path = dir.path().join("config.yml");
        std::fs::write(&path, yaml).unwrap();
        let env = Environment {
            vars: Default::default(),
            cwd: dir.path().into(),
        };
        let config = config::load_with(&path, &env).expect("valid config");
        let h = Harness {
            es,
            http: reqwest::Client::new(),
            config,
            _dir: dir,
        };
        let client = h.client();
        preflight::run(&client, &h.config, &CancellationToken::new())
            .await
            .expect("preflight");
        h
    }

    pub fn client(&self) -> EsClient {
        EsClient::new(&self.config.elasticsearch, &Outbound::default())
            .unwrap()
            .with_retry(RetryPolicy {
                attempts: 1,
                interval: Duration::ZERO,
            })
    }

    pub fn context_with(&self, engine: Arc<dyn SyncEngine>) -> Arc<Context> {
        let mut ctx = Context::new(
            Arc::new(self.config.clone()),
            self.client(),
            engine,
            elastic_ingest::sources::REGISTRY,
            false,
        );
        ctx.timing = RunnerTiming {
            watch_every: Duration::from_millis(200),
            report_every: Duration::from_millis(400),
            stop_grace: Duration::from_secs(2),
        };
        Arc::new(ctx)
    }

    /// Starts the given loops in the background; cancel the token to stop them.
    pub fn spawn_with(&self, engine: Arc<dyn SyncEngine>, actions: &[ServiceAction]) -> Service {
        let token = CancellationToken::new();
        let ctx = self.context_with(engine);
        let actions = actions.to_vec();
        let t = token.clone();
        let handle = tokio::spawn(async move { service::run_loops(ctx, &actions, t).await });
        Service { token, handle }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (user, pw) = self.es.basic_auth();
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.es.url))
            .basic_auth(user, Some(pw));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn put_connector(&self, doc: Value) {
        let (status, body) = self
            .send(
                reqwest::Method::PUT,
                &format!("/.elastic-connectors/_doc/{CID}?refresh=true"),
                Some(doc),
            )
            .await;
        assert!(status < 300, "{status} {body}");
    }

    pub async fn connector(&self) -> Value {
        let (_, body) = self
            .send(
                reqwest::Method::GET,
                &format!("/.elastic-connectors/_doc/{CID}"),
                None,
            )
            .await;
        body["_source"].clone()
    }

    pub async fn job(&self, id: &str) -> Value {
        let (_, body) = self
            .send(
                reqwest::Method::GET,
                &format!("/.elastic-connectors-sync-jobs/_doc/{id}"),
                None,
            )
            .await;
        body["_source"].clone()
    }

    /// The job document once the job is completed, in error or canceled (waiting at most `limit`).
    pub async fn terminal_job(&self, id: &str, limit: Duration) -> Value {
        wait_for(limit, "a terminal job", || async {
            let j = self.job(id).await;
            matches!(
                j["status"].as_str(),
                Some("completed" | "error" | "canceled")
            )
            .then_some(j)
        })
        .await
    }

    pub async fn jobs(&self) -> Vec<(String, Value)> {
        self.send(
            reqwest::Method::POST,
            "/.elastic-connectors-sync-jobs/_refresh",
            None,
        )
        .await;
        let (_, body) = self
            .send(
                reqwest::Method::POST,
                "/.elastic-connectors-sync-jobs/_search",
                Some(json!({"size": 1000, "query": {"match_all": {}}})),
            )
            .await;
        body["hits"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|h| {
                (
                    h["_id"].as_str().unwrap_or_default().to_string(),
                    h["_source"].clone(),
                )
            })
            .collect()
    }

    /// Creates an on-demand job through the protocol of the configured mode.
    pub async fn create_job(&self, job_type: JobType) -> String {
        let ctx = self.context_with(Arc::new(NoEngine));
        let connector = ctx
            .protocol
            .store()
            .get_connector(CID)
            .await
            .unwrap()
            .expect("connector");
        let id = ctx
            .protocol
            .create_job(&connector, job_type, TriggerMethod::OnDemand, Utc::now())
            .await
            .unwrap();
        self.send(
            reqwest::Method::POST,
            "/.elastic-connectors-sync-jobs/_refresh",
            None,
        )
        .await;
        id
    }

    /// What Kibana does when the user presses "cancel".
    pub async fn request_cancel(&self, mode: Mode, job_id: &str) {
        let (status, body) = match mode {
            Mode::Api => {
                self.send(
                    reqwest::Method::PUT,
                    &format!("/_connector/_sync_job/{job_id}/_cancel"),
                    None,
                )
                .await
            }
            Mode::Direct => {
                let doc = json!({"doc": {"status": "canceling", "cancelation_requested_at": Utc::now().to_rfc3339()}});
                self.send(
                    reqwest::Method::POST,
                    &format!("/.elastic-connectors-sync-jobs/_update/{job_id}"),
                    Some(doc),
                )
                .await
            }
        };
        assert!(status < 300, "{status} {body}");
    }
}

pub struct Service {
    pub token: CancellationToken,
    pub handle: tokio::task::JoinHandle<Result<(), service::ServiceError>>,
}

impl Service {
    pub async fn stop(self) {
        self.token.cancel();
        let r = tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("service stops");
        r.unwrap().expect("service ended cleanly");
    }
}

/// Polls `probe` until it returns `Some`, for at most `limit`.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn configured_teams() -> Value {
    let mut c = elastic_ingest::sources::teams::default_configuration();
    for (k, v) in [
        ("tenant_id", "t"),
        ("client_id", "c"),
        ("secret_value", "s"),
        ("username", "u"),
        ("password", "p"),
    ] {
        c[k]["value"] = json!(v);
    }
    c
}

pub fn connector_doc(status: &str, configuration: Value) -> Value {
    json!({
        "index_name": "search-teams", "name": "Teams", "service_type": "microsoft_teams", "is_native": false,
        "status": status, "error": null, "configuration": configuration, "deleted": false, "language": "en",
        "features": elastic_ingest::sources::teams::features(),
        "scheduling": {"full": {"enabled": false, "interval": "0 0 0 * * ?"},
                       "incremental": {"enabled": false, "interval": "0 0 0 * * ?"},
                       "access_control": {"enabled": false, "interval": "0 0 0 * * ?"}},
        "filtering": [{"domain": "DEFAULT",
            "active": {"rules": [], "advanced_snippet": {"value": {}}, "validation": {"state": "valid", "errors": []}},
            "draft": {"rules": [], "advanced_snippet": {"value": {}}, "validation": {"state": "valid", "errors": []}}}],
        "pipeline": {"name": "search-default-ingestion", "extract_binary_content": true,
                     "reduce_whitespace": true, "run_ml_inference": false},
        "last_seen": null, "last_synced": null, "last_sync_status": null, "sync_cursor": null
    })
}
