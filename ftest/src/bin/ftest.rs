//! `make ftest NAME=microsoft_teams [DATA_SIZE=small|medium|large]`: the functional test, self-contained. Starts
//! the Elasticsearch stand-in and the Graph fixture on free ports, creates the connector through the connector
//! APIs the way Kibana does (name, index, configuration, a schedule every minute), creates the content index,
//! runs `elastic-ingest` with a config file, syncs, mutates the fixture, syncs again, then verifies the index
//! against the fixture's expected documents (equality, not "at least") and prints a summary. Every process it
//! started is stopped on success, failure and Ctrl-C.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use ftest::graph::data::DataSize;
use ftest::stack::{
    create_connector, default_configuration, sibling, sync, wait_connected, wait_until,
    write_config, Es, Service, Sync, CONNECTOR_ID, INDEX, SYNC_TIMEOUT,
};
use ftest::{GraphFixture, GraphOptions, StandIn, StandInOptions};
use serde_json::{json, Value};

const CONNECTORS: &[&str] = &["microsoft_teams"];

#[derive(Parser)]
#[command(
    about = "Functional test: a real service against the Elasticsearch stand-in and the Graph fixture"
)]
struct Args {
    /// The connector to test.
    name: String,
    /// Fixture tenant size.
    #[arg(long, env = "DATA_SIZE", default_value = "medium")]
    data_size: String,
    /// The `elastic-ingest` binary (default: next to this program).
    #[arg(long, env = "ELASTIC_INGEST_BIN")]
    service_bin: Option<PathBuf>,
    /// Where the config and logs go (default: a temporary directory, removed on success).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// The demo instead of the test: one full sync, then per-type counts and an example search.
    #[arg(long)]
    demo: bool,
    /// With --demo: keep the stack and the service (syncing every minute) running until Ctrl-C.
    #[arg(long, requires = "demo")]
    keep_running: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !CONNECTORS.contains(&args.name.as_str()) {
        eprintln!(
            "ftest: no functional test for `{}`; available: {}",
            args.name,
            CONNECTORS.join(", ")
        );
        std::process::exit(2);
    }
    let outcome = tokio::select! {
        outcome = run(&args) => outcome,
        // The kept-running demo ends with Ctrl-C; for the test it is an interruption.
        _ = tokio::signal::ctrl_c() => if args.keep_running { Ok(()) } else { Err(anyhow!("interrupted")) },
    };
    // Everything started is owned by `run`'s guards, dropped by now: processes are gone.
    match outcome {
        Ok(()) if args.demo => println!("demo: done; everything it started is stopped"),
        Ok(()) => println!("ftest {}: PASSED", args.name),
        Err(e) => {
            eprintln!("ftest {}: FAILED: {e:#}", args.name);
            std::process::exit(1);
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let size = match args.data_size.as_str() {
        "small" => DataSize::Small,
        "medium" => DataSize::Medium,
        "large" => DataSize::Large,
        other => bail!("DATA_SIZE must be small, medium or large, not `{other}`"),
    };
    let mut temp = tempfile_dir(args.work_dir.as_deref())?;
    let dir = temp.path().to_path_buf();
    let service_bin = match &args.service_bin {
        Some(path) => path.clone(),
        None => sibling("elastic-ingest")?,
    };

    println!(
        "ftest: starting the Elasticsearch stand-in and the Graph fixture ({})",
        args.data_size
    );
    let standin = StandIn::start(StandInOptions::default())
        .context("starting the stand-in (make es-install)")?;
    let fixture = GraphFixture::start(GraphOptions {
        data_size: size,
        ..GraphOptions::default()
    })
    .context("starting the Graph fixture")?;
    let es = Es {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?,
        url: standin.url.clone(),
    };

    // Kibana's part: connector, content index, configuration, schedule.
    let schema = default_configuration(&service_bin)?;
    create_connector(&es, &fixture, schema, &[], true).await?;

    let config = write_config(&dir, &standin.url, &fixture)?;
    let mut service = Service::spawn(&service_bin, &config, dir.join("elastic-ingest.log"))?;
    println!(
        "ftest: elastic-ingest started (log: {})",
        service.log.display()
    );

    let result = if args.demo {
        demo(&es, &fixture, args.keep_running, &dir).await
    } else {
        exercise(&es, &fixture).await
    };
    let stopped = service.stop().await;
    match (&result, &stopped) {
        (Err(_), _) | (_, Err(_)) => {
            eprintln!(
                "--- last lines of the service log ---\n{}",
                service.log_tail()
            );
            temp.keep_on_failure();
        }
        _ => {}
    }
    let summary = result?;
    stopped?;
    println!("{summary}");
    Ok(())
}

/// The demo: one full sync, the counts per type, an example search; optionally keeps running until Ctrl-C.
async fn demo(
    es: &Es,
    fixture: &GraphFixture,
    keep_running: bool,
    dir: &Path,
) -> anyhow::Result<String> {
    wait_connected(es).await?;
    let first = sync(es, "full", "full sync of the fixture tenant").await?;
    es.ok(reqwest::Method::POST, &format!("/{INDEX}/_refresh"), None)
        .await?;
    let mut out = String::from("\n| type | documents |\n|---|---:|\n");
    let indexed = Indexed::count(es, &fixture.expected().await?).await?;
    for (kind, n) in &indexed.by_type {
        out.push_str(&format!("| {kind} | {n} |\n"));
    }
    out.push_str(&format!(
        "| **total** | {} |\n\nsynced in {:.1} s\n",
        indexed.total, first.seconds
    ));
    let query = "budget";
    let hits = es
        .ok(
            reqwest::Method::POST,
            &format!("/{INDEX}/_search"),
            Some(json!({
                "size": 50,
                "query": {"multi_match": {"query": query, "fields": ["title", "message", "body", "name", "description"]}},
            })),
        )
        .await?;
    out.push_str(&format!(
        "\nexample search `{query}` ({} hits; the best of up to three types):\n",
        hits["hits"]["total"]["value"]
    ));
    let mut types_shown = Vec::new();
    for hit in hits["hits"]["hits"].as_array().into_iter().flatten() {
        let s = &hit["_source"];
        if types_shown.contains(&s["type"]) || types_shown.len() == 3 {
            continue;
        }
        types_shown.push(s["type"].clone());
        let text = ["message", "body", "title", "name"]
            .iter()
            .find_map(|f| s[*f].as_str().filter(|t| !t.is_empty()))
            .unwrap_or("");
        let snippet: String = text.chars().take(90).collect();
        out.push_str(&format!(
            "  - [{}] {}\n",
            s["type"].as_str().unwrap_or("?"),
            snippet.replace('\n', " ")
        ));
    }
    if keep_running {
        println!("{out}");
        println!(
            "demo: running; Elasticsearch stand-in at {} (elastic / changeme), index {INDEX}, Graph fixture at {}; \
             the service syncs every minute (log: {}). Ctrl-C stops everything.",
            es.url,
            fixture.url,
            dir.join("elastic-ingest.log").display()
        );
        // Runs until main's Ctrl-C handler ends everything.
        std::future::pending::<()>().await;
    }
    Ok(out)
}

/// Runs both syncs and the checks; returns the summary table.
async fn exercise(es: &Es, fixture: &GraphFixture) -> anyhow::Result<String> {
    wait_connected(es).await?;

    let first = sync(es, "full", "first sync").await?;
    let mutation = fixture
        .mutate(json!({
            "add_chat_messages": 5, "edit_chat_messages": 3, "delete_chat_messages": 2,
            "add_channel_messages": 5, "edit_channel_messages": 2, "delete_channel_messages": 2,
            "add_files": 3, "delete_files": 2, "add_channels": 1, "delete_channels": 1, "cancel_events": 1,
        }))
        .await?;
    let second = sync(es, "full", "second sync (after mutations)").await?;
    // The every-minute schedule may have started a job of its own meanwhile: let it finish before checking.
    wait_until("no sync running", SYNC_TIMEOUT, || async {
        let jobs = es
            .ok(
                reqwest::Method::GET,
                &format!("/_connector/_sync_job?connector_id={CONNECTOR_ID}&size=100"),
                None,
            )
            .await?;
        let busy = jobs["results"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|j| matches!(j["status"].as_str(), Some("pending" | "in_progress")));
        Ok((!busy).then_some(()))
    })
    .await?;

    es.ok(reqwest::Method::POST, &format!("/{INDEX}/_refresh"), None)
        .await?;
    let expected = fixture.expected().await?;
    let indexed = verify(es, &expected, &mutation).await?;
    Ok(summary(&expected, &indexed, &first, &second))
}

/// What the index holds, counted for each type the fixture expects.
struct Indexed {
    by_type: BTreeMap<String, u64>,
    total: u64,
}

impl Indexed {
    async fn count(es: &Es, expected: &Value) -> anyhow::Result<Indexed> {
        let mut by_type = BTreeMap::new();
        for kind in expected["by_type"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            let n = es.count(json!({"term": {"type.keyword": kind}})).await?;
            by_type.insert(kind.clone(), n);
        }
        let total = es.count(json!({"match_all": {}})).await?;
        Ok(Indexed { by_type, total })
    }
}

async fn verify(es: &Es, expected: &Value, mutation: &Value) -> anyhow::Result<Indexed> {
    let indexed = Indexed::count(es, expected).await?;
    let total = indexed.total;
    let want = expected["total"].as_u64().unwrap_or(0);
    if total != want {
        bail!("the index holds {total} documents, the fixture expects exactly {want}");
    }
    for (kind, n) in expected["by_type"].as_object().into_iter().flatten() {
        let got = indexed.by_type.get(kind).copied().unwrap_or(0);
        if Some(got) != n.as_u64() {
            bail!("{kind}: {got} documents indexed, {n} expected");
        }
        if got == 0 {
            bail!("no `{kind}` documents: every type must be present");
        }
    }
    let leftovers = es
        .count(json!({"bool": {"should": [
            {"exists": {"field": "_attachment"}}, {"exists": {"field": "_extract_binary_content"}},
            {"exists": {"field": "_reduce_whitespace"}}, {"exists": {"field": "_run_ml_inference"}},
        ], "minimum_should_match": 1}}))
        .await?;
    if leftovers > 0 {
        bail!("{leftovers} documents still carry `_attachment` or pipeline flags: the ingest pipeline did not run");
    }
    let with_body = es
        .count(json!({"bool": {"filter": [
            {"terms": {"type.keyword": ["Channel Attachment", "User Chat Attachment"]}},
            {"exists": {"field": "body"}},
        ]}}))
        .await?;
    if with_body == 0 {
        bail!("no attachment has an extracted `body`");
    }
    let mut deleted = 0;
    for ids in mutation["deleted_ids"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, ids)| ids)
    {
        for id in ids
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let (status, _) = es
                .call(reqwest::Method::GET, &format!("/{INDEX}/_doc/{id}"), None)
                .await?;
            if status != 404 {
                bail!("document {id} was deleted in the fixture but is still indexed");
            }
            deleted += 1;
        }
    }
    if deleted == 0 {
        bail!("the mutation deleted nothing: the deletion check would prove nothing");
    }
    let connector = es
        .ok(
            reqwest::Method::GET,
            &format!("/_connector/{CONNECTOR_ID}"),
            None,
        )
        .await?;
    for (field, want) in [("status", "connected"), ("last_sync_status", "completed")] {
        if connector[field] != want {
            bail!("connector {field} is {}, expected {want}", connector[field]);
        }
    }
    if connector["last_synced"].is_null() || connector["last_seen"].is_null() {
        bail!("connector last_synced/last_seen not set");
    }
    println!(
        "ftest: verified: {total} documents = expected, every type present, {with_body} attachments with text, \
         {deleted} deleted items gone, connector connected"
    );
    Ok(indexed)
}

