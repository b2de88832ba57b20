//! The connector document (spec §3.1) as the service reads it: statuses, scheduling, features, pipeline and
//! filtering, typed. Reading is lenient — a field of the wrong shape or an unknown status reads as absent or
//! `Unknown` instead of making the connector unusable — because Kibana, the connector APIs and older services
//! all write this document. Writes go through [`super::protocol`] as partial updates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::job::{JobStatus, JobType};
use super::{lenient, time};

/// The ingest pipeline a connector uses when its `pipeline` object has no `name` key (Elasticsearch installs it).
pub const DEFAULT_PIPELINE: &str = "search-default-ingestion";

/// `status` of a connector (spec §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorStatus {
    Created,
    NeedsConfiguration,
    Configured,
    Connected,
    Error,
    /// A value this service does not know; never written.
    #[serde(other)]
    Unknown,
}

impl ConnectorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Created => "created",
            ConnectorStatus::NeedsConfiguration => "needs_configuration",
            ConnectorStatus::Configured => "configured",
            ConnectorStatus::Connected => "connected",
            ConnectorStatus::Error => "error",
            ConnectorStatus::Unknown => "unknown",
        }
    }

    /// Whether the user still has to act (in Kibana or through the API) before the service may sync.
    pub fn awaits_user(self) -> bool {
        matches!(
            self,
            ConnectorStatus::Created | ConnectorStatus::NeedsConfiguration
        )
    }
}

/// One loaded connector: its id, the OCC token of the version read, and the document.
#[derive(Debug, Clone)]
pub struct Connector {
    pub id: String,
    pub seq_no: Option<i64>,
    pub primary_term: Option<i64>,
    pub doc: ConnectorDoc,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConnectorDoc {
    #[serde(deserialize_with = "lenient")]
    pub index_name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub service_type: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub is_native: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub language: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub status: Option<ConnectorStatus>,
    #[serde(deserialize_with = "lenient")]
    pub error: Option<String>,
    /// field name → schema entry (spec §3.1); see [`super::configuration`].
    #[serde(deserialize_with = "lenient")]
    pub configuration: Option<Map<String, Value>>,
    pub features: Value,
    pub filtering: Value,
    #[serde(deserialize_with = "lenient")]
    pub scheduling: Option<Scheduling>,
    pub pipeline: Value,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub last_synced: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient")]
    pub last_sync_status: Option<JobStatus>,
    #[serde(deserialize_with = "lenient")]
    pub last_sync_error: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub last_access_control_sync_status: Option<JobStatus>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub last_sync_scheduled_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub last_incremental_sync_scheduled_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "time::deserialize_opt")]
    pub last_access_control_sync_scheduled_at: Option<DateTime<Utc>>,
    pub sync_cursor: Value,
    #[serde(deserialize_with = "lenient")]
    pub deleted: Option<bool>,
}

/// `scheduling`: one cron schedule per job type.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Scheduling {
    #[serde(deserialize_with = "lenient")]
    pub full: Option<Schedule>,
    #[serde(deserialize_with = "lenient")]
    pub incremental: Option<Schedule>,
    #[serde(deserialize_with = "lenient")]
    pub access_control: Option<Schedule>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Schedule {
    #[serde(deserialize_with = "lenient")]
    pub enabled: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub interval: Option<String>,
}

impl Scheduling {
    pub fn for_job_type(&self, job_type: JobType) -> Option<&Schedule> {
        match job_type {
            JobType::Full => self.full.as_ref(),
            JobType::Incremental => self.incremental.as_ref(),
            JobType::AccessControl => self.access_control.as_ref(),
        }
    }
}

impl ConnectorDoc {
    pub fn is_deleted(&self) -> bool {
        self.deleted == Some(true)
    }

    pub fn configuration(&self) -> Map<String, Value> {
        self.configuration.clone().unwrap_or_default()
    }

    pub fn scheduled_at(&self, job_type: JobType) -> Option<DateTime<Utc>> {
        match job_type {
            JobType::Full => self.last_sync_scheduled_at,
            JobType::Incremental => self.last_incremental_sync_scheduled_at,
            JobType::AccessControl => self.last_access_control_sync_scheduled_at,
        }
    }

    fn feature_flag(&self, path: &[&str]) -> bool {
        let mut v = &self.features;
        for key in path {
            v = &v[*key];
        }
        v.as_bool() == Some(true)
    }

    pub fn incremental_sync_enabled(&self) -> bool {
        self.feature_flag(&["incremental_sync", "enabled"])
    }

    pub fn dls_enabled(&self) -> bool {
        self.feature_flag(&["document_level_security", "enabled"])
    }

    /// Sync rules count as enabled if any of the current or legacy flags says so (spec §3.1).
    pub fn sync_rules_enabled(&self) -> bool {
        self.feature_flag(&["sync_rules", "basic", "enabled"])
            || self.feature_flag(&["sync_rules", "advanced", "enabled"])
            || self.feature_flag(&["filtering_rules"])
            || self.feature_flag(&["filtering_advanced_config"])
    }

