//! The Elasticsearch side: client construction, the connector and sync-job documents, the connector protocol in
//! both modes, the content index (`content`) and `_bulk` mechanics (`bulk`).

pub mod bulk;
pub mod client;
pub mod configuration;
pub mod connector;
pub mod content;
mod error;
pub mod job;
pub mod protocol;
pub mod queries;
pub mod store;
pub mod time;

pub use client::{ClusterInfo, CreateOutcome, EsClient, RetryPolicy};
pub use connector::{Connector, ConnectorStatus};
pub use error::EsError;
pub use job::{JobStatus, JobType, SyncJob, TriggerMethod};
pub use protocol::{ConnectorProtocol, JobStats, ProtocolMode};
pub use store::Store;

/// The connector documents' concrete index and the alias every read and write goes through.
pub const CONNECTORS_INDEX: &str = ".elastic-connectors-v1";
pub const CONNECTORS_ALIAS: &str = ".elastic-connectors";
/// The sync-job documents' concrete index and alias.
pub const JOBS_INDEX: &str = ".elastic-connectors-sync-jobs-v1";
pub const JOBS_ALIAS: &str = ".elastic-connectors-sync-jobs";

/// Reads a document field of the wrong shape as `None` instead of failing the whole document: connector and job
/// documents are written by Kibana, the connector APIs and other services, and one odd field must not stop a sync.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = <Option<serde_json::Value> as serde::Deserialize>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}
