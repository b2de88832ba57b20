//! Where the Teams source sends requests, against real servers: next links are followed only on the Graph host
//! (they carry the bearer token), download URLs only on allowed hosts and never with the token. The sign-in runs
//! against the Graph fixture; small recording servers stand in for a Graph that links elsewhere and for download
//! hosts, and say what reached them.

use futures::StreamExt;
use std::sync::{Arc, Mutex};

use elastic_ingest::sources::teams::auth::TokenKind;
use elastic_ingest::sources::teams::graph::GraphError;
use elastic_ingest::sources::teams::{TeamsFactory, TeamsSource};
use ftest::graph_fixture::NO_RATE_LIMITS;
use ftest::{GraphFixture, GraphOptions};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request a [`Recorder`] received.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    authorization: bool,
}

/// A minimal HTTP/1.1 server that records each request's target and whether it carried `Authorization`, and
/// answers every request with the same status, extra headers and body.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    async fn start(status: u16, headers: &[(&str, String)], body: String) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut head = format!(
            "HTTP/1.1 {status} Recorded\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: \
             close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let response = format!("{head}\r\n{body}");
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                let response = response.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request).to_string();
                    let target = text.split(' ').nth(1).unwrap_or_default().to_string();
                    let authorization = text
                        .lines()
                        .any(|l| l.to_ascii_lowercase().starts_with("authorization:"));
                    log.lock().unwrap().push(Seen {
                        target,
                        authorization,
                    });
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Recorder { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn start_fixture() -> GraphFixture {
    GraphFixture::start(GraphOptions::default())
        .expect("start the Graph fixture (cargo build -p ftest)")
}

/// The fixture's tenant with Graph at `graph` (sign-in stays at the fixture), app-only with the secret.
fn values(fx: &GraphFixture, graph: &str) -> Map<String, Value> {
    let mut v: Map<String, Value> = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    v.insert("graph_url".into(), json!(format!("{graph}/v1.0")));
    v.insert("auth_method".into(), json!("app_secret"));
    v.insert("rate_limits".into(), json!(NO_RATE_LIMITS));
    v
}

/// A source whose operator allowed each of `hosts` (origins), as `graph.allowed_hosts` in config.yml does.
fn source(values: &Map<String, Value>, hosts: &[&str]) -> TeamsSource {
    let mut factory = TeamsFactory {
        allowed_hosts: hosts.iter().map(|h| h.parse().unwrap()).collect(),
        ..TeamsFactory::default()
    };
    factory.graph.max_attempts = 1;
    factory.build(values).expect("valid configuration")
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let fx = start_fixture();
    // Another host, even one the operator allows (for downloads, say), must never get Graph's bearer token.
    let elsewhere = Recorder::start(200, &[], r#"{"value": []}"#.into()).await;
    let page = json!({
        "value": [{"id": "u1"}],
        "@odata.nextLink": format!("{}/v1.0/users?$skiptoken=next", elsewhere.url),
    });
    let graph = Recorder::start(200, &[], page.to_string()).await;
    let source = source(
        &values(&fx, &graph.url),
        &[&fx.url, &graph.url, &elsewhere.url],
    );

    let error = source
        .graph()
        .collect("/users?$top=999", TokenKind::App)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, GraphError::ForeignHost { origin, .. } if *origin == elsewhere.url),
        "{error}"
    );
    assert!(
        error.to_string().contains("a Graph link") && !error.to_string().contains("skiptoken"),
        "{error}"
    );
    let first = graph.seen();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].target, "/v1.0/users?$top=999");
    assert!(first[0].authorization, "the Graph host gets the token");
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
}

#[tokio::test]
async fn download_hosts_never_get_the_token_and_must_be_allowed() {
    let fx = start_fixture();
    let downloads = Recorder::start(200, &[], "file bytes".into()).await;
    let unlisted = Recorder::start(200, &[], "file bytes".into()).await;
    let redirecting = Recorder::start(
        302,
        &[("Location", format!("{}/_download/2", unlisted.url))],
        String::new(),
    )
    .await;
    let source = source(
        &values(&fx, &fx.url),
        &[&fx.url, &downloads.url, &redirecting.url],
    );
    // Signed in: a token exists that a careless client could attach.
    source
        .graph()
        .collect("/users?$top=999", TokenKind::App)
        .await
        .unwrap();

    let url = format!("{}/_download/1?tempauth=pre-authenticated", downloads.url);
    let mut opened = source.graph().open_download(&url).await.expect("opened");
    let mut bytes = Vec::new();
    while let Some(chunk) = opened.body.next().await {
        bytes.extend_from_slice(&chunk.expect("a chunk"));
    }
    assert_eq!(bytes, b"file bytes");
    assert_eq!(opened.size, Some(10));
    let seen = downloads.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].target, "/_download/1?tempauth=pre-authenticated");
    assert!(!seen[0].authorization, "the token went to a download host");

    let refused = format!("{}/_download/1?tempauth=pre-authenticated", unlisted.url);
    let error = source
        .graph()
        .open_download(&refused)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            &error,
            GraphError::ForeignHost {
                what: "a download URL",
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.to_string().contains("tempauth"), "{error}");
    // An allowed host cannot redirect a download to one that is not.
    let error = source
        .graph()
        .open_download(&format!("{}/_download/1", redirecting.url))
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("redirected"), "{error}");
    assert!(unlisted.seen().is_empty(), "{:?}", unlisted.seen());
    assert!(redirecting.seen().iter().all(|s| !s.authorization));
}
