//! [`StandIn`]: starts an `es-standin` process for a test, waits for its ready line, and stops it (and with it
//! osmem) when dropped. Also mints API keys with chosen role descriptors, for tests of restricted access, and
//! drives the stand-in's test hooks (injected bulk faults).
//! Synchronous start so it works from plain and async tests alike; the HTTP helpers are async.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::Deserialize;

use crate::child::StderrTail;
use serde_json::json;

/// How long the stand-in (and osmem behind it) may take to announce itself.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stop waits for a clean exit after closing the stand-in's stdin, before killing it.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Stderr lines kept for error messages.
/// Set to echo the stand-in's stderr while tests run.
const VERBOSE_ENV: &str = "ES_STANDIN_VERBOSE";
/// Overrides where the binary is looked for.
const BINARY_ENV: &str = "ES_STANDIN_BIN";

#[derive(Debug, Clone)]
pub struct StandInOptions {
    pub password: String,
    pub es_version: String,
    pub build_flavor: String,
    pub license_type: String,
    /// The `es-standin` binary; by default found next to the test executable (see [`StandIn::start`]).
    pub binary: Option<PathBuf>,
}

impl Default for StandInOptions {
    fn default() -> Self {
        StandInOptions {
            password: "changeme".to_string(),
            es_version: "9.6.0".to_string(),
            build_flavor: "default".to_string(),
            license_type: "platinum".to_string(),
            binary: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    #[error(
        "es-standin binary not found (looked at {searched:?}): run `cargo build -p ftest --bins`"
    )]
    BinaryMissing { searched: Vec<PathBuf> },
    #[error("cannot start {}: {source}", .path.display())]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("es-standin did not print its ready line within {timeout:?}; stderr:\n{stderr}")]
    NotReady { timeout: Duration, stderr: String },
    #[error("es-standin exited before it was ready; stderr:\n{stderr}")]
    Exited { stderr: String },
    #[error("es-standin printed an unreadable ready line {line:?}: {reason}")]
    BadReadyLine { line: String, reason: String },
    #[error("request to the stand-in failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the stand-in answered HTTP {status}: {body}")]
    Rejected { status: u16, body: String },
}

/// An API key minted on the stand-in.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub api_key: String,
    /// base64 of `id:api_key`, the value of an `Authorization: ApiKey ...` header.
    pub encoded: String,
}

impl ApiKey {
    pub fn authorization_header(&self) -> String {
        format!("ApiKey {}", self.encoded)
    }
}

#[derive(Debug, Deserialize)]
struct ReadyLine {
    url: String,
    osmem_url: String,
    pid: u32,
}

/// A running stand-in. Dropping it stops the process and osmem behind it.
#[derive(Debug)]
pub struct StandIn {
    /// Base URL of the Elasticsearch front, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Base URL of osmem itself (no authentication, OpenSearch-shaped): for white-box checks only.
    pub osmem_url: String,
    pub pid: u32,
    password: String,
    child: Option<Child>,
    stderr_tail: StderrTail,
}

