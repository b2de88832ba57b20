//! `make bench-source`: the Teams source alone (no Elasticsearch), crawling the Graph fixture server, which runs
//! in its own process so the numbers below are the crawl's.
//! 1. Throttling off, `large` data set, rate limits off: wall time, this process's CPU ms per document, peak RSS
//!    growth during the crawl, Graph requests and answer bytes per document. Downloads are lazy and not taken (source only).
//! 2. Throttling on (the fixture enforces Microsoft's documented budgets), default rate limits, `medium`: how
//!    close the crawl runs to the allowed request rate of its busiest budget, and how many 429s it caused.
//!    Writes BENCHMARKS.md's source section.

mod support;

use std::time::Instant;

use elastic_ingest::source::{Source, SourceEvent, SyncKind};
use elastic_ingest::sources::teams::{TeamsFactory, TeamsSource};
use ftest::graph::data::DataSize;
use ftest::graph_fixture::NO_RATE_LIMITS;
use ftest::{GraphFixture, GraphOptions};
use futures::StreamExt;
use serde_json::{json, Map, Value};

/// The fixture allowed as an operator allows a host in config.yml (`graph.allowed_hosts`).
fn factory(fx: &GraphFixture) -> TeamsFactory {
    TeamsFactory {
        allowed_hosts: vec![fx.url.parse().expect("the fixture's origin")],
        ..TeamsFactory::default()
    }
}

fn values(fx: &GraphFixture, rate_limits: &str) -> Map<String, Value> {
    let mut values: Map<String, Value> = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    values.insert("rate_limits".into(), json!(rate_limits));
    values
}

struct Run {
    docs: u64,
    incomplete: u64,
    wall_s: f64,
    cpu_s: f64,
    rss_growth_mib: f64,
    peak_rss_mib: f64,
}

async fn crawl(source: &TeamsSource) -> Run {
    let base = support::rss_kib();
    let reset = support::reset_peak_rss();
    let cpu = support::cpu_seconds();
    let started = Instant::now();
    let (mut docs, mut incomplete) = (0, 0);
    let mut stream = source.docs(SyncKind::Full, None);
    while let Some(event) = stream.next().await {
        match event.expect("crawl") {
            SourceEvent::Doc(_) => docs += 1,
            SourceEvent::Incomplete { .. } => incomplete += 1,
            SourceEvent::Deleted { .. } => {}
        }
    }
    let peak = support::peak_rss_kib();
    Run {
        docs,
        incomplete,
        wall_s: started.elapsed().as_secs_f64(),
        cpu_s: support::cpu_seconds() - cpu,
        rss_growth_mib: if reset {
            peak.saturating_sub(base) as f64 / 1024.0
        } else {
            f64::NAN
        },
        peak_rss_mib: peak as f64 / 1024.0,
    }
}

