//! `graph-fixture`: the Microsoft Graph fixture server. CLI, logging and signal wiring only; the server is
//! `ftest::graph`.
//!
//! stdout carries exactly one JSON line once ready — `{"url":..,"pid":..}` — so a harness can read the
//! address; logs go to stderr and never contain secrets or tokens.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ftest::graph::auth::Credentials;
use ftest::graph::data::{Corpus, DataSize};
use ftest::graph::{jwt, GraphConfig, GraphServer};

#[derive(Debug, Parser)]
#[command(
    name = "graph-fixture",
    about = "Microsoft Graph v1.0 + Entra ID token endpoint fixture for the Teams connector's tests"
)]
struct Cli {
    /// Port to listen on; 0 picks a free port.
    #[arg(long, default_value_t = 10971)]
    port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// small (≈250 documents), medium (≈3,000) or large (≈20,000).
    #[arg(long, env = "DATA_SIZE", default_value = "medium")]
    data_size: DataSize,
    /// Every data set's ordinary drive files as `large` draws them (to 12 MiB, some listed wrongly); `small`
    /// otherwise keeps them under 1 MB. Same ids and counts either way.
    #[arg(long)]
    heavy_files: bool,
    /// Seed of the data set: same seed, same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "fixture-tenant")]
    tenant_id: String,
    #[arg(long, default_value = "fixture-client")]
    client_id: String,
    #[arg(long, default_value = "fixture-secret", hide_default_value = true)]
    client_secret: String,
    /// The delegated user (resource-owner password grant); also the mail domain of every user.
    #[arg(long, default_value = "adele@fixture.test")]
    username: String,
    #[arg(long, default_value = "fixture-password", hide_default_value = true)]
    password: String,
    /// `expires_in` of issued access tokens.
    #[arg(long, default_value_t = 3599)]
    token_lifetime_secs: u64,
    /// RSA public key (PEM) that certificate client assertions must be signed with; without it only
    /// their structure and claims are checked.
    #[arg(long)]
    client_cert_public_key: Option<PathBuf>,
    /// Directory of real files whose bytes drive items serve [default: <repo>/tests/corpus].
    #[arg(long)]
    files_dir: Option<PathBuf>,
    /// Exit when stdin closes (the test helper uses this so the fixture dies with the test process).
    #[arg(long)]
    exit_on_stdin_close: bool,
}

#[derive(serde::Serialize)]
struct ReadyLine<'a> {
    url: &'a str,
    pid: u32,
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("graph-fixture: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(cli));
    runtime.shutdown_timeout(Duration::from_millis(500));
    code
}

fn config(cli: &Cli) -> Result<GraphConfig, String> {
    let files_dir = cli.files_dir.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("tests")
            .join("corpus")
    });
    let corpus = Corpus::load(&files_dir)
        .map_err(|e| format!("cannot read --files-dir {}: {e}", files_dir.display()))?;
    let client_cert_key = match &cli.client_cert_public_key {
        None => None,
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Some(jwt::parse_public_key(&pem).map_err(|e| format!("{}: {e}", path.display()))?)
        }
    };
    Ok(GraphConfig {
        seed: cli.seed,
        size: cli.data_size,
        heavy_files: cli.heavy_files,
        credentials: Credentials {
            tenant: cli.tenant_id.clone(),
            client_id: cli.client_id.clone(),
            client_secret: cli.client_secret.clone(),
            username: cli.username.clone(),
            password: cli.password.clone(),
            token_lifetime: Duration::from_secs(cli.token_lifetime_secs),
            client_cert_key,
        },
        corpus,
    })
}

async fn run(cli: Cli) -> ExitCode {
    let config = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("graph-fixture: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let size = config.size;
    let mut server = match GraphServer::start(config, &cli.host, cli.port).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "graph-fixture: cannot listen on {}:{}: {e}",
                cli.host, cli.port
            );
            return ExitCode::FAILURE;
        }
    };
    let line = serde_json::to_string(&ReadyLine {
        url: &server.url,
        pid: std::process::id(),
    })
    .unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|_| stdout.flush())
        .is_err()
    {
        eprintln!("graph-fixture: cannot write the ready line to stdout");
        server.stop().await;
        return ExitCode::FAILURE;
    }
    drop(stdout);
    tracing::info!(
        url = %server.url,
        data_size = %size,
        seed = cli.seed,
        tenant = %cli.tenant_id,
        startup_ms = started.elapsed().as_millis() as u64,
        "graph-fixture ready"
    );
    let code = tokio::select! {
        reason = ftest::child::shutdown_requested(cli.exit_on_stdin_close) => {
            tracing::info!(reason, "stopping");
            ExitCode::SUCCESS
        }
        result = server.stopped() => {
            tracing::error!(?result, "server stopped on its own");
            return ExitCode::FAILURE;
        }
    };
    server.stop().await;
    code
}
