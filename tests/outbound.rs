//! Outgoing connections against real servers: TLS trust (the OS certificate store, `graph.ca_certs`,
//! `elasticsearch.verify_certs`) through an HTTPS front whose certificate a throwaway CA signed
//! (`tests/fixtures/tls`), and the proxy variables through a recording HTTP proxy — for Graph (the fixture server)
//! and Elasticsearch (the stand-in), in-process and through the `elastic-ingest` binary.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use elastic_ingest::config::{self, CertStoreEnv, Config, Environment, NetworkEnv};
use elastic_ingest::es::{EsClient, EsError, RetryPolicy};
use elastic_ingest::net::Outbound;
use elastic_ingest::source::Source;
use elastic_ingest::sources::teams::TeamsFactory;
use ftest::forward_proxy::ForwardProxy;
use ftest::graph_fixture::NO_RATE_LIMITS;
use ftest::standin::{StandIn, StandInOptions};
use ftest::tls_front::TlsFront;
use ftest::{GraphFixture, GraphOptions};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_elastic-ingest");
/// Liveness bound for waits on a child process's log; never reached when things work.
const LOG_WAIT: Duration = Duration::from_secs(60);
/// The proxy and certificate-store variables: removed from every child so the machine's own cannot interfere.
const NETWORK_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// An HTTPS front with the fixture server certificate, relaying to `backend_url` (`http://host:port`).
async fn https_front(backend_url: &str) -> TlsFront {
    let backend = url::Url::parse(backend_url).unwrap();
    let addr = format!(
        "{}:{}",
        backend.host_str().unwrap(),
        backend.port_or_known_default().unwrap()
    );
    let read = |name| std::fs::read(tls_fixture(name)).unwrap();
    TlsFront::start(&read("server.pem"), &read("server-key.pem"), &addr)
        .await
        .expect("start the TLS front")
}

fn start_fixture() -> GraphFixture {
    GraphFixture::start(GraphOptions::default())
        .expect("start the Graph fixture (cargo build -p ftest)")
}

fn standin() -> StandIn {
    StandIn::start(StandInOptions::default()).expect("start the stand-in (make es-install)")
}

/// config.yml text and environment variables → the loaded config (the way the service reads them).
fn load_config(yaml: &str, vars: &[(&str, &str)]) -> Config {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yml");
    std::fs::write(&path, yaml).unwrap();
    let env = Environment {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        cwd: dir.path().into(),
    };
    config::load_with(&path, &env).expect("valid config")
}

/// The connector's values for the fixture's tenant, with Graph and sign-in at `base` (the fixture or a front).
fn values(fx: &GraphFixture, base: &str) -> Map<String, Value> {
    let mut v: Map<String, Value> = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    v.insert("graph_url".into(), json!(format!("{base}/v1.0")));
    v.insert("login_url".into(), json!(base));
    v.insert("rate_limits".into(), json!(NO_RATE_LIMITS));
    v
}

