//! The typed configuration tree: every key of config.yml with its default (the one place defaults live).
//! Field names and defaults match the reference's config.yml, so an existing file keeps working.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::hosts::AllowedHost;
use super::lenient::{self, Seconds};
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct RawConfig {
    pub elasticsearch: ElasticsearchConfig,
    pub service: ServiceConfig,
    pub graph: GraphConfig,
    pub connectors: Option<Vec<RawConnector>>,
    /// Deprecated single-connector form, used only when `connectors` yields nothing.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub connector_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub service_type: Option<String>,
    /// The reference's registry of `service_type → module:Class`. Kept so existing files load; this service's
    /// registry is compiled in (see `sources`), so entries here are informational.
    pub sources: BTreeMap<String, String>,
    pub extraction_service: Option<ExtractionServiceConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct RawConnector {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub connector_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub service_type: Option<String>,
    pub api_key: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ElasticsearchConfig {
    #[serde(deserialize_with = "lenient::string")]
    pub host: String,
    pub api_key: Option<Secret>,
    #[serde(deserialize_with = "lenient::string")]
    pub username: String,
    pub password: Secret,
    /// Gates `verify_certs`/`ca_certs`; TLS itself follows the URL scheme.
    pub ssl: bool,
    pub verify_certs: bool,
    pub ca_certs: Option<PathBuf>,
    pub headers: BTreeMap<String, String>,
    pub request_timeout: Seconds,
    pub retry_on_timeout: bool,
    pub max_wait_duration: Seconds,
    pub initial_backoff_duration: Seconds,
    pub backoff_multiplier: f64,
    pub max_retries: u32,
    pub retry_interval: Seconds,
    #[serde(deserialize_with = "lenient::string")]
    pub log_level: String,
    pub feature_use_connectors_api: bool,
    pub bulk: BulkConfig,
}

impl Default for ElasticsearchConfig {
    fn default() -> Self {
        ElasticsearchConfig {
            host: "http://localhost:9200".into(),
            api_key: None,
            username: "elastic".into(),
            password: Secret::new("changeme"),
            ssl: true,
            verify_certs: true,
            ca_certs: None,
            headers: BTreeMap::new(),
            request_timeout: Seconds::secs(240),
            retry_on_timeout: true,
            max_wait_duration: Seconds::secs(240),
            initial_backoff_duration: Seconds::secs(1),
            backoff_multiplier: 2.0,
            max_retries: 5,
            retry_interval: Seconds::secs(10),
            log_level: "info".into(),
            feature_use_connectors_api: true,
            bulk: BulkConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct BulkConfig {
    pub queue_max_size: usize,
    /// MiB.
    pub queue_max_mem_size: f64,
    pub queue_refresh_interval: Seconds,
    pub queue_refresh_timeout: Seconds,
    pub display_every: u64,
    pub chunk_size: usize,
    /// MiB.
    pub chunk_max_mem_size: f64,
    /// MiB; 0 disables the check.
    pub max_text_document_size: f64,
    pub max_concurrency: usize,
    pub concurrent_downloads: usize,
    pub max_retries: u32,
    pub retry_interval: Seconds,
    pub enable_operations_logging: bool,
    pub error_monitor: ErrorMonitorConfig,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig {
            queue_max_size: 1024,
            queue_max_mem_size: 25.0,
            queue_refresh_interval: Seconds::secs(1),
            queue_refresh_timeout: Seconds::secs(1300),
            display_every: 100,
            chunk_size: 500,
            chunk_max_mem_size: 3.0,
            max_text_document_size: 3.0,
            max_concurrency: 5,
            concurrent_downloads: 10,
            max_retries: 5,
            retry_interval: Seconds::secs(10),
            enable_operations_logging: false,
            error_monitor: ErrorMonitorConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ErrorMonitorConfig {
    pub enabled: bool,
    pub max_total_errors: u64,
    pub max_consecutive_errors: u64,
    pub max_error_rate: f64,
    pub error_window_size: usize,
    pub error_queue_size: usize,
}

impl Default for ErrorMonitorConfig {
    fn default() -> Self {
        ErrorMonitorConfig {
            enabled: true,
            max_total_errors: 1000,
            max_consecutive_errors: 10,
            max_error_rate: 0.15,
            error_window_size: 100,
            error_queue_size: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ServiceConfig {
    pub worker_mode: bool,
    #[serde(deserialize_with = "lenient::string_list")]
    pub service_types: Vec<String>,
    pub idling: Seconds,
    pub heartbeat: Seconds,
    pub preflight_max_attempts: u32,
    pub preflight_idle: Seconds,
    pub max_errors: u32,
    pub max_errors_span: Seconds,
    pub max_concurrent_content_syncs: usize,
    pub max_concurrent_access_control_syncs: usize,
    pub max_concurrent_scheduling_tasks: usize,
    pub max_file_download_size: u64,
    pub job_cleanup_interval: Seconds,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub log_level: Option<String>,
    pub fips_mode: bool,
    /// A full sync that would delete more than this share of the documents it found in the index deletes
    /// nothing (the last line of defence against a listing that looked complete but was not); 1 or more: off.
    pub delete_guard_share: f64,
    /// ... unless it would delete fewer than this many documents.
    pub delete_guard_min_documents: u64,
    /// After this many completed syncs in a row that could not list the same part, the connector's `error` says
    /// so (its stale documents are never deleted meanwhile); 0: never.
    pub incomplete_syncs_before_error: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            worker_mode: false,
            service_types: Vec::new(),
            idling: Seconds::secs(30),
            heartbeat: Seconds::secs(300),
            preflight_max_attempts: 10,
            preflight_idle: Seconds::secs(30),
            max_errors: 20,
            max_errors_span: Seconds::secs(600),
            max_concurrent_content_syncs: 1,
            max_concurrent_access_control_syncs: 1,
            max_concurrent_scheduling_tasks: 4,
            max_file_download_size: 10_485_760,
            job_cleanup_interval: Seconds::secs(300),
            log_level: None,
            fips_mode: false,
            delete_guard_share: 0.5,
            delete_guard_min_documents: 100,
            incomplete_syncs_before_error: 3,
        }
    }
}

/// Connections to Microsoft Graph, its sign-in endpoint and file downloads, for every connector of this service.
/// Not in the Python service's config.yml: the trust a TLS-inspecting proxy needs is a property of the host the
/// service runs on, not of a connector.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(default)]
pub struct GraphConfig {
    /// PEM file of CA certificates trusted for those connections in addition to the bundled roots and the
    /// operating system's store (e.g. the CA of a company proxy that inspects TLS).
    pub ca_certs: Option<PathBuf>,
    /// Hosts beyond Microsoft's Graph, sign-in and SharePoint/OneDrive endpoints that a connector's `graph_url` /
    /// `login_url` may name and downloads may come from (a Graph gateway, a test fixture). None by default: the
    /// connector document is editable in Kibana, and its URLs receive the tenant's secrets and tokens.
    pub allowed_hosts: Vec<AllowedHost>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ExtractionServiceConfig {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub host: Option<String>,
    pub timeout: Seconds,
    pub use_file_pointers: bool,
    pub stream_chunk_size: usize,
    pub shared_volume_dir: PathBuf,
}

impl Default for ExtractionServiceConfig {
    fn default() -> Self {
        ExtractionServiceConfig {
            host: None,
            timeout: Seconds::secs(30),
            use_file_pointers: false,
            stream_chunk_size: 65536,
            shared_volume_dir: PathBuf::from("/app/files"),
        }
    }
}

/// Job-runner timings config.yml does not expose (tests shorten them through `RunnerTiming`).
pub mod runner_defaults {
    use std::time::Duration;

    /// How often a running job is checked for cancellation (the reference checks every 5 s; checking more often
    /// keeps "cancel" prompt for a few cheap GETs).
    pub const WATCH_EVERY: Duration = Duration::from_secs(2);
    /// How often a running job's counters and `last_seen` are written.
    pub const REPORT_EVERY: Duration = Duration::from_secs(10);
    /// How long the engine may take to wind down after it was told to stop.
    pub const STOP_GRACE: Duration = Duration::from_secs(5);
}
