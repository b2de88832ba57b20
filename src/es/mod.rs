//! The Elasticsearch side: client construction and the calls the service makes. So far: cluster info and the
//! system-index calls preflight needs; the connector protocol, content index and bulk sink arrive with later issues.

pub mod client;
mod error;

pub use client::{ClusterInfo, CreateOutcome, EsClient};
pub use error::EsError;

/// The connector documents' concrete index and the alias every read and write goes through.
pub const CONNECTORS_INDEX: &str = ".elastic-connectors-v1";
pub const CONNECTORS_ALIAS: &str = ".elastic-connectors";
/// The sync-job documents' concrete index and alias.
pub const JOBS_INDEX: &str = ".elastic-connectors-sync-jobs-v1";
pub const JOBS_ALIAS: &str = ".elastic-connectors-sync-jobs";
