//! The searches the service loops run over the system indices (spec §4.3), in one place.

use serde_json::{json, Value};

use super::job::{JobStatus, JobType};

/// Connectors this service handles: the configured ids, plus (worker mode) every non-native connector of the
/// given service types. `None` when there is nothing to ask for.
pub fn supported_connectors(ids: &[String], service_types: &[String]) -> Option<Value> {
    let not_deleted = json!([{"term": {"deleted": true}}]);
    let by_type = json!({"bool": {"must_not": not_deleted, "filter": [
        {"terms": {"service_type": service_types}}, {"term": {"is_native": false}}
    ]}});
    let by_id = json!({"bool": {"must_not": not_deleted, "filter": [{"terms": {"_id": ids}}]}});
    match (ids.is_empty(), service_types.is_empty()) {
        (true, true) => None,
        (false, true) => Some(by_id),
        (true, false) => Some(by_type),
        (false, false) => Some(json!({"bool": {"should": [by_type, by_id]}})),
    }
}

/// Jobs waiting for a worker (pending or suspended) of `job_types` for `connector_ids`, oldest first.
pub fn runnable_jobs(connector_ids: &[String], job_types: &[JobType]) -> (Value, Value) {
    let query = json!({"bool": {"must": [
        {"terms": {"status": JobStatus::RUNNABLE}},
        {"terms": {"connector.id": connector_ids}},
        {"terms": {"job_type": job_types}},
    ]}});
    (query, json!([{"created_at": "asc"}]))
}

/// Completed content syncs of a connector other than `except_job` (the one ending now).
pub fn completed_content_jobs(connector_id: &str, except_job: &str) -> Value {
    json!({"bool": {
        "filter": [
            {"term": {"connector.id": connector_id}},
            {"terms": {"job_type": [JobType::Full, JobType::Incremental]}},
            {"term": {"status": JobStatus::Completed}},
        ],
        "must_not": [{"ids": {"values": [except_job]}}],
    }})
}

/// Running jobs whose connector document no longer exists.
pub fn orphaned_jobs(all_connector_ids: &[String]) -> Value {
    json!({"bool": {
        "must_not": {"terms": {"connector.id": all_connector_ids}},
        "filter": [{"terms": {"status": JobStatus::ACTIVE}}],
    }})
}

/// Running jobs of supported connectors that have not reported for `idle_secs` seconds.
pub fn idle_jobs(connector_ids: &[String], idle_secs: u64) -> Value {
    json!({"bool": {"filter": [
        {"terms": {"connector.id": connector_ids}},
        {"terms": {"status": JobStatus::ACTIVE}},
        {"range": {"last_seen": {"lte": format!("now-{idle_secs}s")}}},
    ]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_connector_query_shapes() {
        assert_eq!(supported_connectors(&[], &[]), None);
        let ids = vec!["c1".to_string()];
        let q = supported_connectors(&ids, &[]).unwrap();
        assert_eq!(q["bool"]["filter"][0]["terms"]["_id"], json!(["c1"]));
        let both = supported_connectors(&ids, &["microsoft_teams".into()]).unwrap();
        assert_eq!(both["bool"]["should"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn job_queries_use_wire_names() {
        let (q, sort) = runnable_jobs(&["c".into()], &[JobType::Full, JobType::Incremental]);
        assert_eq!(
            q["bool"]["must"][0]["terms"]["status"],
            json!(["pending", "suspended"])
        );
        assert_eq!(
            q["bool"]["must"][2]["terms"]["job_type"],
            json!(["full", "incremental"])
        );
        assert_eq!(sort, json!([{"created_at": "asc"}]));
        assert_eq!(
            orphaned_jobs(&[])["bool"]["filter"][0]["terms"]["status"],
            json!(["in_progress", "canceling"])
        );
        assert_eq!(
            idle_jobs(&[], 300)["bool"]["filter"][2]["range"]["last_seen"]["lte"],
            "now-300s"
        );
    }
}
