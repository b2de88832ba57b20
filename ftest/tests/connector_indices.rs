//! The connector system indices get ES's built-in template when created without a body.

mod common;

use common::{send, Es};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn connectors_index_gets_hidden_alias_and_strict_mappings() {
    let es = Es::start();
    let (status, body) = send(es.elastic(Method::PUT, "/.elastic-connectors-v1")).await;
    assert_eq!(status, 200, "{body}");

    let (status, aliases) = send(es.elastic(Method::GET, "/.elastic-connectors-v1/_alias")).await;
    assert_eq!(status, 200);
    assert_eq!(
        aliases[".elastic-connectors-v1"]["aliases"][".elastic-connectors"]["is_hidden"],
        true
    );

    let (status, mapping) = send(es.elastic(Method::GET, "/.elastic-connectors/_mapping")).await;
    assert_eq!(status, 200);
    let mappings = &mapping[".elastic-connectors-v1"]["mappings"];
    assert_eq!(mappings["dynamic"], "false");
    assert_eq!(mappings["properties"]["is_native"]["type"], "boolean");
    assert_eq!(mappings["properties"]["last_seen"]["type"], "date");
    assert_eq!(mappings["properties"]["service_type"]["type"], "keyword");

    // The alias works for writes and reads, and unmapped fields are kept in _source but not indexed.
    let doc = json!({"service_type": "teams", "status": "connected", "configuration": {"tenant": {"value": "t"}}});
    let (status, _) = send(
        es.elastic(Method::PUT, "/.elastic-connectors/_doc/c-1?refresh=true")
            .json(&doc),
    )
    .await;
    assert_eq!(status, 201);
    let (_, hits) = send(
        es.elastic(Method::POST, "/.elastic-connectors/_search")
            .json(&json!({"query": {"term": {"service_type": "teams"}}})),
    )
    .await;
    assert_eq!(hits["hits"]["total"]["value"], 1);
    assert_eq!(
        hits["hits"]["hits"][0]["_source"]["configuration"]["tenant"]["value"],
        "t"
    );

    // A second create is refused, as on ES.
    let (status, _) = send(es.elastic(Method::PUT, "/.elastic-connectors-v1")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sync_jobs_are_found_by_hyphenated_connector_id() {
    let es = Es::start();
    let (status, body) = send(es.elastic(Method::PUT, "/.elastic-connectors-sync-jobs-v1")).await;
    assert_eq!(status, 200, "{body}");
    let job = json!({
        "connector": {"id": "teams-connector-1", "index_name": "search-teams", "service_type": "teams",
                      "configuration": {"secret": {"value": "x"}}},
        "status": "pending",
        "job_type": "full",
        "trigger_method": "on_demand",
        "created_at": "2026-01-01T00:00:00Z",
        "indexed_document_count": 0
    });
    let (status, _) = send(
        es.elastic(
            Method::POST,
            "/.elastic-connectors-sync-jobs/_doc?refresh=true",
        )
        .json(&job),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = send(
        es.elastic(
            Method::POST,
            "/.elastic-connectors-sync-jobs/_doc?refresh=true",
        )
        .json(&json!({"connector": {"id": "teams-connector-2"}, "status": "pending"})),
    )
    .await;
    assert_eq!(status, 201);

    let query = json!({"query": {"bool": {"filter": [
        {"terms": {"connector.id": ["teams-connector-1"]}},
        {"terms": {"status": ["pending"]}}
    ]}}});
    let (status, hits) = send(
        es.elastic(Method::POST, "/.elastic-connectors-sync-jobs/_search")
            .json(&query),
    )
    .await;
    assert_eq!(status, 200, "{hits}");
    assert_eq!(hits["hits"]["total"]["value"], 1, "{hits}");
    assert_eq!(
        hits["hits"]["hits"][0]["_source"]["connector"]["index_name"],
        "search-teams"
    );

    let (_, mapping) =
        send(es.elastic(Method::GET, "/.elastic-connectors-sync-jobs-v1/_mapping")).await;
    let props = &mapping[".elastic-connectors-sync-jobs-v1"]["mappings"]["properties"];
    assert_eq!(props["connector"]["properties"]["id"]["type"], "keyword");
    assert_eq!(props["created_at"]["type"], "date");
}

#[tokio::test]
async fn explicit_body_is_merged_over_the_template() {
    let es = Es::start();
    let body = json!({"settings": {"index": {"number_of_replicas": "0"}}});
    let (status, out) = send(
        es.elastic(Method::PUT, "/.elastic-connectors-v1")
            .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let (_, settings) = send(es.elastic(Method::GET, "/.elastic-connectors-v1/_settings")).await;
    let index = &settings[".elastic-connectors-v1"]["settings"]["index"];
    assert_eq!(index["number_of_replicas"], "0");
    assert_eq!(index["hidden"], "true");
}