impl StandIn {
    /// Starts `es-standin --port 0` and waits for its ready line. The binary is `options.binary`, else
    /// `$ES_STANDIN_BIN`, else `es-standin` in the test executable's parent directory (tests run from
    /// `target/<profile>/deps/`) or its own directory.
    pub fn start(options: StandInOptions) -> Result<StandIn, StandInError> {
        let binary = locate_binary(options.binary.as_deref())?;
        let mut child = Command::new(&binary)
            .args([
                "--port",
                "0",
                "--host",
                "127.0.0.1",
                "--exit-on-stdin-close",
            ])
            .args([
                "--password",
                &options.password,
                "--es-version",
                &options.es_version,
            ])
            .args([
                "--build-flavor",
                &options.build_flavor,
                "--license-type",
                &options.license_type,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| StandInError::Spawn {
                path: binary.clone(),
                source,
            })?;
        let verbose = std::env::var_os(VERBOSE_ENV).is_some();
        let stderr_tail = child
            .stderr
            .take()
            .map(|stderr| StderrTail::collect(stderr, "es-standin", verbose))
            .unwrap_or_default();
        let (ready_tx, ready_rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let _ = ready_tx.send(lines.next().and_then(Result::ok));
                // Nothing else is expected on stdout; draining keeps the pipe from ever filling.
                for _ in lines {}
            });
        }
        let mut stand_in = StandIn {
            url: String::new(),
            osmem_url: String::new(),
            pid: child.id(),
            password: options.password,
            child: Some(child),
            stderr_tail,
        };
        let line = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(Some(line)) => line,
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                stand_in.shutdown();
                return Err(StandInError::Exited {
                    stderr: stand_in.stderr_text(),
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                stand_in.shutdown();
                return Err(StandInError::NotReady {
                    timeout: READY_TIMEOUT,
                    stderr: stand_in.stderr_text(),
                });
            }
        };
        let ready: ReadyLine =
            serde_json::from_str(&line).map_err(|e| StandInError::BadReadyLine {
                line: line.clone(),
                reason: e.to_string(),
            })?;
        stand_in.url = ready.url;
        stand_in.osmem_url = ready.osmem_url;
        stand_in.pid = ready.pid;
        Ok(stand_in)
    }

    /// The `elastic` user's credentials.
    pub fn basic_auth(&self) -> (String, String) {
        ("elastic".to_string(), self.password.clone())
    }

    /// A client-less convenience: `POST /_security/api_key` as `elastic` with the given role descriptors
    /// (`json!({})` for a key with the creator's privileges).
    pub async fn mint_api_key(
        &self,
        name: &str,
        role_descriptors: serde_json::Value,
    ) -> Result<ApiKey, StandInError> {
        let (user, password) = self.basic_auth();
        let response = reqwest::Client::new()
            .post(format!("{}/_security/api_key", self.url))
            .basic_auth(user, Some(password))
            .json(&json!({ "name": name, "role_descriptors": role_descriptors }))
            .timeout(Duration::from_secs(30))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(StandInError::Rejected {
                status: status.as_u16(),
                body,
            });
        }
        Ok(response.json::<ApiKey>().await?)
    }

    /// Test hook (not an Elasticsearch API): arms bulk-item faults, `POST /_standin/faults/bulk` as `elastic`.
    /// `json!({"status": 429, "count": 2})` fails the next two `index`/`create`/`delete` items (across requests)
    /// with `es_rejected_execution_exception`; `503` gives `unavailable_shards_exception`;
    /// `json!({"status": 400, "ids": ["a"], "reason": "..."})` fails every item with `_id` `a` with a
    /// `document_parsing_exception`. Returns the armed rules. See ftest/README.md, "Test hooks".
    pub async fn inject_bulk_faults(
        &self,
        spec: serde_json::Value,
    ) -> Result<serde_json::Value, StandInError> {
        self.elastic_json(reqwest::Method::POST, "/_standin/faults/bulk", Some(spec))
            .await
    }

    /// Test hook: removes every armed fault (`DELETE /_standin/faults`).
    pub async fn clear_faults(&self) -> Result<(), StandInError> {
        self.elastic_json(reqwest::Method::DELETE, "/_standin/faults", None)
            .await
            .map(drop)
    }

    /// Test hook: the requests the stand-in answered so far (`GET /_standin/requests`), oldest first, each
    /// `{"method", "path", "query", "status"}`.
    pub async fn requests(&self) -> Result<Vec<serde_json::Value>, StandInError> {
        let listed = self
            .elastic_json(reqwest::Method::GET, "/_standin/requests", None)
            .await?;
        Ok(listed["requests"].as_array().cloned().unwrap_or_default())
    }

    /// Test hook: forgets the recorded requests (`DELETE /_standin/requests`).
    pub async fn clear_requests(&self) -> Result<(), StandInError> {
        self.elastic_json(reqwest::Method::DELETE, "/_standin/requests", None)
            .await
            .map(drop)
    }

    /// A request as `elastic`; a non-2xx answer is [`StandInError::Rejected`].
    async fn elastic_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, StandInError> {
        let (user, password) = self.basic_auth();
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.url))
            .basic_auth(user, Some(password))
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(StandInError::Rejected {
                status: status.as_u16(),
                body,
            });
        }
        Ok(response.json::<serde_json::Value>().await?)
    }

    /// Stops the stand-in now (dropping does the same).
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// The last lines the stand-in wrote to stderr, for diagnosing a failed test.
    pub fn stderr_text(&self) -> String {
        self.stderr_tail.text()
    }

    fn shutdown(&mut self) {
        // Closing stdin is the server's cue to exit cleanly (the stand-in's osmem follows it).
        crate::child::stop(self.child.take(), STOP_GRACE);
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn locate_binary(explicit: Option<&Path>) -> Result<PathBuf, StandInError> {
    crate::child::locate_binary("es-standin", explicit, BINARY_ENV)
        .map_err(|searched| StandInError::BinaryMissing { searched })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_says_how_to_build_it() {
        let err = locate_binary(Some(Path::new("/nonexistent/es-standin"))).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("cargo build -p ftest --bins"), "{message}");
        assert!(message.contains("/nonexistent/es-standin"), "{message}");
    }

    #[test]
    fn start_reports_a_missing_binary_instead_of_hanging() {
        let options = StandInOptions {
            binary: Some("/nonexistent/es-standin".into()),
            ..Default::default()
        };
        assert!(matches!(
            StandIn::start(options),
            Err(StandInError::BinaryMissing { .. })
        ));
    }
}