fn summary(expected: &Value, indexed: &Indexed, first: &Sync, second: &Sync) -> String {
    let mut out = String::from("\n| type | expected | indexed |\n|---|---:|---:|\n");
    for (kind, n) in expected["by_type"].as_object().into_iter().flatten() {
        let got = indexed.by_type.get(kind).copied().unwrap_or(0);
        out.push_str(&format!("| {kind} | {n} | {got} |\n"));
    }
    out.push_str(&format!(
        "| **total** | {} | {} |\n\n| sync | seconds | indexed | deleted |\n|---|---:|---:|---:|\n",
        expected["total"], indexed.total
    ));
    // Scheduled (every minute) jobs may run between these two and take part of the work.
    for (name, s) in [
        ("first (full)", first),
        ("second (full, after mutations)", second),
    ] {
        out.push_str(&format!(
            "| {name} | {:.1} | {} | {} |\n",
            s.seconds, s.job["indexed_document_count"], s.job["deleted_document_count"]
        ));
    }
    out
}

/// The work directory: a temporary one removed on success and kept (path printed) on failure, or the one asked for.
struct WorkDir {
    path: PathBuf,
    temporary: bool,
    keep: bool,
}

impl WorkDir {
    fn path(&self) -> &Path {
        &self.path
    }

    fn keep_on_failure(&mut self) {
        self.keep = true;
        if self.temporary {
            eprintln!("ftest: logs kept in {}", self.path.display());
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.temporary && !self.keep && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn tempfile_dir(asked: Option<&Path>) -> anyhow::Result<WorkDir> {
    if let Some(path) = asked {
        std::fs::create_dir_all(path)?;
        return Ok(WorkDir {
            path: path.to_path_buf(),
            temporary: false,
            keep: true,
        });
    }
    let path = std::env::temp_dir().join(format!("ftest-{}-{}", CONNECTOR_ID, std::process::id()));
    std::fs::create_dir_all(&path)?;
    Ok(WorkDir {
        path,
        temporary: true,
        keep: false,
    })
}
