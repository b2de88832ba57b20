//! Teams syncs end to end: the service's job runner, the content engine and the Teams source, against the Graph
//! fixture server and the Elasticsearch stand-in (both real processes). The index must equal the fixture's
//! expected documents after a full sync, after mutations, and must never lose a document that still exists when
//! Graph misbehaves.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{connector_doc, wait_for, Harness, Mode};
use elastic_ingest::es::JobType;
use elastic_ingest::service::ServiceAction;
use elastic_ingest::sources::teams::TeamsFactory;
use elastic_ingest::sync::engine::ContentEngine;
use ftest::graph_fixture::NO_RATE_LIMITS;
use ftest::{GraphFixture, GraphOptions};
use serde_json::{json, Value};

const INDEX: &str = "search-teams-sync";

struct Rig {
    h: Harness,
    fx: GraphFixture,
}

impl Rig {
    async fn start() -> Rig {
        let fx = GraphFixture::start(GraphOptions::default()).expect("start the Graph fixture");
        let h = Harness::start(Mode::Api).await;
        let mut configuration = elastic_ingest::sources::teams::default_configuration();
        for (key, value) in fx.connector_values() {
            configuration[key]["value"] = json!(value);
        }
        configuration["rate_limits"]["value"] = json!(NO_RATE_LIMITS);
        let mut connector = connector_doc("connected", configuration);
        connector["index_name"] = json!(INDEX);
        h.put_connector(connector).await;
        Rig { h, fx }
    }

    async fn sync(&self, job_type: JobType) -> Value {
        let job_id = self.h.create_job(job_type).await;
        let mut factory = TeamsFactory::default();
        factory.graph.retry_delay = Duration::from_millis(20);
        factory.graph.max_retry_after = Duration::from_secs(2);
        let engine = Arc::new(ContentEngine::new(Arc::new(factory)));
        let svc = self.h.spawn_with(engine, &[ServiceAction::SyncContent]);
        let job = wait_for(Duration::from_secs(120), "a terminal job", || async {
            let j = self.h.job(&job_id).await;
            matches!(
                j["status"].as_str(),
                Some("completed" | "error" | "canceled")
            )
            .then_some(j)
        })
        .await;
        svc.stop().await;
        job
    }

    async fn indexed(&self) -> Vec<Value> {
        self.h
            .send(reqwest::Method::POST, &format!("/{INDEX}/_refresh"), None)
            .await;
        let (_, body) = self
            .h
            .send(
                reqwest::Method::POST,
                &format!("/{INDEX}/_search"),
                Some(json!({"size": 10000, "query": {"match_all": {}}})),
            )
            .await;
        body["hits"]["hits"].as_array().cloned().unwrap_or_default()
    }

    async fn indexed_ids(&self) -> BTreeSet<String> {
        self.indexed()
            .await
            .iter()
            .filter_map(|h| h["_id"].as_str().map(str::to_string))
            .collect()
    }

