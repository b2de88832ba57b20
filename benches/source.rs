//! `make bench-source`: the Teams source alone (no Elasticsearch), crawling the Graph fixture server, which runs
//! in its own process so the numbers below are the crawl's.
//! 1. Throttling off, `large` data set, rate limits off: wall time, this process's CPU ms per document, peak RSS
//!    growth during the crawl, Graph requests and answer bytes per
//!    document. Downloads are lazy and not taken (source only).
//! 2. Throttling on (the fixture enforces Microsoft's documented budgets), default rate limits, `large`, the
//!    fixture's tenant in SharePoint's second tier (1 001–5 000 licenses: 2 500 resource units per minute): once
//!    with the connector's default `tenant_size` (the smallest tier, so the drives pacer must find the rest of the
//!    budget itself) and once declaring the real tier. Per endpoint class: requests, 429s/503s, seconds waited on
//!    the pacer, achieved against allowed rate, and the drives' share of the real budget.
//!    Writes BENCHMARKS.md's source section.

mod support;

use std::time::Instant;

use elastic_ingest::source::{BudgetTotals, Source, SourceEvent, SyncKind};
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

fn values(fx: &GraphFixture, rate_limits: &str, tenant_size: &str) -> Map<String, Value> {
    let mut values: Map<String, Value> = fx
        .connector_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    values.insert("rate_limits".into(), json!(rate_limits));
    values.insert("tenant_size".into(), json!(tenant_size));
    values
}

/// The fixture tenant's license count in the pacing scenarios, and its SharePoint budget (resource units/s).
const REAL_LICENSES: u64 = 3_000;
const REAL_DRIVES_PER_S: f64 = 2_500.0 / 60.0;

/// One pacing scenario: the crawl and the per-class totals the client kept.
struct Paced {
    label: &'static str,
    run: Run,
    budgets: Vec<(&'static str, BudgetTotals)>,
    fixture_throttled: u64,
    fixture_total: u64,
}

async fn paced(label: &'static str, tenant_size: &str) -> Paced {
    let fx = start(DataSize::Large);
    fx.set_faults(json!({"throttle": true, "tenant_licenses": REAL_LICENSES}))
        .await
        .unwrap();
    let source = factory(&fx)
        .build(&values(&fx, "", tenant_size))
        .expect("configuration");
    source.ping().await.expect("ping");
    fx.reset_counters().await.unwrap();
    let run = crawl(&source).await;
    let requests = fx.requests().await.unwrap();
    let paced = Paced {
        label,
        run,
        budgets: source.graph().usage().budgets(),
        fixture_throttled: requests["throttled"].as_u64().unwrap_or(0),
        fixture_total: requests["total"].as_u64().unwrap_or(0),
    };
    for (name, b) in &paced.budgets {
        println!(
            "pacing, {label}: {name}: {} requests ({:.0} units), {} × 429, {} × 503, waited {:.1} s on the pacer, \
             achieved {:.2}/s, allowed {:.2}/s at the start → {:.2}/s at the end (ceiling {:.2}/s)",
            b.requests,
            b.units,
            b.throttled_429,
            b.unavailable_503,
            b.paced_wait.as_secs_f64(),
            b.achieved_rate(),
            b.start_rate,
            b.allowed_rate,
            b.ceiling_rate
        );
    }
    println!(
        "pacing, {label}: {} docs in {:.1} s, {} incomplete parts; fixture: {} × 429 of {} requests",
        paced.run.docs, paced.run.wall_s, paced.run.incomplete, paced.fixture_throttled, paced.fixture_total
    );
    paced
}

fn rate(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.1}")
    } else {
        "—".into()
    }
}

/// BENCHMARKS.md rows for one scenario: one per class that made requests.
fn rows(p: &Paced) -> String {
    let mut out = String::new();
    for (name, b) in p.budgets.iter().filter(|(_, b)| b.requests > 0) {
        let share = if *name == "drives" {
            format!("{:.0} %", b.achieved_rate() / REAL_DRIVES_PER_S * 100.0)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | `{name}` | {} | {} / {} | {:.1} s | {} | {} → {} (ceiling {}) | {share} |\n",
            p.label,
            b.requests,
            b.throttled_429,
            b.unavailable_503,
            b.paced_wait.as_secs_f64(),
            rate(b.achieved_rate()),
            rate(b.start_rate),
            rate(b.allowed_rate),
            rate(b.ceiling_rate),
        ));
    }
    out
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
        .build(&values(&fx, NO_RATE_LIMITS, ""))
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

    // 2. Throttling on, the tenant in SharePoint's second tier: declared smallest (the default), then declared.
    let undeclared = paced("declared 0–1 000 (default)", "").await;
    let declared = paced("declared 1 001–5 000 (real)", "up_to_5000").await;
    let storm = |p: &Paced| {
        format!(
            "{} of {} requests answered 429 ({:.1} %)",
            p.fixture_throttled,
            p.fixture_total,
            p.fixture_throttled as f64 / p.fixture_total.max(1) as f64 * 100.0
        )
    };

    let section = format!(
        "## Teams source (`make bench-source`)\n\n\
         The source alone (no Elasticsearch) crawling the Graph fixture server, which runs in its own process; one \
         run, release build, 2-core VM. Downloads are lazy and not taken here.\n\n\
         | scenario | documents | wall | CPU ms / doc | peak RSS (growth) | Graph requests / doc | Graph answers |\n|---|---:|---:|---:|---:|---:|---:|\n\
         | `large`, throttling off, rate limits off | {} | {:.2} s | {cpu_ms_per_doc:.3} | {:.1} MiB ({:.1} MiB) | {requests_per_doc:.3} | {graph_mib:.1} MiB ({kib_per_doc:.2} KiB / doc) |\n\n\
         Targets: ≤ 0.07 ms CPU per document, peak RSS ≤ 48 MiB. The Python reference needs about 1.3 ms of CPU per \
         document for its crawl.\n\n\
         Adaptive pacing (`large`, the fixture enforcing Microsoft's documented budgets, its tenant in SharePoint's \
         second tier: 1 001–5 000 licenses, 2 500 resource units per minute = 41.7 per second). Rates are per \
         second (SharePoint resource units for `drives`, requests otherwise); \"waited\" sums the time requests \
         spent on the client's pacer; the drives' share is its achieved rate (units between its first and last \
         request) against the real budget (target ≥ 90 %).\n\n\
         | tenant size | class | requests | 429 / 503 | waited | achieved | allowed: start → end | drives' share of the real budget |\n\
         |---|---|---:|---:|---:|---:|---|---:|\n{}{}\n\
         Declared smallest: {} documents in {:.1} s, {}. Declared real: {} documents in {:.1} s, {}. The \
         fixture's SharePoint bucket holds one minute of budget, like SharePoint's one-minute window: a crawl whose \
         drives need less than that is never pushed back, so the pacer grows (10 % of its start per second while \
         requests queue) to its ceiling, twice the declared tier, and a share above 100 % is the window's budget \
         spent early, not a retry storm (see the 429 counts). Past 80 % of the window SharePoint's RateLimit-* \
         headers cap the rate at the announced budget (tests/teams_pacing.rs), which these crawls do not reach.\n",
        run.docs,
        run.wall_s,
        run.peak_rss_mib,
        run.rss_growth_mib,
        rows(&undeclared),
        rows(&declared),
        undeclared.run.docs,
        undeclared.run.wall_s,
        storm(&undeclared),
        declared.run.docs,
        declared.run.wall_s,
        storm(&declared),
    );
    support::write_section("BENCHMARKS.md", "## Teams source", &section);
}
