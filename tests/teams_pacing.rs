//! Adaptive Graph pacing against the Graph fixture server (a real HTTP server in `ftest/` enforcing Microsoft's
//! budgets, SharePoint's by the tenant's license tier): the drives class starts at the declared tenant size's
//! budget, grows while SharePoint has room, halves and pauses on 429s, caps itself at the budget SharePoint's
//! `RateLimit-*` headers announce, and an explicit `rate_limits` value stays fixed. The fixture runs on real
//! time, so these crawls do too (the pacer's logic under paused time is tested in `graph/pacer_tests.rs`).

use std::time::Duration;

use elastic_ingest::source::{BudgetTotals, Source, SourceEvent, SyncKind};
use elastic_ingest::sources::teams::{TeamsFactory, TeamsSource};
use ftest::{GraphFixture, GraphOptions};
use futures::StreamExt;
use serde_json::{json, Map, Value};

fn start_fixture() -> GraphFixture {
    GraphFixture::start(GraphOptions::default())
        .expect("start the Graph fixture (cargo build -p ftest)")
}

/// A source on `fx` with the given connector fields over its defaults (rate limits on, as in production).
fn source(
    fx: &GraphFixture,
    fields: &[(&str, &str)],
    tune: impl FnOnce(&mut TeamsFactory),
) -> TeamsSource {
    let mut values: Map<String, Value> = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    for (k, v) in fields {
        values.insert(k.to_string(), json!(v));
    }
    let mut factory = TeamsFactory {
        allowed_hosts: vec![fx.url.parse().expect("the fixture's origin")],
        ..TeamsFactory::default()
    };
    factory.graph.retry_delay = Duration::from_millis(20);
    tune(&mut factory);
    factory.build(&values).expect("valid configuration")
}

/// Crawls everything; fails on an error or an incomplete part. Returns the documents listed.
async fn crawl(source: &TeamsSource) -> usize {
    let mut docs = 0;
    let mut stream = source.docs(SyncKind::Full, None);
    while let Some(event) = stream.next().await {
        match event.expect("the crawl completes") {
            SourceEvent::Doc(_) => docs += 1,
            SourceEvent::Incomplete { part, reason } => panic!("incomplete: {part}: {reason}"),
            SourceEvent::Deleted { .. } => {}
        }
    }
    docs
}

fn budget(source: &TeamsSource, name: &str) -> BudgetTotals {
    source
        .graph()
        .usage()
        .budgets()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no budget {name}"))
}

