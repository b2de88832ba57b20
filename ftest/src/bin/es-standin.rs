//! `es-standin`: runs osmem-server behind the Elasticsearch front. CLI, logging and signal wiring only.
//!
//! stdout carries exactly one JSON line once ready — `{"url":..,"osmem_url":..,"pid":..}` — so a test
//! harness can read the address; everything else goes to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ftest::es_front::{locate_osmem, Front, FrontConfig};

#[derive(Debug, Parser)]
#[command(
    name = "es-standin",
    about = "Elasticsearch 9.x stand-in: an ES-shaped front over osmem-server"
)]
struct Cli {
    /// Port to listen on; 0 picks a free port.
    #[arg(long, default_value_t = 9200)]
    port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// osmem-server binary [default: <repo>/.venv/osmem-server, installed by scripts/install-osmem.sh]
    #[arg(long, env = "OSMEM_SERVER_BIN")]
    osmem_bin: Option<PathBuf>,
    /// Password of the `elastic` user.
    #[arg(long, default_value = "changeme")]
    password: String,
    /// Version reported by `GET /`; its major drives compatibility media type checks.
    #[arg(long, default_value = "9.6.0", value_parser = parse_version)]
    es_version: String,
    #[arg(long, default_value = "default")]
    build_flavor: String,
    #[arg(long, default_value = "platinum", value_parser = ["basic", "standard", "gold", "platinum", "enterprise", "trial"])]
    license_type: String,
    /// Exit when stdin closes (used by the test helper so the stand-in dies with the test process).
    #[arg(long)]
    exit_on_stdin_close: bool,
}

/// The one line written to stdout, fields in this order.
#[derive(serde::Serialize)]
struct ReadyLine<'a> {
    url: &'a str,
    osmem_url: &'a str,
    pid: u32,
}

fn parse_version(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() == 3 && parts.iter().all(|p| p.parse::<u16>().is_ok()) {
        Ok(value.to_string())
    } else {
        Err(format!("expected MAJOR.MINOR.PATCH, got [{value}]"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // Two cores on the CI machine, shared with the service under test: a small runtime is plenty.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("es-standin: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(cli));
    // A blocking stdin read (stdin watch) cannot be cancelled; do not let it hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    code
}

async fn run(cli: Cli) -> ExitCode {
    let osmem_bin = match locate_osmem(cli.osmem_bin.clone()) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("es-standin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = FrontConfig {
        password: cli.password,
        es_version: cli.es_version,
        build_flavor: cli.build_flavor,
        license_type: cli.license_type,
    };
    let mut front = match Front::start(config, &cli.host, cli.port, &osmem_bin).await {
        Ok(front) => front,
        Err(e) => {
            eprintln!("es-standin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = ReadyLine {
        url: &front.url,
        osmem_url: &front.osmem_url,
        pid: std::process::id(),
    };
    let line = serde_json::to_string(&ready).unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|_| stdout.flush())
        .is_err()
    {
        eprintln!("es-standin: cannot write the ready line to stdout");
        front.stop().await;
        return ExitCode::FAILURE;
    }
    drop(stdout);
    tracing::info!(url = %front.url, osmem_url = %front.osmem_url, osmem_pid = ?front.osmem_pid(), "es-standin ready");

    let code = tokio::select! {
        reason = ftest::child::shutdown_requested(cli.exit_on_stdin_close) => {
            tracing::info!(reason, "stopping");
            ExitCode::SUCCESS
        }
        status = front.osmem_exited() => {
            tracing::error!(?status, "osmem-server exited; the stand-in cannot serve without it");
            ExitCode::FAILURE
        }
    };
    front.stop().await;
    code
}