    /// `pipeline` for a job snapshot: the reference's defaults *updated with* the stored object, so a key the
    /// connector has keeps its value even when it is `null` (a null name means "no pipeline parameter").
    pub fn pipeline_with_defaults(&self) -> Value {
        let mut p = json!({
            "name": DEFAULT_PIPELINE,
            "extract_binary_content": true,
            "reduce_whitespace": true,
            "run_ml_inference": true,
        });
        if let Some(stored) = self.pipeline.as_object() {
            for (k, v) in stored {
                p[k] = v.clone();
            }
        }
        p
    }

    /// A completed content sync's warning (held-back deletions, parts that keep failing): shown in `error` while
    /// the connector is otherwise healthy, until a sync completes without one.
    pub fn sync_warning(&self) -> Option<&str> {
        (self.last_sync_status == Some(JobStatus::Completed))
            .then_some(self.last_sync_error.as_deref())
            .flatten()
    }

    /// The `DEFAULT`-domain filtering entry, if any.
    pub fn default_filtering(&self) -> Option<&Value> {
        self.filtering
            .as_array()?
            .iter()
            .find(|f| f["domain"] == "DEFAULT")
    }

    /// The active filter that goes into a job snapshot (spec §3.3).
    pub fn active_filtering(&self) -> Value {
        match self.default_filtering().map(|f| &f["active"]) {
            Some(active) if active.is_object() => active.clone(),
            _ => json!({"advanced_snippet": {}, "rules": []}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Value) -> ConnectorDoc {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn reads_a_kibana_written_connector() {
        let d = doc(json!({
            "index_name": "search-teams", "service_type": "microsoft_teams", "status": "needs_configuration",
            "is_native": false, "configuration": {}, "last_seen": null, "deleted": false,
            "scheduling": {"full": {"enabled": true, "interval": "0 * * * * ?"},
                           "incremental": {"enabled": false, "interval": "0 0 0 * * ?"}},
            "last_sync_scheduled_at": "2024-05-01T10:21:00+00:00",
            "pipeline": {"name": "my-pipe", "extract_binary_content": false},
            "features": {"incremental_sync": {"enabled": true}}
        }));
        assert_eq!(d.status, Some(ConnectorStatus::NeedsConfiguration));
        assert!(d.status.unwrap().awaits_user());
        let s = d
            .scheduling
            .as_ref()
            .unwrap()
            .for_job_type(JobType::Full)
            .unwrap();
        assert_eq!(s.enabled, Some(true));
        assert_eq!(s.interval.as_deref(), Some("0 * * * * ?"));
        assert!(d.scheduled_at(JobType::Full).is_some());
        assert!(d.scheduled_at(JobType::Incremental).is_none());
        assert!(d.incremental_sync_enabled() && !d.dls_enabled() && !d.sync_rules_enabled());
        let p = d.pipeline_with_defaults();
        assert_eq!(p["name"], "my-pipe");
        assert_eq!(p["extract_binary_content"], false);
        assert_eq!(p["reduce_whitespace"], true);
        // Present nulls are copied into the job snapshot, absent keys get defaults.
        let d = doc(json!({"pipeline": {"name": null, "run_ml_inference": null}}));
        assert_eq!(
            d.pipeline_with_defaults(),
            json!({"name": null, "extract_binary_content": true, "reduce_whitespace": true,
                   "run_ml_inference": null})
        );
        assert_eq!(
            d.active_filtering(),
            json!({"advanced_snippet": {}, "rules": []})
        );
    }

    #[test]
    fn a_completed_syncs_warning_is_kept_a_failed_syncs_error_is_not() {
        let warned =
            doc(json!({"last_sync_status": "completed", "last_sync_error": "Deleted nothing: …"}));
        assert_eq!(warned.sync_warning(), Some("Deleted nothing: …"));
        let failed = doc(json!({"last_sync_status": "error", "last_sync_error": "boom"}));
        assert_eq!(failed.sync_warning(), None);
        let clean = doc(json!({"last_sync_status": "completed", "last_sync_error": null}));
        assert_eq!(clean.sync_warning(), None);
    }

    #[test]
    fn wrong_shapes_read_as_absent() {
        let d = doc(json!({
            "status": "sleeping", "configuration": "oops", "scheduling": 7, "deleted": "yes",
            "last_seen": "not a date", "last_sync_status": 3
        }));
        assert_eq!(d.status, Some(ConnectorStatus::Unknown));
        assert!(d.configuration.is_none() && d.scheduling.is_none() && d.last_seen.is_none());
        assert!(!d.is_deleted());
        assert!(d.last_sync_status.is_none());
    }

    #[test]
    fn legacy_sync_rule_flags_count() {
        assert!(doc(json!({"features": {"filtering_rules": true}})).sync_rules_enabled());
        assert!(
            doc(json!({"features": {"sync_rules": {"advanced": {"enabled": true}}}}))
                .sync_rules_enabled()
        );
    }

    #[test]
    fn active_filtering_comes_from_the_default_domain() {
        let d = doc(json!({"filtering": [
            {"domain": "OTHER", "active": {"rules": [1]}},
            {"domain": "DEFAULT", "active": {"rules": [2], "advanced_snippet": {}}, "draft": {}}
        ]}));
        assert_eq!(d.active_filtering()["rules"], json!([2]));
    }
}
