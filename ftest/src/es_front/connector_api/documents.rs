//! The documents the Connector API writes, shaped like Elasticsearch's `Connector` and `ConnectorSyncJob`
//! serializations: a new connector with ES's defaults (`ConnectorIndexService.createConnectorWithDefaultValues`,
//! `ConnectorFiltering.getDefaultConnectorFilteringConfig`, `ConnectorScheduling.getDefaultConnectorScheduling`),
//! a new sync job with its connector snapshot (`ConnectorSyncJobIndexService.createConnectorSyncJob`), the
//! filtering-rule ordering ES applies to drafts, and timestamps as ISO-8601 UTC with milliseconds.

use serde_json::{json, Map, Value};

use super::state::{ConnectorStatus, JobType, SyncStatus, TriggerMethod};

/// Prefix ES gives the index of an access-control sync (`ConnectorTemplateRegistry.ACCESS_CONTROL_INDEX_PREFIX`).
pub(crate) const ACCESS_CONTROL_INDEX_PREFIX: &str = ".search-acl-filter-";
/// Prefix the content index of an Elastic-managed (native) connector must have.
pub(crate) const MANAGED_CONNECTOR_INDEX_PREFIX: &str = "content-";
/// Quartz cron for "every day at midnight", ES's default for every sync type.
const EVERYDAY_AT_MIDNIGHT: &str = "0 0 0 * * ?";

/// Current time like ES writes `Instant`s into these documents: `2024-05-01T10:20:30.123Z`.
pub(crate) fn now() -> String {
    format_time(chrono::Utc::now())
}

pub(crate) fn format_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses an ISO-8601 instant from a request (`2024-05-01T10:20:30Z`, with or without fraction or offset)
/// and normalizes it to the stored form.
pub(crate) fn parse_time(value: &str) -> Option<String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(format_time(at.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| format_time(naive.and_utc()))
}

/// The catch-all rule ES puts last in every rule list: include everything.
pub(crate) fn default_rule(created_at: &str, updated_at: &str, order: i64) -> Value {
    json!({
        "created_at": created_at,
        "field": "_",
        "id": "DEFAULT",
        "order": order,
        "policy": "include",
        "rule": "regex",
        "updated_at": updated_at,
        "value": ".*"
    })
}

/// `FilteringRules` with only the default rule, an empty advanced snippet and `valid` validation.
fn default_rules(at: &str) -> Value {
    json!({
        "advanced_snippet": {"created_at": at, "updated_at": at, "value": {}},
        "rules": [default_rule(at, at, 0)],
        "validation": {"errors": [], "state": "valid"}
    })
}

/// The single DEFAULT-domain filtering entry of a new connector.
pub(crate) fn default_filtering(at: &str) -> Value {
    json!({"active": default_rules(at), "domain": "DEFAULT", "draft": default_rules(at)})
}

pub(crate) fn default_scheduling() -> Value {
    let off = json!({"enabled": false, "interval": EVERYDAY_AT_MIDNIGHT});
    json!({"access_control": off, "full": off, "incremental": off})
}

/// What `PUT`/`POST _connector` may set.
#[derive(Debug, Default)]
pub(crate) struct NewConnector {
    pub(crate) description: Option<String>,
    pub(crate) index_name: Option<String>,
    pub(crate) is_native: Option<bool>,
    pub(crate) language: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) service_type: Option<String>,
}

/// A connector document as ES creates it. Fields ES leaves unset (`api_key_id`, `error`, `features`,
/// `last_seen`, the `last_*` sync info, `pipeline`, `sync_cursor`) are absent, not `null`, as in ES; so are
/// `description`, `index_name`, `language` and `service_type` when not given. Native connectors start in
/// `needs_configuration`, others in `created`.
pub(crate) fn new_connector(fields: NewConnector, at: &str) -> Value {
    let is_native = fields.is_native.unwrap_or(false);
    let status = if is_native {
        ConnectorStatus::NeedsConfiguration
    } else {
        ConnectorStatus::Created
    };
    let mut doc = Map::new();
    doc.insert("configuration".into(), json!({}));
    doc.insert("custom_scheduling".into(), json!({}));
    if let Some(description) = fields.description {
        doc.insert("description".into(), json!(description));
    }
    doc.insert("filtering".into(), json!([default_filtering(at)]));
    if let Some(index_name) = fields.index_name {
        doc.insert("index_name".into(), json!(index_name));
    }
    doc.insert("is_native".into(), json!(is_native));
    if let Some(language) = fields.language {
        doc.insert("language".into(), json!(language));
    }
    doc.insert("name".into(), json!(fields.name.unwrap_or_default()));
    doc.insert("scheduling".into(), default_scheduling());
    if let Some(service_type) = fields.service_type {
        doc.insert("service_type".into(), json!(service_type));
    }
    doc.insert("status".into(), json!(status.as_str()));
    doc.insert("sync_now".into(), json!(false));
    doc.insert("deleted".into(), json!(false));
    Value::Object(doc)
}

/// The `connector` object of a new job: `id`, the DEFAULT entry's `active` filtering (first entry of the
/// connector's list), `index_name` (prefixed for access-control jobs), `language`, `pipeline`, `service_type`,
/// `configuration`, each only when the connector has it. `sync_cursor` is added by `_claim`.
fn job_connector(connector_id: &str, connector: &Map<String, Value>, job_type: JobType) -> Value {
    let mut snapshot = Map::new();
    snapshot.insert("id".into(), json!(connector_id));
    if let Some(active) = connector
        .get("filtering")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .and_then(|entry| entry.get("active"))
        .filter(|active| !active.is_null())
    {
        snapshot.insert("filtering".into(), active.clone());
    }
    if let Some(index_name) = connector.get("index_name").and_then(Value::as_str) {
        let target = match job_type {
            JobType::AccessControl => format!("{ACCESS_CONTROL_INDEX_PREFIX}{index_name}"),
            _ => index_name.to_string(),
        };
        snapshot.insert("index_name".into(), json!(target));
    }
    for field in ["language", "pipeline", "service_type", "configuration"] {
        if let Some(value) = connector.get(field).filter(|v| !v.is_null()) {
            snapshot.insert(field.into(), value.clone());
        }
    }
    Value::Object(snapshot)
}

