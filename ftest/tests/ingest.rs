//! Ingest pipelines on a real stand-in: the `_ingest/pipeline` APIs and their privileges, the built-in
//! `search-default-ingestion` run by `_bulk?pipeline=` (text extraction into `body`, whitespace reduction,
//! meta fields removed, unreadable binaries recorded in `_ingestion_errors`), per-item failures for unknown
//! pipelines, user-defined processors, single-document writes and `index.default_pipeline`.

mod common;

use base64::Engine;
use common::{send, Es};
use reqwest::Method;
use serde_json::{json, Value};

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn bulk(es: &Es, path: &str, lines: &[Value]) -> (u16, Value) {
    send(
        es.elastic(Method::POST, path)
            .header("Content-Type", "application/x-ndjson")
            .body(ndjson(lines)),
    )
    .await
}

async fn source(es: &Es, index: &str, id: &str) -> Option<Value> {
    let (status, doc) = send(es.elastic(Method::GET, &format!("/{index}/_doc/{id}"))).await;
    (status == 200).then(|| doc["_source"].clone())
}

#[tokio::test]
async fn pipeline_crud_and_privileges() {
    let es = Es::start();
    let (status, builtin) =
        send(es.elastic(Method::GET, "/_ingest/pipeline/search-default-ingestion")).await;
    assert_eq!(status, 200, "{builtin}");
    let def = &builtin["search-default-ingestion"];
    assert_eq!(def["description"], "Default search ingest pipeline");
    assert_eq!(def["_meta"]["managed"], true);
    assert_eq!(def["processors"][0]["attachment"]["field"], "_attachment");
    let (_, all) = send(es.elastic(Method::GET, "/_ingest/pipeline")).await;
    assert!(all.get("ent-search-generic-ingestion").is_some(), "{all}");

    let mine = json!({"description": "mine", "processors": [{"remove": {"field": "secret", "ignore_missing": true}}]});
    let (status, ack) = send(
        es.elastic(Method::PUT, "/_ingest/pipeline/mine")
            .json(&mine),
    )
    .await;
    assert_eq!((status, ack), (200, json!({"acknowledged": true})));
    let (status, got) = send(es.elastic(Method::GET, "/_ingest/pipeline/mine")).await;
    assert_eq!((status, got), (200, json!({"mine": mine})));
    let (status, none) = send(es.elastic(Method::GET, "/_ingest/pipeline/absent")).await;
    assert_eq!((status, none), (404, json!({})));

    let (status, err) = send(
        es.elastic(Method::PUT, "/_ingest/pipeline/bad")
            .json(&json!({"processors": [{"frobnicate": {"field": "x"}}]})),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["type"], "parse_exception");
    assert_eq!(
        err["error"]["reason"],
        "No processor type exists with name [frobnicate]"
    );
    assert_eq!(err["error"]["processor_type"], "frobnicate");
    let (status, err) = send(
        es.elastic(Method::PUT, "/_ingest/pipeline/bad")
            .json(&json!({"processors": [{"script": {"source": "ctx.x = 1"}}]})),
    )
    .await;
    assert_eq!(status, 400, "script is not supported: {err}");
    let (status, _) = send(es.elastic(Method::GET, "/_ingest/pipeline/bad")).await;
    assert_eq!(status, 404, "a rejected definition is not stored");

    let admin = es
        .standin
        .mint_api_key(
            "ingest-admin",
            json!({"r": {"cluster": ["manage_ingest_pipelines"]}}),
        )
        .await
        .expect("key");
    let reader = es
        .standin
        .mint_api_key(
            "ingest-reader",
            json!({"r": {"cluster": ["read_pipeline"]}}),
        )
        .await
        .expect("key");
    let (status, _) = send(
        es.with_key(&admin, Method::PUT, "/_ingest/pipeline/by-key")
            .json(&mine),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(es.with_key(&reader, Method::GET, "/_ingest/pipeline/by-key")).await;
    assert_eq!(status, 200);
    let (status, err) = send(
        es.with_key(&reader, Method::PUT, "/_ingest/pipeline/by-key")
            .json(&mine),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["type"], "security_exception");

    let (status, ack) = send(es.elastic(Method::DELETE, "/_ingest/pipeline/mine")).await;
    assert_eq!((status, ack), (200, json!({"acknowledged": true})));
    let (status, err) = send(es.elastic(Method::DELETE, "/_ingest/pipeline/mine")).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["type"], "resource_not_found_exception");
    assert_eq!(err["error"]["reason"], "pipeline [mine] is missing");
}