    async fn expected_ids(&self) -> BTreeSet<String> {
        let expected = self.fx.expected().await.unwrap();
        expected["ids"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|ids| {
                ids.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_str().unwrap().to_string())
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_mutations_and_incremental() {
    let rig = Rig::start().await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let expected = rig.expected_ids().await;
    assert_eq!(rig.indexed_ids().await, expected);
    assert_eq!(
        job["indexed_document_count"].as_u64(),
        Some(expected.len() as u64)
    );

    // Documents as Kibana shows them: `id`, no pipeline flags left, attachments' text extracted by the pipeline.
    let hits = rig.indexed().await;
    let attachments: Vec<&Value> = hits
        .iter()
        .map(|h| &h["_source"])
        .filter(|s| s["type"] == "Channel Attachment" || s["type"] == "User Chat Attachment")
        .collect();
    assert!(!attachments.is_empty());
    assert!(attachments
        .iter()
        .any(|s| s["body"].as_str().is_some_and(|b| !b.is_empty())));
    for hit in &hits {
        let s = &hit["_source"];
        assert_eq!(s["id"], hit["_id"], "{s}");
        for key in [
            "_attachment",
            "_extract_binary_content",
            "_reduce_whitespace",
            "_run_ml_inference",
        ] {
            assert!(s.get(key).is_none(), "{key} left on {s}");
        }
    }

    // An incremental sync right after: nothing changed, nothing is re-indexed.
    let job = rig.sync(JobType::Incremental).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["indexed_document_count"], 0, "{job}");
    assert_eq!(rig.indexed_ids().await, expected);

    // Mutations between syncs: the next full sync indexes and deletes exactly what changed.
    let changes = rig
        .fx
        .mutate(json!({
            "add_chat_messages": 3, "edit_chat_messages": 2, "delete_chat_messages": 2,
            "add_channel_messages": 3, "delete_channel_messages": 1, "add_files": 2, "delete_files": 1,
            "delete_channels": 1, "cancel_events": 1,
        }))
        .await
        .unwrap();
    let after = rig.expected_ids().await;
    assert_ne!(after, expected, "{changes}");
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(rig.indexed_ids().await, after);
    let gone = expected.difference(&after).count() as u64;
    assert_eq!(job["deleted_document_count"].as_u64(), Some(gone), "{job}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_graph_never_deletes_what_still_exists() {
    let rig = Rig::start().await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let expected = rig.expected_ids().await;
    assert_eq!(rig.indexed_ids().await, expected);

    // One channel's messages always fail, and 10 % of all requests answer 503.
    rig.fx
        .set_faults(json!({"error_rate": 0.1, "error_status": 503, "fail_paths": ["/channels/[^/]+/messages"], "seed": 11}))
        .await
        .unwrap();
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(
        job["metadata"]["incomplete_listing"].is_object()
            || job["metadata"]["incomplete_listing"].is_array(),
        "the failed part is reported: {job}"
    );
    assert_eq!(job["deleted_document_count"], 0, "{job}");
    assert_eq!(
        rig.indexed_ids().await,
        expected,
        "nothing that still exists was deleted"
    );

    // Graph healthy again: a full sync is complete and mirrors exactly.
    rig.fx.clear_faults().await.unwrap();
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job["metadata"]["incomplete_listing"].is_null(), "{job}");
    assert_eq!(rig.indexed_ids().await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_fail_the_job_with_the_reason() {
    let rig = Rig::start().await;
    let mut connector = rig.h.connector().await;
    connector["configuration"]["secret_value"]["value"] = json!("wrong");
    rig.h.put_connector(connector).await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "error", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("Failed to authorize to Graph API"),
        "{error}"
    );
    assert!(!error.contains("wrong\""), "{error}");
    assert!(rig.indexed_ids().await.is_empty());
}

/// The reference reads `pipeline` as defaults updated with the stored object: a present `null` name means "no
/// pipeline parameter", so a cluster without ingest pipelines still takes every document. An empty name (which
/// the reference sent as `pipeline=`, failing every item) is treated the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_pipeline_name_sends_bulk_without_a_pipeline() {
    let rig = Rig::start().await;
    let (status, body) = rig
        .h
        .send(
            reqwest::Method::DELETE,
            "/_ingest/pipeline/search-default-ingestion",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let expected = rig.expected_ids().await;
    for name in [Value::Null, json!("")] {
        let mut connector = rig.h.connector().await;
        connector["pipeline"] = json!({"name": name, "extract_binary_content": true,
                                       "reduce_whitespace": true, "run_ml_inference": null});
        rig.h.put_connector(connector).await;
        rig.h.es.clear_requests().await.unwrap();

        let job = rig.sync(JobType::Full).await;
        assert_eq!(job["status"], "completed", "name {name}: {job}");
        assert_eq!(rig.indexed_ids().await, expected, "name {name}");
        let bulks: Vec<Value> = rig
            .h
            .es
            .requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r["path"] == "/_bulk")
            .collect();
        assert!(!bulks.is_empty());
        for bulk in &bulks {
            assert!(
                !bulk["query"].as_str().unwrap().contains("pipeline"),
                "name {name}: {bulk}"
            );
        }
    }
    // No pipeline ran: the documents keep the flags as the job snapshot had them (a null flag is false).
    let hits = rig.indexed().await;
    let source = &hits[0]["_source"];
    assert_eq!(source["_extract_binary_content"], true, "{source}");
    assert_eq!(source["_run_ml_inference"], false, "{source}");
}

/// A connector the Python service created (its five fields, its schema, a label the user changed) is repaired
/// once: this service's fields are added, `secret_value` stops being required and username/password apply to
/// delegated sign-in only, so certificate sign-in works without a dummy secret. Nothing the user changed is
/// reset, and later passes write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_from_the_python_service_migrates_to_certificate_sign_in() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-certificate");
    let fx = GraphFixture::start(GraphOptions {
        client_cert_public_key: Some(dir.join("public.pem")),
        ..GraphOptions::default()
    })
    .expect("start the Graph fixture");
    let h = Harness::start(Mode::Direct).await;
    let python_field = |label: &str, order: u32, sensitive: bool, value: &str| {
        json!({"default_value": null, "depends_on": [], "display": "text", "label": label, "options": [],
               "order": order, "required": true, "sensitive": sensitive, "tooltip": null, "type": "str",
               "ui_restrictions": [], "validations": [], "value": value})
    };
    let values: std::collections::HashMap<_, _> = fx.connector_values().into_iter().collect();
    let configuration = json!({
        "tenant_id": python_field("Directory (tenant) ID", 1, false, &values["tenant_id"]),
        "client_id": python_field("Client ID", 2, false, &values["client_id"]),
        "secret_value": python_field("Secret value", 3, true, ""),
        "username": python_field("Username", 4, false, ""),
        "password": python_field("Password", 5, true, ""),
    });
    h.put_connector(connector_doc("configured", configuration))
        .await;
    let mut factory = TeamsFactory::default();
    factory.graph.retry_delay = Duration::from_millis(20);
    let engine = Arc::new(ContentEngine::new(Arc::new(factory)));
    let svc = h.spawn_with(engine, &[ServiceAction::Schedule]);

    // First pass: repaired (and, with no secret or password yet, a configuration error).
    let c = wait_for(Duration::from_secs(30), "the repaired schema", || async {
        let c = h.connector().await;
        c["configuration"]["auth_method"].is_object().then_some(c)
    })
    .await;
    let cfg = &c["configuration"];
    assert_eq!(cfg["tenant_id"]["label"], "Directory (tenant) ID", "kept");
    assert_eq!(cfg["secret_value"]["required"], false);
    assert_eq!(cfg["username"]["depends_on"][0]["value"], "delegated");
    assert_eq!(cfg["password"]["depends_on"][0]["value"], "delegated");

    // The user picks certificate sign-in in Kibana; no secret, username or password is typed.
    let mut c = c;
    let cfg = &mut c["configuration"];
    cfg["auth_method"]["value"] = json!("app_certificate");
    cfg["certificate_private_key"]["value"] =
        json!(std::fs::read_to_string(dir.join("key.pem")).unwrap());
    cfg["certificate_thumbprint"]["value"] = json!(std::fs::read_to_string(dir.join("thumbprint"))
        .unwrap()
        .trim());
    cfg["graph_url"]["value"] = json!(values["graph_url"]);
    cfg["login_url"]["value"] = json!(values["login_url"]);
    h.put_connector(c).await;
    let c = wait_for(Duration::from_secs(30), "connected", || async {
        let c = h.connector().await;
        (c["status"] == "connected").then_some(c)
    })
    .await;
    assert!(c["error"].is_null(), "{}", c["error"]);

    // Later passes leave the document alone: no configuration rewrite on every poll.
    let (_, before) = h
        .send(
            reqwest::Method::GET,
            &format!("/.elastic-connectors/_doc/{}", common::CID),
            None,
        )
        .await;
    let searches = |requests: &[Value]| {
        requests
            .iter()
            .filter(|r| r["path"] == "/.elastic-connectors/_search")
            .count()
    };
    let seen = searches(&h.es.requests().await.unwrap());
    wait_for(
        Duration::from_secs(30),
        "three more scheduler passes",
        || async { (searches(&h.es.requests().await.unwrap()) >= seen + 3).then_some(()) },
    )
    .await;
    let (_, after) = h
        .send(
            reqwest::Method::GET,
            &format!("/.elastic-connectors/_doc/{}", common::CID),
            None,
        )
        .await;
    svc.stop().await;
    assert_eq!(before["_seq_no"], after["_seq_no"], "{after}");
}
