//! `make bench-e2e` (part of `make bench`): the whole service end to end on the `small`, `medium` and `large`
//! fixture tenants, all with realistic drive files (most 0.1–3 MB, a tail to 12 MiB, some wrongly listed; `small`
//! through the fixture's `--heavy-files`) — the release `elastic-ingest` process against the Elasticsearch
//! stand-in and the Graph fixture, a full sync then a no-change incremental sync, each in its own service process
//! so each has its own peak RSS.
//!
//! Each tenant runs in **pipeline mode** (the default: the service sends file bytes as base64 `_attachment` to
//! the ingest pipeline) and **text mode** (pipeline `extract_binary_content: false`, connector
//! `use_text_extraction_service: true`: the service extracts text itself); `large` also runs both with Graph
//! **pacing on** (the fixture enforces Microsoft's documented budgets, the connector keeps its default
//! `rate_limits`) besides pacing off (fixture limits off, `rate_limits` all 0). Reported per sync: wall time,
//! service CPU (per document and per MB downloaded), peak RSS, Graph requests, downloads and bytes downloaded
//! (counted by the fixture), the stand-in's CPU, and the floor: the CPU this program needs to copy the same bytes
//! through a local TCP connection and base64-encode them (`support/floor.rs`). Tables go to BENCHMARKS.md.
//!
//! `E2E_RUNS=large-text-off,small-pipeline-on` runs only the named rows (tenant-content-pacing) and prints them
//! without touching BENCHMARKS.md, for profiling one scenario; `E2E_BIN=<program>` runs that program (a profiler
//! wrapping the service) instead of the release binary.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use ftest::graph::data::DataSize;
use ftest::graph_fixture::NO_RATE_LIMITS;
use ftest::stack::{
    self, create_connector, default_configuration, sibling, write_config, Es, Service, CONNECTOR_ID,
};
use ftest::{GraphFixture, GraphOptions, StandIn, StandInOptions};
use serde_json::{json, Value};
use support::floor::{self, Floor};

fn cpu_seconds(pid: u32) -> f64 {
    support::cpu_seconds_of(&pid.to_string())
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU seconds of `root` and every process below it (the stand-in front and its osmem).
fn tree_cpu_seconds(root: u32) -> f64 {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let mut p = Some(pid);
        while let Some(current) = p {
            if current == root {
                total += cpu_seconds(pid);
                break;
            }
            p = parent_of(current).filter(|pp| *pp > 1);
        }
    }
    total
}

