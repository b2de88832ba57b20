//! The content sync engine end to end against the real stand-in: a synthetic source of 20 000 documents mirrored
//! into the content index, change detection on a second sync, deletion only after a complete listing, a failing
//! source, ids over 512 bytes, documents without ids, and content downloads.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{configured_teams, connector_doc, Harness, Mode};
use elastic_ingest::es::JobType;
use elastic_ingest::service::ServiceAction;
use elastic_ingest::source::{
    Attachment, Download, ErrorKind, Source, SourceDoc, SourceError, SourceEvent, SourceFactory,
    SyncKind,
};
use elastic_ingest::sync::engine::ContentEngine;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Map, Value};

/// What the synthetic source lists next time.
#[derive(Clone, Default)]
struct Scenario {
    /// `(id, _timestamp, title)`.
    docs: Vec<(String, String, String)>,
    /// Report a failed part after listing the docs.
    incomplete: bool,
    /// Fail the stream after this many docs.
    fail_after: Option<usize>,
    /// Ids whose documents carry a download of `content of <id>`; ids starting with `bad` fail to download.
    with_content: Vec<String>,
    /// Extra raw documents (e.g. without `_id`).
    raw: Vec<Value>,
    /// The cursor the source hands back after listing.
    cursor_out: Option<Value>,
    /// Given a cursor, the listing holds only changes (a delta), with these deletions.
    changes_only: bool,
    deleted: Vec<String>,
}

struct Synthetic(Scenario, Arc<Mutex<Vec<Option<Value>>>>);

#[async_trait]
impl Source for Synthetic {
    async fn ping(&self) -> Result<(), SourceError> {
        Ok(())
    }

    fn sync_cursor(&self) -> Option<Value> {
        self.0.cursor_out.clone()
    }

    fn lists_changes_only(&self, _kind: SyncKind, cursor: Option<&Value>) -> bool {
        self.0.changes_only && cursor.is_some()
    }

    fn docs(
        &self,
        _kind: SyncKind,
        cursor: Option<Value>,
    ) -> BoxStream<'_, Result<SourceEvent, SourceError>> {
        if let Ok(mut seen) = self.1.lock() {
            seen.push(cursor);
        }
        let s = &self.0;
        let mut events: Vec<Result<SourceEvent, SourceError>> = Vec::new();
        for (i, (id, ts, title)) in s.docs.iter().enumerate() {
            if s.fail_after == Some(i) {
                events.push(Err(SourceError::new(
                    ErrorKind::Transient,
                    "listing page 3 failed: HTTP 500",
                )));
                break;
            }
            let mut doc = Map::new();
            doc.insert("_id".into(), json!(id));
            doc.insert("_timestamp".into(), json!(ts));
            doc.insert("title".into(), json!(title));
            let download = s.with_content.contains(id).then(|| {
                let id = id.clone();
                Download::new(None, async move {
                    if id.starts_with("bad") {
                        Err(SourceError::new(ErrorKind::NotFound, "HTTP 404"))
                    } else {
                        Ok(Some(Attachment::from_bytes(
                            format!("{id}.txt"),
                            format!("content of {id}").into_bytes(),
                        )))
                    }
                })
            });
            events.push(Ok(SourceEvent::Doc(SourceDoc { doc, download })));
        }
        for raw in &s.raw {
            let doc = raw.as_object().cloned().unwrap_or_default();
            events.push(Ok(SourceEvent::Doc(SourceDoc {
                doc,
                download: None,
            })));
        }
        for id in &s.deleted {
            events.push(Ok(SourceEvent::Deleted { id: id.clone() }));
        }
        if s.incomplete {
            events.push(Ok(SourceEvent::Incomplete {
                part: "team X / channel Y".into(),
                reason: "HTTP 403".into(),
            }));
        }
        stream::iter(events).boxed()
    }
}

