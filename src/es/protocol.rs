//! The five connector-protocol operations whose calls depend on `elasticsearch.feature_use_connectors_api`
//! (spec §4.1): heartbeat, job creation, claim, progress stats and filtering validation. [`ConnectorApi`] uses
//! the `_connector` endpoints (the default; what Kibana and ES expect), [`DirectIndex`] writes the system indices
//! itself (older clusters, or when the API is unavailable). Everything else goes through [`Store`] in both modes.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use elasticsearch::http::Method;
use serde::Serialize;
use serde_json::{json, Value};

use super::connector::Connector;
use super::job::{JobType, SyncJob, TriggerMethod};
use super::store::Store;
use super::{time, EsError};
use crate::encode::path_segment;

/// Counters a running job reports (spec §3.3); `indexed_document_volume` is in whole MiB.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobStats {
    pub indexed_document_count: u64,
    pub indexed_document_volume: u64,
    pub deleted_document_count: u64,
}

/// Result of validating a draft filter: `{state, errors: [{ids, messages}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilteringValidation {
    pub state: ValidationState,
    pub errors: Vec<ValidationError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationState {
    Valid,
    Invalid,
    Edited,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationError {
    pub ids: Vec<String>,
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolMode {
    ConnectorApi,
    DirectIndex,
}

#[async_trait]
pub trait ConnectorProtocol: Send + Sync + std::fmt::Debug {
    fn mode(&self) -> ProtocolMode;
    fn store(&self) -> &Store;
    /// Records that this service is alive and handling the connector (`last_seen`).
    async fn check_in(&self, connector_id: &str, now: DateTime<Utc>) -> Result<(), EsError>;
    /// Creates a pending job from the connector's current state; returns the job id.
    async fn create_job(
        &self,
        connector: &Connector,
        job_type: JobType,
        trigger: TriggerMethod,
        now: DateTime<Utc>,
    ) -> Result<String, EsError>;
    /// Marks a pending/suspended job `in_progress` on this worker, with the cursor an incremental sync resumes
    /// from. Fails if another worker claimed it first (API: 400 from the state check; direct: OCC conflict).
    async fn claim_job(
        &self,
        job: &SyncJob,
        hostname: &str,
        cursor: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<(), EsError>;
    async fn report_stats(
        &self,
        job_id: &str,
        stats: &JobStats,
        now: DateTime<Utc>,
    ) -> Result<(), EsError>;
    /// Stores the draft's validation result and, if valid, makes the draft the active filter.
    async fn write_filtering_validation(
        &self,
        connector: &Connector,
        result: &FilteringValidation,
    ) -> Result<(), EsError>;
}

pub fn for_mode(store: Store, mode: ProtocolMode) -> Arc<dyn ConnectorProtocol> {
    match mode {
        ProtocolMode::ConnectorApi => Arc::new(ConnectorApi { store }),
        ProtocolMode::DirectIndex => Arc::new(DirectIndex { store }),
    }
}

#[derive(Debug)]
pub struct ConnectorApi {
    store: Store,
}

#[async_trait]
impl ConnectorProtocol for ConnectorApi {
    fn mode(&self) -> ProtocolMode {
        ProtocolMode::ConnectorApi
    }

    fn store(&self) -> &Store {
        &self.store
    }

    async fn check_in(&self, connector_id: &str, _now: DateTime<Utc>) -> Result<(), EsError> {
        let path = format!("/_connector/{}/_check_in", path_segment(connector_id));
        self.store
            .client()
            .call(Method::Put, &path, &[], None)
            .await
            .map(drop)
    }

    async fn create_job(
        &self,
        connector: &Connector,
        job_type: JobType,
        trigger: TriggerMethod,
        _now: DateTime<Utc>,
    ) -> Result<String, EsError> {
        let body = json!({"id": connector.id, "job_type": job_type, "trigger_method": trigger});
        let response = self
            .store
            .client()
            .call(Method::Post, "/_connector/_sync_job", &[], Some(&body))
            .await?;
        response["id"].as_str().map(str::to_string).ok_or_else(|| {
            EsError::Decode(format!(
                "no id in the answer to creating a sync job: {response}"
            ))
        })
    }

    async fn claim_job(
        &self,
        job: &SyncJob,
        hostname: &str,
        cursor: Option<&Value>,
        _now: DateTime<Utc>,
    ) -> Result<(), EsError> {
        let mut body = json!({"worker_hostname": hostname});
        if let Some(cursor) = cursor.filter(|c| !c.is_null()) {
            body["sync_cursor"] = cursor.clone();
        }
        let path = format!("/_connector/_sync_job/{}/_claim", path_segment(&job.id));
        self.store
            .client()
            .call(Method::Put, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    async fn report_stats(
        &self,
        job_id: &str,
        stats: &JobStats,
        _now: DateTime<Utc>,
    ) -> Result<(), EsError> {
        let mut body = serde_json::to_value(stats).unwrap_or_default();
        body["metadata"] = json!({});
        let path = format!("/_connector/_sync_job/{}/_stats", path_segment(job_id));
        self.store
            .client()
            .call(Method::Put, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    async fn write_filtering_validation(
        &self,
        connector: &Connector,
        result: &FilteringValidation,
    ) -> Result<(), EsError> {
        let id = path_segment(&connector.id);
        let body = json!({"validation": result});
        let client = self.store.client();
        client
            .call(
                Method::Put,
                &format!("/_connector/{id}/_filtering/_validation"),
                &[],
                Some(&body),
            )
            .await?;
        if result.state == ValidationState::Valid {
            client
                .call(
                    Method::Put,
                    &format!("/_connector/{id}/_filtering/_activate"),
                    &[],
                    None,
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(Debug)]
pub struct DirectIndex {
    store: Store,
}

#[async_trait]
impl ConnectorProtocol for DirectIndex {
    fn mode(&self) -> ProtocolMode {
        ProtocolMode::DirectIndex
    }

    fn store(&self) -> &Store {
        &self.store
    }

    async fn check_in(&self, connector_id: &str, now: DateTime<Utc>) -> Result<(), EsError> {
        self.store
            .update_connector(connector_id, json!({"last_seen": time::format(now)}), None)
            .await
    }

    async fn create_job(
        &self,
        connector: &Connector,
        job_type: JobType,
        trigger: TriggerMethod,
        now: DateTime<Utc>,
    ) -> Result<String, EsError> {
        let doc = &connector.doc;
        let index_name = match (job_type, doc.index_name.as_deref()) {
            (JobType::AccessControl, Some(index)) => Some(format!(".search-acl-filter-{index}")),
            (_, index) => index.map(str::to_string),
        };
        let now = time::format(now);
        let body = json!({
            "connector": {
                "id": connector.id,
                "filtering": doc.active_filtering(),
                "index_name": index_name,
                "language": doc.language,
                "pipeline": doc.pipeline_with_defaults(),
                "service_type": doc.service_type,
                "configuration": doc.configuration(),
            },
            "trigger_method": trigger,
            "job_type": job_type,
            "status": "pending",
            "indexed_document_count": 0,
            "indexed_document_volume": 0,
            "deleted_document_count": 0,
            "created_at": now,
            "last_seen": now,
        });
        self.store.create_job_doc(&body).await
    }

    async fn claim_job(
        &self,
        job: &SyncJob,
        hostname: &str,
        cursor: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<(), EsError> {
        let now = time::format(now);
        // A nested object, not the reference's literal "connector.sync_cursor" key (REF §12.10): a partial update
        // merges it into the snapshot.
        let doc = json!({
            "status": "in_progress", "started_at": now, "last_seen": now, "worker_hostname": hostname,
            "connector": {"sync_cursor": cursor.cloned().unwrap_or(Value::Null)},
        });
        // Conditional on the version read, so two workers cannot both claim the job.
        self.store.update_job_if(&job.id, doc, job.occ()).await
    }

    async fn report_stats(
        &self,
        job_id: &str,
        stats: &JobStats,
        now: DateTime<Utc>,
    ) -> Result<(), EsError> {
        let mut doc = serde_json::to_value(stats).unwrap_or_default();
        doc["last_seen"] = json!(time::format(now));
        self.store.update_job(job_id, doc).await
    }

    async fn write_filtering_validation(
        &self,
        connector: &Connector,
        result: &FilteringValidation,
    ) -> Result<(), EsError> {
        let mut filtering = connector
            .doc
            .filtering
            .as_array()
            .cloned()
            .unwrap_or_default();
        for entry in filtering.iter_mut().filter(|f| f["domain"] == "DEFAULT") {
            entry["draft"]["validation"] = serde_json::to_value(result).unwrap_or_default();
            if result.state == ValidationState::Valid {
                entry["active"] = entry["draft"].clone();
            }
        }
        self.store
            .update_connector(
                &connector.id,
                json!({"filtering": filtering}),
                connector.occ(),
            )
            .await
    }
}
