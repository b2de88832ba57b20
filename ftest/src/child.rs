//! What the test helpers that spawn a server binary share (`StandIn`, `GraphFixture`): finding the binary, keeping
//! the tail of its stderr for failure messages, and stopping it (stdin closed, a grace period, then kill).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines of stderr kept for failure messages.
const STDERR_TAIL: usize = 40;

/// `explicit`, else `$env_var`, else `name` in the running executable's parent directory (tests run from
/// `target/<profile>/deps/`) or its own. `Err` lists where it looked.
pub fn locate_binary(
    name: &str,
    explicit: Option<&Path>,
    env_var: &str,
) -> Result<PathBuf, Vec<PathBuf>> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = explicit {
        candidates.push(path.to_path_buf());
    } else if let Some(path) = std::env::var_os(env_var) {
        candidates.push(PathBuf::from(path));
    } else if let Some(dir) = std::env::current_exe()
        .ok()
        .as_deref()
        .and_then(Path::parent)
    {
        candidates.push(dir.join("..").join(&file));
        candidates.push(dir.join(&file));
    }
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or(candidates)
}

/// The last lines a child wrote to stderr, collected by a background thread (echoed with `label` if `verbose`).
#[derive(Debug, Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    pub fn collect(stderr: ChildStderr, label: &'static str, verbose: bool) -> StderrTail {
        let tail = StderrTail::default();
        let lines = tail.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if verbose {
                    eprintln!("{label}: {line}");
                }
                let mut lines = lines.lock().unwrap_or_else(|p| p.into_inner());
                if lines.len() == STDERR_TAIL {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        });
        tail
    }

    pub fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Closes the child's stdin (the servers' cue to exit cleanly), waits up to `grace`, then kills it.
pub fn stop(child: Option<Child>, grace: Duration) {
    let Some(mut child) = child else {
        return;
    };
    drop(child.stdin.take());
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// For the server binaries: resolves with the reason once the process is asked to stop (SIGINT, SIGTERM, or —
/// with `watch_stdin` — its stdin closing, which is how the test helpers stop it).
pub async fn shutdown_requested(watch_stdin: bool) -> &'static str {
    let stdin_closed = async {
        if watch_stdin {
            let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut tokio::io::sink()).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminate() => "SIGTERM",
        _ = stdin_closed => "stdin closed",
    }
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}
