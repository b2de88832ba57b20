//! Teams syncs end to end: the service's job runner, the content engine and the Teams source, against the Graph
//! fixture server and the Elasticsearch stand-in (both real processes). The index must equal the fixture's
//! expected documents after a full sync, after mutations, and must never lose a document that still exists when
//! Graph misbehaves. What the sync logs (progress, throttling, totals; every line naming its job) is checked on
//! the ECS lines (`--filebeat` format) of a throttled sync.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{connector_doc, ecs, wait_for, Harness, Mode, CID};
use elastic_ingest::es::JobType;
use elastic_ingest::logging::{self, LogFormat};
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
        // Every test logs into the capture from its start: a job whose span was created before the global
        // subscriber existed would log its later lines without the span's ids.
        captured_logs();
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
        self.sync_with(job_type, test_factory(&self.fx)).await.1
    }

    /// Runs a job with the given source factory; returns its id and final document.
    async fn sync_with(&self, job_type: JobType, factory: TeamsFactory) -> (String, Value) {
        let job_id = self.h.create_job(job_type).await;
        let engine = Arc::new(ContentEngine::new(Arc::new(factory)));
        let svc = self.h.spawn_with(engine, &[ServiceAction::SyncContent]);
        let job = self.h.terminal_job(&job_id, Duration::from_secs(120)).await;
        svc.stop().await;
        (job_id, job)
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

/// Test-sized retry waits; `fx` allowed as an operator allows a host in config.yml (`graph.allowed_hosts`).
fn test_factory(fx: &GraphFixture) -> TeamsFactory {
    let mut factory = TeamsFactory {
        allowed_hosts: vec![fx.url.parse().expect("the fixture's origin")],
        ..TeamsFactory::default()
    };
    factory.graph.retry_delay = Duration::from_millis(20);
    factory.graph.max_retry_after = Duration::from_secs(2);
    factory
}

/// Every log line of this test binary from the first call on, as ECS JSON lines (the `--filebeat` format). Tests
/// running at the same time log into it too: read only your job's lines.
fn captured_logs() -> LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let filter = logging::filter(
            tracing::level_filters::LevelFilter::DEBUG,
            tracing::level_filters::LevelFilter::INFO,
        );
        let subscriber = logging::subscriber(filter, LogFormat::Ecs, move || writer.clone());
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        buffer
    })
    .clone()
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// The lines so far, each checked against the ECS rules and expanded.
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| ecs::check_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn label<'a>(line: &'a Value, name: &str) -> &'a str {
    line["labels"][name].as_str().unwrap_or_default()
}