/// The scenario to list, and the cursors the source was given, one per sync.
#[derive(Clone, Default)]
struct Factory(Arc<Mutex<Scenario>>, Arc<Mutex<Vec<Option<Value>>>>);

impl SourceFactory for Factory {
    fn create(
        &self,
        _service_type: &str,
        _values: &Map<String, Value>,
    ) -> Result<Box<dyn Source>, SourceError> {
        let scenario = self.0.lock().map(|s| s.clone()).unwrap_or_default();
        Ok(Box::new(Synthetic(scenario, self.1.clone())))
    }
}

fn docs(range: std::ops::Range<usize>, version: &str) -> Vec<(String, String, String)> {
    range
        .map(|i| {
            (
                format!("doc-{i}"),
                format!("2024-01-01T00:00:00+00:00#{version}"),
                format!("title {i} {version}"),
            )
        })
        .collect()
}

struct Rig {
    h: Harness,
    factory: Factory,
}

impl Rig {
    async fn start() -> Rig {
        let h = Harness::start(Mode::Api).await;
        let mut connector = connector_doc("connected", configured_teams());
        connector["index_name"] = json!("search-engine-test");
        h.put_connector(connector).await;
        Rig {
            h,
            factory: Factory::default(),
        }
    }

    fn set(&self, scenario: Scenario) {
        *self.factory.0.lock().unwrap() = scenario;
    }

    /// Runs one job of `job_type` to a terminal state and returns the job document.
    async fn sync(&self, job_type: JobType) -> Value {
        let job_id = self.h.create_job(job_type).await;
        let engine = Arc::new(ContentEngine::new(Arc::new(self.factory.clone())));
        let svc = self.h.spawn_with(engine, &[ServiceAction::SyncContent]);
        let job = self.h.terminal_job(&job_id, Duration::from_secs(120)).await;
        svc.stop().await;
        job
    }

