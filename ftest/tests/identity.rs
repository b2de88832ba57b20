//! What a client sees before doing any work: `GET /`/`HEAD /`, the license, authentication failures and
//! compatibility media types.

mod common;

use common::{send, Es};
use ftest::StandInOptions;
use reqwest::Method;

const COMPAT_8: &str = "application/vnd.elasticsearch+json; compatible-with=8";
const COMPAT_9: &str = "application/vnd.elasticsearch+json; compatible-with=9";

#[tokio::test]
async fn root_looks_like_elasticsearch() {
    let es = Es::start_with(StandInOptions {
        es_version: "9.1.4".into(),
        ..Default::default()
    });
    let response = es.elastic(Method::GET, "/").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-elastic-product"], "Elasticsearch");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["version"]["number"], "9.1.4");
    assert_eq!(body["version"]["build_flavor"], "default");
    assert_eq!(body["tagline"], "You Know, for Search");
    assert_eq!(body["cluster_name"], "es-standin");
    assert!(
        body["version"].get("distribution").is_none(),
        "no trace of OpenSearch: {body}"
    );

    let head = es.elastic(Method::HEAD, "/").send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["x-elastic-product"], "Elasticsearch");
}

#[tokio::test]
async fn license_reports_the_configured_type() {
    let es = Es::start_with(StandInOptions {
        license_type: "enterprise".into(),
        ..Default::default()
    });
    let (status, body) = send(es.elastic(Method::GET, "/_license")).await;
    assert_eq!(status, 200);
    assert_eq!(body["license"]["type"], "enterprise");
    assert_eq!(body["license"]["status"], "active");
    assert!(body["license"]["issue_date_in_millis"].is_i64());
}

#[tokio::test]
async fn requests_without_valid_credentials_get_401() {
    let es = Es::start();
    let response = es.anonymous(Method::GET, "/").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenges: Vec<_> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        challenges,
        vec![
            "Basic realm=\"security\", charset=\"UTF-8\"".to_string(),
            "ApiKey".to_string()
        ]
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert_eq!(body["error"]["type"], "security_exception");
    assert_eq!(
        body["error"]["reason"],
        "missing authentication credentials for REST request [/]"
    );
    assert_eq!(
        body["error"]["header"]["WWW-Authenticate"][0],
        "Basic realm=\"security\", charset=\"UTF-8\""
    );

    let (status, body) = send(
        es.anonymous(Method::GET, "/_cat/indices")
            .basic_auth("elastic", Some("wrong")),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["reason"],
        "unable to authenticate user [elastic] for REST request [/_cat/indices]"
    );

    // Every route is behind authentication, including the ones forwarded to osmem.
    let (status, _) = send(es.anonymous(Method::GET, "/any-index/_search")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn compatibility_media_types_are_accepted_and_echoed() {
    let es = Es::start();
    for (vendor, echoed) in [
        (
            COMPAT_8,
            "application/vnd.elasticsearch+json;compatible-with=8",
        ),
        (
            COMPAT_9,
            "application/vnd.elasticsearch+json;compatible-with=9",
        ),
    ] {
        let response = es
            .elastic(Method::PUT, "/compat-docs/_doc/1?refresh=true")
            .header("Accept", vendor)
            .header("Content-Type", vendor)
            .body(r#"{"title":"hello"}"#)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{vendor}: {}",
            response.status()
        );
        assert_eq!(response.headers()["content-type"], echoed);

        let response = es
            .elastic(Method::GET, "/")
            .header("Accept", vendor)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], echoed);
    }
    // Errors are answered in the negotiated type too.
    let response = es
        .anonymous(Method::GET, "/")
        .header("Accept", COMPAT_9)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.elasticsearch+json;compatible-with=9"
    );
    // Plain JSON keeps plain JSON.
    let response = es
        .elastic(Method::GET, "/compat-docs/_doc/1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn bulk_accepts_the_vendor_ndjson_type() {
    let es = Es::start();
    let ndjson = "application/vnd.elasticsearch+x-ndjson; compatible-with=9";
    let (status, body) = send(
        es.elastic(Method::POST, "/_bulk?refresh=true")
            .header("Accept", COMPAT_9)
            .header("Content-Type", ndjson)
            .body("{\"index\":{\"_index\":\"nd\",\"_id\":\"1\"}}\n{\"a\":1}\n"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"], false);
    assert_eq!(body["items"][0]["index"]["status"], 201);
}

#[tokio::test]
async fn unsupported_compatible_versions_are_rejected() {
    let es = Es::start();
    let (status, body) = send(es.elastic(Method::GET, "/").header(
        "Accept",
        "application/vnd.elasticsearch+json; compatible-with=7",
    ))
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "media_type_header_exception");
    let cause = body["error"]["caused_by"]["reason"].as_str().unwrap();
    assert!(
        cause.starts_with("Accept version must be either version 9 or 8, but found 7"),
        "{cause}"
    );

    // Mismatched versions on a request with a body.
    let (status, body) = send(
        es.elastic(Method::POST, "/x/_search")
            .header("Accept", COMPAT_9)
            .header("Content-Type", COMPAT_8)
            .body("{}"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "media_type_header_exception");
}