fn start(size: DataSize) -> GraphFixture {
    GraphFixture::start(GraphOptions {
        data_size: size,
        ..GraphOptions::default()
    })
    .expect("start graph-fixture (make bench-source builds it)")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // 1. Throttling off, large.
    let fx = start(DataSize::Large);
    let expected = fx.expected().await.unwrap()["total"].as_u64().unwrap();
    let source = factory(&fx)
        .build(&values(&fx, NO_RATE_LIMITS))
        .expect("configuration");
    source.ping().await.expect("ping");
    fx.reset_counters().await.unwrap();
    let run = crawl(&source).await;
    let requests = fx.requests().await.unwrap();
    let graph_requests =
        requests["total"].as_u64().unwrap() - requests["token"].as_u64().unwrap_or(0);
    assert_eq!(
        run.docs, expected,
        "the crawl must list every expected document"
    );
    let cpu_ms_per_doc = run.cpu_s * 1000.0 / run.docs as f64;
    let requests_per_doc = graph_requests as f64 / run.docs as f64;
    let graph_mib = requests["bytes"].as_u64().unwrap_or(0) as f64 / (1024.0 * 1024.0);
    let kib_per_doc = graph_mib * 1024.0 / run.docs as f64;
    println!(
        "source crawl, large: {} docs in {:.2} s ({:.0} docs/s), CPU {cpu_ms_per_doc:.3} ms/doc, peak RSS {:.1} MiB \
         (growth {:.1} MiB), {graph_requests} Graph requests ({requests_per_doc:.3}/doc), Graph answers \
         {graph_mib:.1} MiB ({kib_per_doc:.2} KiB/doc)",
        run.docs,
        run.wall_s,
        run.docs as f64 / run.wall_s,
        run.peak_rss_mib,
        run.rss_growth_mib,
    );
    drop(fx);

    // 2. Throttling on, default limits, medium.
    let fx = start(DataSize::Medium);
    fx.set_faults(json!({"throttle": true})).await.unwrap();
    let source = factory(&fx).build(&values(&fx, "")).expect("configuration");
    source.ping().await.expect("ping");
    fx.reset_counters().await.unwrap();
    let throttled_run = crawl(&source).await;
    let requests = fx.requests().await.unwrap();
    let route = |name: &str| requests["by_route"][name].as_u64().unwrap_or(0) as f64;
    let throttled = requests["throttled"].as_u64().unwrap_or(0);
    let total = requests["total"].as_u64().unwrap_or(0);
    let wall = throttled_run.wall_s;
    // Budget shares over the whole crawl (Microsoft's numbers, as the fixture enforces them):
    // SharePoint files: 1 250 resource units per minute; a children listing costs 2, other file requests 1.
    let files_ru = 2.0
        * (route("GET /v1.0/drives/{drive}/items/{item}/children")
            + route("GET /v1.0/drives/{drive}/items/root/children"))
        + route("GET /v1.0/users/{user}/drive");
    let files_share = files_ru / wall / (1250.0 / 60.0) * 100.0;
    // Message reads: 20 rps for chat messages and 20 rps for channel messages.
    let messages = route("GET /v1.0/chats/{chat}/messages")
        + route("GET /v1.0/teams/{team}/channels/{channel}/messages");
    let messages_share = messages / wall / 40.0 * 100.0;
    let (bottleneck, share) = if files_share >= messages_share {
        ("SharePoint files (1 250 resource units/min)", files_share)
    } else {
        ("chat + channel messages (2 × 20 rps)", messages_share)
    };
    println!(
        "source crawl, medium, throttling on: {} docs in {wall:.1} s; files {files_ru:.0} RU = {files_share:.0} % of \
         the allowed rate, messages {messages:.0} requests = {messages_share:.0} % of theirs; {throttled} × 429 of \
         {total} requests, {} incomplete parts",
        throttled_run.docs, throttled_run.incomplete
    );

    let section = format!(
        "## Teams source (`make bench-source`)\n\n\
         The source alone (no Elasticsearch) crawling the Graph fixture server, which runs in its own process; one \
         run, release build, 2-core VM. Downloads are lazy and not taken here.\n\n\
         | scenario | documents | wall | CPU ms / doc | peak RSS (growth) | Graph requests / doc | Graph answers |\n|---|---:|---:|---:|---:|---:|---:|\n\
         | `large`, throttling off, rate limits off | {} | {:.2} s | {cpu_ms_per_doc:.3} | {:.1} MiB ({:.1} MiB) | {requests_per_doc:.3} | {graph_mib:.1} MiB ({kib_per_doc:.2} KiB / doc) |\n\n\
         Targets: ≤ 0.07 ms CPU per document, peak RSS ≤ 48 MiB. The Python reference needs about 1.3 ms of CPU per \
         document for its crawl.\n\n\
         With the fixture enforcing Microsoft's documented budgets (`medium`, default `rate_limits`): {} documents \
         in {wall:.1} s, bound by {bottleneck}: {share:.0} % of its allowed rate over the whole crawl (target ≥ 90 %; \
         the share includes the start and the tail, when fewer requests are left than the budget allows); message \
         reads used {messages_share:.0} % of theirs. {throttled} of {total} requests were answered 429.\n",
        run.docs,
        run.wall_s,
        run.peak_rss_mib,
        run.rss_growth_mib,
        throttled_run.docs,
    );
    support::write_section("BENCHMARKS.md", "## Teams source", &section);
}
