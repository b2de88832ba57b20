//! Preflight against the real Elasticsearch stand-in (osmem-server behind the es-standin front, real processes):
//! system indices created, bounded wait on a dead cluster, credential and privilege failures named and not retried,
//! the version policy, TLS misconfiguration, and cancellation.

use std::path::Path;
use std::time::Duration;

use elastic_ingest::config::{self, Config, Environment};
use elastic_ingest::es::{EsClient, EsError};
use elastic_ingest::net::Outbound;
use elastic_ingest::service::preflight::{self, PreflightError};
use ftest::standin::{StandIn, StandInOptions};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Liveness bound for calls that must fail fast: if preflight looped instead, the test fails here.
const FAIL_FAST: Duration = Duration::from_secs(20);

fn standin(options: StandInOptions) -> StandIn {
    StandIn::start(options).expect("start the Elasticsearch stand-in (run `make es-install` first)")
}

/// A short wait, for cases that should wait; a long one, for cases that must not (a loop would hit FAIL_FAST).
const SHORT: f64 = 0.5;
const LONG: f64 = 600.0;

fn config(dir: &Path, host: &str, auth: &str, max_wait: f64, vars: &[(&str, &str)]) -> Config {
    let yaml = format!(
        "elasticsearch:\n  host: {host}\n{auth}  max_wait_duration: {max_wait}\n  initial_backoff_duration: 0.05\n\
         service:\n  preflight_idle: 0.05\n  preflight_max_attempts: 2\n\
         connectors:\n  - connector_id: c1\n    service_type: microsoft_teams\n"
    );
    load(dir, &yaml, vars)
}

/// `yaml` written to `dir/config.yml` and loaded with `vars` as the environment.
fn load(dir: &Path, yaml: &str, vars: &[(&str, &str)]) -> Config {
    let path = dir.join("config.yml");
    std::fs::write(&path, yaml).unwrap();
    let env = Environment {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        cwd: dir.into(),
    };
    config::load_with(&path, &env).expect("valid config")
}

fn basic(password: &str) -> String {
    format!("  username: elastic\n  password: {password}\n")
}

async fn run_preflight(cfg: &Config) -> Result<preflight::Outcome, PreflightError> {
    let client = EsClient::new(&cfg.elasticsearch, &Outbound::default()).expect("client");
    let token = CancellationToken::new();
    tokio::time::timeout(FAIL_FAST, preflight::run(&client, cfg, &token))
        .await
        .expect("preflight must not loop")
}

async fn get(standin: &StandIn, path: &str) -> (u16, serde_json::Value) {
    let (user, pw) = standin.basic_auth();
    let r = reqwest::Client::new()
        .get(format!("{}{path}", standin.url))
        .basic_auth(user, Some(pw))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(json!(null)))
}

#[tokio::test]
async fn creates_the_system_indices_and_is_idempotent() {
    let s = standin(StandInOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &s.url, &basic("changeme"), SHORT, &[]);

    let outcome = run_preflight(&cfg).await.expect("preflight passes");
    assert_eq!(outcome.info.number, "9.6.0");
    assert!(!outcome.serverless);
    for (index, alias) in [
        (".elastic-connectors-v1", ".elastic-connectors"),
        (
            ".elastic-connectors-sync-jobs-v1",
            ".elastic-connectors-sync-jobs",
        ),
    ] {
        let (status, body) = get(&s, &format!("/{alias}")).await;
        assert_eq!(status, 200, "{alias}: {body}");
        assert!(
            body.get(index).is_some(),
            "alias {alias} resolves to {index}: {body}"
        );
    }
    run_preflight(&cfg)
        .await
        .expect("second preflight with existing indices passes");
}

