//! API keys with role descriptors: allowed patterns work, everything else is a 403 worded like ES's, and a
//! bulk request runs its allowed items while the forbidden ones fail one by one.

mod common;

use common::{send, Es};
use reqwest::Method;
use serde_json::json;

fn connector_like_role() -> serde_json::Value {
    json!({
        "connector": {
            "cluster": ["monitor"],
            "indices": [
                {"names": ["search-allowed*", ".elastic-connectors*"], "privileges": ["all"]},
                {"names": ["read-only"], "privileges": ["read"]}
            ]
        }
    })
}

#[tokio::test]
async fn restricted_key_gets_403_outside_its_patterns() {
    let es = Es::start();
    let key = es
        .standin
        .mint_api_key("restricted", connector_like_role())
        .await
        .unwrap();

    let (status, body) = send(es.with_key(&key, Method::PUT, "/some-index")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["type"], "security_exception");
    assert_eq!(
        body["error"]["reason"],
        format!(
            "action [indices:admin/create] is unauthorized for API key id [{}] of user [elastic] on indices [some-index], this action is granted by the index privileges [create_index,manage,all]",
            key.id
        )
    );

    let (status, body) = send(es.with_key(&key, Method::PUT, "/search-allowed-1")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(es.with_key(&key, Method::PUT, "/.elastic-connectors-v1")).await;
    assert_eq!(status, 200);
    let (status, _) = send(es.with_key(&key, Method::GET, "/")).await;
    assert_eq!(status, 200, "monitor grants GET /");
}

#[tokio::test]
async fn read_privilege_allows_search_but_not_writes() {
    let es = Es::start();
    let (status, _) = send(
        es.elastic(Method::PUT, "/read-only/_doc/1?refresh=true")
            .json(&json!({"title": "existing"})),
    )
    .await;
    assert_eq!(status, 201);
    let key = es
        .standin
        .mint_api_key("reader", connector_like_role())
        .await
        .unwrap();

    let (status, body) = send(
        es.with_key(&key, Method::POST, "/read-only/_search")
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"]["total"]["value"], 1);

    let (status, body) = send(
        es.with_key(&key, Method::PUT, "/read-only/_doc/2")
            .json(&json!({"title": "new"})),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body["error"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("action [indices:data/write/index] is unauthorized"));
}

#[tokio::test]
async fn cluster_privileges_are_enforced() {
    let es = Es::start();
    let role = json!({"r": {"indices": [{"names": ["x"], "privileges": ["read"]}]}});
    let key = es.standin.mint_api_key("no-monitor", role).await.unwrap();
    let (status, body) = send(es.with_key(&key, Method::GET, "/")).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"]["reason"],
        format!(
            "action [cluster:monitor/main] is unauthorized for API key id [{}] of user [elastic], this action is granted by the cluster privileges [monitor,manage,all]",
            key.id
        )
    );
    // Authenticate is always allowed.
    let (status, _) = send(es.with_key(&key, Method::GET, "/_security/_authenticate")).await;
    assert_eq!(status, 200);
    let (status, _) = send(
        es.with_key(&key, Method::POST, "/_security/api_key")
            .json(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn bulk_item_on_a_forbidden_index_fails_alone() {
    let es = Es::start();
    let key = es
        .standin
        .mint_api_key("bulk", connector_like_role())
        .await
        .unwrap();
    let body = concat!(
        "{\"index\":{\"_index\":\"search-allowed-docs\",\"_id\":\"1\"}}\n{\"title\":\"kept\"}\n",
        "{\"index\":{\"_index\":\"forbidden\",\"_id\":\"2\"}}\n{\"title\":\"refused\"}\n",
        "{\"index\":{\"_id\":\"3\"}}\n{\"title\":\"path index\"}\n",
    );
    let (status, out) = send(
        es.with_key(
            &key,
            Method::POST,
            "/search-allowed-docs/_bulk?refresh=true",
        )
        .header("Content-Type", "application/x-ndjson")
        .body(body),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["errors"], true);
    let items = out["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["index"]["status"], 201);
    assert_eq!(items[1]["index"]["status"], 403);
    assert_eq!(items[1]["index"]["_index"], "forbidden");
    assert_eq!(items[1]["index"]["error"]["type"], "security_exception");
    assert!(items[1]["index"]["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("on indices [forbidden]"));
    assert_eq!(items[2]["index"]["status"], 201);

    // The forbidden document was never written.
    let (status, _) = send(es.elastic(Method::GET, "/forbidden/_doc/2")).await;
    assert_eq!(status, 404);
    let (_, count) = send(es.elastic(Method::GET, "/search-allowed-docs/_count")).await;
    assert_eq!(count["count"], 2);
}

#[tokio::test]
async fn bulk_without_any_write_privilege_is_refused_whole() {
    let es = Es::start();
    let role = json!({"r": {"indices": [{"names": ["*"], "privileges": ["read"]}]}});
    let key = es.standin.mint_api_key("reader", role).await.unwrap();
    let (status, body) = send(
        es.with_key(&key, Method::POST, "/_bulk")
            .header("Content-Type", "application/x-ndjson")
            .body("{\"delete\":{\"_index\":\"a\",\"_id\":\"1\"}}\n"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body["error"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("action [indices:data/write/bulk] is unauthorized"));
}
