//! The stand-in's bulk fault injection (`/_standin/faults`, driven through `StandIn::inject_bulk_faults`):
//! counted 429/503 rejections used up across requests, per-id 400s until cleared, and that only `elastic`
//! may arm them.

mod common;

use common::{send, Es};
use ftest::StandInError;
use reqwest::Method;
use serde_json::{json, Value};

fn index_lines(index: &str, ids: &[&str]) -> String {
    ids.iter()
        .map(|id| {
            format!(
                "{}\n{}\n",
                json!({"index": {"_index": index, "_id": id}}),
                json!({"id": id})
            )
        })
        .collect()
}

async fn bulk(es: &Es, body: String) -> Value {
    let (status, out) = send(
        es.elastic(
            Method::POST,
            "/_bulk?refresh=true&pipeline=search-default-ingestion",
        )
        .header("Content-Type", "application/x-ndjson")
        .body(body),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    out
}

fn statuses(out: &Value) -> Vec<u64> {
    out["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_object()?.values().next()?["status"].as_u64())
                .collect()
        })
        .unwrap_or_default()
}

async fn exists(es: &Es, index: &str, id: &str) -> bool {
    send(es.elastic(Method::GET, &format!("/{index}/_doc/{id}")))
        .await
        .0
        == 200
}

#[tokio::test]
async fn counted_rejections_then_success() {
    let es = Es::start();
    let armed = es
        .standin
        .inject_bulk_faults(json!({"status": 429, "count": 2}))
        .await
        .expect("armed");
    assert_eq!(
        armed["faults"]["bulk"]["counted"][0]["remaining"], 2,
        "{armed}"
    );

    let out = bulk(&es, index_lines("faulty", &["a", "b", "c"])).await;
    assert_eq!(out["errors"], true);
    assert_eq!(statuses(&out), vec![429, 429, 201]);
    let rejected = &out["items"][0]["index"];
    assert_eq!(rejected["_id"], "a");
    assert_eq!(rejected["error"]["type"], "es_rejected_execution_exception");
    assert!(
        !exists(&es, "faulty", "a").await,
        "a rejected item is not applied"
    );
    assert!(exists(&es, "faulty", "c").await);

    // Used up: the retry goes through.
    let out = bulk(&es, index_lines("faulty", &["a", "b"])).await;
    assert_eq!(out["errors"], false, "{out}");
    assert_eq!(statuses(&out), vec![201, 201]);

    // 503 for deletes, spanning two requests.
    es.standin
        .inject_bulk_faults(json!({"status": 503, "count": 2, "ops": ["delete"]}))
        .await
        .expect("armed");
    let deletes = |ids: &[&str]| -> String {
        ids.iter()
            .map(|id| format!("{}\n", json!({"delete": {"_index": "faulty", "_id": id}})))
            .collect()
    };
    let out = bulk(
        &es,
        format!("{}{}", index_lines("faulty", &["d"]), deletes(&["a"])),
    )
    .await;
    assert_eq!(
        statuses(&out),
        vec![201, 503],
        "index items are not counted by a delete-only rule"
    );
    assert_eq!(
        out["items"][1]["delete"]["error"]["type"],
        "unavailable_shards_exception"
    );
    assert_eq!(out["items"][1]["delete"]["error"]["index"], "faulty");
    let out = bulk(&es, deletes(&["b", "c"])).await;
    assert_eq!(statuses(&out), vec![503, 200]);
    assert!(exists(&es, "faulty", "b").await);
    assert!(!exists(&es, "faulty", "c").await);
}

#[tokio::test]
async fn id_faults_repeat_until_cleared() {
    let es = Es::start();
    es.standin
        .inject_bulk_faults(json!({"status": 400, "ids": ["b"], "reason": "failed to parse field [size] of type [long]"}))
        .await
        .expect("armed");
    // Created the first time, updated the second; `b` fails both times.
    for ok in [201, 200] {
        let out = bulk(&es, index_lines("parse", &["a", "b", "c"])).await;
        assert_eq!(statuses(&out), vec![ok, 400, ok], "{out}");
        let failed = &out["items"][1]["index"];
        assert_eq!(failed["error"]["type"], "document_parsing_exception");
        assert_eq!(
            failed["error"]["reason"],
            "failed to parse field [size] of type [long]"
        );
    }
    assert!(!exists(&es, "parse", "b").await);
    let (_, state) = send(es.elastic(Method::GET, "/_standin/faults")).await;
    assert_eq!(state["bulk"]["ids"]["b"]["status"], 400, "{state}");

    es.standin.clear_faults().await.expect("cleared");
    let out = bulk(&es, index_lines("parse", &["b"])).await;
    assert_eq!(statuses(&out), vec![201]);
    assert!(exists(&es, "parse", "b").await);
}

#[tokio::test]
async fn only_elastic_may_arm_faults() {
    let es = Es::start();
    let superuser_key = es
        .standin
        .mint_api_key("all", json!({}))
        .await
        .expect("key");
    let (status, err) = send(
        es.with_key(&superuser_key, Method::POST, "/_standin/faults/bulk")
            .json(&json!({"status": 429, "count": 1})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["type"], "security_exception");
    let (status, _) = send(
        es.anonymous(Method::POST, "/_standin/faults/bulk")
            .json(&json!({"status": 429, "count": 1})),
    )
    .await;
    assert_eq!(status, 401);
    match es
        .standin
        .inject_bulk_faults(json!({"status": 500, "count": 1}))
        .await
    {
        Err(StandInError::Rejected { status, body }) => {
            assert_eq!(status, 400);
            assert!(body.contains("illegal_argument_exception"), "{body}");
        }
        other => panic!("an unsupported status is refused: {other:?}"),
    }
    // Nothing was armed by the refused calls.
    let out = bulk(&es, index_lines("safe", &["x"])).await;
    assert_eq!(statuses(&out), vec![201]);
}
