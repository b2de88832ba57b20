//! The local stack driven the way Kibana drives a cluster: connector creation over the connector APIs, on-demand
//! syncs, and the `elastic-ingest` process. Shared by the functional test / demo driver (`ftest` binary) and the
//! end-to-end benchmark.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

use crate::GraphFixture;

pub const CONNECTOR_ID: &str = "microsoft_teams";
pub const INDEX: &str = "search-microsoft_teams";
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Writes the service's config.yml for `es_url` into `dir`. The connector's Graph and sign-in URLs point at
/// `fixture`, which the service reaches only because the file allows its host (`graph.allowed_hosts`), as an
/// operator would for a Graph gateway.
pub fn write_config(dir: &Path, es_url: &str, fixture: &GraphFixture) -> anyhow::Result<PathBuf> {
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "elasticsearch:\n  host: {es_url}\n  username: elastic\n  password: changeme\nservice:\n  idling: 1\n  \
             heartbeat: 5\ngraph:\n  allowed_hosts:\n    - {}\nconnectors:\n  - connector_id: {CONNECTOR_ID}\n    \
             service_type: microsoft_teams\n",
            fixture.url
        ),
    )?;
    Ok(config)
}

impl Service {
    /// Starts `elastic-ingest -c <config> --debug`, its output in `log`.
    pub fn spawn(bin: &Path, config: &Path, log: PathBuf) -> anyhow::Result<Service> {
        let child = tokio::process::Command::new(bin)
            .args(["-c", &config.to_string_lossy(), "--debug"])
            .stdout(Stdio::from(std::fs::File::create(&log)?))
            .stderr(Stdio::from(
                std::fs::File::options().append(true).open(&log)?,
            ))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Service { child, log })
    }
}

/// The service process; killed on drop if still running.
pub struct Service {
    pub child: tokio::process::Child,
    pub log: PathBuf,
}

impl Service {
    pub async fn stop(&mut self) -> anyhow::Result<()> {
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

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

pub struct Es {
    pub http: reqwest::Client,
    pub url: String,
}

impl Es {
    pub async fn call(
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

    pub async fn ok(
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

    pub async fn count(&self, query: Value) -> anyhow::Result<u64> {
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

pub struct Sync {
    pub job: Value,
    pub seconds: f64,
}

/// Kibana's part: the connector (name, index, service type), a fresh content index, the configuration (schema
/// from the service, values pointing at `fixture`, plus `extra` values) and, if `every_minute`, a full-sync
/// schedule every minute (else none).
pub async fn create_connector(
    es: &Es,
    fixture: &GraphFixture,
    mut configuration: Value,
    extra: &[(&str, &str)],
    every_minute: bool,
) -> anyhow::Result<()> {
    for (key, value) in fixture.connector_values() {
        configuration[key]["value"] = json!(value);
    }
    for (key, value) in extra {
        configuration[*key]["value"] = json!(value);
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
            "full": {"enabled": every_minute, "interval": "0 * * * * ?"},
            "incremental": {"enabled": false, "interval": "0 0 0 * * ?"},
            "access_control": {"enabled": false, "interval": "0 0 0 * * ?"},
        }})),
    )
    .await?;
    let schedule = if every_minute {
        "full sync every minute"
    } else {
        "no schedule"
    };
    println!("ftest: connector `{CONNECTOR_ID}` created (index {INDEX}, {schedule})");
    Ok(())
}

/// Starts an on-demand sync of `job_type` (Kibana's "Sync" button) and waits for it to end.
pub async fn sync(es: &Es, job_type: &str, what: &str) -> anyhow::Result<Sync> {
    let started = Instant::now();
    let created = es
        .ok(
            reqwest::Method::POST,
            "/_connector/_sync_job",
            Some(json!({"id": CONNECTOR_ID, "job_type": job_type, "trigger_method": "on_demand"})),
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

pub async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> anyhow::Result<T>
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
pub fn default_configuration(service_bin: &Path) -> anyhow::Result<Value> {
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

pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("no directory for {}", exe.display()))?;
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    // Next to this program, or one level up (benchmarks run from target/<profile>/deps).
    let path = [dir.join(&file), dir.join("..").join(&file)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(&file));
    if !path.is_file() {
        bail!(
            "{} not found: build it first (cargo build -p elastic-ingest)",
            path.display()
        );
    }
    Ok(path)
}

/// Waits (up to 2 minutes) until the service has checked the connector in as `connected`.
pub async fn wait_connected(es: &Es) -> anyhow::Result<()> {
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
    .await
}
