//! The sync-job document (spec §3.3): job type, trigger, status with its lifecycle rules, the connector
//! snapshot the runner syncs from, and the counters. Read leniently like the connector document.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{lenient, time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    Full,
    Incremental,
    AccessControl,
}

impl JobType {
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Full => "full",
            JobType::Incremental => "incremental",
            JobType::AccessControl => "access_control",
        }
    }

    /// The connector field recording when the scheduler last created a job of this type.
    pub fn scheduled_at_field(self) -> &'static str {
        match self {
            JobType::Full => "last_sync_scheduled_at",
            JobType::Incremental => "last_incremental_sync_scheduled_at",
            JobType::AccessControl => "last_access_control_sync_scheduled_at",
        }
    }

    pub fn is_content(self) -> bool {
        !matches!(self, JobType::AccessControl)
    }
}

impl std::str::FromStr for JobType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "full" => Ok(JobType::Full),
            "incremental" => Ok(JobType::Incremental),
            "access_control" => Ok(JobType::AccessControl),
            other => Err(format!(
                "unknown job type `{other}` (expected full, incremental or access_control)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerMethod {
    OnDemand,
    Scheduled,
}

impl TriggerMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerMethod::OnDemand => "on_demand",
            TriggerMethod::Scheduled => "scheduled",
        }
    }
}

/// `status` of a job: `pending → in_progress → completed | error | canceled | suspended`, with `canceling`
/// set from outside to ask a running job to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    InProgress,
    Canceling,
    Completed,
    Error,
    Canceled,
    Suspended,
    /// A value this service does not know; never written.
    #[serde(other)]
    Unknown,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::InProgress => "in_progress",
            JobStatus::Canceling => "canceling",
            JobStatus::Completed => "completed",
            JobStatus::Error => "error",
            JobStatus::Canceled => "canceled",
            JobStatus::Suspended => "suspended",
            JobStatus::Unknown => "unknown",
        }
    }

    /// Statuses after which nothing happens to the job any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Error | JobStatus::Canceled
        )
    }

    /// Statuses a worker may pick up (a suspended job restarts from scratch).
    pub const RUNNABLE: [JobStatus; 2] = [JobStatus::Pending, JobStatus::Suspended];
    /// Statuses of a job some worker is (or should be) running.
    pub const ACTIVE: [JobStatus; 2] = [JobStatus::InProgress, JobStatus::Canceling];
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One loaded job with the OCC token of the version read.
#[derive(Debug, Clone)]
pub struct SyncJob {
    pub id: String,
    pub seq_no: Option<i64>,
    pub primary_term: Option<i64>,
    pub doc: JobDoc,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JobDoc {
    #[serde(deserialize_with = "lenient")]
    pub job_type: Option<JobType>,
    #[serde(deserialize_with = "lenient")]
    pub trigger_method: Option<TriggerMethod>,
    #[serde(deserialize_with = "lenient")]
    pub status: Option<JobStatus>,
    #[serde(deserialize_with = "lenient")]
    pub worker_hostname: Option<String>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient")]
    pub error: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub indexed_document_count: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub indexed_document_volume: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub deleted_document_count: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub total_document_count: Option<u64>,
    pub metadata: Value,
    #[serde(deserialize_with = "lenient")]
    pub connector: Option<JobConnector>,
}

/// The copy of the connector a job was created from; the runner syncs from this, not the live connector.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct JobConnector {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub index_name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub language: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub service_type: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub configuration: Option<Map<String, Value>>,
    pub pipeline: Value,
    pub filtering: Value,
    pub sync_cursor: Value,
}

impl SyncJob {
    pub fn status(&self) -> JobStatus {
        self.doc.status.unwrap_or(JobStatus::Unknown)
    }

    pub fn connector_id(&self) -> Option<&str> {
        self.doc.connector.as_ref()?.id.as_deref()
    }

    pub fn job_type(&self) -> JobType {
        self.doc.job_type.unwrap_or(JobType::Full)
    }

    /// The content index this job writes to (ACL jobs write to `.search-acl-filter-<index>`).
    pub fn index_name(&self) -> Option<&str> {
        self.doc.connector.as_ref()?.index_name.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_api_created_job() {
        let doc: JobDoc = serde_json::from_value(json!({
            "job_type": "incremental", "trigger_method": "on_demand", "status": "pending",
            "created_at": "2024-05-01T10:20:30.123Z", "indexed_document_count": 0,
            "connector": {"id": "c1", "index_name": "search-x", "configuration": {"a": {"value": 1}},
                          "filtering": {"rules": []}, "pipeline": {"name": "p"}, "sync_cursor": null}
        }))
        .unwrap();
        let job = SyncJob {
            id: "j".into(),
            seq_no: None,
            primary_term: None,
            doc,
        };
        assert_eq!(job.status(), JobStatus::Pending);
        assert_eq!(job.job_type(), JobType::Incremental);
        assert_eq!(job.connector_id(), Some("c1"));
        assert_eq!(job.index_name(), Some("search-x"));
        assert!(job.doc.created_at.is_some());
    }

    #[test]
    fn statuses() {
        for s in [JobStatus::Completed, JobStatus::Error, JobStatus::Canceled] {
            assert!(s.is_terminal());
        }
        for s in [
            JobStatus::Pending,
            JobStatus::InProgress,
            JobStatus::Canceling,
            JobStatus::Suspended,
        ] {
            assert!(!s.is_terminal());
        }
        let s: JobStatus = serde_json::from_value(json!("exploded")).unwrap();
        assert_eq!(s, JobStatus::Unknown);
        assert_eq!(
            serde_json::to_value(JobStatus::InProgress).unwrap(),
            json!("in_progress")
        );
        assert_eq!(
            "access_control".parse::<JobType>().unwrap(),
            JobType::AccessControl
        );
        assert!("weekly".parse::<JobType>().is_err());
    }
}