/// `ping` (sign-in, then one Graph call) with the factory the service would build from `config`.
/// Graph and sign-in at `values`' `login_url` are allowed as config.yml's `graph.allowed_hosts` would.
async fn ping(config: &Config, values: &Map<String, Value>) -> Result<(), String> {
    let outbound = Outbound::from_env(&config.env.network);
    let mut config = config.clone();
    let base = values["login_url"].as_str().expect("login_url");
    config
        .graph
        .allowed_hosts
        .push(base.parse().expect("an origin"));
    // Rejected certificates are not retried, so a failing ping fails at once with the service's retry settings.
    let factory = TeamsFactory::for_service(&config, &outbound).map_err(|e| e.to_string())?;
    let source = factory.build(values).map_err(|e| e.to_string())?;
    source.ping().await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn graph_trusts_the_ca_file_of_graph_ca_certs() {
    let fx = start_fixture();
    let front = https_front(&fx.url).await;
    let values = values(&fx, &front.url("localhost"));

    let e = ping(&load_config("", &[]), &values).await.unwrap_err();
    assert!(
        e.contains("TLS failure") && e.contains("certificate") && e.contains("graph.ca_certs"),
        "{e}"
    );

    let yaml = format!("graph:\n  ca_certs: {}\n", tls_fixture("ca.pem").display());
    ping(&load_config(&yaml, &[]), &values)
        .await
        .expect("the CA of graph.ca_certs is trusted");

    let yaml = "graph:\n  ca_certs: /nonexistent/proxy-ca.pem\n";
    let e = ping(&load_config(yaml, &[]), &values).await.unwrap_err();
    assert!(
        e.starts_with("graph.ca_certs: cannot read /nonexistent/proxy-ca.pem"),
        "{e}"
    );
}

#[tokio::test]
async fn the_os_certificate_store_is_trusted_by_graph_and_elasticsearch() {
    // SSL_CERT_FILE moves the OS store (OpenSSL's convention): a store holding only the test CA.
    let ca = tls_fixture("ca.pem");
    let store = [("SSL_CERT_FILE", ca.to_str().unwrap())];

    let fx = start_fixture();
    let graph_front = https_front(&fx.url).await;
    let values = values(&fx, &graph_front.url("localhost"));
    ping(&load_config("", &store), &values)
        .await
        .expect("a CA in the OS store is trusted for Graph");

    let es = standin();
    let es_front = https_front(&es.url).await;
    let yaml = format!(
        "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\n",
        es_front.url("127.0.0.1")
    );
    let info = |config: Config| async move {
        EsClient::new(
            &config.elasticsearch,
            &Outbound::from_env(&config.env.network),
        )
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 1,
            interval: Duration::ZERO,
        })
        .info()
        .await
    };
    info(load_config(&yaml, &store))
        .await
        .expect("a CA in the OS store is trusted for Elasticsearch");
    // The bundled roots and the machine's store do not hold the test CA.
    let without = info(load_config(&yaml, &[])).await.unwrap_err();
    assert!(matches!(without, EsError::Tls { .. }), "{without}");
    // An unreadable store costs the service nothing but the store.
    let missing = CertStoreEnv {
        file: Some("/nonexistent/bundle.pem".into()),
        dirs: Vec::new(),
    };
    let outbound = Outbound::from_env(&NetworkEnv {
        cert_store: missing,
        ..NetworkEnv::default()
    });
    assert!(outbound.roots().is_empty());
}

#[tokio::test]
async fn graph_requests_take_the_proxy_unless_no_proxy_names_the_host() {
    let fx = start_fixture();
    let proxy = ForwardProxy::start().await.unwrap();
    let fixture_addr = fx.url.trim_start_matches("http://").to_string();
    let proxy_url = format!("http://someone:pr0xy-pw@{}", proxy.addr);
    let values = values(&fx, &fx.url);

    let config = load_config("", &[("http_proxy", &proxy_url)]);
    ping(&config, &values)
        .await
        .expect("ping through the proxy");
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the proxy saw nothing");
    let credentials = base64::engine::general_purpose::STANDARD.encode("someone:pr0xy-pw");
    for s in &seen {
        assert_eq!(s.target, fixture_addr);
        assert_eq!(
            s.authorization.as_deref(),
            Some(format!("Basic {credentials}").as_str())
        );
    }

    let before = proxy.seen().len();
    let host = fixture_addr.split(':').next().unwrap();
    let config = load_config("", &[("http_proxy", &proxy_url), ("NO_PROXY", host)]);
    ping(&config, &values).await.expect("ping directly");
    assert_eq!(
        proxy.seen().len(),
        before,
        "NO_PROXY host went through the proxy"
    );
}

#[tokio::test]
async fn https_graph_behind_a_proxy_tunnels_and_trusts_graph_ca_certs() {
    // A company network: every connection goes through the proxy, whose TLS certificates a private CA signs.
    let fx = start_fixture();
    let front = https_front(&fx.url).await;
    let proxy = ForwardProxy::start().await.unwrap();
    let yaml = format!("graph:\n  ca_certs: {}\n", tls_fixture("ca.pem").display());
    let config = load_config(&yaml, &[("HTTPS_PROXY", &proxy.url())]);
    ping(&config, &values(&fx, &front.url("localhost")))
        .await
        .expect("ping through the tunnel");
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the proxy saw nothing");
    for s in seen {
        assert_eq!(
            (s.method.as_str(), s.target.as_str()),
            (
                "CONNECT",
                format!("localhost:{}", front.addr.port()).as_str()
            )
        );
    }
}

