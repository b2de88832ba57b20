//! The `PUT _connector/{id}/_<field>` endpoints, one function per ES action, with the same request
//! validation, side effects on `status`, and checks as `ConnectorIndexService`: `_configuration` (full schema
//! or `values` for registered fields; status becomes `configured`), `_error` (non-empty error → `error`,
//! otherwise `connected`), `_index_name`, `_last_sync`, `_name`, `_native`, `_pipeline`, `_scheduling`,
//! `_service_type`, `_status` (state machine), `_api_key_id`, `_features`; the `_filtering*` ones are
//! delegated to `filtering`. Answers `{"result": "updated"|"noop"}`.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::body::{field_error, parse_body, status_exception, validation, Fields};
use super::connectors::{index_in_use, index_in_use_error, load, updated};
use super::documents::{parse_time, MANAGED_CONNECTOR_INDEX_PREFIX};
use super::state::{ConnectorStatus, SyncStatus};
use super::store::{ApiError, ApiResult, Store, CONNECTORS};
use super::{filtering, schema};
use super::{no_body, result_body, ApiRequest};
use crate::es_front::errors::EsError;

type Answer = ApiResult<(StatusCode, Value)>;

/// How often a read-modify-write retries after losing an optimistic-concurrency race.
const OCC_ATTEMPTS: usize = 3;

pub(crate) async fn update(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
    id: &str,
    action: &str,
) -> Answer {
    if action == "_filtering/_activate" {
        no_body(request)?;
        return filtering::activate_filtering(store, id).await;
    }
    let (parser, fields): (&'static str, &[&str]) = match action {
        "_configuration" => (
            "connector_update_configuration_request",
            &["configuration", "values"],
        ),
        "_error" => ("connector_update_error_request", &["error"]),
        "_filtering" => (
            "connector_update_filtering_request",
            &["filtering", "advanced_snippet", "rules"],
        ),
        "_filtering/_validation" => (
            "connector_update_filtering_validation_request",
            &["validation"],
        ),
        "_index_name" => ("connector_update_index_name_request", &["index_name"]),
        "_last_sync" => (
            "connector_update_last_sync_stats_request",
            &LAST_SYNC_FIELDS,
        ),
        "_name" => ("connector_update_name_request", &["name", "description"]),
        "_native" => ("connector_update_native_request", &["is_native"]),
        "_pipeline" => ("connector_update_pipeline_request", &["pipeline"]),
        "_scheduling" => ("connector_update_scheduling_request", &["scheduling"]),
        "_service_type" => ("connector_update_service_type_request", &["service_type"]),
        "_status" => ("connector_update_status_request", &["status"]),
        "_api_key_id" => (
            "connector_update_api_key_id_request",
            &["api_key_id", "api_key_secret_id"],
        ),
        _ => ("connector_update_features_request", &["features"]),
    };
    let map = parse_body(parser, request.body, true)?.unwrap_or_default();
    let f = Fields::new(parser, &map);
    f.only(fields)?;
    match action {
        "_configuration" => configuration(store, id, f).await,
        "_error" => error(store, id, f).await,
        "_filtering" => filtering::filtering(store, id, f).await,
        "_filtering/_validation" => filtering::filtering_validation(store, id, f).await,
        "_index_name" => index_name(store, id, f).await,
        "_last_sync" => last_sync(store, id, f).await,
        "_name" => name(store, id, f).await,
        "_native" => native(store, id, f).await,
        "_pipeline" => {
            f.require(&["pipeline"])?;
            let pipeline = schema::pipeline(f.object("pipeline")?.unwrap_or(&Map::new()))?;
            updated(
                store
                    .update(CONNECTORS, id, json!({"pipeline": pipeline}))
                    .await?,
                id,
            )
        }
        "_scheduling" => {
            f.require(&["scheduling"])?;
            let scheduling = schema::scheduling(f.object("scheduling")?.unwrap_or(&Map::new()))?;
            updated(
                store
                    .update(CONNECTORS, id, json!({"scheduling": scheduling}))
                    .await?,
                id,
            )
        }
        "_service_type" => service_type(store, id, f).await,
        "_status" => status(store, id, f).await,
        "_api_key_id" => api_key_id(store, id, f).await,
        _ => {
            f.require(&["features"])?;
            let features = schema::features(f.object("features")?.unwrap_or(&Map::new()))?;
            updated(
                store
                    .update(CONNECTORS, id, json!({"features": features}))
                    .await?,
                id,
            )
        }
    }
}

