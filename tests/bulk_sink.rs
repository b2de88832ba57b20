//! The write path (queue → bulk sink → `_bulk`) against the real Elasticsearch stand-in: documents land and are
//! counted, deletes work, oversized text documents are dropped, mapping errors are reported per item with id and
//! reason, and the error monitor stops a sync that keeps failing. Item-level 429/503 and mapping errors come from
//! the stand-in's bulk fault hook (`StandIn::inject_bulk_faults`) as well as from a real mapping.

use std::sync::Arc;
use std::time::Duration;

use elastic_ingest::config::{BulkConfig, ElasticsearchConfig, ErrorMonitorConfig};
use elastic_ingest::es::bulk::BulkOp;
use elastic_ingest::es::{EsClient, RetryPolicy};
use elastic_ingest::net::Outbound;
use elastic_ingest::sync::error_monitor::Threshold;
use elastic_ingest::sync::queue::{self, QueueLimits, QueueSender};
use elastic_ingest::sync::sink::{Sink, SinkError, SinkReport, SinkSettings};
use elastic_ingest::sync::SyncStats;
use elasticsearch::http::Method;
use ftest::standin::{StandIn, StandInOptions};
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

const INDEX: &str = "search-bulk-sink";
/// Liveness bound: a hung sink or producer fails the test here instead of hanging it.
const LIVENESS: Duration = Duration::from_secs(120);

struct Env {
    es: StandIn,
    client: EsClient,
}

async fn env(mapping: Option<Value>) -> Env {
    let es = StandIn::start(StandInOptions::default())
        .expect("start the stand-in (make es-install; cargo build -p ftest --bins)");
    let cfg = ElasticsearchConfig {
        host: es.url.clone(),
        ..Default::default()
    };
    let client = EsClient::new(&cfg, &Outbound::default())
        .expect("client")
        .with_retry(RetryPolicy {
            attempts: 2,
            interval: Duration::from_millis(10),
        });
    let body = mapping.map(|m| json!({"mappings": m}));
    client
        .call(Method::Put, &format!("/{INDEX}"), &[], body.as_ref())
        .await
        .expect("create the index");
    Env { es, client }
}

/// Small requests (so 2,000 documents make many, several in flight) and millisecond item retries.
fn settings(tweak: impl FnOnce(&mut BulkConfig)) -> (SinkSettings, QueueLimits) {
    let mut cfg = BulkConfig {
        chunk_size: 100,
        max_concurrency: 3,
        queue_max_size: 64,
        ..Default::default()
    };
    tweak(&mut cfg);
    let mut settings = SinkSettings::from_config(&cfg);
    settings.item_retry.initial = Duration::from_millis(10);
    settings.item_retry.max_interval = Duration::from_millis(50);
    (settings, QueueLimits::from_config(&cfg))
}

fn doc(id: &str, fields: Value) -> BulkOp {
    let mut body: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
    body.insert("id".into(), Value::from(id));
    BulkOp::Index {
        id: id.into(),
        body,
    }
}

/// Runs `ops` through a queue and a sink, producer and consumer concurrently.
async fn sync_ops(
    env: &Env,
    (settings, limits): (SinkSettings, QueueLimits),
    stats: &Arc<SyncStats>,
    ops: Vec<BulkOp>,
) -> Result<SinkReport, SinkError> {
    let (tx, rx) = queue::bounded(limits);
    let producer = tokio::spawn(produce(tx, ops));
    let sink = Sink::new(env.client.clone(), INDEX, None, settings, Arc::clone(stats));
    let result = tokio::time::timeout(LIVENESS, sink.run(rx, CancellationToken::new()))
        .await
        .expect("the sink finishes");
    // The producer either sent everything or saw the sink go away; it never hangs.
    let _ = tokio::time::timeout(LIVENESS, producer)
        .await
        .expect("the producer finishes");
    result
}

async fn produce(tx: QueueSender, ops: Vec<BulkOp>) {
    for op in ops {
        if tx.send(op).await.is_err() {
            return;
        }
    }
}

async fn count(env: &Env) -> u64 {
    env.client
        .call(Method::Post, &format!("/{INDEX}/_refresh"), &[], None)
        .await
        .expect("refresh");
    let body = env
        .client
        .call(Method::Get, &format!("/{INDEX}/_count"), &[], None)
        .await
        .expect("count");
    body["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count in {body}"))
}

async fn get_source(env: &Env, id: &str) -> (u16, Value) {
    env.client
        .request(Method::Get, &format!("/{INDEX}/_doc/{id}"), &[], None)
        .await
        .expect("get")
}

