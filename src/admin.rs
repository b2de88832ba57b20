//! What Kibana does for a user, over Elasticsearch's connector APIs: create a connector (with its content index,
//! configuration values and, optionally, its own API key), list connectors, start, list, view and cancel sync jobs.
//! The `connectors` binary is a thin CLI over these functions. Nothing here writes the system indices directly.

use std::fmt::Write as _;

use elasticsearch::http::Method;
use serde_json::{json, Map, Value};

use crate::encode::path_segment;
use crate::es::{EsClient, EsError, JobType};
use crate::sources;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Es(#[from] EsError),
    #[error("{0}")]
    Invalid(String),
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewConnector {
    pub connector_id: Option<String>,
    pub name: Option<String>,
    pub index_name: String,
    pub service_type: String,
    /// Configuration values by field name (`--from-file`).
    pub values: Map<String, Value>,
    /// Update the configuration of an existing connector instead of refusing.
    pub update_config: bool,
    pub mint_api_key: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub connector_id: String,
    pub created_index: bool,
    /// The encoded key, shown once (`connectors[].api_key` in config.yml).
    pub api_key: Option<String>,
}

/// Creates (or, with `update_config`, reconfigures) a connector, its content index, and optionally its API key.
pub async fn create_connector(es: &EsClient, new: &NewConnector) -> Result<Created, AdminError> {
    let source = sources::REGISTRY.find(&new.service_type).ok_or_else(|| {
        AdminError::Invalid(format!(
            "unknown service type `{}` (this build supports: {})",
            new.service_type,
            sources::REGISTRY.service_types().join(", ")
        ))
    })?;
    let defaults = (source.default_configuration)();
    let defaults = defaults.as_object().cloned().unwrap_or_default();
    let unknown: Vec<&String> = new
        .values
        .keys()
        .filter(|k| !defaults.contains_key(*k))
        .collect();
    if !unknown.is_empty() {
        return Err(AdminError::Invalid(format!(
            "unknown configuration keys for {}: {} (expected: {})",
            new.service_type,
            unknown
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            defaults.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let id = match &new.connector_id {
        Some(id) => {
            let (status, _) = es
                .request(
                    Method::Get,
                    &format!("/_connector/{}", path_segment(id)),
                    &[],
                    None,
                )
                .await?;
            if status == 200 && !new.update_config {
                return Err(AdminError::Invalid(format!(
                    "connector `{id}` already exists (pass --update-config to change its configuration)"
                )));
            }
            id.clone()
        }
        None => String::new(),
    };
    let body = json!({
        "index_name": new.index_name,
        "name": new.name.clone().unwrap_or_else(|| new.index_name.clone()),
        "service_type": new.service_type,
        "is_native": false,
    });
    let answer = if id.is_empty() {
        es.call(Method::Post, "/_connector", &[], Some(&body))
            .await?
    } else {
        es.call(
            Method::Put,
            &format!("/_connector/{}", path_segment(&id)),
            &[],
            Some(&body),
        )
        .await?
    };
    let id = answer["id"].as_str().map(str::to_string).unwrap_or(id);
    let path = format!("/_connector/{}/_configuration", path_segment(&id));
    es.call(
        Method::Put,
        &path,
        &[],
        Some(&json!({"configuration": defaults})),
    )
    .await?;
    if !new.values.is_empty() {
        es.call(
            Method::Put,
            &path,
            &[],
            Some(&json!({"values": new.values})),
        )
        .await?;
    }
    let created_index = !es.index_exists(&new.index_name).await?;
    if created_index {
        es.create_index(&new.index_name).await?;
    }
    let api_key = if new.mint_api_key {
        Some(mint_api_key(es, &id, &new.index_name).await?)
    } else {
        None
    };
    Ok(Created {
        connector_id: id,
        created_index,
        api_key,
    })
}

/// A key limited to what the connector's sync needs (spec §9), recorded on the connector as `api_key_id`.
async fn mint_api_key(
    es: &EsClient,
    connector_id: &str,
    index: &str,
) -> Result<String, AdminError> {
    let body = json!({
        "name": format!("{connector_id}-connector"),
        "role_descriptors": {
            format!("{index}-connector-role"): {
                "cluster": ["monitor", "manage_connector"],
                "indices": [{
                    "names": [index, format!(".search-acl-filter-{index}"), ".elastic-connectors-v1*"],
                    "privileges": ["all"]
                }]
            }
        }
    });
    let key = es
        .call(Method::Post, "/_security/api_key", &[], Some(&body))
        .await?;
    let (Some(key_id), Some(encoded)) = (key["id"].as_str(), key["encoded"].as_str()) else {
        return Err(AdminError::Invalid(format!(
            "unexpected answer to creating an API key: {}",
            redact(&key)
        )));
    };
    let path = format!("/_connector/{}/_api_key_id", path_segment(connector_id));
    es.call(
        Method::Put,
        &path,
        &[],
        Some(&json!({"api_key_id": key_id})),
    )
    .await?;
    Ok(encoded.to_string())
}

fn redact(v: &Value) -> Value {
    let mut v = v.clone();
    for key in ["api_key", "encoded"] {
        if v.get(key).is_some() {
            v[key] = json!("***");
        }
    }
    v
}

pub async fn list_connectors(es: &EsClient) -> Result<Vec<Value>, AdminError> {
    let answer = es
        .call(Method::Get, "/_connector", &[("size", "1000")], None)
        .await?;
    Ok(answer["results"].as_array().cloned().unwrap_or_default())
}

/// Starts an on-demand job; returns its id.
pub async fn start_job(
    es: &EsClient,
    connector_id: &str,
    job_type: JobType,
) -> Result<String, AdminError> {
    let body = json!({"id": connector_id, "job_type": job_type, "trigger_method": "on_demand"});
    let answer = es
        .call(Method::Post, "/_connector/_sync_job", &[], Some(&body))
        .await?;
    answer["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| AdminError::Invalid(format!("no job id in the answer: {answer}")))
}

pub async fn list_jobs(
    es: &EsClient,
    connector_id: Option<&str>,
) -> Result<Vec<Value>, AdminError> {
    let mut query = vec![("size", "1000")];
    if let Some(id) = connector_id {
        query.push(("connector_id", id));
    }
    let answer = es
        .call(Method::Get, "/_connector/_sync_job", &query, None)
        .await?;
    Ok(answer["results"].as_array().cloned().unwrap_or_default())
}

pub async fn view_job(es: &EsClient, job_id: &str) -> Result<Value, AdminError> {
    Ok(es
        .call(
            Method::Get,
            &format!("/_connector/_sync_job/{}", path_segment(job_id)),
            &[],
            None,
        )
        .await?)
}

pub async fn cancel_job(es: &EsClient, job_id: &str) -> Result<(), AdminError> {
    es.call(
        Method::Put,
        &format!("/_connector/_sync_job/{}/_cancel", path_segment(job_id)),
        &[],
        None,
    )
    .await?;
    Ok(())
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A plain text table: one header row, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

pub fn connector_rows(connectors: &[Value]) -> Vec<Vec<String>> {
    connectors
        .iter()
        .map(|c| {
            [
                "id",
                "name",
                "index_name",
                "service_type",
                "status",
                "last_sync_status",
                "last_synced",
            ]
            .iter()
            .map(|k| cell(&c[*k]))
            .collect()
        })
        .collect()
}

pub fn job_rows(jobs: &[Value]) -> Vec<Vec<String>> {
    jobs.iter()
        .map(|j| {
            vec![
                cell(&j["id"]),
                cell(&j["connector"]["id"]),
                cell(&j["job_type"]),
                cell(&j["trigger_method"]),
                cell(&j["status"]),
                cell(&j["indexed_document_count"]),
                cell(&j["deleted_document_count"]),
                cell(&j["created_at"]),
                cell(&j["error"]),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns() {
        let t = table(
            &["id", "status"],
            &[
                vec!["abc".into(), "ok".into()],
                vec!["a".into(), "-".into()],
            ],
        );
        assert_eq!(t, "id   status\nabc  ok\na    -\n");
    }

    #[test]
    fn rows_show_missing_values_as_dashes() {
        let rows = connector_rows(&[json!({"id": "c1", "status": "connected", "name": ""})]);
        assert_eq!(rows[0], vec!["c1", "-", "-", "-", "connected", "-", "-"]);
    }

    #[test]
    fn redacts_keys() {
        let v = redact(&json!({"id": "k", "api_key": "secret", "encoded": "c2VjcmV0"}));
        assert_eq!(v, json!({"id": "k", "api_key": "***", "encoded": "***"}));
    }
}
