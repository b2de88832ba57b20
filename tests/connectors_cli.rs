//! The `connectors` binary against the real stand-in's connector APIs: create a connector (index, configuration,
//! API key), list it, start a job, let the service run it (in-process, with a test engine), view, list and cancel
//! jobs; bad input exits 2 with one line.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use elastic_ingest::config::{self, Environment};
use elastic_ingest::es::EsClient;
use elastic_ingest::net::Outbound;
use elastic_ingest::service::{self, preflight, Context, ServiceAction};
use elastic_ingest::source::SourceError;
use elastic_ingest::sync::{SyncContext, SyncEngine, SyncError, SyncOutcome};
use ftest::standin::{StandIn, StandInOptions};
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

struct OneDocEngine;

#[async_trait]
impl SyncEngine for OneDocEngine {
    async fn check(&self, _: &str, _: &Map<String, Value>) -> Result<(), SourceError> {
        Ok(())
    }
    async fn run(&self, ctx: SyncContext) -> Result<SyncOutcome, SyncError> {
        ctx.stats.add_indexed(10);
        Ok(SyncOutcome::default())
    }
}

fn connectors(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_connectors"))
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .expect("run connectors");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn after<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{label}` in: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_drives_a_sync_end_to_end() {
    let es = StandIn::start(StandInOptions::default()).expect("stand-in");
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("config.yml");
    std::fs::write(
        &cfg_path,
        format!(
            "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\n\
             service:\n  idling: 0.3\nconnectors:\n  - connector_id: teams-cli\n    service_type: microsoft_teams\n",
            es.url
        ),
    )
    .unwrap();
    let cfg = config::load_with(
        &cfg_path,
        &Environment {
            vars: Default::default(),
            cwd: dir.path().into(),
        },
    )
    .unwrap();
    let client = EsClient::new(&cfg.elasticsearch, &Outbound::default()).unwrap();
    preflight::run(&client, &cfg, &CancellationToken::new())
        .await
        .expect("preflight");

    let values = dir.path().join("values.json");
    std::fs::write(
        &values,
        json!({"tenant_id": "t", "client_id": "c", "secret_value": "s", "username": "u", "password": "p"}).to_string(),
    )
    .unwrap();
    let values = values.to_str().unwrap();
    let (code, out, err) = connectors(
        &cfg_path,
        &[
            "connector",
            "create",
            "--index-name",
            "search-cli",
            "--connector-id",
            "teams-cli",
            "--from-file",
            values,
            "--api-key",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(after(&out, "Connector id:"), "teams-cli");
    assert!(out.contains("Created index search-cli"), "{out}");
    let key = after(
        &out,
        "API key (shown once; put it in config.yml as connectors[].api_key):",
    );
    let who = reqwest::Client::new()
        .get(format!("{}/_security/_authenticate", es.url))
        .header("Authorization", format!("ApiKey {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(who.status(), 200, "the minted key authenticates");

    let (code, _, err) = connectors(
        &cfg_path,
        &[
            "connector",
            "create",
            "--index-name",
            "search-cli",
            "--connector-id",
            "teams-cli",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("already exists") && err.lines().count() == 1,
        "{err}"
    );

    let (code, out, _) = connectors(&cfg_path, &["connector", "list"]);
    assert_eq!(code, 0);
    let row = out
        .lines()
        .find(|l| l.starts_with("teams-cli"))
        .expect("listed");
    assert!(
        row.contains("search-cli") && row.contains("microsoft_teams") && row.contains("configured"),
        "{row}"
    );

    let (code, out, err) = connectors(
        &cfg_path,
        &["job", "start", "-i", "teams-cli", "-t", "full"],
    );
    assert_eq!(code, 0, "{err}");
    let job_id = after(&out, "Job id:").to_string();

    let token = CancellationToken::new();
    let ctx = Arc::new(Context::new(
        Arc::new(cfg.clone()),
        client.clone(),
        Arc::new(OneDocEngine),
        elastic_ingest::sources::REGISTRY,
        false,
    ));
    let svc = tokio::spawn(service::run_loops(
        ctx,
        &[ServiceAction::Schedule, ServiceAction::SyncContent],
        token.clone(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let job = loop {
        let (code, out, _) = connectors(&cfg_path, &["job", "view", &job_id]);
        assert_eq!(code, 0);
        let job: Value = serde_json::from_str(&out).unwrap();
        if job["status"] == "completed" {
            break job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job did not complete: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["indexed_document_count"], 1);

    // A second job, canceled while it waits: no worker runs content jobs now.
    token.cancel();
    svc.await.unwrap().unwrap();
    let (_, out, _) = connectors(&cfg_path, &["job", "start", "-i", "teams-cli"]);
    let second = after(&out, "Job id:").to_string();
    let (code, out, _) = connectors(&cfg_path, &["job", "cancel", &second]);
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = connectors(&cfg_path, &["job", "list", "-i", "teams-cli"]);
    let statuses: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(statuses.len(), 2, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&job_id) && l.contains("completed")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(&second) && l.contains("canceled")),
        "{out}"
    );
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, "elasticsearch:\n  host: http://127.0.0.1:1\n").unwrap();
    let bad_values = dir.path().join("v.json");
    std::fs::write(&bad_values, "[1, 2]").unwrap();
    for args in [
        vec![
            "connector",
            "create",
            "--index-name",
            "x",
            "--service-type",
            "slack",
        ],
        vec![
            "connector",
            "create",
            "--index-name",
            "x",
            "--from-file",
            bad_values.to_str().unwrap(),
        ],
        vec!["job", "start", "-i", "c", "-t", "weekly"],
    ] {
        let (code, _, err) = connectors(&cfg, &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.trim().is_empty(), "{args:?}");
    }
    let (code, _, err) = connectors(&cfg, &["connector", "list"]);
    assert_eq!(code, 1, "unreachable cluster is a runtime failure: {err}");
    assert!(err.contains("connection refused"), "{err}");
}
