//! `elastic-ingest`: CLI parsing and wiring only (config load, logging, signals → shutdown token, service run).
//! Exit codes: 0 after a clean run or a requested stop, 1 on a runtime failure, 2 on a usage or config error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;
use tracing::level_filters::LevelFilter;

use elastic_ingest::config::{self, parse_log_level};
use elastic_ingest::logging::{self, LogFormat};
use elastic_ingest::service::{self, ServiceAction};
use elastic_ingest::sources;

#[derive(Debug, Parser)]
#[command(
    name = "elastic-ingest",
    about = "Elastic connector service for Microsoft Teams: syncs Teams content into Elasticsearch",
    version = version(),
    disable_version_flag = true
)]
struct Cli {
    /// Configuration file.
    #[arg(
        short = 'c',
        long = "config-file",
        value_name = "FILE",
        default_value = "config.yml"
    )]
    config_file: PathBuf,
    /// What to run; repeatable. Default: schedule, sync_content, sync_access_control and cleanup.
    /// `list` and `config` run alone.
    #[arg(long, value_enum, value_name = "ACTION", ignore_case = true)]
    action: Vec<Action>,
    /// With `--action config`: the service type whose default configuration to print.
    #[arg(long, value_name = "TYPE")]
    service_type: Option<String>,
    /// Log level (DEBUG, INFO, WARNING, ERROR, CRITICAL); wins over service.log_level.
    #[arg(long, value_name = "LEVEL", value_parser = level)]
    log_level: Option<LevelFilter>,
    /// Shorthand for --log-level DEBUG.
    #[arg(long)]
    debug: bool,
    /// Log ECS JSON lines for Filebeat instead of human-readable lines.
    #[arg(long)]
    filebeat: bool,
    /// Accepted for compatibility with the Python service; has no effect.
    #[arg(long, hide = true)]
    uvloop: bool,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    command: Option<Tool>,
}

/// Tools for humans, run instead of the service.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Print the text the service extracts from a file (stdout) and what it noted or skipped (stderr).
    Extract {
        file: PathBuf,
        /// Keep whitespace as extracted instead of collapsing runs to one space.
        #[arg(long)]
        keep_whitespace: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Action {
    #[value(name = "schedule")]
    Schedule,
    #[value(name = "sync_content")]
    SyncContent,
    #[value(name = "sync_access_control")]
    SyncAccessControl,
    #[value(name = "cleanup")]
    Cleanup,
    /// Print the service types this binary implements.
    #[value(name = "list")]
    List,
    /// Print the default configuration of --service-type as JSON.
    #[value(name = "config")]
    Config,
}

fn version() -> &'static str {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (Elastic connectors protocol 9.6.0)"
    )
}

fn level(s: &str) -> Result<LevelFilter, String> {
    parse_log_level(s).ok_or_else(|| {
        format!("unknown log level `{s}` (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    })
}

fn main() -> ExitCode {
    elastic_ingest::alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return bad_arguments(e),
    };
    let filebeat = cli.filebeat;
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            // Logging is not set up yet (the config names the level), but a Filebeat reader still gets JSON.
            if filebeat {
                eprintln!("{}", logging::ecs_error_line(&msg));
            } else {
                eprintln!("elastic-ingest: {msg}");
            }
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            // Logging is set up by now: the error goes to the log stream (ECS JSON with --filebeat), once.
            tracing::error!("{msg}");
            ExitCode::from(1)
        }
    }
}

/// Help and version go to stdout as usual; an argument error with `--filebeat` among the arguments is one ECS
/// line (clap's first line, without its usage text), else clap's own message. Exit code 2 either way.
fn bad_arguments(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let filebeat = std::env::args_os().any(|a| a == "--filebeat");
    if !filebeat || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("{}", logging::ecs_error_line(message));
    ExitCode::from(2)
}

enum Failure {
    Usage(String),
    Runtime(String),
}