#[tokio::test]
async fn two_thousand_documents_land_and_deletes_remove_them() {
    let env = env(None).await;
    let stats = Arc::new(SyncStats::default());
    let ops = (0..2000)
        .map(|i| {
            doc(
                &format!("doc-{i}"),
                json!({"title": format!("t{i}"), "n": i}),
            )
        })
        .collect();
    let report = sync_ops(&env, settings(|_| {}), &stats, ops)
        .await
        .expect("sink");
    assert_eq!(
        (report.docs_sent, report.indexed, report.failed_items),
        (2000, 2000, 0)
    );
    assert!(report.requests >= 20, "{report:?}");
    assert_eq!(count(&env).await, 2000);
    assert_eq!(stats.snapshot().indexed_document_count, 2000);
    let (status, stored) = get_source(&env, "doc-1999").await;
    assert_eq!(status, 200);
    assert_eq!(
        stored["_source"],
        json!({"id": "doc-1999", "title": "t1999", "n": 1999})
    );

    // Deletes, plus one of a document that is not there (counted as deleted: the end state is as asked).
    let mut deletes: Vec<BulkOp> = (0..500)
        .map(|i| BulkOp::Delete {
            id: format!("doc-{i}"),
        })
        .collect();
    deletes.push(BulkOp::Delete {
        id: "never-indexed".into(),
    });
    let report = sync_ops(&env, settings(|_| {}), &stats, deletes)
        .await
        .expect("sink");
    assert_eq!(
        (report.deleted, report.failed_items),
        (501, 0),
        "{report:?}"
    );
    assert_eq!(count(&env).await, 1500);
    assert_eq!(get_source(&env, "doc-0").await.0, 404);
    assert_eq!(stats.snapshot().deleted_document_count, 501);
}

#[tokio::test]
async fn oversized_text_documents_are_dropped_but_attachments_are_not() {
    let env = env(None).await;
    let stats = Arc::new(SyncStats::default());
    let big = "x".repeat(20_000);
    let ops = vec![
        doc("small-1", json!({"body": "hello"})),
        doc("big-text", json!({"body": big})),
        doc("big-attachment", json!({"_attachment": big})),
        doc("small-2", json!({"body": "world"})),
        doc("big-text-2", json!({"body": big})),
    ];
    // 0.01 MiB ≈ 10 KB: the 20 KB text documents are over, the attachment is exempt.
    let report = sync_ops(
        &env,
        settings(|c| c.max_text_document_size = 0.01),
        &stats,
        ops,
    )
    .await
    .expect("sink");
    assert_eq!(
        (report.dropped_too_large, report.indexed, report.docs_sent),
        (2, 3, 3),
        "{report:?}"
    );
    assert_eq!(count(&env).await, 3);
    assert_eq!(get_source(&env, "big-text").await.0, 404);
    assert_eq!(get_source(&env, "big-attachment").await.0, 200);
}

#[tokio::test]
async fn mapping_errors_are_counted_and_reported_with_id_and_reason() {
    let env = env(Some(json!({"properties": {"n": {"type": "long"}}}))).await;
    let stats = Arc::new(SyncStats::default());
    let mut ops: Vec<BulkOp> = (0..20)
        .map(|i| doc(&format!("ok-{i}"), json!({"n": i})))
        .collect();
    ops.insert(5, doc("bad-1", json!({"n": "not a number"})));
    ops.insert(15, doc("bad-2", json!({"n": "nope"})));
    let report = sync_ops(&env, settings(|_| {}), &stats, ops)
        .await
        .expect("two errors stay under the limits");
    assert_eq!(
        (report.indexed, report.failed_items, report.retried_items),
        (20, 2, 0),
        "{report:?}"
    );
    assert_eq!(report.last_errors.len(), 2);
    assert!(
        report.last_errors[0].contains("bad-1") && report.last_errors[1].contains("bad-2"),
        "{report:?}"
    );
    assert!(
        report.last_errors.iter().all(|e| e.contains("HTTP 400")),
        "{report:?}"
    );
    assert_eq!(count(&env).await, 20);
    assert_eq!(stats.snapshot().indexed_document_count, 20);
}

#[tokio::test]
async fn the_error_monitor_stops_a_sync_that_keeps_failing() {
    let env = env(Some(json!({"properties": {"n": {"type": "long"}}}))).await;
    let stats = Arc::new(SyncStats::default());
    // 3,000 documents that all fail: the monitor trips long before they are all sent.
    let ops = (0..3000)
        .map(|i| doc(&format!("bad-{i}"), json!({"n": "text"})))
        .collect();
    let tweak = |c: &mut BulkConfig| {
        c.chunk_size = 5;
        c.max_concurrency = 1;
        c.queue_max_size = 10;
        c.error_monitor = ErrorMonitorConfig {
            max_consecutive_errors: 7,
            ..Default::default()
        };
    };
    let e = sync_ops(&env, settings(tweak), &stats, ops)
        .await
        .expect_err("too many errors");
    let SinkError::TooManyErrors(too_many) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(too_many.threshold, Threshold::Consecutive);
    let text = e.to_string();
    assert!(
        text.contains("8 errors in a row") && text.contains("Last error: document `bad-7`"),
        "{text}"
    );
    assert_eq!(count(&env).await, 0);
}