fn label_number(line: &Value, name: &str) -> f64 {
    label(line, name)
        .parse()
        .unwrap_or_else(|_| panic!("labels.{name} is a number: {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_sync_logs_progress_throttling_and_totals_with_its_ids() {
    let logs = captured_logs();
    let rig = Rig::start().await;
    // One Graph answer in ten is a 429 with `Retry-After: 1`; the client waits at most 50 ms (its cap).
    rig.fx
        .set_faults(
            json!({"error_rate": 0.1, "error_status": 429, "retry_after_secs": 1, "seed": 3}),
        )
        .await
        .unwrap();
    rig.fx.reset_counters().await.unwrap();
    let mut factory = test_factory(&rig.fx);
    factory.graph.max_retry_after = Duration::from_millis(50);
    factory.progress_every = Duration::from_millis(20);
    let (job_id, job) = rig.sync_with(JobType::Full, factory).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job["metadata"]["incomplete_listing"].is_null(), "{job}");

    let all = logs.lines();
    // Every line of the sync engine and the Teams source, of any job in this binary, names its job.
    for line in &all {
        let logger = line["log"]["logger"].as_str().unwrap_or_default();
        if logger.starts_with("elastic_ingest::sync")
            || logger.starts_with("elastic_ingest::sources")
        {
            for id in ["connector_id", "sync_job_id", "index_name"] {
                assert!(!label(line, id).is_empty(), "no labels.{id}: {line}");
            }
        }
    }
    let mine: Vec<&Value> = all
        .iter()
        .filter(|l| label(l, "sync_job_id") == job_id)
        .collect();
    for line in &mine {
        assert_eq!(label(line, "connector_id"), CID, "{line}");
        assert_eq!(label(line, "index_name"), INDEX, "{line}");
    }
    let with_message = |m: &str| -> Vec<&Value> {
        mine.iter()
            .copied()
            .filter(|l| l["message"].as_str().is_some_and(|t| t.starts_with(m)))
            .collect()
    };

    let progress = with_message("Teams crawl progress");
    assert!(!progress.is_empty(), "no progress line: {mine:#?}");
    for line in &progress {
        for field in [
            "users_done",
            "users_pending",
            "teams_done",
            "teams_pending",
            "channels_done",
            "channels_pending",
            "chats_done",
            "chats_pending",
            "downloads",
            "api_requests",
            "api_throttled",
            "api_throttle_wait_s",
        ] {
            label_number(line, field);
        }
    }

    // The end of the listing: nothing pending, every team and channel the index now holds was listed.
    let listed = with_message("Teams listing finished");
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let listed = listed[0];
    for pending in [
        "users_pending",
        "teams_pending",
        "channels_pending",
        "chats_pending",
    ] {
        assert_eq!(label(listed, pending), "0", "{listed}");
    }
    let indexed = rig.indexed().await;
    let of_type = |t: &str| indexed.iter().filter(|h| h["_source"]["type"] == t).count() as f64;
    assert_eq!(
        label_number(listed, "teams_done"),
        of_type("Teams"),
        "{listed}"
    );
    assert_eq!(
        label_number(listed, "channels_done"),
        of_type("Team Channel"),
        "{listed}"
    );
    assert!(label_number(listed, "chats_done") > 0.0 && label_number(listed, "users_done") > 0.0);
    assert!(label_number(listed, "downloads") > 0.0, "{listed}");

    // `bulk.display_every` (100 by default): a progress line per 100 documents from the source.
    let finished = with_message("Sync finished");
    assert_eq!(finished.len(), 1, "{finished:#?}");
    let seen = label_number(finished[0], "seen");
    let every: Vec<f64> = with_message("Sync progress")
        .iter()
        .map(|l| label_number(l, "seen"))
        .collect();
    let expected: Vec<f64> = (1..=(seen as u64 / 100))
        .map(|k| (k * 100) as f64)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(every, expected);

    // The first throttling, once, with its endpoint class and the (capped) wait.
    let first = with_message("Graph is throttling");
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(first[0]["log"]["level"], "info");
    let class = label(first[0], "endpoint_class");
    assert!(
        elastic_ingest::sources::teams::graph::EndpointClass::ALL
            .iter()
            .any(|c| c.name() == class),
        "{}",
        first[0]
    );
    assert_eq!(label(first[0], "wait_s"), "0.05", "{}", first[0]);
    assert_eq!(label(first[0], "status"), "429");

    // The job's last line: the Graph totals, equal to what the fixture answered (less sign-in and the
    // configuration check's `/me`, which are not the crawl's).
    let ended = with_message("Sync job ended");
    assert_eq!(ended.len(), 1, "{ended:#?}");
    let ended = ended[0];
    assert_eq!(label(ended, "status"), "completed");
    let requests = rig.fx.requests().await.unwrap();
    let me = requests["by_route"]["GET /v1.0/me"].as_u64().unwrap_or(0);
    let crawl_requests =
        requests["total"].as_u64().unwrap() - requests["token"].as_u64().unwrap() - me;
    assert_eq!(
        label_number(ended, "api_requests"),
        crawl_requests as f64,
        "{ended} {requests}"
    );
    let throttled = label_number(ended, "api_throttled");
    assert!(throttled >= 1.0, "{ended}");
    assert_eq!(
        throttled,
        requests["faults"].as_f64().unwrap(),
        "{ended} {requests}"
    );
    let waited = label_number(ended, "api_throttle_wait_s");
    assert!((waited - throttled * 0.05).abs() < 1e-6, "{ended}");

    // README's "Reading the log" quotes these lines: same messages, same fields.
    for (message, fields) in readme_log_lines() {
        if message == "bulk sink progress" {
            continue; // every 10 s, and this sync is shorter
        }
        let fields: BTreeSet<&str> = fields.iter().map(String::as_str).collect();
        let found = mine.iter().any(|l| {
            let keys: BTreeSet<&str> = l["labels"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys().map(String::as_str))
                .filter(|k| {
                    !["connector_id", "sync_job_id", "index_name", "index_date"].contains(k)
                })
                .collect();
            l["message"] == message.as_str() && keys == fields
        });
        assert!(
            found,
            "README quotes `{message}` with {fields:?}; not logged so: {mine:#?}"
        );
    }
}

/// The lines README's "Reading the log" quotes: (message, field names).
fn readme_log_lines() -> Vec<(String, Vec<String>)> {
    let readme = include_str!("../README.md");
    let section = &readme[readme
        .find("### Reading the log")
        .expect("the README section")..];
    let block = section.split("```").nth(1).expect("a code block");
    let lines: Vec<(String, Vec<String>)> = block
        .lines()
        .filter_map(|line| line.split_once("}: ").map(|(_, rest)| rest))
        .map(|rest| {
            let mut words: Vec<&str> = rest.split(' ').collect();
            let mut fields = Vec::new();
            while let Some((name, _)) = words.last().and_then(|w| w.split_once('=')) {
                fields.push(name.to_string());
                words.pop();
            }
            (words.join(" "), fields)
        })
        .collect();
    assert!(lines.len() >= 5, "{block}");
    lines
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
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/_bulk")))
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
    captured_logs();
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
    let factory = test_factory(&fx);
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

/// The delete guard against a real crawl: most teams vanish between two syncs (as they would seem to if Graph
/// answered one listing wrongly), so the sync deletes nothing and says why; once the operator accepts it, the next
/// sync deletes exactly what is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn most_teams_vanishing_trips_the_delete_guard_until_accepted() {
    let rig = Rig::start().await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let before = rig.expected_ids().await;
    assert_eq!(rig.indexed_ids().await, before);

    let teams = rig
        .indexed()
        .await
        .iter()
        .filter(|h| h["_source"]["type"] == "Teams")
        .count();
    rig.fx
        .mutate(json!({"delete_teams": (teams * 4).div_ceil(5)}))
        .await
        .unwrap();
    let after = rig.expected_ids().await;
    let gone = before.difference(&after).count();
    assert!(
        gone * 2 > before.len(),
        "the mutation removes most documents: {gone} of {}",
        before.len()
    );

    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["deleted_document_count"], 0, "{job}");
    let message = job["error"].as_str().expect("the job says why");
    assert!(message.starts_with("Deleted nothing"), "{message}");
    assert!(
        message.contains(&format!("{gone} of the {}", before.len())),
        "{message}"
    );
    assert_eq!(rig.indexed_ids().await, before, "nothing deleted");
    assert_eq!(rig.h.connector().await["error"], message);

    let mut connector = rig.h.connector().await;
    connector["configuration"]["accept_large_deletion"]["value"] = json!(true);
    rig.h.put_connector(connector).await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["deleted_document_count"].as_u64(),
        Some(gone as u64),
        "{job}"
    );
    assert_eq!(rig.indexed_ids().await, after);
    let c = rig.h.connector().await;
    assert_eq!(c["configuration"]["accept_large_deletion"]["value"], false);
    assert!(c["error"].is_null(), "{c}");
}

