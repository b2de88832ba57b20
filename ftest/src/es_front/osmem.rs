//! The osmem-server child process: finding the binary, starting it on a free port tied to our lifetime,
//! reading its one-line ready announcement, relaying its later output to our stderr, and stopping it.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::task::JoinHandle;

/// How long osmem may take to print its ready line; it normally takes a few milliseconds.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stop waits for osmem to exit after its stdin closes before killing it.
const STOP_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum OsmemError {
    #[error("osmem-server not found at {}: run scripts/install-osmem.sh (or make es-install)", .path.display())]
    Missing { path: PathBuf },
    #[error("cannot start osmem-server {}: {source}", .path.display())]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("osmem-server exited before printing its ready line")]
    EarlyExit,
    #[error("osmem-server did not print its ready line within {0:?}")]
    Timeout(Duration),
    #[error("osmem-server printed an unreadable ready line ({reason}): {line}")]
    BadReadyLine { line: String, reason: String },
    #[error("reading osmem-server output: {0}")]
    Io(#[from] std::io::Error),
}

/// Where osmem is expected when nothing else is configured: the project-local venv link made by
/// `scripts/install-osmem.sh`.
pub fn default_osmem_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".venv")
        .join("osmem-server")
}

/// Resolves the osmem binary: the explicit path (flag or `OSMEM_SERVER_BIN`, resolved by the CLI) or the default.
pub fn locate_osmem(explicit: Option<PathBuf>) -> Result<PathBuf, OsmemError> {
    let path = explicit.unwrap_or_else(default_osmem_path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(OsmemError::Missing { path })
    }
}

#[derive(Debug, Deserialize)]
struct ReadyLine {
    url: String,
}

/// A running osmem. Dropping it kills the process (`kill_on_drop`); osmem also exits by itself when our pid
/// disappears or its stdin (held here) closes, so it cannot outlive the front.
#[derive(Debug)]
pub struct OsmemChild {
    pub url: String,
    child: Child,
    stdin: Option<ChildStdin>,
    relay: JoinHandle<()>,
}

impl OsmemChild {
    pub async fn start(binary: &Path) -> Result<OsmemChild, OsmemError> {
        let mut child = Command::new(binary)
            .args([
                "-addr",
                "127.0.0.1:0",
                "-no-ja",
                "-parent-pid",
                &std::process::id().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| OsmemError::Spawn {
                path: binary.to_path_buf(),
                source,
            })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or(OsmemError::EarlyExit)?;
        let mut lines = BufReader::new(stdout).lines();
        let first = match tokio::time::timeout(READY_TIMEOUT, lines.next_line()).await {
            Err(_) => return Err(OsmemError::Timeout(READY_TIMEOUT)),
            Ok(Err(e)) => return Err(OsmemError::Io(e)),
            Ok(Ok(None)) => return Err(OsmemError::EarlyExit),
            Ok(Ok(Some(line))) => line,
        };
        let ready: ReadyLine =
            serde_json::from_str(&first).map_err(|e| OsmemError::BadReadyLine {
                line: first.clone(),
                reason: e.to_string(),
            })?;
        // Our stdout carries exactly one line (our own ready line), so anything osmem prints later goes to
        // stderr; reading it also keeps osmem from blocking on a full pipe.
        let relay = tokio::spawn(async move {
            let mut stderr = tokio::io::stderr();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = stderr
                    .write_all(format!("osmem: {line}\n").as_bytes())
                    .await;
            }
        });
        Ok(OsmemChild {
            url: ready.url,
            child,
            stdin,
            relay,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resolves when osmem exits on its own (crash, or killed from outside).
    pub async fn exited(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Closes osmem's stdin (its cue to exit), waits briefly, then kills it.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        self.relay.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_names_the_install_script() {
        let err = locate_osmem(Some(PathBuf::from("/nonexistent/osmem-server"))).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/nonexistent/osmem-server"), "{message}");
        assert!(message.contains("scripts/install-osmem.sh"), "{message}");
    }
}