#[tokio::test]
async fn elasticsearch_requests_take_the_proxy_unless_no_proxy_names_the_host() {
    let es = standin();
    let proxy = ForwardProxy::start().await.unwrap();
    let yaml = format!(
        "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\n",
        es.url
    );
    let info = |vars: &[(&str, &str)]| {
        let config = load_config(&yaml, vars);
        async move {
            EsClient::new(
                &config.elasticsearch,
                &Outbound::from_env(&config.env.network),
            )
            .unwrap()
            .info()
            .await
        }
    };
    info(&[("HTTP_PROXY", &proxy.url())])
        .await
        .expect("GET / through the proxy");
    let es_addr = es.url.trim_start_matches("http://").to_string();
    assert_eq!(
        proxy.seen().iter().map(|s| &s.target).collect::<Vec<_>>(),
        vec![&es_addr]
    );
    info(&[
        ("HTTP_PROXY", &proxy.url()),
        ("NO_PROXY", "localhost,127.0.0.1"),
    ])
    .await
    .expect("GET / directly");
    assert_eq!(
        proxy.seen().len(),
        1,
        "NO_PROXY host went through the proxy"
    );
}

/// Runs `elastic-ingest` (cleanup loop only) with `yaml` and extra environment until preflight passed (then stops
/// it with SIGTERM) or it exited; returns whether preflight passed, and its log.
async fn run_service(yaml: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yml");
    std::fs::write(&path, yaml).unwrap();
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["-c", path.to_str().unwrap(), "--action", "cleanup"])
        .current_dir(dir.path())
        .env_remove("ENV_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in NETWORK_VARS {
        command.env_remove(var);
    }
    command.envs(vars.iter().copied());
    let mut child = command.spawn().expect("run elastic-ingest");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let mut passed = false;
    while let Ok(Ok(Some(line))) = tokio::time::timeout(LOG_WAIT, lines.next_line()).await {
        log.push_str(&line);
        log.push('\n');
        if line.contains("Preflight passed") {
            passed = true;
            break;
        }
    }
    if passed {
        let pid = child.id().expect("running").to_string();
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(kill.success());
    }
    while let Ok(Ok(Some(line))) = tokio::time::timeout(LOG_WAIT, lines.next_line()).await {
        log.push_str(&line);
        log.push('\n');
    }
    let status = tokio::time::timeout(LOG_WAIT, child.wait())
        .await
        .expect("the service exits")
        .unwrap();
    assert_eq!(status.code(), Some(if passed { 0 } else { 1 }), "{log}");
    (passed, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_trusts_the_os_store_and_warns_once_about_verify_certs() {
    let es = standin();
    let front = https_front(&es.url).await;
    let yaml = |extra: &str| {
        format!(
            "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\n  max_wait_duration: 1\n{extra}\
             connectors:\n  - connector_id: c1\n    service_type: microsoft_teams\n",
            front.url("127.0.0.1")
        )
    };

    let (passed, log) = run_service(&yaml(""), &[]).await;
    assert!(!passed && log.contains("TLS failure"), "{log}");

    let ca = tls_fixture("ca.pem");
    let (passed, log) = run_service(&yaml(""), &[("SSL_CERT_FILE", ca.to_str().unwrap())]).await;
    assert!(passed, "{log}");
    assert!(!log.contains("verify_certs"), "{log}");

    let (passed, log) = run_service(&yaml("  verify_certs: false\n"), &[]).await;
    assert!(passed, "{log}");
    assert_eq!(
        log.matches("elasticsearch.verify_certs: false").count(),
        1,
        "{log}"
    );
}