#[tokio::test]
async fn stopped_cluster_fails_after_the_bounded_wait() {
    let s = standin(StandInOptions::default());
    let url = s.url.clone();
    s.stop();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &url, &basic("changeme"), SHORT, &[]);
    match run_preflight(&cfg).await {
        Err(PreflightError::Unreachable {
            attempts,
            last: EsError::ConnectionRefused { .. },
            ..
        }) => {
            assert!(attempts >= 2, "retried before giving up: {attempts}")
        }
        other => panic!("expected Unreachable/ConnectionRefused, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_password_fails_at_once_as_authentication_failure() {
    let s = standin(StandInOptions::default());
    let dir = tempfile::tempdir().unwrap();
    // A long max_wait: a retry loop would hit FAIL_FAST.
    let cfg = config(dir.path(), &s.url, &basic("wrong-pw-value"), LONG, &[]);
    let err = run_preflight(&cfg).await.unwrap_err();
    assert!(
        matches!(
            err,
            PreflightError::Es {
                source: EsError::Unauthorized { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("authentication failed") && !msg.contains("wrong-pw-value"),
        "{msg}"
    );
}

#[tokio::test]
async fn api_key_authentication_works_for_global_and_connector_clients() {
    let s = standin(StandInOptions::default());
    let key = s.mint_api_key("service", json!({})).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let auth = format!(
        "  username: elastic\n  password: wrong-but-unused\n  api_key: {}\n",
        key.encoded
    );
    let cfg = config(dir.path(), &s.url, &auth, SHORT, &[]);
    run_preflight(&cfg)
        .await
        .expect("API key wins over basic auth");

    let connector = s
        .mint_api_key("connector", json!({"c": {"cluster": ["monitor"], "indices": [{"names": ["search-teams"], "privileges": ["all"]}]}}))
        .await
        .unwrap();
    let base = config(dir.path(), &s.url, &basic("wrong"), SHORT, &[]);
    let client = EsClient::with_api_key(
        &base.elasticsearch,
        &Outbound::default(),
        &elastic_ingest::secret::Secret::new(connector.encoded),
    )
    .unwrap();
    assert_eq!(client.info().await.unwrap().number, "9.6.0");
    assert!(!client.index_exists("search-teams").await.unwrap());
}

#[tokio::test]
async fn missing_privileges_are_named_not_retried() {
    let s = standin(StandInOptions::default());
    let dir = tempfile::tempdir().unwrap();

    let no_monitor = s
        .mint_api_key("no-monitor", json!({"r": {"cluster": [], "indices": []}}))
        .await
        .unwrap();
    let cfg = config(
        dir.path(),
        &s.url,
        &format!("  api_key: {}\n", no_monitor.encoded),
        LONG,
        &[],
    );
    let err = run_preflight(&cfg).await.unwrap_err();
    assert!(
        matches!(
            err,
            PreflightError::Es {
                source: EsError::Forbidden { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("missing privilege (HTTP 403)"),
        "{err}"
    );

    let no_index = s
        .mint_api_key(
            "monitor-only",
            json!({"r": {"cluster": ["monitor"], "indices": []}}),
        )
        .await
        .unwrap();
    let cfg = config(
        dir.path(),
        &s.url,
        &format!("  api_key: {}\n", no_index.encoded),
        SHORT,
        &[],
    );
    let err = run_preflight(&cfg).await.unwrap_err();
    match &err {
        PreflightError::SystemIndex {
            index,
            source: EsError::Forbidden { .. },
        } => assert_eq!(index, ".elastic-connectors-v1"),
        other => panic!("expected SystemIndex/Forbidden, got {other:?}"),
    }
    assert!(err.to_string().contains(".elastic-connectors-v1"), "{err}");
}

#[tokio::test]
async fn version_policy_against_the_cluster() {
    let dir = tempfile::tempdir().unwrap();

    let old = standin(StandInOptions {
        es_version: "8.16.3".into(),
        ..Default::default()
    });
    let cfg = config(dir.path(), &old.url, &basic("changeme"), SHORT, &[]);
    let err = run_preflight(&cfg).await.unwrap_err();
    assert!(
        matches!(err, PreflightError::Version(_)) && err.to_string().contains("too old"),
        "{err}"
    );
    let cfg = config(
        dir.path(),
        &old.url,
        &basic("changeme"),
        SHORT,
        &[("ALLOW_ES_VERSION_MISMATCH", "yes")],
    );
    run_preflight(&cfg).await.expect("mismatch allowed");

    let eight = standin(StandInOptions {
        es_version: "8.19.4".into(),
        ..Default::default()
    });
    run_preflight(&config(
        dir.path(),
        &eight.url,
        &basic("changeme"),
        SHORT,
        &[],
    ))
    .await
    .expect("8.19 supported");

    let serverless = standin(StandInOptions {
        es_version: "8.11.0".into(),
        build_flavor: "serverless".into(),
        ..Default::default()
    });
    let outcome = run_preflight(&config(
        dir.path(),
        &serverless.url,
        &basic("changeme"),
        SHORT,
        &[],
    ))
    .await
    .expect("serverless");
    assert!(outcome.serverless);
}

#[tokio::test]
async fn https_against_a_plain_http_cluster_is_a_tls_failure() {
    let s = standin(StandInOptions::default());
    let https = s.url.replacen("http://", "https://", 1);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &https, &basic("changeme"), LONG, &[]);
    let err = run_preflight(&cfg).await.unwrap_err();
    assert!(
        matches!(
            err,
            PreflightError::Es {
                source: EsError::Tls { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("TLS failure"), "{err}");
}

#[tokio::test]
async fn cancellation_aborts_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(
        dir.path(),
        &format!("http://127.0.0.1:{port}"),
        &basic("x"),
        LONG,
        &[],
    );
    let client = EsClient::new(&cfg.elasticsearch, &Outbound::default()).unwrap();
    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        canceller.cancel();
    });
    let result = tokio::time::timeout(FAIL_FAST, preflight::run(&client, &cfg, &token))
        .await
        .expect("aborted promptly");
    assert!(matches!(result, Err(PreflightError::Aborted)), "{result:?}");
}

/// `elasticsearch.retry_on_timeout`: a request that times out is tried again only when it is true (the default).
#[tokio::test]
async fn timeouts_are_retried_only_with_retry_on_timeout() {
    for (retry_on_timeout, attempts) in [(true, 3), (false, 1)] {
        // A server that accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(socket);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let yaml = format!(
            "elasticsearch:\n  host: http://127.0.0.1:{port}\n  request_timeout: 0.2\n  max_retries: 3\n  \
             retry_interval: 0.01\n  retry_on_timeout: {retry_on_timeout}\n\
             connectors:\n  - connector_id: c1\n    service_type: microsoft_teams\n"
        );
        let cfg = load(dir.path(), &yaml, &[]);
        let client = EsClient::new(&cfg.elasticsearch, &Outbound::default()).unwrap();
        let result = tokio::time::timeout(
            FAIL_FAST,
            client.request(elasticsearch::http::Method::Get, "/", &[], None),
        )
        .await
        .expect("gives up");
        assert!(matches!(result, Err(EsError::Timeout { .. })), "{result:?}");
        assert_eq!(
            accepted.load(std::sync::atomic::Ordering::SeqCst),
            attempts,
            "retry_on_timeout: {retry_on_timeout}"
        );
        server.abort();
    }
}
