//! config.yml → a typed, validated [`Config`]. This module owns every loading rule (interpolation, dotted keys,
//! defaults, validation) and is the only place that reads environment variables; the rest of the service gets
//! plain values. Errors are one line naming the file and the key path (or line/column) and what was expected.

mod dotenv;
pub mod hosts;
pub mod interpolate;
pub mod lenient;
pub mod model;
mod network;
mod tree;
mod validate;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use hosts::AllowedHost;
pub use model::*;
pub use network::{CertStoreEnv, NetworkEnv, ProxyEnv, ProxyVarError};

use crate::secret::Secret;
use interpolate::Vars;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the config file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: invalid YAML: {message}")]
    Yaml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: invalid YAML: {message}")]
    YamlNoLocation { path: PathBuf, message: String },
    #[error(
        "{path}: the top level must be a mapping of keys (elasticsearch:, service:, connectors: …)"
    )]
    NotAMapping { path: PathBuf },
    #[error("{path}: {key}: environment variable `{name}` is not set (use ${{{name}|default}} for a default, or $$ for a literal $)")]
    UndefinedVariable {
        path: PathBuf,
        key: String,
        name: String,
    },
    #[error("{env_file}: cannot read the env file: {message}")]
    EnvFile { env_file: PathBuf, message: String },
    #[error(transparent)]
    Environment(#[from] ProxyVarError),
    #[error("environment variable {name}: {problem}")]
    Variable { name: &'static str, problem: String },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// One configured connector (`connectors:` entry, or the deprecated top-level pair).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorConfig {
    pub connector_id: String,
    pub service_type: String,
    /// The connector's own API key: used only for its sync data path (content index, bulk).
    pub api_key: Option<Secret>,
}

/// Process-environment switches that change behaviour (read here, once, so tests can inject them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeEnv {
    /// `ALLOW_ES_VERSION_MISMATCH` in (`true`, `1`, `yes`): skip the Elasticsearch version check.
    pub allow_es_version_mismatch: bool,
    /// `NO_COLOR` set and not empty (<https://no-color.org>): human log lines without ANSI colours.
    pub no_color: bool,
    /// Proxy and certificate-store variables for outgoing connections.
    pub network: NetworkEnv,
    /// `OVERRIDE_URL` (the Python service's test hook): Graph, sign-in and the app-only scope all go to this
    /// http(s) URL, without a trailing `/`. Setting it is an operator's decision, like `graph.allowed_hosts`.
    pub override_url: Option<String>,
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub elasticsearch: ElasticsearchConfig,
    pub service: ServiceConfig,
    pub graph: GraphConfig,
    pub connectors: Vec<ConnectorConfig>,
    pub sources: std::collections::BTreeMap<String, String>,
    pub extraction_service: Option<ExtractionServiceConfig>,
    pub env: RuntimeEnv,
    /// Problems worth a warning (unknown keys, skipped entries), logged once logging is set up.
    pub warnings: Vec<String>,
}

/// The environment the config file is read in: variables and the working directory (for `./.env`).
#[derive(Debug, Clone)]
pub struct Environment {
    pub vars: HashMap<String, String>,
    pub cwd: PathBuf,
}

impl Environment {
    /// The real process environment.
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }
}

/// Loads `path` in the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &Environment::from_process())
}

