//! Ordinary document traffic reaches osmem and comes back intact: index, get, search, optimistic
//! concurrency conflicts, and a bulk request of several MiB.

mod common;

use common::{send, Es};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn index_get_and_search_documents() {
    let es = Es::start();
    let (status, created) = send(
        es.elastic(Method::PUT, "/search-docs/_doc/doc-1?refresh=true")
            .json(&json!({"title": "Quarterly plan", "n": 3})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["result"], "created");

    let (status, doc) = send(es.elastic(Method::GET, "/search-docs/_doc/doc-1")).await;
    assert_eq!(status, 200);
    assert_eq!(doc["_source"]["title"], "Quarterly plan");

    let (status, hits) = send(
        es.elastic(Method::POST, "/search-docs/_search")
            .json(&json!({"query": {"range": {"n": {"gte": 2}}}, "seq_no_primary_term": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(hits["hits"]["total"]["value"], 1);
    assert!(hits["hits"]["hits"][0]["_seq_no"].is_i64());

    let (status, missing) = send(es.elastic(Method::GET, "/search-docs/_doc/nope")).await;
    assert_eq!(status, 404);
    assert_eq!(missing["found"], false);
}

#[tokio::test]
async fn version_conflicts_pass_through() {
    let es = Es::start();
    let (_, created) = send(
        es.elastic(Method::PUT, "/occ/_doc/1")
            .json(&json!({"v": 1})),
    )
    .await;
    let seq_no = created["_seq_no"].as_i64().unwrap();
    let term = created["_primary_term"].as_i64().unwrap();
    let path = format!(
        "/occ/_update/1?if_seq_no={}&if_primary_term={term}",
        seq_no + 5
    );
    let (status, body) = send(
        es.elastic(Method::POST, &path)
            .json(&json!({"doc": {"v": 2}})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["type"], "version_conflict_engine_exception");
}

#[tokio::test]
async fn large_bulk_requests_are_forwarded() {
    let es = Es::start();
    // ~6 MiB: 1,500 documents of 4 KiB.
    let filler = "x".repeat(4096);
    let mut body = String::new();
    for i in 0..1_500 {
        body.push_str(&format!(
            "{{\"index\":{{\"_index\":\"bulk-big\",\"_id\":\"{i}\"}}}}\n"
        ));
        body.push_str(&json!({"body": filler, "i": i}).to_string());
        body.push('\n');
    }
    assert!(body.len() > 6_000_000);
    let (status, out) = send(
        es.elastic(Method::POST, "/_bulk?refresh=true")
            .header("Content-Type", "application/x-ndjson")
            .body(body),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(out["errors"], false);
    assert_eq!(out["items"].as_array().map(Vec::len), Some(1_500));
    let (_, count) = send(es.elastic(Method::GET, "/bulk-big/_count")).await;
    assert_eq!(count["count"], 1_500);
}

#[tokio::test]
async fn stopping_the_standin_stops_osmem() {
    let es = Es::start();
    let osmem = es.standin.osmem_url.clone();
    let (status, _) = send(es.http.get(format!("{osmem}/_cluster/health"))).await;
    assert_eq!(status, 200, "osmem reachable while running");
    es.standin.stop();
    // osmem exits once the front closes its stdin; give it a moment without asserting on timing.
    let mut gone = false;
    for _ in 0..100 {
        if reqwest::Client::new()
            .get(format!("{osmem}/"))
            .send()
            .await
            .is_err()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "osmem still answering after the stand-in stopped");
}