/// Arms the stand-in's bulk fault hook (`POST /_standin/faults/bulk`).
async fn inject_bulk_faults(env: &Env, faults: Value) {
    env.es
        .inject_bulk_faults(faults)
        .await
        .expect("arm bulk faults");
}

#[tokio::test]
async fn items_rejected_with_429_or_503_are_retried_alone_and_land() {
    for status in [429, 503] {
        let env = env(None).await;
        let stats = Arc::new(SyncStats::default());
        inject_bulk_faults(&env, json!({"status": status, "count": 30})).await;
        let ops = (0..200)
            .map(|i| doc(&format!("doc-{i}"), json!({"n": i})))
            .collect();
        let report = sync_ops(&env, settings(|_| {}), &stats, ops)
            .await
            .expect("sink");
        // Only the 30 faulted items were re-sent; every document landed once.
        let counts = (
            report.indexed,
            report.failed_items,
            report.retried_items,
            report.docs_sent,
        );
        assert_eq!(counts, (200, 0, 30, 200), "HTTP {status}: {report:?}");
        assert_eq!(count(&env).await, 200);
        assert_eq!(stats.snapshot().indexed_document_count, 200);
    }
}

#[tokio::test]
async fn items_still_rejected_after_the_last_retry_fail_with_their_reason() {
    let env = env(None).await;
    let stats = Arc::new(SyncStats::default());
    // Five documents, each tried 1 + 2 times: fifteen rejections exhaust them all.
    inject_bulk_faults(&env, json!({"status": 429, "count": 15})).await;
    let ops = (0..5)
        .map(|i| doc(&format!("doc-{i}"), json!({"n": i})))
        .collect();
    let report = sync_ops(&env, settings(|c| c.max_retries = 2), &stats, ops)
        .await
        .expect("under the limits");
    let counts = (report.indexed, report.failed_items, report.retried_items);
    assert_eq!(counts, (0, 5, 10), "{report:?}");
    assert!(
        report
            .last_errors
            .iter()
            .all(|e| e.contains("HTTP 429 es_rejected_execution_exception")),
        "{report:?}"
    );
    assert_eq!(count(&env).await, 0);
}

#[tokio::test]
async fn injected_mapping_errors_are_reported_and_never_retried() {
    let env = env(None).await;
    let stats = Arc::new(SyncStats::default());
    let reason = "failed to parse field [n] of type [long]";
    inject_bulk_faults(
        &env,
        json!({"status": 400, "ids": ["doc-3", "doc-42"], "reason": reason}),
    )
    .await;
    let ops = (0..100)
        .map(|i| doc(&format!("doc-{i}"), json!({"n": i})))
        .collect();
    let report = sync_ops(&env, settings(|_| {}), &stats, ops)
        .await
        .expect("sink");
    assert_eq!(
        (report.indexed, report.failed_items, report.retried_items),
        (98, 2, 0),
        "{report:?}"
    );
    for id in ["doc-3", "doc-42"] {
        assert!(
            report
                .last_errors
                .iter()
                .any(|e| e.contains(id) && e.contains(reason)),
            "{report:?}"
        );
    }
    assert_eq!(count(&env).await, 98);
}

#[tokio::test]
async fn injected_failures_trip_the_error_monitor() {
    let env = env(None).await;
    let stats = Arc::new(SyncStats::default());
    let ids: Vec<String> = (0..40).map(|i| format!("doc-{i}")).collect();
    inject_bulk_faults(
        &env,
        json!({"status": 400, "ids": ids, "reason": "rejected"}),
    )
    .await;
    let ops = (0..1000)
        .map(|i| doc(&format!("doc-{i}"), json!({"n": i})))
        .collect();
    let tweak = |c: &mut BulkConfig| {
        c.chunk_size = 10;
        c.max_concurrency = 1;
    };
    let e = sync_ops(&env, settings(tweak), &stats, ops)
        .await
        .expect_err("too many errors");
    assert!(
        matches!(&e, SinkError::TooManyErrors(t) if t.threshold == Threshold::Consecutive),
        "{e:?}"
    );
    // Requests of ten, one at a time: the second request's first item is the eleventh error in a row, and the
    // sink stops before sending anything that could land.
    let text = e.to_string();
    assert!(
        text.contains(
            "Last error: document `doc-10`: HTTP 400 document_parsing_exception: rejected"
        ),
        "{text}"
    );
    assert_eq!(count(&env).await, 0);
    assert_eq!(stats.snapshot().indexed_document_count, 0);
}
