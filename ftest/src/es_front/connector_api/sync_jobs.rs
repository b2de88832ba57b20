//! Sync job endpoints (`_connector/_sync_job*`), following `ConnectorSyncJobIndexService`: create (snapshot of
//! the connector, `pending`), get, list (newest first), delete, `_cancel` (`pending`/`suspended` → `canceled`
//! at once, otherwise → `canceling` via the state machine), `_check_in`, `_claim`, `_stats` and `_error`.
//!
//! Not-found wording follows ES: a missing document on get/delete/cancel/claim/error is reported with the bare
//! job id as reason, a missing index or an update of a missing document as `connector sync job [id] not found`.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::body::{field_error, not_found, parse_body, status_exception, validation, Fields};
use super::connectors::view;
use super::documents::{self, parse_time};
use super::state::{JobType, SyncStatus, TriggerMethod};
use super::store::{ApiResult, Doc, Fetched, Store, Written, CONNECTORS, SYNC_JOBS};
use super::{no_body, result_body, ApiRequest};
use crate::es_front::errors::EsError;

type Answer = ApiResult<(StatusCode, Value)>;

fn job_not_found(id: &str) -> EsError {
    not_found(format!("connector sync job [{id}] not found"))
}

async fn load(store: &Store<'_>, id: &str) -> ApiResult<Doc> {
    match store.get(SYNC_JOBS, id).await? {
        Fetched::Found(doc) => Ok(doc),
        Fetched::Missing => Err(not_found(id).into()),
        Fetched::IndexMissing => Err(job_not_found(id).into()),
    }
}

fn updated(outcome: Written, id: &str) -> Answer {
    match outcome {
        Written::Done { result, .. } => Ok(result_body(&result)),
        Written::Missing | Written::IndexMissing => Err(job_not_found(id).into()),
    }
}

fn current_status(doc: &Doc) -> Result<SyncStatus, EsError> {
    let raw = doc
        .source
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("null");
    SyncStatus::parse(raw).map_err(EsError::illegal_argument)
}

