//! `make ftest NAME=microsoft_teams [DATA_SIZE=small|medium|large]`: the functional test, self-contained. Starts
//! the Elasticsearch stand-in and the Graph fixture on free ports, creates the connector through the connector
//! APIs the way Kibana does (name, index, configuration, a schedule every minute), creates the content index,
//! runs `elastic-ingest` with a config file, syncs, mutates the fixture, syncs again, then verifies the index
//! against the fixture's expected documents (equality, not "at least") and prints a summary. Every process it
//! started is stopped on success, failure and Ctrl-C.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use ftest::graph::data::DataSize;
use ftest::{GraphFixture, GraphOptions, StandIn, StandInOptions};
use serde_json::{json, Value};

const CONNECTORS: &[&str] = &["microsoft_teams"];
const CONNECTOR_ID: &str = "microsoft_teams";
const INDEX: &str = "search-microsoft_teams";
const SYNC_TIMEOUT: Duration = Duration::from_secs(20 * 60);

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

/// The service process; killed on drop if still running.
struct Service {
    child: tokio::process::Child,
    log: PathBuf,
}

impl Service {
    async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            // SIGINT, like Ctrl-C: the service suspends what runs and exits 0.
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => bail!(
                "elastic-ingest exited with {status}; log: {}",
                self.log.display()
            ),
            Ok(Err(e)) => bail!("waiting for elastic-ingest: {e}"),
            Err(_) => bail!("elastic-ingest did not stop within 30 s of SIGINT"),
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

struct Es {
    http: reqwest::Client,
    url: String,
}

impl Es {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .basic_auth("elastic", Some("changeme"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, body) = self.call(method.clone(), path, body).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {path} answered {status}: {body}");
        }
        Ok(body)
    }

    async fn count(&self, query: Value) -> anyhow::Result<u64> {
        let body = self
            .ok(
                reqwest::Method::POST,
                &format!("/{INDEX}/_count"),
                Some(json!({"query": query})),
            )
            .await?;
        body["count"]
            .as_u64()
            .ok_or_else(|| anyhow!("no count in {body}"))
    }
}