fn dispatch(cli: Cli) -> Result<(), Failure> {
    if let Some(Tool::Extract {
        file,
        keep_whitespace,
    }) = &cli.command
    {
        return extract_file(file, !keep_whitespace);
    }
    let single = cli
        .action
        .iter()
        .find(|a| matches!(a, Action::List | Action::Config));
    if let Some(a) = single {
        if cli.action.len() > 1 {
            return Err(Failure::Usage(format!(
                "--action {} must be used alone",
                a.to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default()
            )));
        }
    }
    if cli.service_type.is_some() && single != Some(&Action::Config) {
        return Err(Failure::Usage(
            "--service-type is only used with --action config".into(),
        ));
    }
    match single {
        Some(Action::List) => {
            println!("Registered connectors:");
            for s in sources::REGISTRY.iter() {
                println!("- {} ({})", s.display_name, s.service_type);
            }
            Ok(())
        }
        Some(Action::Config) => print_default_configuration(cli.service_type.as_deref()),
        _ => run_service(&cli),
    }
}

fn extract_file(path: &std::path::Path, reduce_whitespace: bool) -> Result<(), Failure> {
    use elastic_ingest::extract;
    let settings = extract::Settings {
        reduce_whitespace,
        ..Default::default()
    };
    let size = std::fs::metadata(path)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?
        .len();
    if size > settings.max_input_bytes as u64 {
        return Err(Failure::Usage(format!(
            "{}: skipped: file is {size} bytes, over the {}-byte extraction limit",
            path.display(),
            settings.max_input_bytes
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let name = path.to_string_lossy();
    match extract::extract(&name, &bytes, &settings) {
        Ok(extracted) => {
            println!("{}", extracted.text);
            for note in &extracted.notes {
                eprintln!("note: {note}");
            }
            Ok(())
        }
        Err(skip) => Err(Failure::Usage(format!(
            "{}: skipped: {skip}",
            path.display()
        ))),
    }
}

fn print_default_configuration(service_type: Option<&str>) -> Result<(), Failure> {
    let known = sources::REGISTRY.service_types().join(", ");
    let Some(service_type) = service_type else {
        return Err(Failure::Usage(format!(
            "--action config needs --service-type (one of: {known})"
        )));
    };
    let Some(source) = sources::REGISTRY.find(service_type) else {
        return Err(Failure::Usage(format!(
            "unknown service type `{service_type}` (this service implements: {known})"
        )));
    };
    let json = serde_json::to_string_pretty(&(source.default_configuration)())
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    println!("{json}");
    Ok(())
}

fn run_service(cli: &Cli) -> Result<(), Failure> {
    let mut config =
        config::load(&cli.config_file).map_err(|e| Failure::Usage(format!("config error: {e}")))?;
    config
        .validate_for_service(&sources::REGISTRY.service_types())
        .map_err(|e| Failure::Usage(format!("config error: {e}")))?;

    let cli_level = cli.log_level.or(cli.debug.then_some(LevelFilter::DEBUG));
    let service_level = config
        .service
        .log_level
        .as_deref()
        .and_then(parse_log_level);
    let es_level = parse_log_level(&config.elasticsearch.log_level).unwrap_or(LevelFilter::INFO);
    let format = if cli.filebeat {
        LogFormat::Ecs
    } else {
        LogFormat::Human {
            colour: logging::colour_wanted(config.env.no_color),
        }
    };
    logging::init(
        logging::choose_level(cli_level, service_level),
        es_level,
        format,
    );
    for w in &config.warnings {
        tracing::warn!("{}: {w}", config.path.display());
    }

    let mut actions: Vec<ServiceAction> = cli
        .action
        .iter()
        .filter_map(|a| match a {
            Action::Schedule => Some(ServiceAction::Schedule),
            Action::SyncContent => Some(ServiceAction::SyncContent),
            Action::SyncAccessControl => Some(ServiceAction::SyncAccessControl),
            Action::Cleanup => Some(ServiceAction::Cleanup),
            Action::List | Action::Config => None,
        })
        .collect();
    if actions.is_empty() {
        actions = ServiceAction::ALL.to_vec();
    }
    actions.sort();
    actions.dedup();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(watch_signals(shutdown.clone()));
        service::run(&config, &actions, sources::REGISTRY, shutdown)
            .await
            .map_err(|e| Failure::Runtime(e.to_string()))
    })
}

/// SIGINT or SIGTERM cancels the shutdown token: preflight aborts, services stop gracefully.
async fn watch_signals(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
                shutdown.cancel();
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, stopping"),
            _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received, stopping");
    }
    shutdown.cancel();
}