#[tokio::test]
async fn default_search_pipeline_extracts_and_cleans_up() {
    let es = Es::start();
    let html = b"<html><head><title>t</title></head><body><p>Quarterly   plan</p>\n<div>for\t\tQ3 \xFF</div></body></html>";
    let (status, out) = bulk(
        &es,
        "/_bulk?pipeline=search-default-ingestion&refresh=true",
        &[
            json!({"index": {"_index": "search-teams", "_id": "html"}}),
            json!({"title": "plan.html", "_attachment": b64(html), "_extract_binary_content": true,
                   "_reduce_whitespace": true, "_run_ml_inference": true, "_timestamp": "2024-01-01T00:00:00"}),
            json!({"index": {"_index": "search-teams", "_id": "pdf"}}),
            json!({"title": "scan.pdf", "_attachment": b64(b"%PDF-1.7\n\x00\x01binary"), "_extract_binary_content": true,
                   "_reduce_whitespace": true}),
            json!({"index": {"_index": "search-teams", "_id": "message"}}),
            json!({"body": "  spaced   out  ", "_reduce_whitespace": false}),
        ],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["errors"], false, "{out}");
    assert!(out["ingest_took"].is_u64(), "pipelines ran: {out}");
    let results: Vec<&Value> = out["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["index"]["result"])
        .collect();
    assert_eq!(results, vec!["created", "created", "created"]);

    assert_eq!(
        source(&es, "search-teams", "html").await,
        Some(
            json!({"title": "plan.html", "body": "Quarterly plan for Q3", "_timestamp": "2024-01-01T00:00:00"})
        )
    );
    assert_eq!(
        source(&es, "search-teams", "pdf").await,
        Some(json!({"title": "scan.pdf", "_ingestion_errors": [
            "Processor 'attachment' in pipeline 'search-default-ingestion' failed with message 'Error parsing document in field [_attachment]'"
        ]}))
    );
    assert_eq!(
        source(&es, "search-teams", "message").await,
        Some(json!({"body": "  spaced   out  "}))
    );
}

#[tokio::test]
async fn unknown_pipeline_fails_only_its_items_and_keeps_positions() {
    let es = Es::start();
    let (status, setup) = bulk(
        &es,
        "/_bulk?refresh=true",
        &[
            json!({"index": {"_index": "docs", "_id": "old"}}),
            json!({"v": 1}),
            json!({"index": {"_index": "docs", "_id": "gone"}}),
            json!({"v": 1}),
        ],
    )
    .await;
    assert_eq!((status, &setup["errors"]), (200, &json!(false)), "{setup}");
    let (status, out) = bulk(
        &es,
        "/_bulk?pipeline=nope&refresh=true",
        &[
            json!({"index": {"_index": "docs", "_id": "new"}}),
            json!({"v": 2}),
            json!({"update": {"_index": "docs", "_id": "old"}}),
            json!({"doc": {"v": 3}}),
            json!({"delete": {"_index": "docs", "_id": "gone"}}),
            json!({"create": {"_index": "docs", "_id": "opted-out", "pipeline": "_none"}}),
            json!({"v": 4}),
            json!({"create": {"_index": "docs", "_id": "new2"}}),
            json!({"v": 5}),
        ],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["errors"], true);
    let items = out["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    for (i, op, id) in [(0, "index", "new"), (4, "create", "new2")] {
        let item = &items[i][op];
        assert_eq!(item["_id"], id);
        assert_eq!(item["status"], 400, "{item}");
        assert_eq!(item["error"]["type"], "illegal_argument_exception");
        assert_eq!(
            item["error"]["reason"],
            "pipeline with id [nope] does not exist"
        );
    }
    assert_eq!(items[1]["update"]["result"], "updated", "{}", items[1]);
    assert_eq!(items[2]["delete"]["result"], "deleted", "{}", items[2]);
    assert_eq!(items[3]["create"]["result"], "created", "{}", items[3]);
    assert_eq!(
        source(&es, "docs", "new").await,
        None,
        "a failed item is not indexed"
    );
    assert_eq!(source(&es, "docs", "old").await, Some(json!({"v": 3})));
    assert_eq!(source(&es, "docs", "gone").await, None);
    assert_eq!(
        source(&es, "docs", "opted-out").await,
        Some(json!({"v": 4}))
    );
}

#[tokio::test]
async fn user_pipelines_rewrite_bulk_items_and_single_documents() {
    let es = Es::start();
    let pipeline = json!({"processors": [
        {"set": {"field": "ingested", "value": true}},
        {"rename": {"field": "Title", "target_field": "title", "ignore_missing": true}},
        {"lowercase": {"field": "title", "ignore_missing": true}},
        {"gsub": {"field": "phone", "pattern": "[^0-9]", "replacement": "", "ignore_missing": true}},
        {"remove": {"field": ["secret", "_meta_only"], "ignore_missing": true}},
        {"drop": {"if": "ctx?.skip == true"}}
    ]});
    let (status, _) = send(
        es.elastic(Method::PUT, "/_ingest/pipeline/tidy")
            .json(&pipeline),
    )
    .await;
    assert_eq!(status, 200);
    let (status, out) = bulk(
        &es,
        "/tidy-docs/_bulk?refresh=true",
        &[
            json!({"index": {"_id": "1", "pipeline": "tidy"}}),
            json!({"Title": "HELLO", "phone": "+1 (555) 010-99", "secret": "s"}),
            json!({"index": {"_id": "2", "pipeline": "tidy"}}),
            json!({"title": "dropped", "skip": true}),
            json!({"index": {"_id": "3"}}),
            json!({"Title": "untouched"}),
        ],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["items"][0]["index"]["result"], "created");
    assert_eq!(out["items"][1]["index"]["result"], "noop", "{out}");
    assert_eq!(out["items"][1]["index"]["status"], 200);
    assert_eq!(out["items"][2]["index"]["result"], "created");
    assert_eq!(
        source(&es, "tidy-docs", "1").await,
        Some(json!({"title": "hello", "phone": "155501099", "ingested": true}))
    );
    assert_eq!(
        source(&es, "tidy-docs", "2").await,
        None,
        "dropped documents are not indexed"
    );
    assert_eq!(
        source(&es, "tidy-docs", "3").await,
        Some(json!({"Title": "untouched"}))
    );

    let (status, put) = send(
        es.elastic(Method::PUT, "/tidy-docs/_doc/4?pipeline=tidy&refresh=true")
            .json(&json!({"Title": "Single", "secret": 1})),
    )
    .await;
    assert_eq!(status, 201, "{put}");
    assert_eq!(
        source(&es, "tidy-docs", "4").await,
        Some(json!({"title": "single", "ingested": true}))
    );
    let (status, err) = send(
        es.elastic(Method::PUT, "/tidy-docs/_doc/5?pipeline=nope")
            .json(&json!({"a": 1})),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        err["error"]["reason"],
        "pipeline with id [nope] does not exist"
    );
    let (status, err) = send(
        es.elastic(Method::PUT, "/tidy-docs/_doc/6?pipeline=tidy")
            .json(&json!({"title": ["ok", 7]})),
    )
    .await;
    assert_eq!(status, 400, "a processor failure fails the request: {err}");
    assert_eq!(
        err["error"]["reason"],
        "field [title] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
    );
}

#[tokio::test]
async fn index_default_pipeline_applies_unless_overridden() {
    let es = Es::start();
    let (status, _) = send(
        es.elastic(Method::PUT, "/_ingest/pipeline/stamp")
            .json(&json!({"processors": [{"set": {"field": "stamped", "value": "yes"}}]})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, created) = send(
        es.elastic(Method::PUT, "/stamped")
            .json(&json!({"settings": {"index.default_pipeline": "stamp"}})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let (status, out) = bulk(
        &es,
        "/_bulk?refresh=true",
        &[
            json!({"index": {"_index": "stamped", "_id": "a"}}),
            json!({"n": 1}),
            json!({"index": {"_index": "stamped", "_id": "b", "pipeline": "_none"}}),
            json!({"n": 2}),
            json!({"index": {"_index": "plain", "_id": "c"}}),
            json!({"n": 3}),
        ],
    )
    .await;
    assert_eq!((status, &out["errors"]), (200, &json!(false)), "{out}");
    assert_eq!(
        source(&es, "stamped", "a").await,
        Some(json!({"n": 1, "stamped": "yes"}))
    );
    assert_eq!(source(&es, "stamped", "b").await, Some(json!({"n": 2})));
    assert_eq!(source(&es, "plain", "c").await, Some(json!({"n": 3})));
    let (status, _) = send(
        es.elastic(Method::PUT, "/stamped/_doc/d?refresh=true")
            .json(&json!({"n": 4})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        source(&es, "stamped", "d").await,
        Some(json!({"n": 4, "stamped": "yes"}))
    );
    let (status, _) = send(
        es.elastic(Method::PUT, "/stamped/_doc/e?refresh=true&pipeline=_none")
            .json(&json!({"n": 5})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(source(&es, "stamped", "e").await, Some(json!({"n": 5})));
}