/// Full `configuration` replaces the map (read-modify-write guarded by `_seq_no`/`_primary_term`); `values`
/// sets `value` of already registered fields only. Either way the status becomes `configured`.
async fn configuration(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    let full = f.object("configuration")?;
    let values = f.object("values")?;
    match (full.is_some(), values.is_some()) {
        (false, false) => {
            return Err(
                validation(&["[configuration] and [values] cannot both be null.".into()]).into(),
            )
        }
        (true, true) => {
            return Err(validation(&[
                "[configuration] and [values] cannot both be provided in the same request.".into(),
            ])
            .into())
        }
        _ => {}
    }
    if let Some(full) = full {
        let mut normalized = Map::new();
        for (key, entry) in full {
            let Value::Object(entry) = entry else {
                return Err(field_error(
                    f.parser,
                    "configuration",
                    format!("[{key}] must be an object"),
                )
                .into());
            };
            normalized.insert(key.clone(), schema::configuration_field(entry)?);
        }
        return replace_fields(store, id, |source| {
            source.insert("configuration".into(), Value::Object(normalized.clone()));
            source.insert("status".into(), json!(ConnectorStatus::Configured.as_str()));
        })
        .await;
    }
    let values = values.cloned().unwrap_or_default();
    let doc = load(store, id, false).await?;
    let registered = doc.source.get("configuration").and_then(Value::as_object);
    let mut unknown: Vec<&str> = values
        .keys()
        .map(String::as_str)
        .filter(|k| !registered.is_some_and(|r| r.contains_key(*k)))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(status_exception(format!(
            "Unknown [configuration] fields in the request payload: [{}]. Remove them from request or register their schema first.",
            unknown.join(", ")
        ))
        .into());
    }
    let patch: Map<String, Value> = values
        .into_iter()
        .map(|(k, v)| (k, json!({ "value": v })))
        .collect();
    let doc = json!({"configuration": patch, "status": ConnectorStatus::Configured.as_str()});
    updated(store.update(CONNECTORS, id, doc).await?, id)
}

/// Loads the live connector, applies `change` to its source and writes it back with `if_seq_no`, retrying a
/// few times if someone else wrote in between (ES does this with an update script).
async fn replace_fields(
    store: &Store<'_>,
    id: &str,
    change: impl Fn(&mut Map<String, Value>),
) -> Answer {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut doc = load(store, id, false).await?;
        change(&mut doc.source);
        let source = Value::Object(doc.source);
        match store
            .index(
                CONNECTORS,
                Some(id),
                &source,
                Some((doc.seq_no, doc.primary_term)),
            )
            .await
        {
            Ok((_, result)) => return Ok(result_body(&result)),
            Err(ApiError::Upstream(raw))
                if raw.status == StatusCode::CONFLICT && attempt < OCC_ATTEMPTS => {}
            Err(other) => return Err(other),
        }
    }
}

async fn error(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    f.require(&["error"])?;
    let error = f.string_or_null("error")?.flatten();
    let status = match error.as_deref() {
        None | Some("") => ConnectorStatus::Connected,
        Some(_) => ConnectorStatus::Error,
    };
    let doc = json!({"error": error, "status": status.as_str()});
    updated(store.update(CONNECTORS, id, doc).await?, id)
}

async fn index_name(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    f.require(&["index_name"])?;
    let index_name = f.string_or_null("index_name")?.flatten();
    if let Some(name) = &index_name {
        if let Some(problem) = schema::index_name_problem(name) {
            return Err(validation(&[problem]).into());
        }
        if index_in_use(store, name, Some(id)).await? {
            return Err(index_in_use_error(name).into());
        }
    }
    let doc = load(store, id, false).await?;
    let native = doc.source.get("is_native").and_then(Value::as_bool) == Some(true);
    if let Some(name) = index_name
        .as_deref()
        .filter(|n| native && !n.starts_with(MANAGED_CONNECTOR_INDEX_PREFIX))
    {
        return Err(status_exception(format!(
            "Index attached to an Elastic-managed connector must start with the prefix: [{MANAGED_CONNECTOR_INDEX_PREFIX}]. The index name in the payload [{name}] doesn't comply with this requirement."
        ))
        .into());
    }
    updated(
        store
            .update(CONNECTORS, id, json!({"index_name": index_name}))
            .await?,
        id,
    )
}

const LAST_SYNC_FIELDS: [&str; 11] = [
    "last_access_control_sync_error",
    "last_access_control_sync_scheduled_at",
    "last_access_control_sync_status",
    "last_deleted_document_count",
    "last_incremental_sync_scheduled_at",
    "last_indexed_document_count",
    "last_sync_error",
    "last_sync_scheduled_at",
    "last_sync_status",
    "last_synced",
    "sync_cursor",
];