async fn expected_total(fx: &GraphFixture) -> usize {
    fx.expected().await.unwrap()["total"].as_u64().unwrap() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_grow_past_the_declared_tier_while_sharepoint_has_room() {
    let fx = start_fixture();
    // The tenant has 3 000 licenses (2 500 RU/min); the connector declares the default, the smallest tier.
    fx.set_faults(json!({"throttle": true, "tenant_licenses": 3000}))
        .await
        .unwrap();
    let source = source(&fx, &[], |f| {
        f.graph.pacing_window = Duration::from_millis(100)
    });
    assert_eq!(crawl(&source).await, expected_total(&fx).await);
    let drives = budget(&source, "drives");
    let start = 1250.0 / 60.0;
    assert!((drives.start_rate - start).abs() < 1e-9, "{drives:?}");
    assert!(
        (drives.ceiling_rate - 2.0 * start).abs() < 1e-9,
        "{drives:?}"
    );
    assert!(drives.allowed_rate > start, "it never grew: {drives:?}");
    assert!(drives.allowed_rate <= drives.ceiling_rate, "{drives:?}");
    assert_eq!(drives.throttled_429, 0, "{drives:?}");
    // Teams classes sit at their documented, tenant-independent limits.
    let chats = budget(&source, "chat_messages");
    assert_eq!((chats.start_rate, chats.allowed_rate), (20.0, 20.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_halves_the_class_and_the_class_waits_retry_after() {
    let fx = start_fixture();
    // SharePoint allows 5 RU per second here; the pacer starts at 20.8. Without the RateLimit-* headers (Graph's
    // other services send none) the 429s are all the pacer learns from.
    fx.set_faults(json!({
        "throttle": true,
        "throttle_limits": {"files": {"requests": 5, "window_secs": 1}},
        "rate_limit_headers": false,
    }))
    .await
    .unwrap();
    let source = source(&fx, &[], |_| {});
    assert_eq!(crawl(&source).await, expected_total(&fx).await);
    let drives = budget(&source, "drives");
    assert!(
        drives.throttled_429 > 0,
        "the budget should have been hit: {drives:?}"
    );
    assert!(
        drives.allowed_rate <= drives.start_rate / 2.0,
        "a 429 halves the rate: {drives:?}"
    );
    // Each 429 paused the whole class for its Retry-After (1 s here): queued requests waited on the pacer.
    assert!(drives.paced_wait >= Duration::from_secs(1), "{drives:?}");
    // Each episode's requests in flight can all get a 429, but the pause stops the rest of the class.
    assert!(
        drives.throttled_429 * 2 < drives.requests,
        "no retry storm: {drives:?}"
    );
    let requests = fx.requests().await.unwrap();
    assert_eq!(
        source.graph().usage().totals().throttled,
        requests["throttled"].as_u64().unwrap(),
        "every 429 was seen"
    );
    // Other classes are not slowed by the drives' throttling.
    assert_eq!(budget(&source, "chat_messages").allowed_rate, 20.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_headers_cap_the_rate_at_the_announced_budget() {
    let fx = start_fixture();
    // 30 RU per 6 s window (5 per second); RateLimit-* headers from 80 % used, as SharePoint sends them (its
    // window is a minute; the client is told this one's length).
    fx.set_faults(json!({
        "throttle": true,
        "throttle_limits": {"files": {"requests": 30, "window_secs": 6}},
    }))
    .await
    .unwrap();
    let source = source(&fx, &[], |f| {
        f.graph.rate_limit_window = Duration::from_secs(6);
    });
    assert_eq!(crawl(&source).await, expected_total(&fx).await);
    let drives = budget(&source, "drives");
    // Capped at RateLimit-Limit per window when the headers came (it may grow again once they stop).
    assert!(
        (drives.lowest_rate - 5.0).abs() < 1e-9
            || drives.lowest_rate < 5.0 && drives.throttled_429 > 0,
        "capped at RateLimit-Limit per window: {drives:?}"
    );
    assert!(
        drives.throttled_429 * 4 < drives.requests,
        "the headers kept it (mostly) out of 429s: {drives:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_rate_limit_stays_fixed() {
    let fx = start_fixture();
    fx.set_faults(json!({"throttle": true, "tenant_licenses": 60000}))
        .await
        .unwrap();
    let source = source(
        &fx,
        &[("tenant_size", "over_50000"), ("rate_limits", "drives=15")],
        |f| f.graph.pacing_window = Duration::from_millis(100),
    );
    assert_eq!(crawl(&source).await, expected_total(&fx).await);
    let drives = budget(&source, "drives");
    assert_eq!(
        (drives.start_rate, drives.allowed_rate, drives.ceiling_rate),
        (15.0, 15.0, 15.0),
        "{drives:?}"
    );
    assert!(
        drives.paced_wait > Duration::ZERO,
        "it was paced: {drives:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tenant_size_names_the_field() {
    let fx = start_fixture();
    let mut values: Map<String, Value> = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    values.insert("tenant_size".into(), json!("enormous"));
    let factory = TeamsFactory {
        allowed_hosts: vec![fx.url.parse().unwrap()],
        ..TeamsFactory::default()
    };
    let error = factory.build(&values).err().expect("refused").to_string();
    assert!(
        error.starts_with(
            "Configuration field `tenant_size` (Tenant size) has an unknown value `enormous`"
        ),
        "{error}"
    );
    // And the source the service would build still pings the fixture with a good value.
    values.insert("tenant_size".into(), json!("up_to_15000"));
    factory.build(&values).unwrap().ping().await.unwrap();
}
