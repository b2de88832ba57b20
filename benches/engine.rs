//! `make bench-engine`: the content sync engine, in process, pushing a synthetic source into a real stand-in.
//! Prints docs/s, the process's CPU time per document and its peak RSS for 10k and 100k documents, and writes
//! them into BENCHMARKS.md. The stand-in (osmem) runs in its own processes, so the CPU and memory numbers are the
//! service's (plus the tiny synthetic source), not Elasticsearch's.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use elastic_ingest::config::{self, Environment};
use elastic_ingest::es::{EsClient, JobType, TriggerMethod};
use elastic_ingest::net::Outbound;
use elastic_ingest::service::{self, preflight, Context, ServiceAction};
use elastic_ingest::source::{
    Source, SourceDoc, SourceError, SourceEvent, SourceFactory, SyncKind,
};
use elastic_ingest::sync::engine::ContentEngine;
use ftest::standin::{StandIn, StandInOptions};
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

/// A source of `n` documents shaped like Teams chat messages (~600 bytes of JSON each), generated lazily.
struct Synthetic(usize);

#[async_trait]
impl Source for Synthetic {
    async fn ping(&self) -> Result<(), SourceError> {
        Ok(())
    }
    fn docs(
        &self,
        _: SyncKind,
        _: Option<Value>,
    ) -> BoxStream<'_, Result<SourceEvent, SourceError>> {
        stream::iter(0..self.0)
            .map(|i| {
                let mut doc = Map::new();
                doc.insert("_id".into(), json!(format!("msg-{i:08}")));
                doc.insert("_timestamp".into(), json!("2024-05-01T10:20:30Z"));
                doc.insert("type".into(), json!("Chat Message"));
                doc.insert("title".into(), json!(format!("Weekly sync notes {i}")));
                doc.insert("sender".into(), json!("Adele Vance"));
                doc.insert(
                    "webUrl".into(),
                    json!(format!("https://teams.microsoft.com/l/message/19:abc/{i}")),
                );
                doc.insert(
                    "message".into(),
                    json!("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(6)),
                );
                Ok(SourceEvent::Doc(SourceDoc {
                    doc,
                    download: None,
                }))
            })
            .boxed()
    }
}

struct Factory(usize);

impl SourceFactory for Factory {
    fn create(&self, _: &str, _: &Map<String, Value>) -> Result<Box<dyn Source>, SourceError> {
        Ok(Box::new(Synthetic(self.0)))
    }
}

/// (user + system CPU seconds, peak RSS in KiB) of this process.
fn usage() -> (f64, u64) {
    (support::cpu_seconds(), support::peak_rss_kib())
}

struct Row {
    docs: usize,
    seconds: f64,
    cpu_ms_per_doc: f64,
    peak_rss_mib: f64,
}

async fn run(n: usize) -> Row {
    let es = StandIn::start(StandInOptions::default()).expect("stand-in (make es-install)");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.yml");
    std::fs::write(
        &path,
        format!(
            "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\nservice:\n  idling: 0.2\n\
             connectors:\n  - connector_id: bench\n    service_type: microsoft_teams\n",
            es.url
        ),
    )
    .expect("config");
    let cfg = config::load_with(
        &path,
        &Environment {
            vars: Default::default(),
            cwd: dir.path().into(),
        },
    )
    .expect("config");
    let client = EsClient::new(&cfg.elasticsearch, &Outbound::default()).expect("client");
    preflight::run(&client, &cfg, &CancellationToken::new())
        .await
        .expect("preflight");
    let mut configuration = elastic_ingest::sources::teams::default_configuration();
    for k in [
        "tenant_id",
        "client_id",
        "secret_value",
        "username",
        "password",
    ] {
        configuration[k]["value"] = json!("x");
    }
    let connector = json!({"index_name": "search-bench", "service_type": "microsoft_teams", "status": "connected",
        "configuration": configuration, "is_native": false, "deleted": false,
        "pipeline": {"name": "search-default-ingestion"}});
    client
        .call(
            elasticsearch::http::Method::Put,
            "/.elastic-connectors/_doc/bench",
            &[("refresh", "true")],
            Some(&connector),
        )
        .await
        .expect("connector");
    let ctx = Arc::new(Context::new(
        Arc::new(cfg),
        client,
        Arc::new(ContentEngine::new(Arc::new(Factory(n)))),
        elastic_ingest::sources::REGISTRY,
        false,
    ));
    let store = ctx.protocol.store();
    let c = store
        .get_connector("bench")
        .await
        .expect("get")
        .expect("connector");
    let job_id = ctx
        .protocol
        .create_job(
            &c,
            JobType::Full,
            TriggerMethod::OnDemand,
            chrono::Utc::now(),
        )
        .await
        .expect("job");
    let (cpu0, _) = usage();
    let started = Instant::now();
    let token = CancellationToken::new();
    let loops = tokio::spawn(service::run_loops(
        ctx.clone(),
        &[ServiceAction::SyncContent],
        token.clone(),
    ));
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let job = store
            .get_job(&job_id)
            .await
            .expect("job")
            .expect("job exists");
        if job.status().is_terminal() {
            assert_eq!(
                job.doc.indexed_document_count,
                Some(n as u64),
                "{:?}",
                job.doc.error
            );
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let (cpu1, hwm) = usage();
    token.cancel();
    let _ = loops.await;
    Row {
        docs: n,
        seconds,
        cpu_ms_per_doc: (cpu1 - cpu0) * 1000.0 / n as f64,
        peak_rss_mib: hwm as f64 / 1024.0,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for n in [10_000, 100_000] {
        let row = runtime.block_on(run(n));
        println!(
            "engine full sync {:>7} docs: {:>8.0} docs/s, {:.3} ms CPU/doc, peak RSS {:.1} MiB",
            row.docs,
            row.docs as f64 / row.seconds,
            row.cpu_ms_per_doc,
            row.peak_rss_mib
        );
        rows.push(row);
    }
    let mut table = String::from(
        "## Sync engine (`make bench-engine`)\n\nSynthetic source (~600-byte chat-message documents) → ES stand-in, full sync, \
         in process. CPU and peak RSS are the service process's (the stand-in runs separately). Peak RSS is the \
         process high-water mark, so the 100k row includes the 10k run before it. docs/s is bounded by the \
         stand-in (osmem and its front running the ingest pipeline on the same 2 cores), not by the service. \
         Targets: ≤ 0.1 ms CPU per document; ≤ 64 MiB peak RSS at 100k.\n\n\
         | documents | docs/s | CPU ms / doc | peak RSS (MiB) |\n|---:|---:|---:|---:|\n",
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {:.0} | {:.3} | {:.1} |\n",
            r.docs,
            r.docs as f64 / r.seconds,
            r.cpu_ms_per_doc,
            r.peak_rss_mib
        ));
    }
    support::write_section("BENCHMARKS.md", "## Sync engine", &table);
}