/// Writes the given (non-null) sync info fields and `sync_cursor`.
async fn last_sync(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    let mut doc = Map::new();
    for field in LAST_SYNC_FIELDS {
        let value = match field {
            "last_deleted_document_count" | "last_indexed_document_count" => {
                f.long(field)?.map(|n| json!(n))
            }
            "last_access_control_sync_status" | "last_sync_status" => {
                match f.string_or_null(field)?.flatten() {
                    Some(s) => Some(json!(SyncStatus::parse(&s)
                        .map_err(|e| field_error(f.parser, field, e))?
                        .as_str())),
                    None => None,
                }
            }
            "last_access_control_sync_error" | "last_sync_error" => {
                f.string_or_null(field)?.flatten().map(|s| json!(s))
            }
            "sync_cursor" => f
                .object_or_null(field)?
                .flatten()
                .map(|m| Value::Object(m.clone())),
            _ => match f.string_or_null(field)?.flatten() {
                Some(text) => Some(json!(parse_time(&text).ok_or_else(|| {
                    field_error(
                        f.parser,
                        field,
                        format!("Failed to parse instant [{text}] of field [{field}]"),
                    )
                })?)),
                None => None,
            },
        };
        if let Some(value) = value {
            doc.insert(field.into(), value);
        }
    }
    updated(store.update(CONNECTORS, id, Value::Object(doc)).await?, id)
}

async fn name(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    let name = f.string_or_null("name")?.flatten();
    let description = f.string_or_null("description")?.flatten();
    if name.is_none() && description.is_none() {
        return Err(validation(&[
            "[name] and [description] cannot both be [null]. Please provide a value for at least one of them.".into(),
        ])
        .into());
    }
    let mut doc = Map::new();
    if let Some(name) = name {
        doc.insert("name".into(), json!(name));
    }
    if let Some(description) = description {
        doc.insert("description".into(), json!(description));
    }
    updated(store.update(CONNECTORS, id, Value::Object(doc)).await?, id)
}

/// `is_native: true` needs a `content-` index; a `connected` connector goes back to `configured`.
async fn native(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    f.require(&["is_native"])?;
    let is_native = f.boolean("is_native")?.unwrap_or(false);
    let doc = load(store, id, false).await?;
    if let Some(index) = doc.source.get("index_name").and_then(Value::as_str) {
        if is_native && !index.starts_with(MANAGED_CONNECTOR_INDEX_PREFIX) {
            return Err(status_exception(format!(
                "The index name [{index}] attached to the connector [{id}] must start with the required prefix: [{MANAGED_CONNECTOR_INDEX_PREFIX}] to be Elastic-managed. Please update the attached index first to comply with this requirement."
            ))
            .into());
        }
    }
    let mut status = current_status(&doc.source)?;
    if status == ConnectorStatus::Connected && status.can_become(ConnectorStatus::Configured) {
        status = ConnectorStatus::Configured;
    }
    let patch = json!({"is_native": is_native, "status": status.as_str()});
    updated(store.update(CONNECTORS, id, patch).await?, id)
}

fn current_status(source: &Map<String, Value>) -> Result<ConnectorStatus, EsError> {
    let raw = source
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("null");
    ConnectorStatus::parse(raw).map_err(EsError::illegal_argument)
}

/// A new service type keeps `created`, anything else goes to `needs_configuration`.
async fn service_type(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    f.require(&["service_type"])?;
    let service_type = f.string("service_type")?.unwrap_or_default();
    if service_type.is_empty() {
        return Err(validation(&["[service_type] cannot be [null] or [\"\"].".into()]).into());
    }
    let doc = load(store, id, false).await?;
    let status = match current_status(&doc.source)? {
        ConnectorStatus::Created => ConnectorStatus::Created,
        _ => ConnectorStatus::NeedsConfiguration,
    };
    let patch = json!({"service_type": service_type, "status": status.as_str()});
    updated(store.update(CONNECTORS, id, patch).await?, id)
}

async fn status(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    let next = match f.string("status")? {
        Some(raw) => {
            ConnectorStatus::parse(&raw).map_err(|e| field_error(f.parser, "status", e))?
        }
        None => return Err(validation(&["[status] cannot be [null].".into()]).into()),
    };
    let doc = load(store, id, false).await?;
    current_status(&doc.source)?
        .check_transition(next)
        .map_err(status_exception)?;
    updated(
        store
            .update(CONNECTORS, id, json!({"status": next.as_str()}))
            .await?,
        id,
    )
}

async fn api_key_id(store: &Store<'_>, id: &str, f: Fields<'_>) -> Answer {
    let key_id = f.string_or_null("api_key_id")?.flatten();
    let secret_id = f.string_or_null("api_key_secret_id")?.flatten();
    if key_id.is_none() && secret_id.is_none() {
        return Err(validation(&[
            "[api_key_id] and [api_key_secret_id] cannot both be [null]. Please provide a value for at least one of them."
                .into(),
        ])
        .into());
    }
    let mut doc = Map::new();
    if let Some(key_id) = key_id {
        doc.insert("api_key_id".into(), json!(key_id));
    }
    if let Some(secret_id) = secret_id {
        doc.insert("api_key_secret_id".into(), json!(secret_id));
    }
    updated(store.update(CONNECTORS, id, Value::Object(doc)).await?, id)
}