fn peak_rss_mib(pid: u32) -> f64 {
    support::status_kib(&pid.to_string(), "VmHWM:") as f64 / 1024.0
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ContentMode {
    /// `extract_binary_content: true`: base64 `_attachment` for the ingest pipeline.
    Pipeline,
    /// `extract_binary_content: false` + `use_text_extraction_service: true`: text extracted by the service.
    Text,
}

impl ContentMode {
    fn label(self) -> &'static str {
        match self {
            ContentMode::Pipeline => "pipeline",
            ContentMode::Text => "text",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Run {
    size: DataSize,
    mode: ContentMode,
    paced: bool,
    /// `elasticsearch.bulk.queue_max_mem_size` in MiB when not the default (25); such runs sync in full only.
    budget_mib: Option<u32>,
}

impl Run {
    /// `large-text-off`: the name `E2E_RUNS` selects a run by.
    fn name(self) -> String {
        let pacing = if self.paced { "on" } else { "off" };
        let budget = self
            .budget_mib
            .map(|m| format!("-{m}mib"))
            .unwrap_or_default();
        format!("{}-{}-{pacing}{budget}", self.size, self.mode.label())
    }
}

struct Row {
    run: Run,
    sync: &'static str,
    docs: u64,
    indexed: u64,
    wall: f64,
    cpu: f64,
    standin_cpu: f64,
    rss: f64,
    requests: u64,
    downloads: u64,
    downloaded: u64,
    floor: Option<Floor>,
}

/// The connector's ingest pipeline as Kibana sets it for a new connector (`search-default-ingestion`, whitespace
/// reduced, no inference), with `extract_binary_content` as the mode wants.
async fn set_pipeline(es: &Es, mode: ContentMode) {
    let pipeline = json!({
        "name": "search-default-ingestion",
        "extract_binary_content": mode == ContentMode::Pipeline,
        "reduce_whitespace": true,
        "run_ml_inference": false,
    });
    es.ok(
        reqwest::Method::PUT,
        &format!("/_connector/{CONNECTOR_ID}/_pipeline"),
        Some(json!({ "pipeline": pipeline })),
    )
    .await
    .unwrap();
}

async fn measure(run: Run, bin: &Path) -> Vec<Row> {
    let standin = StandIn::start(StandInOptions::default()).expect("stand-in (make es-install)");
    let fixture = GraphFixture::start(GraphOptions {
        data_size: run.size,
        // `small` with the same files as the others: the rows then differ by tenant size alone.
        heavy_files: true,
        ..GraphOptions::default()
    })
    .expect("fixture");
    let es = Es {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap(),
        url: standin.url.clone(),
    };
    let mut schema = default_configuration(bin).unwrap();
    if run.mode == ContentMode::Text {
        // Not a Teams field: the engine reads it from any connector's configuration (as the reference's
        // connectors with a text extraction service do).
        schema["use_text_extraction_service"] = json!({"label": "Use text extraction service", "type": "bool",
            "required": false, "value": true, "default_value": false, "display": "toggle", "order": 99,
            "depends_on": [], "options": [], "sensitive": false, "tooltip": null, "ui_restrictions": [],
            "validations": []});
    }
    let extra: Vec<(&str, &str)> = if run.paced {
        Vec::new()
    } else {
        vec![("rate_limits", NO_RATE_LIMITS)]
    };
    create_connector(&es, &fixture, schema, &extra, false)
        .await
        .unwrap();
    set_pipeline(&es, run.mode).await;
    if run.paced {
        fixture.set_faults(json!({"throttle": true})).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &standin.url, &fixture).unwrap();
    if let Some(mib) = run.budget_mib {
        let yaml = std::fs::read_to_string(&config).unwrap();
        let yaml = yaml.replacen(
            "elasticsearch:\n",
            &format!("elasticsearch:\n  bulk:\n    queue_max_mem_size: {mib}\n"),
            1,
        );
        std::fs::write(&config, yaml).unwrap();
    }
    let docs = fixture.expected().await.unwrap()["total"].as_u64().unwrap();
    let mut rows = Vec::new();
    let syncs: &[(&str, &str)] = if run.budget_mib.is_some() {
        &[("full", "full")]
    } else {
        &[("full", "full"), ("incremental, no change", "incremental")]
    };
    for &(sync, job_type) in syncs {
        // A fresh service process per sync: its peak RSS is this sync's.
        let log = dir.path().join(format!("service-{job_type}.log"));
        let mut service = Service::spawn(bin, &config, log).unwrap();
        let pid = service.child.id().expect("service pid");
        stack::wait_connected(&es).await.unwrap();
        fixture.reset_counters().await.unwrap();
        let (cpu0, es0) = (cpu_seconds(pid), tree_cpu_seconds(standin.pid));
        let done = stack::sync(&es, job_type, sync).await.unwrap_or_else(|e| {
            panic!("{e:#}\n{}", service.log_tail());
        });
        let (cpu, rss) = (cpu_seconds(pid) - cpu0, peak_rss_mib(pid));
        let standin_cpu = tree_cpu_seconds(standin.pid) - es0;
        let requests: Value = fixture.requests().await.unwrap();
        service.stop().await.unwrap();
        let downloaded = requests["downloaded_bytes"].as_u64().unwrap_or(0);
        let floor = (downloaded > 0).then_some(floor::measure(downloaded).await);
        rows.push(Row {
            run,
            sync,
            docs,
            indexed: done.job["indexed_document_count"].as_u64().unwrap_or(0),
            wall: done.seconds,
            cpu,
            standin_cpu,
            rss,
            requests: requests["total"].as_u64().unwrap_or(0)
                - requests["token"].as_u64().unwrap_or(0),
            downloads: requests["downloads"].as_u64().unwrap_or(0),
            downloaded,
            floor,
        });
    }
    rows
}

fn line(r: &Row) -> String {
    let mb = r.downloaded as f64 / 1e6;
    let (per_mb, floor, ratio) = match r.floor {
        Some(f) if mb > 0.0 => {
            let per_mb = r.cpu * 1000.0 / mb;
            (
                format!("{per_mb:.2}"),
                format!("{:.2}", f.cpu_ms_per_mb()),
                format!("{:.1}×", per_mb / f.cpu_ms_per_mb().max(1e-9)),
            )
        }
        _ => ("–".into(), "–".into(), "–".into()),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {:.2} s | {:.2} s | {:.3} | {} | {mb:.0} | {per_mb} | {floor} | {ratio} | {:.1} MiB | {} | {:.2} s |",
        r.run.size,
        r.run.mode.label(),
        if r.run.paced { "on" } else { "off" },
        r.run.budget_mib.unwrap_or(25),
        r.sync,
        r.docs,
        r.indexed,
        r.wall,
        r.cpu,
        r.cpu * 1000.0 / r.docs.max(1) as f64,
        r.downloads,
        r.rss,
        r.requests,
        r.standin_cpu
    )
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
        / 1024.0;
    format!("{cores} cores of {cpu}, {memory_gib:.0} GiB")
}

/// Peak RSS of the full syncs of `size` in `mode` without pacing.
fn full_rss(rows: &[Row], size: DataSize, mode: ContentMode) -> Option<f64> {
    rows.iter()
        .find(|r| {
            r.run.size == size
                && r.run.mode == mode
                && !r.run.paced
                && r.run.budget_mib.is_none()
                && r.sync == "full"
        })
        .map(|r| r.rss)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    // E2E_BIN: a program run instead of the release binary (a profiler wrapper); its RSS is then the wrapper's.
    let bin = match std::env::var_os("E2E_BIN") {
        Some(bin) => std::path::PathBuf::from(bin),
        None => {
            sibling("elastic-ingest").expect("release elastic-ingest (make bench-e2e builds it)")
        }
    };
    let mut runs = Vec::new();
    for size in [DataSize::Small, DataSize::Medium, DataSize::Large] {
        for mode in [ContentMode::Pipeline, ContentMode::Text] {
            runs.push(Run {
                size,
                mode,
                paced: false,
                budget_mib: None,
            });
        }
    }
    for mode in [ContentMode::Pipeline, ContentMode::Text] {
        runs.push(Run {
            size: DataSize::Large,
            mode,
            paced: true,
            budget_mib: None,
        });
    }
    // The budget, not the files, sets the peak: the same sync with a smaller and a larger one.
    for mib in [10, 50] {
        runs.push(Run {
            size: DataSize::Large,
            mode: ContentMode::Pipeline,
            paced: false,
            budget_mib: Some(mib),
        });
    }
    let only = std::env::var("E2E_RUNS").ok();
    if let Some(only) = &only {
        let wanted: Vec<&str> = only.split(',').map(str::trim).collect();
        runs.retain(|r| wanted.contains(&r.name().as_str()));
        assert!(
            !runs.is_empty(),
            "E2E_RUNS={only} names no run (e.g. large-text-off)"
        );
    }
    let mut table = String::from(
        "| tenant | content | Graph pacing | budget MiB | sync | documents | indexed | wall | service CPU | CPU ms/doc | \
         downloads | MB downloaded | CPU ms/MB | floor ms/MB | × floor | service peak RSS | Graph requests | \
         stand-in CPU |\n|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut rows = Vec::new();
    for run in runs {
        for row in measure(run, &bin).await {
            let line = line(&row);
            println!("{line}");
            table.push_str(&line);
            table.push('\n');
            rows.push(row);
        }
    }
    let mut flat = String::new();
    for mode in [ContentMode::Pipeline, ContentMode::Text] {
        let rss = |size| full_rss(&rows, size, mode);
        if let (Some(small), Some(medium), Some(large)) = (
            rss(DataSize::Small),
            rss(DataSize::Medium),
            rss(DataSize::Large),
        ) {
            flat.push_str(&format!(
                "{} mode, full sync, pacing off: large / small peak RSS = {large:.1} / {small:.1} MiB = {:.2} \
                 (target ≤ 1.2); large / medium = {large:.1} / {medium:.1} MiB = {:.2}. ",
                mode.label(),
                large / small,
                large / medium
            ));
        }
    }
    let total = started.elapsed().as_secs_f64();
    println!("{flat}\nbench-e2e took {total:.0} s");
    if only.is_some() {
        return;
    }
    let section = format!(
        "## End to end (`make bench-e2e`)\n\n\
         The release `elastic-ingest` process syncing the Graph fixture tenant into the Elasticsearch stand-in \
         (osmem behind a Rust front), all on one VM ({}). In every tenant, `small` included (the fixture's \
         `--heavy-files`; the test suite's `small` keeps its files under 1 MB), the drive files are realistic in \
         size (most 0.1–3 MB, a tail to 12 MiB, some over the 10 MiB download cap, a few listed with a wrong \
         size) and in format (office files and PDFs with a little text and a large incompressible image, generated \
         text). One run per row; the whole benchmark took {total:.0} s.\n\n\
         Columns: **content** `pipeline` = `extract_binary_content: true`, the service sends each file as base64 \
         `_attachment` to the ingest pipeline (the stand-in's front runs the `attachment` processor); `text` = \
         `extract_binary_content: false` and `use_text_extraction_service: true`, the service extracts the text. \
         **Graph pacing** `off` = fixture limits off and the connector's `rate_limits` all 0; `on` = the fixture \
         enforces Microsoft's documented budgets (429 + `Retry-After`) and the connector keeps its default \
         `rate_limits`. **budget MiB** = `elasticsearch.bulk.queue_max_mem_size` (default 25; the last rows sync \
         the same tenant with a smaller and a larger budget). Full and incremental syncs run in separate service processes, so **service peak RSS** \
         (VmHWM) is each sync's own. **service CPU** is user + system seconds of the service during the sync; \
         **downloads** and **MB downloaded** (10^6 bytes of file content sent) are counted by the fixture; \
         **CPU ms/MB** = service CPU / MB downloaded (all the sync's CPU, listings and documents included); \
         **floor ms/MB** = the CPU this benchmark needs to copy the same bytes through a local TCP connection \
         (tokio, 64 KiB reads, both ends counted) and base64-encode them (STANDARD engine, reused buffer); \
         **× floor** = CPU ms/MB ÷ floor ms/MB. **Graph requests** exclude token requests. The stand-in's CPU \
         (front + osmem) is shown for comparison.\n\n{table}\n{flat}\n\n\
         Targets (printed, not asserted): service peak RSS ≤ 48 MiB in pipeline mode and ≤ 32 MiB in text mode, \
         flat across tenant sizes (large ≤ 1.2 × small); service CPU per MB within 2× of the floor; service CPU \
         ≤ 0.15 ms per document for the no-change incremental sync.\n",
        machine()
    );
    support::write_section("BENCHMARKS.md", "## End to end", &section);
}
