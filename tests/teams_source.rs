//! The Teams source against the Graph fixture server (a real HTTP server in `ftest/`): the crawl lists exactly
//! the documents the fixture expects (delegated and app-only, secret and certificate sign-in), every document type
//! carries the reference's fields, and the failure paths behave: wrong secret, expired tokens, a missing
//! permission, throttling, and a flaky Graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use elastic_ingest::config::{self, Environment};
use elastic_ingest::net::Outbound;
use elastic_ingest::source::{ErrorKind, Source, SourceError, SourceEvent, SyncKind};
use elastic_ingest::sources::teams::auth::TokenKind;
use elastic_ingest::sources::teams::docs::ALL_TYPES;
use elastic_ingest::sources::teams::{TeamsFactory, TeamsSource};
use ftest::graph_fixture::NO_RATE_LIMITS;
use ftest::{GraphFixture, GraphOptions};
use futures::StreamExt;
use serde_json::{json, Map, Value};

/// What one crawl produced.
#[derive(Default)]
struct Crawl {
    /// type → id → document.
    docs: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    incomplete: Vec<(String, String)>,
    error: Option<String>,
    downloads: usize,
}

impl Crawl {
    fn counts(&self) -> BTreeMap<String, u64> {
        self.docs
            .iter()
            .map(|(t, docs)| (t.clone(), docs.len() as u64))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    fn ids(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.docs
            .iter()
            .map(|(t, docs)| (t.clone(), docs.keys().cloned().collect()))
            .collect()
    }
}

fn start_fixture(options: GraphOptions) -> GraphFixture {
    GraphFixture::start(options).expect("start the Graph fixture (cargo build -p ftest)")
}

fn values(fx: &GraphFixture, method: &str) -> Map<String, Value> {
    let mut v: Value = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    v["auth_method"] = json!(method);
    v["rate_limits"] = json!(NO_RATE_LIMITS);
    if method == "app_certificate" {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-certificate");
        v["certificate_private_key"] = json!(std::fs::read_to_string(dir.join("key.pem")).unwrap());
        v["certificate_thumbprint"] = json!(std::fs::read_to_string(dir.join("thumbprint"))
            .unwrap()
            .trim());
    }
    v.as_object().unwrap().clone()
}

/// A factory with test-sized retry waits (the fixture's faults are deterministic, the waits need not be long),
/// allowed to reach `fx` the way an operator allows a host in config.yml (`graph.allowed_hosts`).
fn factory(fx: &GraphFixture) -> TeamsFactory {
    let mut f = TeamsFactory {
        allowed_hosts: vec![fx.url.parse().expect("the fixture's origin")],
        ..TeamsFactory::default()
    };
    f.graph.retry_delay = Duration::from_millis(20);
    f.graph.max_retry_after = Duration::from_secs(2);
    f
}

fn source(fx: &GraphFixture, method: &str) -> TeamsSource {
    factory(fx)
        .build(&values(fx, method))
        .expect("valid configuration")
}

/// Runs the whole crawl; downloads are awaited for the first few documents that have one.
async fn crawl(source: &TeamsSource) -> Crawl {
    let mut out = Crawl::default();
    let mut stream = source.docs(SyncKind::Full, None);
    while let Some(event) = stream.next().await {
        match event {
            Ok(SourceEvent::Doc(doc)) => {
                let kind = doc.doc["type"].as_str().unwrap_or("<none>").to_string();
                let id = doc.doc["_id"].as_str().unwrap_or("<none>").to_string();
                if let Some(download) = doc.download {
                    if out.downloads < 5 {
                        let got = download.fetch.await.expect("download");
                        let bytes = got.expect("content").read_all(usize::MAX).await;
                        assert!(!bytes.expect("the whole file").is_empty());
                    }
                    out.downloads += 1;
                }
                let previous = out
                    .docs
                    .entry(kind.clone())
                    .or_default()
                    .insert(id.clone(), doc.doc);
                assert!(previous.is_none(), "{kind} {id} listed twice");
            }
            Ok(SourceEvent::Incomplete { part, reason }) => out.incomplete.push((part, reason)),
            Ok(SourceEvent::Deleted { .. }) => panic!("a full listing reports no deletions"),
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
    }
    out
}

fn expected_counts(expected: &Value) -> BTreeMap<String, u64> {
    expected["by_type"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(t, n)| (t.clone(), n.as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn expected_ids(expected: &Value) -> BTreeMap<String, BTreeSet<String>> {
    expected["ids"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(t, ids)| {
            let ids = ids
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect();
            (t.clone(), ids)
        })
        .filter(|(_, ids): &(String, BTreeSet<String>)| !ids.is_empty())
        .collect()
}

fn assert_complete(crawl: &Crawl) {
    assert!(crawl.error.is_none(), "crawl failed: {:?}", crawl.error);
    assert!(
        crawl.incomplete.is_empty(),
        "incomplete parts: {:?}",
        crawl.incomplete
    );
}

/// The reference's field set per type (spec §10.8), before the engine adds `id` and the pipeline flags.
fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "User Chat Messages" => &[
            "_id",
            "type",
            "_timestamp",
            "creation_time",
            "webUrl",
            "title",
            "chatType",
            "sender",
            "message",
        ],
        "User Chat Tabs" => &["_id", "type", "title", "url", "_timestamp", "members"],
        "User Chat Attachment" => &[
            "_id",
            "type",
            "name",
            "weburl",
            "size_in_bytes",
            "_timestamp",
            "creation_time",
            "members",
        ],
        "User Chat Meeting Recording" => &["_id", "type", "title", "url", "_timestamp"],
        "User Meeting" => &[
            "_id",
            "type",
            "creation_time",
            "_timestamp",
            "title",
            "Cancelled_status",
            "web_link",
            "reminder",
            "reminder_time",
            "categories",
            "original_start_timezone",
            "original_end_timezone",
            "attendees",
            "online_meeting_url",
            "description",
            "location",
            "meeting_detail",
        ],
        "Teams" => &["_id", "type", "title", "description", "_timestamp"],
        "Team Channel" => &[
            "_id",
            "type",
            "url",
            "title",
            "description",
            "creation_time",
            "team_name",
            "_timestamp",
        ],
        "Channel Tab" => &[
            "_id",
            "type",
            "title",
            "url",
            "team_name",
            "channel_name",
            "_timestamp",
        ],
        "Channel Message" => &[
            "_id",
            "type",
            "url",
            "_timestamp",
            "creation_time",
            "sender",
            "channel",
            "message",
            "attached_documents",
        ],
        "Channel Meeting" => &[
            "_id",
            "type",
            "_timestamp",
            "participants",
            "title",
            "recording_url",
        ],
        "Channel Attachment" => &[
            "_id",
            "type",
            "name",
            "weburl",
            "size_in_bytes",
            "_timestamp",
            "creation_time",
            "team_name",
            "channel_name",
        ],
        other => panic!("unknown type {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_crawl_lists_exactly_the_expected_documents() {
    let fx = start_fixture(GraphOptions::default());
    let source = source(&fx, "delegated");
    source.ping().await.expect("ping");
    let got = crawl(&source).await;
    assert_complete(&got);
    let expected = fx.expected().await.unwrap();
    assert_eq!(got.counts(), expected_counts(&expected));
    assert_eq!(got.ids(), expected_ids(&expected));
    assert!(got.downloads > 0, "attachments carry lazy downloads");
    // Every type appears, and each document has exactly the reference's fields.
    for kind in ALL_TYPES {
        let docs = got
            .docs
            .get(kind)
            .unwrap_or_else(|| panic!("no {kind} documents"));
        for doc in docs.values() {
            let keys: BTreeSet<&str> = doc.keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = fields_of(kind).iter().copied().collect();
            // Channel meetings carry title/recording_url only when a recording exists.
            if kind == "Channel Meeting" {
                assert!(
                    keys.is_subset(&want) && keys.contains("participants")
                        || keys.contains("title"),
                    "{doc:?}"
                );
            } else {
                assert_eq!(keys, want, "{kind}: {doc:?}");
            }
        }
    }
    // Every document has a `_timestamp` string, so incremental syncs can skip it when unchanged.
    for (kind, docs) in &got.docs {
        for doc in docs.values() {
            assert!(
                doc.get("_timestamp").is_some_and(Value::is_string),
                "{kind} without _timestamp: {doc:?}"
            );
        }
    }
    // Golden spot checks against the Graph objects the fixture serves.
    let messages = &got.docs["User Chat Messages"];
    assert!(messages
        .values()
        .all(|d| !d["message"].as_str().unwrap().trim().is_empty()));
    for d in messages.values() {
        let m = d["message"].as_str().unwrap();
        assert!(
            !m.contains("<p>") && !m.contains("</"),
            "HTML is converted: {m:?}"
        );
    }
    let teams = &got.docs["Teams"];
    assert!(teams
        .values()
        .all(|d| d["_timestamp"].as_str().is_some_and(|t| t.ends_with('Z'))));
}

/// `$select` asks Graph for only the properties the crawl reads. The fixture honours it as Graph does (only the
/// named properties, `id` and `@odata.*` annotations), so a property the documents need but the list forgot would
/// read as absent: here every document must equal, field by field, the one built from whole objects (the fixture
/// told to ignore `$select`), in both sign-in modes — and the answers must be smaller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_properties_build_the_same_documents_as_whole_objects() {
    let fx = start_fixture(GraphOptions::default());
    for method in ["delegated", "app_secret"] {
        let source = source(&fx, method);
        source.ping().await.expect("ping");
        let (mut bytes, mut downloads, mut crawls) = (Vec::new(), Vec::new(), Vec::new());
        for ignore_select in [false, true] {
            fx.set_faults(json!({"ignore_select": ignore_select}))
                .await
                .unwrap();
            fx.reset_counters().await.unwrap();
            let got = crawl(&source).await;
            assert_complete(&got);
            bytes.push(fx.requests().await.unwrap()["bytes"].as_u64().unwrap());
            downloads.push(got.downloads);
            crawls.push(got.docs);
        }
        // The download URL is an annotation Graph sends under `$select` only when named.
        assert!(
            downloads[0] > 0 && downloads[0] == downloads[1],
            "{method}: {downloads:?}"
        );
        assert!(
            crawls[0].values().map(BTreeMap::len).sum::<usize>() > 100,
            "{method}"
        );
        for (kind, whole) in &crawls[1] {
            assert_eq!(&crawls[0][kind], whole, "{method}: {kind} documents differ");
        }
        assert_eq!(crawls[0].len(), crawls[1].len(), "{method}");
        assert!(
            bytes[0] < bytes[1],
            "{method}: {bytes:?} bytes with and without $select"
        );
    }
}

/// A folder's children are handled page by page as they arrive: when a later page fails for good, the files of
/// the pages before it are still sent, and the failure is an incomplete part (so the sync deletes nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_folder_page_keeps_the_files_of_the_pages_before_it() {
    let fx = start_fixture(GraphOptions::default());
    let file = json!({"id": "early-page-file", "name": "early.txt", "size": 0, "file": {},
                      "webUrl": "https://x.sharepoint.com/early.txt"});
    let first_page = json!({"value": [file], "@odata.nextLink": "{{self}}&page=2"}).to_string();
    fx.set_faults(json!({"override": [
        // One folder listing (whichever comes first) gets a page with a next link; that next page fails.
        {"path": "/items/[^/]+/children\\?\\$top=5000(&\\$select=[^&]*)?$", "body": first_page, "times": 1},
        {"path": "/children\\?.*&page=2$", "status": 500, "body": ""},
    ]}))
    .await
    .unwrap();
    let got = crawl(&source(&fx, "delegated")).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert!(got.docs["Channel Attachment"].contains_key("early-page-file"));
    assert_eq!(got.incomplete.len(), 1, "{:?}", got.incomplete);
    assert!(
        got.incomplete[0].0.starts_with("files of channel "),
        "{:?}",
        got.incomplete
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn medium_data_set_counts_match_in_both_modes() {
    let fx = start_fixture(GraphOptions {
        data_size: ftest::graph::data::DataSize::Medium,
        ..GraphOptions::default()
    });
    let got = crawl(&source(&fx, "delegated")).await;
    assert_complete(&got);
    let expected = fx.expected().await.unwrap();
    assert!(
        expected["total"].as_u64().unwrap() > 2_000,
        "{}",
        expected["total"]
    );
    assert_eq!(got.counts(), expected_counts(&expected));
    assert_eq!(got.ids(), expected_ids(&expected));
    let got = crawl(&source(&fx, "app_secret")).await;
    assert_complete(&got);
    assert_eq!(got.ids(), expected_ids(&fx.expected_app().await.unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_only_crawl_lists_every_users_chats() {
    let fx = start_fixture(GraphOptions::default());
    let source = source(&fx, "app_secret");
    source.ping().await.expect("ping");
    let got = crawl(&source).await;
    assert_complete(&got);
    let expected = fx.expected_app().await.unwrap();
    assert_eq!(got.ids(), expected_ids(&expected));
    // More chats than the signed-in user's alone.
    let delegated = fx.expected().await.unwrap();
    assert!(
        expected["by_type"]["User Chat Messages"].as_u64()
            > delegated["by_type"]["User Chat Messages"].as_u64(),
        "the data set should have chats the delegated user is not in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_sign_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-certificate");
    let fx = start_fixture(GraphOptions {
        client_cert_public_key: Some(dir.join("public.pem")),
        ..GraphOptions::default()
    });
    let source = source(&fx, "app_certificate");
    source
        .ping()
        .await
        .expect("ping with a signed client assertion");
    let got = crawl(&source).await;
    assert_complete(&got);
    assert_eq!(got.ids(), expected_ids(&fx.expected_app().await.unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_a_clear_error() {
    let fx = start_fixture(GraphOptions::default());
    let mut v = values(&fx, "app_secret");
    v["secret_value"] = json!("not-the-secret");
    let source = factory(&fx).build(&v).unwrap();
    let error = source.ping().await.unwrap_err().to_string();
    assert!(
        error.starts_with("Failed to authorize to Graph API. Please verify, that provided details are valid. Error:"),
        "{error}"
    );
    assert!(error.contains("AADSTS"), "{error}");
    assert!(!error.contains("not-the-secret"), "{error}");
    // The crawl fails as a whole (nothing is listed, so nothing can be deleted).
    let got = crawl(&source).await;
    assert!(got.error.is_some_and(|e| e.contains("Failed to authorize")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refreshed_once_and_the_crawl_completes() {
    let fx = start_fixture(GraphOptions::default());
    let source = source(&fx, "delegated");
    source.ping().await.unwrap();
    let fetched = source.graph().tokens().fetch_count();
    // Graph starts refusing the cached tokens before they are due: every request gets one 401, then a new token.
    fx.expire_tokens().await.unwrap();
    let got = crawl(&source).await;
    assert_complete(&got);
    assert_eq!(got.ids(), expected_ids(&fx.expected().await.unwrap()));
    let refetched = source.graph().tokens().fetch_count() - fetched;
    assert!(
        (1..=2).contains(&refetched),
        "one new token per kind, got {refetched}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_is_named_and_the_rest_is_listed() {
    let fx = start_fixture(GraphOptions::default());
    fx.set_faults(json!({"forbidden_paths": ["/channels/[^/]+/messages"]}))
        .await
        .unwrap();
    let got = crawl(&fx_source(&fx)).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert!(!got.incomplete.is_empty());
    for (part, reason) in &got.incomplete {
        assert!(part.starts_with("messages of channel "), "{part}");
        assert!(reason.contains("ChannelMessage.Read.All"), "{reason}");
    }
    assert!(!got.docs.contains_key("Channel Message"));
    let expected = fx.expected().await.unwrap();
    let mut want = expected_ids(&expected);
    want.remove("Channel Message");
    want.remove("Channel Meeting");
    assert_eq!(got.ids(), want);
}

fn fx_source(fx: &GraphFixture) -> TeamsSource {
    source(fx, "delegated")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_crawl_completes_and_honours_retry_after() {
    let fx = start_fixture(GraphOptions::default());
    // A tiny budget on channel messages: Graph-like 429s with Retry-After.
    fx.set_faults(json!({
        "throttle": true,
        "throttle_limits": {"channel_messages": {"requests": 4, "window_secs": 1}},
    }))
    .await
    .unwrap();
    let source = fx_source(&fx);
    let got = crawl(&source).await;
    assert_complete(&got);
    assert_eq!(got.ids(), expected_ids(&fx.expected().await.unwrap()));
    let requests = fx.requests().await.unwrap();
    let throttled = requests["throttled"].as_u64().unwrap();
    let seen = source.graph().usage().totals().throttled;
    assert_eq!(
        seen, throttled,
        "every 429 the fixture sent was seen and waited for"
    );
    assert!(throttled > 0, "the budget should have been hit: {requests}");
    assert!(
        throttled < requests["total"].as_u64().unwrap(),
        "{requests}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_graph_loses_nothing_silently() {
    let fx = start_fixture(GraphOptions::default());
    let expected = expected_ids(&fx.expected().await.unwrap());
    // 10 % of requests answer 503 (each retried after its Retry-After), some pages are cut off, and one
    // channel's files always fail.
    fx.set_faults(
        json!({"error_rate": 0.1, "error_status": 503, "truncate_rate": 0.02, "seed": 3}),
    )
    .await
    .unwrap();
    let got = crawl(&fx_source(&fx)).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    // Whatever was listed exists; if nothing was reported incomplete, everything was listed.
    for (kind, ids) in got.ids() {
        assert!(ids.is_subset(expected.get(&kind).unwrap()), "{kind}");
    }
    if got.incomplete.is_empty() {
        assert_eq!(got.ids(), expected);
    }

    fx.set_faults(json!({"fail_paths": ["/filesFolder$"]}))
        .await
        .unwrap();
    let got = crawl(&fx_source(&fx)).await;
    assert!(!got.incomplete.is_empty());
    assert!(got
        .incomplete
        .iter()
        .all(|(part, _)| part.starts_with("files of channel ")));
    assert!(!got.docs.contains_key("Channel Attachment"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_timeout_are_retried_not_waited_for() {
    let fx = start_fixture(GraphOptions::default());
    // 5 % of requests take 3 s to answer; the client gives up after 300 ms and retries.
    fx.set_faults(json!({"slow_rate": 0.05, "slow_ms": 3000, "seed": 5}))
        .await
        .unwrap();
    let mut f = factory(&fx);
    f.graph.request_timeout = Duration::from_millis(300);
    let source = f.build(&values(&fx, "delegated")).unwrap();
    let got = crawl(&source).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    let expected = expected_ids(&fx.expected().await.unwrap());
    if got.incomplete.is_empty() {
        assert_eq!(got.ids(), expected);
    } else {
        assert!(
            got.incomplete
                .iter()
                .all(|(_, reason)| reason.contains("timed out")),
            "{:?}",
            got.incomplete
        );
    }
    assert!(source.graph().retried() > 0, "slow answers were retried");
}

/// A listing that keeps sending next links fails at the page cap instead of running forever; under the cap the
/// same listing is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_past_the_page_cap_fails() {
    let fx = start_fixture(GraphOptions::default());
    let mut f = factory(&fx);
    f.graph.max_pages = 2;
    let source = f
        .build(&values(&fx, "delegated"))
        .expect("valid configuration");
    let error = source
        .graph()
        .collect("/users?$top=1", TokenKind::Delegated)
        .await
        .expect_err("more than two pages of one user");
    assert!(error.to_string().contains("more than 2 pages"), "{error}");

    let source = fx_source(&fx);
    let users = source
        .graph()
        .collect("/users?$top=1", TokenKind::Delegated)
        .await
        .unwrap();
    assert!(users.len() > 2, "{}", users.len());
}

/// Every download the crawl offers, read with a cap of `cap` bytes (as the engine reads them): the sizes of those
/// that succeeded (largest first) and the errors.
async fn download_sizes(source: &TeamsSource, cap: u64) -> (Vec<usize>, Vec<String>) {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let (mut sizes, mut errors) = (Vec::new(), Vec::new());
    let mut stream = source.docs(SyncKind::Full, None);
    while let Some(event) = stream.next().await {
        if let SourceEvent::Doc(doc) = event.expect("no sync error") {
            if let Some(download) = doc.download {
                match download.fetch.await {
                    Ok(got) => match got.expect("content").read_all(cap).await {
                        Ok(bytes) => sizes.push(bytes.len()),
                        Err(e) => errors.push(e.to_string()),
                    },
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
    }
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    (sizes, errors)
}

/// `service.max_file_download_size` is the Teams download cap, on the listed size and on the bytes. Under a
/// 16 MiB cap the fixture's honest file just over 10 MiB and its file listed as 45 KB that holds 12 MiB are both
/// downloaded whole; under the default 10 MiB the first is never requested and the second's download stops at
/// the cap and fails (the document keeps its metadata).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_cap_is_the_services_max_file_download_size() {
    let fx = start_fixture(GraphOptions::default());
    let big = usize::try_from(ftest::graph::data::generate::BIG_FILE_SIZE).unwrap();
    let most = usize::try_from(ftest::graph::data::generate::MAX_FILE_SIZE).unwrap();
    assert!(big > 10 * 1024 * 1024);
    let mut values = values(&fx, "delegated");
    values.insert("document_types".into(), json!("Channel Attachment"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yml");
    std::fs::write(&path, "service:\n  max_file_download_size: 16777216\n").unwrap();
    let env = Environment {
        vars: Default::default(),
        cwd: dir.path().into(),
    };
    let config = config::load_with(&path, &env).expect("valid config");
    let mut larger = TeamsFactory::for_service(&config, &Outbound::default()).unwrap();
    larger.allowed_hosts = factory(&fx).allowed_hosts;
    assert_eq!(larger.max_download_bytes, 16 * 1024 * 1024);
    let (sizes, errors) = download_sizes(
        &larger.build(&values).expect("valid configuration"),
        larger.max_download_bytes,
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    assert!(sizes.contains(&big), "{sizes:?}");
    assert!(
        sizes[0] > big && sizes[0] <= most,
        "the file listed small is downloaded whole: {sizes:?}"
    );

    let default = factory(&fx);
    assert_eq!(default.max_download_bytes, 10 * 1024 * 1024);
    let (sizes, errors) = download_sizes(
        &default.build(&values).expect("valid configuration"),
        default.max_download_bytes,
    )
    .await;
    assert!(
        !sizes.is_empty() && sizes[0] <= 10 * 1024 * 1024,
        "{sizes:?}"
    );
    assert!(
        !errors.is_empty()
            && errors
                .iter()
                .all(|e| e.contains("larger than 10485760 bytes")),
        "{errors:?}"
    );
}

/// Graph's failures reach the engine with their kind (not flattened into text): an answer that is not a page is
/// invalid data, a 500 that persists is transient, a 429 that persists is throttling, a 403 a missing
/// permission, a rejected secret an auth failure. Only the transient and throttled ones are worth a retry later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_failures_keep_their_kind_across_the_source_boundary() {
    let fx = start_fixture(GraphOptions::default());
    let forbidden = r#"{"error":{"code":"Forbidden","message":"Missing role"}}"#;
    fx.set_faults(json!({"override": [
        {"path": "^/v1.0/users\\?\\$top=3$", "status": 200, "body": "{}"},
        {"path": "^/v1.0/users\\?\\$top=4$", "status": 500, "body": ""},
        {"path": "^/v1.0/users\\?\\$top=5$", "status": 429, "body": ""},
        {"path": "^/v1.0/users\\?\\$top=6$", "status": 403, "body": forbidden},
    ]}))
    .await
    .unwrap();
    let mut f = factory(&fx);
    f.graph.max_retry_after = Duration::from_millis(20);
    f.graph.max_throttle_retries = 2;
    let source = f.build(&values(&fx, "delegated")).unwrap();
    let kind_of = |top: u32| {
        let graph = source.graph();
        async move {
            let error = graph
                .collect(&format!("/users?$top={top}"), TokenKind::Delegated)
                .await
                .expect_err("the override fails the listing");
            SourceError::from(error)
        }
    };
    let invalid = kind_of(3).await;
    assert_eq!(invalid.kind(), ErrorKind::InvalidData, "{invalid}");
    let transient = kind_of(4).await;
    assert_eq!(transient.kind(), ErrorKind::Transient, "{transient}");
    let throttled = kind_of(5).await;
    assert_eq!(throttled.kind(), ErrorKind::Throttled, "{throttled}");
    let permission = kind_of(6).await;
    assert_eq!(permission.kind(), ErrorKind::Permission, "{permission}");
    assert!(transient.is_retryable() && throttled.is_retryable());
    assert!(!invalid.is_retryable() && !permission.is_retryable());

    let mut v = values(&fx, "app_secret");
    v["secret_value"] = json!("not-the-secret");
    let rejected = f.build(&v).unwrap().ping().await.unwrap_err();
    assert_eq!(rejected.kind(), ErrorKind::Auth, "{rejected}");
}
