//! [`GraphFixture`]: starts a `graph-fixture` process for a test, waits for its ready line, and kills it
//! when dropped; async helpers drive its `/_fixture/*` hooks. Synchronous start so it works from plain and
//! async tests alike.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;
use serde_json::Value;

use crate::child::StderrTail;
use crate::graph::data::DataSize;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Set to echo the fixture's stderr while tests run.
const VERBOSE_ENV: &str = "GRAPH_FIXTURE_VERBOSE";
/// Overrides where the binary is looked for.
const BINARY_ENV: &str = "GRAPH_FIXTURE_BIN";
/// The connector's `rate_limits` value that turns every limit off: the fixture is local, nothing to pace.
pub const NO_RATE_LIMITS: &str =
    "chat_messages=0,channel_messages=0,teams=0,outlook=0,drives=0,other=0,per_channel=0";
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct GraphOptions {
    /// Defaults to `small`: tests want a fast start; the CLI's default is `medium`.
    pub data_size: DataSize,
    /// `--heavy-files`: `small` with `large`'s drive files (benchmarks).
    pub heavy_files: bool,
    pub seed: u64,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub token_lifetime_secs: u64,
    pub client_cert_public_key: Option<PathBuf>,
    pub files_dir: Option<PathBuf>,
    /// The `graph-fixture` binary; by default found next to the test executable.
    pub binary: Option<PathBuf>,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            data_size: DataSize::Small,
            heavy_files: false,
            seed: 1,
            tenant_id: "fixture-tenant".into(),
            client_id: "fixture-client".into(),
            client_secret: "fixture-secret".into(),
            username: "adele@fixture.test".into(),
            password: "fixture-password".into(),
            token_lifetime_secs: 3599,
            client_cert_public_key: None,
            files_dir: None,
            binary: None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ReadyLine {
    url: String,
    pid: u32,
}

/// A running fixture. Dropping it stops the process.
#[derive(Debug)]
pub struct GraphFixture {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    pub pid: u32,
    pub options: GraphOptions,
    child: Option<Child>,
    stderr_tail: StderrTail,
    http: reqwest::Client,
}

impl GraphFixture {
    /// Starts `graph-fixture --port 0` and waits for its ready line. The binary is `options.binary`, else
    /// `$GRAPH_FIXTURE_BIN`, else `graph-fixture` next to the test executable (or its parent directory).
    pub fn start(options: GraphOptions) -> anyhow::Result<GraphFixture> {
        let binary = locate_binary(options.binary.as_deref())?;
        let mut command = Command::new(&binary);
        command
            .args([
                "--port",
                "0",
                "--host",
                "127.0.0.1",
                "--exit-on-stdin-close",
            ])
            .args(["--data-size", &options.data_size.to_string()])
            .args(["--seed", &options.seed.to_string()])
            .args(["--tenant-id", &options.tenant_id])
            .args(["--client-id", &options.client_id])
            .args(["--client-secret", &options.client_secret])
            .args(["--username", &options.username])
            .args(["--password", &options.password])
            .args([
                "--token-lifetime-secs",
                &options.token_lifetime_secs.to_string(),
            ]);
        if let Some(key) = &options.client_cert_public_key {
            command.arg("--client-cert-public-key").arg(key);
        }
        if options.heavy_files {
            command.arg("--heavy-files");
        }
        if let Some(dir) = &options.files_dir {
            command.arg("--files-dir").arg(dir);
        }
        let mut child = command
            .env_remove("DATA_SIZE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let verbose = std::env::var_os(VERBOSE_ENV).is_some();
        let stderr_tail = child
            .stderr
            .take()
            .map(|stderr| StderrTail::collect(stderr, "graph-fixture", verbose))
            .unwrap_or_default();
        let (ready_tx, ready_rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let _ = ready_tx.send(lines.next().and_then(Result::ok));
                for _ in lines {}
            });
        }
        let mut fixture = GraphFixture {
            url: String::new(),
            pid: child.id(),
            options,
            child: Some(child),
            stderr_tail,
            http: reqwest::Client::builder().timeout(HTTP_TIMEOUT).build()?,
        };
        let line = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(Some(line)) => line,
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                fixture.shutdown();
                bail!(
                    "graph-fixture exited before it was ready; stderr:\n{}",
                    fixture.stderr_text()
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                fixture.shutdown();
                bail!(
                    "graph-fixture did not print its ready line within {READY_TIMEOUT:?}; stderr:\n{}",
                    fixture.stderr_text()
                );
            }
        };
        let ready: ReadyLine = serde_json::from_str(&line)
            .with_context(|| format!("unreadable ready line {line:?}"))?;
        fixture.url = ready.url;
        fixture.pid = ready.pid;
        Ok(fixture)
    }

    /// The Graph base URL: `{url}/v1.0`.
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.url)
    }

    /// The Teams connector's configuration values that point at this fixture with its credentials (delegated
    /// sign-in; the secret serves app-only too).
    pub fn connector_values(&self) -> Vec<(&'static str, String)> {
        let o = &self.options;
        vec![
            ("tenant_id", o.tenant_id.clone()),
            ("client_id", o.client_id.clone()),
            ("secret_value", o.client_secret.clone()),
            ("username", o.username.clone()),
            ("password", o.password.clone()),
            ("graph_url", self.graph_url()),
            ("login_url", self.login_url()),
        ]
    }

    /// The login authority host: the token endpoint is `{login_url}/{tenant}/oauth2/v2.0/token`.
    pub fn login_url(&self) -> String {
        self.url.clone()
    }

    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.url, self.options.tenant_id)
    }

    /// `GET /_fixture/expected` (delegated mode).
    pub async fn expected(&self) -> anyhow::Result<Value> {
        self.control(reqwest::Method::GET, "/_fixture/expected", None)
            .await
    }

    /// `GET /_fixture/expected?mode=app`.
    pub async fn expected_app(&self) -> anyhow::Result<Value> {
        self.control(reqwest::Method::GET, "/_fixture/expected?mode=app", None)
            .await
    }

    /// `POST /_fixture/mutate`, e.g. `json!({"add_chat_messages": 5, "delete_files": 2})`.
    pub async fn mutate(&self, spec: Value) -> anyhow::Result<Value> {
        self.control(reqwest::Method::POST, "/_fixture/mutate", Some(spec))
            .await
    }

    /// `POST /_fixture/faults` (replaces the whole fault configuration).
    pub async fn set_faults(&self, spec: Value) -> anyhow::Result<Value> {
        self.control(reqwest::Method::POST, "/_fixture/faults", Some(spec))
            .await
    }

    /// `DELETE /_fixture/faults`.
    pub async fn clear_faults(&self) -> anyhow::Result<()> {
        self.control(reqwest::Method::DELETE, "/_fixture/faults", None)
            .await
            .map(drop)
    }

    /// `GET /_fixture/requests`: counts per endpoint class and route.
    pub async fn requests(&self) -> anyhow::Result<Value> {
        self.control(reqwest::Method::GET, "/_fixture/requests", None)
            .await
    }

    /// `POST /_fixture/requests/reset`.
    pub async fn reset_counters(&self) -> anyhow::Result<()> {
        self.control(reqwest::Method::POST, "/_fixture/requests/reset", None)
            .await
            .map(drop)
    }

    /// `POST /_fixture/tokens/expire`: every issued access token is expired from now on.
    pub async fn expire_tokens(&self) -> anyhow::Result<()> {
        self.control(reqwest::Method::POST, "/_fixture/tokens/expire", None)
            .await
            .map(drop)
    }

    /// `GET /_fixture/info`: tenant GUID, delegated user, sizes.
    pub async fn info(&self) -> anyhow::Result<Value> {
        self.control(reqwest::Method::GET, "/_fixture/info", None)
            .await
    }

    /// An app-only access token (client-credentials grant with the secret).
    pub async fn app_token(&self) -> anyhow::Result<String> {
        let o = &self.options;
        self.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await
    }

    /// A delegated access token for the configured user (password grant).
    pub async fn delegated_token(&self) -> anyhow::Result<String> {
        let o = &self.options;
        self.token(&[
            ("grant_type", "password"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("username", &o.username),
            ("password", &o.password),
            ("scope", "User.Read.All TeamMember.Read.All ChannelMessage.Read.All Chat.Read Chat.ReadBasic Calendars.Read"),
        ])
        .await
    }

    async fn token(&self, form: &[(&str, &str)]) -> anyhow::Result<String> {
        let response = self.http.post(self.token_url()).form(form).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("token endpoint answered {status}: {body}");
        }
        body["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no access_token in {body}"))
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// Stops the fixture now (dropping does the same).
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// The last lines the fixture wrote to stderr.
    pub fn stderr_text(&self) -> String {
        self.stderr_tail.text()
    }

    fn shutdown(&mut self) {
        // Closing stdin is the server's cue to exit cleanly (the stand-in's osmem follows it).
        crate::child::stop(self.child.take(), STOP_GRACE);
    }
}

impl Drop for GraphFixture {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn locate_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    crate::child::locate_binary("graph-fixture", explicit, BINARY_ENV).map_err(|searched| {
        anyhow!("graph-fixture binary not found (looked at {searched:?}): run `cargo build -p ftest --bins`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_says_how_to_build_it() {
        let options = GraphOptions {
            binary: Some("/nonexistent/graph-fixture".into()),
            ..GraphOptions::default()
        };
        let message = GraphFixture::start(options).unwrap_err().to_string();
        assert!(message.contains("cargo build -p ftest --bins"), "{message}");
    }
}