struct Sync {
    job: Value,
    seconds: f64,
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
    create_connector(&es, &fixture, schema).await?;

    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\nservice:\n  idling: 1\n  \
             heartbeat: 5\nconnectors:\n  - connector_id: {CONNECTOR_ID}\n    service_type: microsoft_teams\n",
            standin.url
        ),
    )?;
    let log = dir.join("elastic-ingest.log");
    let child = tokio::process::Command::new(&service_bin)
        .args(["-c", &config.to_string_lossy(), "--debug"])
        .stdout(Stdio::from(std::fs::File::create(&log)?))
        .stderr(Stdio::from(
            std::fs::File::options().append(true).open(&log)?,
        ))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", service_bin.display()))?;
    let mut service = Service { child, log };
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
    wait_until(
        "the connector is connected",
        Duration::from_secs(120),
        || async {
            let c = es
                .ok(
                    reqwest::Method::GET,
                    &format!("/_connector/{CONNECTOR_ID}"),
                    None,
                )
                .await?;
            Ok((c["status"] == "connected").then_some(()))
        },
    )
    .await?;
    let first = sync(es, "full sync of the fixture tenant").await?;
    es.ok(reqwest::Method::POST, &format!("/{INDEX}/_refresh"), None)
        .await?;
    let mut out = String::from("\n| type | documents |\n|---|---:|\n");
    let expected = fixture.expected().await?;
    for kind in expected["by_type"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        let n = es.count(json!({"term": {"type.keyword": kind}})).await?;
        out.push_str(&format!("| {kind} | {n} |\n"));
    }
    out.push_str(&format!(
        "| **total** | {} |\n\nsynced in {:.1} s\n",
        es.count(json!({"match_all": {}})).await?,
        first.seconds
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
    wait_until(
        "the connector is connected",
        Duration::from_secs(120),
        || async {
            let c = es
                .ok(
                    reqwest::Method::GET,
                    &format!("/_connector/{CONNECTOR_ID}"),
                    None,
                )
                .await?;
            Ok((c["status"] == "connected").then_some(()))
        },
    )
    .await?;

    let first = sync(es, "first sync").await?;
    let mutation = fixture
        .mutate(json!({
            "add_chat_messages": 5, "edit_chat_messages": 3, "delete_chat_messages": 2,
            "add_channel_messages": 5, "edit_channel_messages": 2, "delete_channel_messages": 2,
            "add_files": 3, "delete_files": 2, "add_channels": 1, "delete_channels": 1, "cancel_events": 1,
        }))
        .await?;
    let second = sync(es, "second sync (after mutations)").await?;
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
    verify(es, &expected, &mutation).await?;
    summary(&expected, es, &first, &second).await
}

async fn create_connector(
    es: &Es,
    fixture: &GraphFixture,
    mut configuration: Value,
) -> anyhow::Result<()> {
    let o = &fixture.options;
    for (key, value) in [
        ("tenant_id", o.tenant_id.clone()),
        ("client_id", o.client_id.clone()),
        ("secret_value", o.client_secret.clone()),
        ("username", o.username.clone()),
        ("password", o.password.clone()),
        ("graph_url", fixture.graph_url()),
        ("login_url", fixture.login_url()),
    ] {
        configuration[key]["value"] = json!(value);
    }
    es.ok(
        reqwest::Method::PUT,
        &format!("/_connector/{CONNECTOR_ID}"),
        Some(json!({
            "index_name": INDEX, "name": "microsoft_teams-functional-test", "service_type": "microsoft_teams",
            "is_native": false, "language": "en",
        })),
    )
    .await?;
    if es
        .call(reqwest::Method::HEAD, &format!("/{INDEX}"), None)
        .await?
        .0
        == 200
    {
        es.ok(reqwest::Method::DELETE, &format!("/{INDEX}"), None)
            .await?;
    }
    es.ok(reqwest::Method::PUT, &format!("/{INDEX}"), None)
        .await?;
    es.ok(
        reqwest::Method::PUT,
        &format!("/_connector/{CONNECTOR_ID}/_configuration"),
        Some(json!({"configuration": configuration})),
    )
    .await?;
    es.ok(
        reqwest::Method::PUT,
        &format!("/_connector/{CONNECTOR_ID}/_scheduling"),
        Some(json!({"scheduling": {
            "full": {"enabled": true, "interval": "0 * * * * ?"},
            "incremental": {"enabled": false, "interval": "0 0 0 * * ?"},
            "access_control": {"enabled": false, "interval": "0 0 0 * * ?"},
        }})),
    )
    .await?;
    println!("ftest: connector `{CONNECTOR_ID}` created (index {INDEX}, full sync every minute)");
    Ok(())
}

/// Starts an on-demand full sync (Kibana's "Sync" button) and waits for it to end.
async fn sync(es: &Es, what: &str) -> anyhow::Result<Sync> {
    let started = Instant::now();
    let created = es
        .ok(
            reqwest::Method::POST,
            "/_connector/_sync_job",
            Some(json!({"id": CONNECTOR_ID, "job_type": "full", "trigger_method": "on_demand"})),
        )
        .await?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no job id in {created}"))?
        .to_string();
    let job = wait_until(what, SYNC_TIMEOUT, || async {
        let job = es
            .ok(
                reqwest::Method::GET,
                &format!("/_connector/_sync_job/{id}"),
                None,
            )
            .await?;
        Ok(matches!(
            job["status"].as_str(),
            Some("completed" | "error" | "canceled" | "suspended")
        )
        .then_some(job))
    })
    .await?;
    if job["status"] != "completed" {
        bail!("{what} ended `{}`: {}", job["status"], job["error"]);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "ftest: {what} completed in {seconds:.1} s: {} indexed, {} deleted",
        job["indexed_document_count"], job["deleted_document_count"]
    );
    Ok(Sync { job, seconds })
}

async fn verify(es: &Es, expected: &Value, mutation: &Value) -> anyhow::Result<()> {
    let total = es.count(json!({"match_all": {}})).await?;
    let want = expected["total"].as_u64().unwrap_or(0);
    if total != want {
        bail!("the index holds {total} documents, the fixture expects exactly {want}");
    }
    for (kind, n) in expected["by_type"].as_object().into_iter().flatten() {
        let got = es.count(json!({"term": {"type.keyword": kind}})).await?;
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
    Ok(())
}

async fn summary(expected: &Value, es: &Es, first: &Sync, second: &Sync) -> anyhow::Result<String> {
    let mut out = String::from("\n| type | expected | indexed |\n|---|---:|---:|\n");
    let by_type: BTreeMap<String, u64> = expected["by_type"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
        .collect();
    for (kind, n) in &by_type {
        let got = es.count(json!({"term": {"type.keyword": kind}})).await?;
        out.push_str(&format!("| {kind} | {n} | {got} |\n"));
    }
    out.push_str(&format!(
        "| **total** | {} | {} |\n\n| sync | seconds | indexed | deleted |\n|---|---:|---:|---:|\n",
        expected["total"],
        es.count(json!({"match_all": {}})).await?
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
    Ok(out)
}

async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The configuration schema Kibana would write, from the service itself (`--action config`).
fn default_configuration(service_bin: &Path) -> anyhow::Result<Value> {
    let out = std::process::Command::new(service_bin)
        .args(["--action", "config", "--service-type", "microsoft_teams"])
        .output()
        .with_context(|| format!("running {}", service_bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} --action config failed: {}",
            service_bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("reading the default configuration")
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("no directory for {}", exe.display()))?;
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "{} not found: build it first (cargo build -p elastic-ingest)",
            path.display()
        );
    }
    Ok(path)
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