/// A sync job document as ES creates it: `pending`, all counters zero, `metadata: {}`, `created_at` and
/// `last_seen` now; no `started_at`, `worker_hostname`, `error`, ... until they happen.
pub(crate) fn new_sync_job(
    connector_id: &str,
    connector: &Map<String, Value>,
    job_type: JobType,
    trigger_method: TriggerMethod,
    at: &str,
) -> Value {
    json!({
        "connector": job_connector(connector_id, connector, job_type),
        "created_at": at,
        "deleted_document_count": 0,
        "indexed_document_count": 0,
        "indexed_document_volume": 0,
        "job_type": job_type.as_str(),
        "last_seen": at,
        "metadata": {},
        "status": SyncStatus::Pending.as_str(),
        "total_document_count": 0,
        "trigger_method": trigger_method.as_str()
    })
}

/// Whether a rule is ES's default rule, ignoring timestamps and order.
fn is_default_rule(rule: &Value) -> bool {
    rule.get("field") == Some(&json!("_"))
        && rule.get("id") == Some(&json!("DEFAULT"))
        && rule.get("policy") == Some(&json!("include"))
        && rule.get("rule") == Some(&json!("regex"))
        && rule.get("value") == Some(&json!(".*"))
}

/// `ConnectorFiltering.sortFilteringRulesByOrder`: the non-default rules by `order`, then the default rule
/// with the next order (keeping the given default rule's `created_at`, or now).
pub(crate) fn sort_rules(rules: Vec<Value>, at: &str) -> Vec<Value> {
    if rules.is_empty() {
        return vec![default_rule(at, at, 0)];
    }
    let kept_created_at = rules
        .iter()
        .find(|r| is_default_rule(r))
        .and_then(|r| r.get("created_at").and_then(Value::as_str))
        .map(str::to_string);
    let mut sorted: Vec<Value> = rules.into_iter().filter(|r| !is_default_rule(r)).collect();
    sorted.sort_by_key(|r| r.get("order").and_then(Value::as_i64).unwrap_or(0));
    let next_order = sorted
        .last()
        .and_then(|r| r.get("order").and_then(Value::as_i64))
        .map_or(0, |o| o + 1);
    let default = match &kept_created_at {
        Some(created) => default_rule(created, created, next_order),
        None => default_rule(at, at, next_order),
    };
    sorted.push(default);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_connector_has_es_defaults() {
        let doc = new_connector(
            NewConnector {
                index_name: Some("search-x".into()),
                ..Default::default()
            },
            "2024-01-01T00:00:00.000Z",
        );
        assert_eq!(doc["status"], "created");
        assert_eq!(doc["name"], "");
        assert_eq!(doc["is_native"], false);
        assert_eq!(doc["deleted"], false);
        assert_eq!(doc["scheduling"]["full"]["interval"], "0 0 0 * * ?");
        assert_eq!(doc["filtering"][0]["draft"]["rules"][0]["id"], "DEFAULT");
        assert!(doc.get("pipeline").is_none());
        assert!(doc.get("language").is_none());
        let native = new_connector(
            NewConnector {
                is_native: Some(true),
                ..Default::default()
            },
            "t",
        );
        assert_eq!(native["status"], "needs_configuration");
    }

    #[test]
    fn access_control_jobs_target_the_acl_index() {
        let connector =
            json!({"index_name": "search-a", "service_type": "teams", "language": null})
                .as_object()
                .cloned()
                .unwrap_or_default();
        let job = new_sync_job(
            "c1",
            &connector,
            JobType::AccessControl,
            TriggerMethod::Scheduled,
            "t",
        );
        assert_eq!(
            job["connector"]["index_name"],
            ".search-acl-filter-search-a"
        );
        assert!(job["connector"].get("language").is_none());
        assert!(job["connector"].get("filtering").is_none());
        assert_eq!(job["trigger_method"], "scheduled");
    }

    #[test]
    fn rules_are_sorted_with_default_last() {
        let at = "2024-01-01T00:00:00.000Z";
        let rules = vec![
            default_rule("2020-01-01T00:00:00.000Z", at, 0),
            json!({"id": "b", "order": 5, "field": "f", "policy": "exclude", "rule": "equals", "value": "x"}),
            json!({"id": "a", "order": 1, "field": "f", "policy": "include", "rule": "equals", "value": "y"}),
        ];
        let sorted = sort_rules(rules, at);
        assert_eq!(sorted[0]["id"], "a");
        assert_eq!(sorted[1]["id"], "b");
        assert_eq!(sorted[2]["id"], "DEFAULT");
        assert_eq!(sorted[2]["order"], 6);
        assert_eq!(sorted[2]["created_at"], "2020-01-01T00:00:00.000Z");
        assert_eq!(sort_rules(vec![], at)[0]["order"], 0);
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time("2024-05-01T10:20:30Z").as_deref(),
            Some("2024-05-01T10:20:30.000Z")
        );
        assert_eq!(
            parse_time("2024-05-01T12:20:30.5+02:00").as_deref(),
            Some("2024-05-01T10:20:30.500Z")
        );
        assert!(parse_time("yesterday").is_none());
        assert_eq!(now().len(), 24);
    }
}