/// Graph's 404 body, as an override answers it.
const NOT_FOUND: &str =
    r#"{"error": {"code": "NotFound", "message": "No team found with Group Id x"}}"#;

/// What a faulted second sync must end as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// Completed, with the incomplete parts in `metadata.incomplete_listing`.
    Incomplete,
    /// A top-level listing failed: the job is in error.
    Failed,
}

/// "An incomplete listing deletes nothing": a complete first sync, then a full sync while the fixture answers
/// with `rules` (its `override` fault). Nothing that still exists may be deleted, the fault must have been
/// answered, and the job ends as `outcome` says. A last sync without faults is complete again.
async fn a_second_sync_with(rules: Value, outcome: Outcome) {
    a_second_sync_of(|_| {}, rules, outcome).await;
}

/// [`a_second_sync_with`] with the test source factory changed by `tune` for every sync.
async fn a_second_sync_of(tune: impl Fn(&mut TeamsFactory), rules: Value, outcome: Outcome) {
    let rig = Rig::start().await;
    let mut factory = test_factory(&rig.fx);
    tune(&mut factory);
    let sync = || async { rig.sync_with(JobType::Full, factory.clone()).await.1 };
    let job = sync().await;
    assert_eq!(job["status"], "completed", "{job}");
    let expected = rig.expected_ids().await;
    assert_eq!(rig.indexed_ids().await, expected);

    rig.fx
        .set_faults(json!({ "override": rules }))
        .await
        .unwrap();
    rig.fx.reset_counters().await.unwrap();
    let job = sync().await;
    let faults = rig.fx.requests().await.unwrap()["faults"].as_u64();
    assert!(faults > Some(0), "the fault was never answered");
    match outcome {
        Outcome::Incomplete => {
            assert_eq!(job["status"], "completed", "{job}");
            assert!(
                job["metadata"]["incomplete_listing"].is_object(),
                "the incomplete part is recorded: {job}"
            );
        }
        Outcome::Failed => assert_eq!(job["status"], "error", "{job}"),
    }
    assert_eq!(job["deleted_document_count"], 0, "{job}");
    assert_eq!(
        rig.indexed_ids().await,
        expected,
        "nothing that exists was deleted"
    );

    rig.fx.clear_faults().await.unwrap();
    let job = sync().await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job["metadata"]["incomplete_listing"].is_null(), "{job}");
    assert_eq!(rig.indexed_ids().await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_answered_200_without_value_fails_the_job() {
    a_second_sync_with(
        json!([{"path": "^/v1.0/teams$", "body": "{}"}]),
        Outcome::Failed,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_answered_200_with_an_empty_body_fails_the_job() {
    a_second_sync_with(
        json!([{"path": "^/v1.0/teams$", "body": ""}]),
        Outcome::Failed,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_answered_with_odata_context_only_fails_the_job() {
    let body = r#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users"}"#;
    a_second_sync_with(
        json!([{"path": "^/v1.0/users$", "body": body}]),
        Outcome::Failed,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_answered_with_html_fails_the_job() {
    let rules = json!([{"path": "^/v1.0/chats$", "body": "<html>proxy error</html>"}]);
    a_second_sync_with(rules, Outcome::Failed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_of_a_listed_team_answered_404_are_incomplete() {
    let rules = json!([{"path": "^/v1.0/teams/[^/]+/channels$", "status": 404, "body": NOT_FOUND}]);
    a_second_sync_with(rules, Outcome::Incomplete).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_page_is_incomplete() {
    let rules = json!([{"path": "/channels/[^/]+/messages$", "body": r#"{"value": [{"id": "1""#}]);
    a_second_sync_with(rules, Outcome::Incomplete).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_page_without_value_is_incomplete() {
    let rules =
        json!([{"path": "^/v1.0/chats/[^/]+/messages$", "body": r#"{"@odata.context": "x"}"#}]);
    a_second_sync_with(rules, Outcome::Incomplete).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_next_link_is_incomplete() {
    let rules = json!([{"path": "^/v1.0/chats/[^/]+/messages$",
                        "body": r#"{"value": [], "@odata.nextLink": "{{self}}"}"#}]);
    a_second_sync_with(rules, Outcome::Incomplete).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folders_children_answered_404_are_incomplete() {
    let rules =
        json!([{"path": "/items/[^/]+/children\\?\\$top=5000", "status": 404, "body": NOT_FOUND}]);
    a_second_sync_with(rules, Outcome::Incomplete).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_page_answered_404_is_incomplete() {
    // Every team's channels get a second page, and that page is gone.
    let rules = json!([
        {"path": "channels\\?.*page=2$", "status": 404, "body": NOT_FOUND},
        {"path": "^/v1.0/teams/[^/]+/channels$",
         "body": r#"{"value": [], "@odata.nextLink": "{{self}}?page=2"}"#},
    ]);
    a_second_sync_with(rules, Outcome::Incomplete).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_size_cap_is_incomplete_not_an_oom() {
    const CAP: usize = 1024 * 1024;
    let padding = "x".repeat(CAP + 1);
    let body = json!({"value": [], "padding": padding}).to_string();
    let rules = json!([{"path": "^/v1.0/chats/[^/]+/tabs$", "body": body}]);
    a_second_sync_of(|f| f.graph.max_body_bytes = CAP, rules, Outcome::Incomplete).await;
}

/// A bad answer fewer times than the retry budget (4 attempts) is healed by the retry: the sync is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_bad_page_is_retried_and_the_sync_is_complete() {
    let rig = Rig::start().await;
    rig.fx
        .set_faults(json!({"override": [
            {"path": "^/v1.0/teams$", "body": "{}", "times": 2},
            {"path": "^/v1.0/users$", "body": "", "times": 3},
            {"path": "/channels/[^/]+/messages$", "body": r#"{"value": [{"id": "1""#, "times": 3},
        ]}))
        .await
        .unwrap();
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job["metadata"]["incomplete_listing"].is_null(), "{job}");
    assert_eq!(rig.indexed_ids().await, rig.expected_ids().await);
    let faults = rig.fx.requests().await.unwrap()["faults"].as_u64();
    assert_eq!(faults, Some(8), "every bad answer was given and retried");
}

/// A part that can never be listed (calendars without `Calendars.Read`) keeps every sync incomplete; switching
/// its document type off makes the sync complete again, and the type's documents, no longer listed, are deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_type_switched_off_is_not_listed_and_its_documents_go() {
    let rig = Rig::start().await;
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    let before = rig.indexed().await;
    let meetings = before
        .iter()
        .filter(|h| h["_source"]["type"] == "User Meeting")
        .count();
    assert!(meetings > 0);

    let forbidden = r#"{"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}}"#;
    rig.fx
        .set_faults(json!({"override": [{"path": "^/v1.0/users/[^/]+/events", "status": 403, "body": forbidden}]}))
        .await
        .unwrap();
    let job = rig.sync(JobType::Full).await;
    assert!(
        job["metadata"]["incomplete_listing"].is_object(),
        "calendars refused: {job}"
    );
    assert_eq!(job["deleted_document_count"], 0);

    let mut connector = rig.h.connector().await;
    let others: Vec<&str> = elastic_ingest::sources::teams::docs::ALL_TYPES
        .into_iter()
        .filter(|t| *t != "User Meeting")
        .collect();
    connector["configuration"]["document_types"]["value"] = json!(others.join(","));
    rig.h.put_connector(connector).await;
    rig.fx.reset_counters().await.unwrap();
    let job = rig.sync(JobType::Full).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job["metadata"]["incomplete_listing"].is_null(), "{job}");
    assert_eq!(
        job["deleted_document_count"].as_u64(),
        Some(meetings as u64),
        "{job}"
    );
    let faults = rig.fx.requests().await.unwrap()["faults"].as_u64();
    assert_eq!(faults, Some(0), "no calendar was requested");
    let after = rig.indexed().await;
    assert_eq!(after.len(), before.len() - meetings);
    assert!(after.iter().all(|h| h["_source"]["type"] != "User Meeting"));
}