/// `POST _connector/_sync_job` `{id, job_type?, trigger_method?}` → 201 `{"id"}`.
pub(crate) async fn create(store: &Store<'_>, request: &ApiRequest<'_>) -> Answer {
    let parser = "connector_sync_job_post_request";
    let map = parse_body(parser, request.body, true)?.unwrap_or_default();
    let f = Fields::new(parser, &map);
    f.only(&["id", "job_type", "trigger_method"])?;
    f.require(&["id"])?;
    let connector_id = f.string("id")?.unwrap_or_default();
    let job_type = match f.string("job_type")? {
        Some(raw) => JobType::parse(&raw).map_err(|e| field_error(parser, "job_type", e))?,
        None => JobType::Full,
    };
    let trigger = match f.string("trigger_method")? {
        Some(raw) => {
            TriggerMethod::parse(&raw).map_err(|e| field_error(parser, "trigger_method", e))?
        }
        None => TriggerMethod::OnDemand,
    };
    if connector_id.is_empty() {
        return Err(validation(&["[id] of the connector cannot be null or empty".into()]).into());
    }
    let connector = match store.get(CONNECTORS, &connector_id).await? {
        Fetched::Found(doc) => doc.source,
        Fetched::Missing | Fetched::IndexMissing => {
            return Err(not_found(format!(
                "Connector with id '{connector_id}' does not exist."
            ))
            .into())
        }
    };
    let has = |field: &str| {
        connector
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !has("index_name") {
        return Err(status_exception(format!(
            "Cannot start a sync for connector [{connector_id}] with no index attached. Set the [index_name] property for the connector to enable syncing data."
        ))
        .into());
    }
    if !has("service_type") {
        return Err(status_exception(format!(
            "Cannot start a sync for connector [{connector_id}] with [service_type] not defined. Set the service type of your connector before starting the sync."
        ))
        .into());
    }
    store.ensure(SYNC_JOBS).await?;
    let job = documents::new_sync_job(
        &connector_id,
        &connector,
        job_type,
        trigger,
        &documents::now(),
    );
    let (id, _) = store.index(SYNC_JOBS, None, &job, None).await?;
    Ok((StatusCode::CREATED, json!({ "id": id })))
}

/// `GET _connector/_sync_job/{id}`.
pub(crate) async fn get(store: &Store<'_>, request: &ApiRequest<'_>, id: &str) -> Answer {
    no_body(request)?;
    let doc = load(store, id).await?;
    Ok((StatusCode::OK, view(id, doc.source)))
}

/// `GET _connector/_sync_job?connector_id&status&job_type&from&size`, sorted by `created_at` descending.
pub(crate) async fn list(store: &Store<'_>, request: &ApiRequest<'_>) -> Answer {
    no_body(request)?;
    let (from, size) = request.page()?;
    let status = request
        .param("status")
        .map(SyncStatus::parse)
        .transpose()
        .map_err(EsError::illegal_argument)?;
    let job_types = request
        .list_param("job_type")
        .map(|types| {
            types
                .iter()
                .map(|t| JobType::parse(t))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(EsError::illegal_argument)?;
    let mut must = Vec::new();
    if let Some(connector_id) = request.param("connector_id") {
        must.push(json!({"term": {"connector.id": connector_id}}));
    }
    if let Some(status) = status {
        must.push(json!({"term": {"status": status.as_str()}}));
    }
    if let Some(types) = job_types.filter(|t| !t.is_empty()) {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        must.push(json!({"terms": {"job_type": names}}));
    }
    let query = if must.is_empty() {
        json!({"match_all": {}})
    } else {
        json!({"bool": {"must": must}})
    };
    let body = json!({
        "from": from,
        "size": size,
        "query": query,
        "sort": [{"created_at": {"order": "desc"}}]
    });
    let page = store.search(SYNC_JOBS, &body).await?.unwrap_or_default();
    let results: Vec<Value> = page
        .hits
        .into_iter()
        .map(|(id, source)| view(&id, source))
        .collect();
    Ok((
        StatusCode::OK,
        json!({"count": page.total, "results": results}),
    ))
}

/// `DELETE _connector/_sync_job/{id}` → `{"acknowledged": true}`.
pub(crate) async fn delete(store: &Store<'_>, request: &ApiRequest<'_>, id: &str) -> Answer {
    no_body(request)?;
    match store.delete(SYNC_JOBS, id).await? {
        Written::Done { .. } => Ok((StatusCode::OK, json!({"acknowledged": true}))),
        Written::Missing => Err(not_found(id).into()),
        Written::IndexMissing => Err(job_not_found(id).into()),
    }
}

pub(crate) async fn action(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
    id: &str,
    action: &str,
) -> Answer {
    match action {
        "_cancel" => {
            no_body(request)?;
            cancel(store, id).await
        }
        "_check_in" => {
            no_body(request)?;
            updated(
                store
                    .update(SYNC_JOBS, id, json!({"last_seen": documents::now()}))
                    .await?,
                id,
            )
        }
        "_claim" => claim(store, request, id).await,
        "_stats" => stats(store, request, id).await,
        _ => error(store, request, id).await,
    }
}

async fn cancel(store: &Store<'_>, id: &str) -> Answer {
    let doc = load(store, id).await?;
    let now = documents::now();
    let patch = match current_status(&doc)? {
        previous @ (SyncStatus::Pending | SyncStatus::Suspended) => {
            previous
                .check_transition(SyncStatus::Canceled)
                .map_err(status_exception)?;
            json!({
                "status": SyncStatus::Canceled.as_str(),
                "cancelation_requested_at": now,
                "canceled_at": now,
                "completed_at": now
            })
        }
        previous => {
            previous
                .check_transition(SyncStatus::Canceling)
                .map_err(status_exception)?;
            json!({"status": SyncStatus::Canceling.as_str(), "cancelation_requested_at": now})
        }
    };
    updated(store.update(SYNC_JOBS, id, patch).await?, id)
}

/// `_claim` `{worker_hostname, sync_cursor?}`: `in_progress`, `started_at`, `last_seen`, `worker_hostname`,
/// and `connector.sync_cursor` when given. Only `pending`/`suspended` jobs may be claimed (see README: ES 9.x
/// itself does not check this).
async fn claim(store: &Store<'_>, request: &ApiRequest<'_>, id: &str) -> Answer {
    let parser = "claim_connector_sync_job";
    let map = parse_body(parser, request.body, true)?.unwrap_or_default();
    let f = Fields::new(parser, &map);
    f.only(&["worker_hostname", "sync_cursor"])?;
    f.require(&["worker_hostname"])?;
    let hostname = f.string("worker_hostname")?.unwrap_or_default();
    let cursor = f.object("sync_cursor")?.cloned();
    let doc = load(store, id).await?;
    current_status(&doc)?
        .check_transition(SyncStatus::InProgress)
        .map_err(status_exception)?;
    let now = documents::now();
    let mut patch = Map::new();
    patch.insert("worker_hostname".into(), json!(hostname));
    patch.insert("status".into(), json!(SyncStatus::InProgress.as_str()));
    patch.insert("last_seen".into(), json!(now));
    patch.insert("started_at".into(), json!(now));
    if let Some(cursor) = cursor {
        patch.insert("connector".into(), json!({ "sync_cursor": cursor }));
    }
    updated(store.update(SYNC_JOBS, id, Value::Object(patch)).await?, id)
}

/// `_stats`: the three counters are required and non-negative; `total_document_count`, `last_seen` (default
/// now) and `metadata` optional.
async fn stats(store: &Store<'_>, request: &ApiRequest<'_>, id: &str) -> Answer {
    let parser = "connector_sync_job_update_ingestion_stats";
    let map = parse_body(parser, request.body, true)?.unwrap_or_default();
    let f = Fields::new(parser, &map);
    const COUNTERS: [&str; 3] = [
        "deleted_document_count",
        "indexed_document_count",
        "indexed_document_volume",
    ];
    f.only(&[
        COUNTERS[0],
        COUNTERS[1],
        COUNTERS[2],
        "total_document_count",
        "last_seen",
        "metadata",
    ])?;
    f.require(&COUNTERS)?;
    let mut patch = Map::new();
    let mut problems = Vec::new();
    for field in COUNTERS.into_iter().chain(["total_document_count"]) {
        if let Some(n) = f.long(field)? {
            if n < 0 {
                problems.push(format!("[{field}] cannot be negative."));
            }
            patch.insert(field.into(), json!(n));
        }
    }
    if !problems.is_empty() {
        return Err(validation(&problems).into());
    }
    let last_seen = match f.string("last_seen")? {
        Some(text) => parse_time(&text).ok_or_else(|| {
            field_error(
                parser,
                "last_seen",
                format!("Failed to parse instant [{text}] of field [last_seen]"),
            )
        })?,
        None => documents::now(),
    };
    patch.insert("last_seen".into(), json!(last_seen));
    if let Some(metadata) = f.object("metadata")? {
        patch.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    updated(store.update(SYNC_JOBS, id, Value::Object(patch)).await?, id)
}

/// `_error` `{error}`: status `error`, allowed from `in_progress` and `canceling` only.
async fn error(store: &Store<'_>, request: &ApiRequest<'_>, id: &str) -> Answer {
    let parser = "connector_sync_job_error_request";
    let map = parse_body(parser, request.body, true)?.unwrap_or_default();
    let f = Fields::new(parser, &map);
    f.only(&["error"])?;
    f.require(&["error"])?;
    let message = f.string("error")?.unwrap_or_default();
    if message.is_empty() {
        return Err(validation(&[
            "[error] of the connector sync job cannot be null or empty".into()
        ])
        .into());
    }
    let doc = load(store, id).await?;
    current_status(&doc)?
        .check_transition(SyncStatus::Error)
        .map_err(status_exception)?;
    let patch = json!({"error": message, "status": SyncStatus::Error.as_str()});
    updated(store.update(SYNC_JOBS, id, patch).await?, id)
}