/// Loads `path` with the given environment. Structural checks only; see [`Config::validate_for_service`].
pub fn load_with(path: &Path, env: &Environment) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    let mut warnings = Vec::new();
    let vars = variables(env)?;

    let tree = yaml::parse(&text).map_err(|e| match (e.line, e.column) {
        (Some(line), Some(column)) => ConfigError::Yaml {
            path: path.into(),
            line,
            column,
            message: e.message,
        },
        _ => ConfigError::YamlNoLocation {
            path: path.into(),
            message: e.message,
        },
    })?;
    if !tree.is_object() {
        return Err(ConfigError::NotAMapping { path: path.into() });
    }
    let mut tree = tree::expand_dotted(tree);
    let left = interpolate::interpolate_tree(&mut tree, &vars).map_err(|u| {
        ConfigError::UndefinedVariable {
            path: path.into(),
            key: u.key_path,
            name: u.name,
        }
    })?;
    for u in left {
        warnings.push(format!(
            "{}: environment variable `{}` is not set; value kept as written",
            u.key_path, u.name
        ));
    }

    let mut unknown = Vec::new();
    let mut note_unknown = |p: serde_ignored::Path<'_>| unknown.push(p.to_string());
    let de = serde_ignored::Deserializer::new(tree, &mut note_unknown);
    let raw: RawConfig =
        serde_path_to_error::deserialize(de).map_err(|e| ConfigError::Invalid {
            path: path.into(),
            key: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
    for key in unknown {
        warnings.push(format!("{key}: unknown configuration key, ignored"));
    }

    if let Some(x) = &raw.extraction_service {
        warnings.extend(ignored_extraction_settings(x));
    }
    let connectors = connectors(&raw, &mut warnings);
    if let Some(w) = unverified_tls_warning(&raw.elasticsearch) {
        warnings.push(w);
    }
    let config = Config {
        path: path.into(),
        elasticsearch: raw.elasticsearch,
        service: raw.service,
        graph: raw.graph,
        connectors,
        sources: raw.sources,
        extraction_service: raw.extraction_service,
        env: RuntimeEnv {
            allow_es_version_mismatch: flag(env.vars.get("ALLOW_ES_VERSION_MISMATCH")),
            no_color: env.vars.get("NO_COLOR").is_some_and(|v| !v.is_empty()),
            network: network::read(&env.vars)?,
            override_url: override_url(env.vars.get("OVERRIDE_URL"))?,
        },
        warnings,
    };
    config.check_values()?;
    Ok(config)
}

/// `extraction_service` settings the reference reads for streaming files to the extraction service. This service
/// extracts text itself, in-process (`use_text_extraction_service`), so they change nothing: say so when one is
/// set to something other than its default, rather than ignore it silently.
fn ignored_extraction_settings(x: &ExtractionServiceConfig) -> Vec<String> {
    let defaults = ExtractionServiceConfig::default();
    let why = "has no effect here: this service extracts text in-process and never sends files to the extraction service";
    let mut out = Vec::new();
    if x.use_file_pointers != defaults.use_file_pointers {
        out.push(format!("extraction_service.use_file_pointers: {why}"));
    }
    if x.stream_chunk_size != defaults.stream_chunk_size {
        out.push(format!("extraction_service.stream_chunk_size: {why}"));
    }
    if x.shared_volume_dir != defaults.shared_volume_dir {
        out.push(format!("extraction_service.shared_volume_dir: {why}"));
    }
    out
}

/// `verify_certs: false` hands the cluster credentials to anyone who can intercept the connection, so it is said
/// once at start (with the other config warnings), and only where it takes effect: TLS (`https://`) with `ssl`.
fn unverified_tls_warning(es: &ElasticsearchConfig) -> Option<String> {
    let https = url::Url::parse(&es.host).is_ok_and(|u| u.scheme() == "https");
    (https && es.ssl && !es.verify_certs).then(|| {
        "elasticsearch.verify_certs: false: the Elasticsearch server's TLS certificate is not verified, so \
         anyone on the network path can impersonate it and read the credentials; trust a private CA with \
         elasticsearch.ca_certs instead"
            .to_string()
    })
}

/// `OVERRIDE_URL`, if set and not blank: an http(s) URL with a host and no user info (its value may be logged).
fn override_url(value: Option<&String>) -> Result<Option<String>, ConfigError> {
    let Some(text) = value
        .map(|v| v.trim().trim_end_matches('/'))
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let problem = match url::Url::parse(text) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() => {
            "expected an http:// or https:// URL with a host"
        }
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            "must not carry user info (it would be logged)"
        }
        Ok(_) => return Ok(Some(text.to_string())),
        Err(_) => "not a URL",
    };
    Err(ConfigError::Variable {
        name: "OVERRIDE_URL",
        problem: problem.to_string(),
    })
}

fn flag(value: Option<&String>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// Process environment first, then the dotenv file (`ENV_FILE`, else `./.env`) for names not already set.
fn variables(env: &Environment) -> Result<Vars, ConfigError> {
    let mut values = env.vars.clone();
    let (env_file, explicit) = match env.vars.get("ENV_FILE") {
        Some(p) => (env.cwd.join(p), true),
        None => (env.cwd.join(".env"), false),
    };
    if explicit || env_file.is_file() {
        let text = std::fs::read_to_string(&env_file).map_err(|e| ConfigError::EnvFile {
            env_file: env_file.clone(),
            message: e.to_string(),
        })?;
        let pairs = dotenv::parse(&text).map_err(|e| ConfigError::EnvFile {
            env_file: env_file.clone(),
            message: format!("line {}: {}", e.line, e.message),
        })?;
        for (k, v) in pairs {
            values.entry(k).or_insert(v);
        }
    }
    Ok(Vars::new(
        values,
        env.vars.contains_key("ENVYAML_STRICT_DISABLE"),
    ))
}

/// The `connectors` list (entries without an id skipped, duplicates: last wins), else the deprecated pair.
fn connectors(raw: &RawConfig, warnings: &mut Vec<String>) -> Vec<ConnectorConfig> {
    let mut out: Vec<ConnectorConfig> = Vec::new();
    for (i, entry) in raw.connectors.iter().flatten().enumerate() {
        let Some(id) = entry.connector_id.clone().filter(|s| !s.is_empty()) else {
            warnings.push(format!(
                "connectors[{i}]: entry has no connector_id, skipped"
            ));
            continue;
        };
        let connector = ConnectorConfig {
            connector_id: id,
            service_type: entry.service_type.clone().unwrap_or_default(),
            api_key: entry.api_key.clone().filter(|k| !k.is_empty()),
        };
        if let Some(pos) = out
            .iter()
            .position(|c| c.connector_id == connector.connector_id)
        {
            warnings.push(format!(
                "connectors[{i}]: connector_id `{}` is listed twice; the last entry wins",
                connector.connector_id
            ));
            out.remove(pos);
        }
        out.push(connector);
    }
    if out.is_empty() {
        if let Some(id) = raw.connector_id.clone().filter(|s| !s.is_empty()) {
            warnings.push("connector_id/service_type at the top level are deprecated; use a `connectors` list".into());
            out.push(ConnectorConfig {
                connector_id: id,
                service_type: raw.service_type.clone().unwrap_or_default(),
                api_key: None,
            });
        }
    }
    out
}

/// Parses a log level name as the reference accepts them (Python logging names, any case).
pub fn parse_log_level(name: &str) -> Option<tracing::level_filters::LevelFilter> {
    use tracing::level_filters::LevelFilter as L;
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "NOTSET" => L::TRACE,
        "DEBUG" => L::DEBUG,
        "INFO" => L::INFO,
        "WARN" | "WARNING" => L::WARN,
        "ERROR" | "CRITICAL" | "FATAL" => L::ERROR,
        "OFF" => L::OFF,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