    async fn index_ids(&self) -> Vec<String> {
        self.h
            .send(reqwest::Method::POST, "/search-engine-test/_refresh", None)
            .await;
        let (_, body) = self
            .h
            .send(
                reqwest::Method::POST,
                "/search-engine-test/_search",
                Some(json!({"size": 10000, "_source": ["id"], "query": {"match_all": {}}})),
            )
            .await;
        let mut ids: Vec<String> = body["hits"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|h| h["_id"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids
    }

    async fn doc(&self, id: &str) -> Value {
        let (_, body) = self
            .h
            .send(
                reqwest::Method::GET,
                &format!("/search-engine-test/_doc/{id}"),
                None,
            )
            .await;
        body["_source"].clone()
    }
}

fn sorted_ids(docs: &[(String, String, String)]) -> Vec<String> {
    let mut ids: Vec<String> = docs.iter().map(|d| d.0.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirrors_20k_docs_then_syncs_only_the_changes() {
    let rig = Rig::start().await;
    let first = docs(0..20_000, "v1");
    rig.set(Scenario {
        docs: first.clone(),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["indexed_document_count"], 20_000);
    assert_eq!(job["deleted_document_count"], 0);
    assert_eq!(job["total_document_count"], 20_000);

    // 1 % changed (0..200), 1 % removed (200..400), 1 % added (20000..20200).
    let mut second: Vec<_> = docs(0..200, "v2");
    second.extend(first[400..].iter().cloned());
    second.extend(docs(20_000..20_200, "v1"));
    rig.set(Scenario {
        docs: second.clone(),
        ..Default::default()
    });
    let job = rig.sync(JobType::Incremental).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["indexed_document_count"], 400,
        "200 changed + 200 new; unchanged skipped"
    );
    assert_eq!(job["deleted_document_count"], 200);
    assert_eq!(job["total_document_count"], 20_000);
    assert_eq!(rig.doc("doc-5").await["title"], "title 5 v2");
    assert_eq!(
        rig.doc("doc-300").await,
        Value::Null,
        "removed from the source → deleted"
    );
    assert_eq!(rig.doc("doc-20100").await["id"], "doc-20100");
    let c = rig.h.connector().await;
    assert_eq!(c["last_indexed_document_count"], 400);
    assert_eq!(c["last_deleted_document_count"], 200);

    // A full sync re-indexes everything and deletes nothing more: the index equals the source.
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["indexed_document_count"], 20_000);
    assert_eq!(job["deleted_document_count"], 0);
    assert_eq!(job["total_document_count"], 20_000);
    assert_eq!(rig.doc("doc-199").await["title"], "title 199 v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incomplete_listing_or_failing_source_deletes_nothing() {
    let rig = Rig::start().await;
    let all = docs(0..100, "v1");
    rig.set(Scenario {
        docs: all.clone(),
        ..Default::default()
    });
    assert_eq!(rig.sync(JobType::Full).await["status"], "completed");

    rig.set(Scenario {
        docs: all[..50].to_vec(),
        incomplete: true,
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["deleted_document_count"], 0);
    assert_eq!(
        job["metadata"]["incomplete_listing"]["failed_parts"], 1,
        "{job}"
    );
    assert_eq!(
        job["metadata"]["incomplete_listing"]["examples"][0]["part"],
        "team X / channel Y"
    );
    assert_eq!(rig.index_ids().await, sorted_ids(&all));

    rig.set(Scenario {
        docs: all[..50].to_vec(),
        fail_after: Some(10),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "error", "{job}");
    assert!(
        job["error"]
            .as_str()
            .unwrap_or_default()
            .contains("listing page 3 failed"),
        "{job}"
    );
    assert_eq!(job["deleted_document_count"], 0);
    assert_eq!(rig.index_ids().await, sorted_ids(&all));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_ids_are_hashed_docs_without_id_skipped_and_content_attached() {
    let rig = Rig::start().await;
    let long = format!("long-{}", "x".repeat(600));
    let mut list = docs(0..3, "v1");
    list.push((long.clone(), "t".into(), "long one".into()));
    list.push(("bad-file".into(), "t".into(), "missing file".into()));
    rig.set(Scenario {
        docs: list,
        with_content: vec!["doc-1".into(), "bad-file".into()],
        raw: vec![
            json!({"title": "no id"}),
            json!({"_id": "", "title": "empty id"}),
        ],
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["indexed_document_count"], 5,
        "docs without id are skipped, the rest indexed"
    );
    let ids = rig.index_ids().await;
    assert_eq!(ids.len(), 5);
    let hashed: Vec<&String> = ids
        .iter()
        .filter(|i| i.len() == 32 && !i.starts_with("doc"))
        .collect();
    assert_eq!(hashed.len(), 1, "{ids:?}");
    assert_eq!(rig.doc(hashed[0]).await["title"], "long one");
    let with_body = rig.doc("doc-1").await;
    assert_eq!(with_body["body"], "content of doc-1", "{with_body}");
    assert!(
        with_body.get("_attachment").is_none()
            && with_body.get("_extract_binary_content").is_none()
    );
    let failed = rig.doc("bad-file").await;
    assert_eq!(
        failed["title"], "missing file",
        "a failed download keeps the document"
    );
    assert!(failed.get("body").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_round_trips_and_sync_rules_filter() {
    let rig = Rig::start().await;
    let mut connector = connector_doc("connected", configured_teams());
    connector["index_name"] = json!("search-engine-test");
    let rule = json!({"id": "r1", "policy": "exclude", "field": "title", "rule": "contains", "value": "secret",
                      "order": 1, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"});
    connector["filtering"][0]["active"]["rules"] = json!([rule]);
    rig.h.put_connector(connector).await;
    let mut list = docs(0..3, "v1");
    list.push(("hidden".into(), "t".into(), "the secret plan".into()));
    rig.set(Scenario {
        docs: list,
        cursor_out: Some(json!({"delta": "token-1"})),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["indexed_document_count"], 3,
        "the excluded document is not indexed"
    );
    assert_eq!(rig.doc("hidden").await, Value::Null);
    let c = rig.h.connector().await;
    assert_eq!(c["sync_cursor"], json!({"delta": "token-1"}), "{c}");

    let job = rig.sync(JobType::Incremental).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["connector"]["sync_cursor"],
        json!({"delta": "token-1"}),
        "claimed with the cursor"
    );
    let seen = rig.factory.1.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![None, Some(json!({"delta": "token-1"}))],
        "full syncs get no cursor, incremental ones do"
    );
}

/// A delta listing (the source got a cursor and lists only changes) indexes what changed, deletes only what the
/// source reports deleted, and leaves everything else alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_listing_deletes_only_what_it_reports() {
    let rig = Rig::start().await;
    let all = docs(0..50, "v1");
    rig.set(Scenario {
        docs: all.clone(),
        cursor_out: Some(json!({"token": "delta-1"})),
        changes_only: true,
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["indexed_document_count"], 50, "{job}");
    rig.set(Scenario {
        docs: docs(7..8, "v2"),
        cursor_out: Some(json!({"token": "delta-2"})),
        changes_only: true,
        deleted: vec!["doc-3".into()],
        ..Default::default()
    });
    let job = rig.sync(JobType::Incremental).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["indexed_document_count"], 1);
    assert_eq!(job["deleted_document_count"], 1);
    assert_eq!(job["total_document_count"], 49);
    assert_eq!(rig.doc("doc-7").await["title"], "title 7 v2");
    assert_eq!(rig.doc("doc-3").await, Value::Null);
    assert_eq!(
        rig.h.connector().await["sync_cursor"],
        json!({"token": "delta-2"})
    );
}

/// With the pipeline's binary extraction off, content is extracted by the service when the configuration asks for
/// it (`use_text_extraction_service`), and not downloaded at all otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_extraction_or_none_when_pipeline_extraction_is_off() {
    let rig = Rig::start().await;
    let mut configuration = configured_teams();
    configuration["use_text_extraction_service"] = json!({"label": "Use text extraction", "type": "bool",
        "required": false, "value": true, "default_value": false, "display": "toggle", "order": 9});
    let mut connector = connector_doc("connected", configuration.clone());
    connector["index_name"] = json!("search-engine-test");
    connector["pipeline"]["extract_binary_content"] = json!(false);
    rig.h.put_connector(connector.clone()).await;
    rig.set(Scenario {
        docs: docs(0..2, "v1"),
        with_content: vec!["doc-1".into()],
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let doc = rig.doc("doc-1").await;
    assert_eq!(doc["body"], "content of doc-1", "{doc}");
    assert!(doc.get("_attachment").is_none());

    configuration["use_text_extraction_service"]["value"] = json!(false);
    connector["configuration"] = configuration;
    rig.h.put_connector(connector).await;
    rig.set(Scenario {
        docs: docs(0..2, "v2"),
        with_content: vec!["doc-1".into()],
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let doc = rig.doc("doc-1").await;
    assert_eq!(doc["title"], "title 1 v2");
    assert!(
        doc.get("body").is_none() && doc.get("_attachment").is_none(),
        "{doc}"
    );
}

/// The delete guard: a sync whose listing lost most of the index (as a bad Graph answer would make it) deletes
/// nothing and says so on the job and the connector; the operator's one-time acceptance lets the next sync delete,
/// and is turned off again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_would_delete_most_of_the_index_deletes_nothing_until_accepted() {
    let rig = Rig::start().await;
    let all = docs(0..1_000, "v1");
    rig.set(Scenario {
        docs: all.clone(),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["indexed_document_count"], 1_000, "{job}");

    // 90 % of the documents are missing from the listing.
    rig.set(Scenario {
        docs: all[..100].to_vec(),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["deleted_document_count"], 0, "{job}");
    let message = job["error"].as_str().expect("the job says why");
    assert!(
        message.contains("900 of the 1000") && message.contains("service.delete_guard_share"),
        "{message}"
    );
    assert_eq!(job["metadata"]["delete_guard"]["would_delete"], 900);
    assert_eq!(job["metadata"]["delete_guard"]["found"], 1_000);
    assert_eq!(rig.index_ids().await.len(), 1_000, "nothing deleted");
    let c = rig.h.connector().await;
    assert_eq!(c["status"], "connected");
    assert_eq!(c["error"], message, "shown on the connector");
    assert_eq!(c["last_sync_status"], "completed");

    // The incremental flavour re-lists everything too, and is guarded the same way.
    let job = rig.sync(JobType::Incremental).await;
    assert_eq!(job["deleted_document_count"], 0, "{job}");
    assert_eq!(rig.index_ids().await.len(), 1_000);

    // The operator accepts the deletion once.
    let mut connector = rig.h.connector().await;
    connector["configuration"]["accept_large_deletion"] =
        json!({"type": "bool", "value": true, "label": "Accept", "required": false});
    rig.h.put_connector(connector).await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["deleted_document_count"], 900, "{job}");
    assert!(job["error"].is_null(), "{job}");
    assert_eq!(rig.index_ids().await, sorted_ids(&all[..100]));
    let c = rig.h.connector().await;
    assert_eq!(
        c["configuration"]["accept_large_deletion"]["value"], false,
        "the acceptance is used up"
    );
    assert!(
        c["error"].is_null() && c["last_sync_error"].is_null(),
        "{c}"
    );
}

/// Deletes act on `_id`s, so the existing-documents scan keys on `_id`: a document whose `_source.id` names
/// another document (written by something else into the same index) is not mistaken for that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_read_by_id_not_by_the_id_field() {
    let rig = Rig::start().await;
    let listed = docs(0..10, "v1");
    rig.set(Scenario {
        docs: listed.clone(),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["indexed_document_count"], 10, "{job}");
    let (status, body) = rig
        .h
        .send(
            reqwest::Method::PUT,
            "/search-engine-test/_doc/stale?refresh=true",
            Some(json!({"id": "doc-1", "title": "left behind", "_timestamp": "2020-01-01T00:00:00+00:00"})),
        )
        .await;
    assert!(status < 300, "{body}");

    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["deleted_document_count"], 1, "{job}");
    assert_eq!(rig.index_ids().await, sorted_ids(&listed));
    assert_eq!(rig.doc("doc-1").await["title"], "title 1 v1");
}

/// A part that fails sync after sync (a permission that is never granted) becomes visible on the connector after
/// `service.incomplete_syncs_before_error` (3) completed syncs, while syncs go on; a complete sync clears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_keeps_failing_shows_on_the_connector() {
    let rig = Rig::start().await;
    rig.set(Scenario {
        docs: docs(0..10, "v1"),
        incomplete: true,
        ..Default::default()
    });
    for round in 1..=2 {
        let job = rig.sync(JobType::Full).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert!(job["error"].is_null(), "round {round}: {job}");
        assert!(rig.h.connector().await["error"].is_null());
    }
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let message = job["error"].as_str().expect("the third sync says so");
    assert!(
        message.contains("failed in each of the last 3 syncs")
            && message.contains("team X / channel Y (HTTP 403)"),
        "{message}"
    );
    assert_eq!(
        job["metadata"]["incomplete_listing"]["persistent_parts"],
        json!(["team X / channel Y"])
    );
    let c = rig.h.connector().await;
    assert_eq!(c["status"], "connected");
    assert_eq!(c["error"], message);

    // The part lists again: the message goes away with the next completed sync.
    rig.set(Scenario {
        docs: docs(0..10, "v1"),
        ..Default::default()
    });
    let job = rig.sync(JobType::Full).await;
    assert!(job["error"].is_null(), "{job}");
    assert!(rig.h.connector().await["error"].is_null());
}
