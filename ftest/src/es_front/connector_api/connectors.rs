//! Connector lifecycle endpoints: create (`PUT _connector/{id}`, `PUT`/`POST _connector`), get, list, delete
//! (soft by default, `hard=true` removes the document, `delete_sync_jobs=true` also removes its jobs) and
//! check-in, following `ConnectorIndexService`. Also the helpers the update endpoints share: loading a
//! live (not soft-deleted) connector and the "index name is used by another connector" check.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::body::{not_found, parse_body, status_exception, validation, Fields};
use super::documents::{self, NewConnector, MANAGED_CONNECTOR_INDEX_PREFIX};
use super::schema::index_name_problem;
use super::store::{ApiResult, Doc, Fetched, Store, Written, CONNECTORS, SYNC_JOBS};
use super::{no_body, result_body, ApiRequest};
use crate::es_front::errors::EsError;

pub(crate) fn connector_not_found(id: &str) -> EsError {
    not_found(format!("connector [{id}] not found"))
}

/// The API view of a stored connector: `id` first, then the document.
pub(crate) fn view(id: &str, source: Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    for (k, v) in source {
        if k != "id" {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

fn is_deleted(source: &Map<String, Value>) -> bool {
    source.get("deleted").and_then(Value::as_bool) == Some(true)
}

/// `getConnector(id, includeDeleted)`: 404 `connector [id] not found` when missing, when the index is
/// missing, or when soft-deleted and not asked for.
pub(crate) async fn load(store: &Store<'_>, id: &str, include_deleted: bool) -> ApiResult<Doc> {
    match store.get(CONNECTORS, id).await? {
        Fetched::Found(doc) if include_deleted || !is_deleted(&doc.source) => Ok(doc),
        _ => Err(connector_not_found(id).into()),
    }
}

/// Maps a partial-update outcome to the `{"result": ...}` answer or a 404.
pub(crate) fn updated(outcome: Written, id: &str) -> ApiResult<(StatusCode, Value)> {
    match outcome {
        Written::Done { result, .. } => Ok(result_body(&result)),
        Written::Missing | Written::IndexMissing => Err(connector_not_found(id).into()),
    }
}

/// Whether a live connector other than `exclude` already uses `index_name`.
pub(crate) async fn index_in_use(
    store: &Store<'_>,
    index_name: &str,
    exclude: Option<&str>,
) -> ApiResult<bool> {
    let mut must_not = vec![json!({"term": {"deleted": true}})];
    if let Some(id) = exclude {
        must_not.push(json!({"ids": {"values": [id]}}));
    }
    let query = json!({
        "size": 0,
        "query": {"bool": {"must": [{"term": {"index_name": index_name}}], "must_not": must_not}}
    });
    Ok(store
        .search(CONNECTORS, &query)
        .await?
        .is_some_and(|page| page.total > 0))
}

pub(crate) fn index_in_use_error(index_name: &str) -> EsError {
    status_exception(format!(
        "Index name [{index_name}] is used by another connector."
    ))
}

/// `PUT _connector/{id}` (create or overwrite with defaults), `PUT _connector` / `POST _connector`
/// (generated id). Answers `{"id", "result"}` with 201 for `created`, 200 for `updated`.
pub(crate) async fn create(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
    id: Option<&str>,
) -> ApiResult<(StatusCode, Value)> {
    let parser = if id.is_none() && request.method == axum::http::Method::POST {
        "connector_post_request"
    } else {
        "connector_put_request"
    };
    let map = parse_body(parser, request.body, false)?.unwrap_or_default();
    let f = Fields::new(parser, &map);
    f.only(&[
        "description",
        "index_name",
        "is_native",
        "language",
        "name",
        "service_type",
    ])?;
    let fields = NewConnector {
        description: f.string("description")?,
        index_name: f.string_or_null("index_name")?.flatten(),
        is_native: f.boolean("is_native")?,
        language: f.string("language")?,
        name: f.string("name")?,
        service_type: f.string("service_type")?,
    };
    let mut problems = Vec::new();
    if let Some(index_name) = &fields.index_name {
        problems.extend(index_name_problem(index_name));
        if fields.is_native == Some(true) && !index_name.starts_with(MANAGED_CONNECTOR_INDEX_PREFIX)
        {
            problems.push(format!(
                "Index [{index_name}] is invalid. Index attached to an Elastic-managed connector must start with the prefix: [{MANAGED_CONNECTOR_INDEX_PREFIX}]"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(validation(&problems).into());
    }
    let id = id.filter(|id| !id.is_empty());
    if let Some(index_name) = &fields.index_name {
        if index_in_use(store, index_name, id).await? {
            return Err(index_in_use_error(index_name).into());
        }
    }
    store.ensure(CONNECTORS).await?;
    let doc = documents::new_connector(fields, &documents::now());
    let (new_id, result) = store.index(CONNECTORS, id, &doc, None).await?;
    let status = if result == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, json!({"id": new_id, "result": result})))
}

/// `GET _connector/{id}[?include_deleted=true]`.
pub(crate) async fn get(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
    id: &str,
) -> ApiResult<(StatusCode, Value)> {
    no_body(request)?;
    let include_deleted = request.bool_param("include_deleted", false)?;
    let doc = load(store, id, include_deleted).await?;
    Ok((StatusCode::OK, view(id, doc.source)))
}

/// `GET _connector`: filters as `ConnectorIndexService.buildListQuery`, sorted by `index_name`.
pub(crate) async fn list(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
) -> ApiResult<(StatusCode, Value)> {
    no_body(request)?;
    let (from, size) = request.page()?;
    let index_names = request.list_param("index_name").unwrap_or_default();
    let names = request.list_param("connector_name").unwrap_or_default();
    let service_types = request.list_param("service_type").unwrap_or_default();
    let search = request.param("query").filter(|q| !q.is_empty());
    let include_deleted = request.bool_param("include_deleted", false)?;
    let problems: Vec<String> = index_names
        .iter()
        .filter_map(|name| index_name_problem(name))
        .collect();
    if !problems.is_empty() {
        return Err(validation(&problems).into());
    }
    let mut must = Vec::new();
    if !index_names.is_empty() {
        must.push(json!({"terms": {"index_name": index_names}}));
    }
    if !names.is_empty() {
        must.push(json!({"terms": {"name": names}}));
    }
    if !service_types.is_empty() {
        must.push(json!({"terms": {"service_type": service_types}}));
    }
    if let Some(q) = search {
        let pattern = format!("*{q}*");
        must.push(json!({"bool": {"should": [
            {"wildcard": {"index_name": pattern}},
            {"wildcard": {"name": pattern}},
            {"wildcard": {"description": pattern}}
        ]}}));
    }
    let must_not = if include_deleted {
        vec![]
    } else {
        vec![json!({"term": {"deleted": true}})]
    };
    let query = json!({
        "from": from,
        "size": size,
        "query": {"bool": {"must": must, "must_not": must_not}},
        "sort": [{"index_name": {"order": "asc"}}]
    });
    let page = store.search(CONNECTORS, &query).await?.unwrap_or_default();
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

/// `DELETE _connector/{id}[?hard=true][&delete_sync_jobs=true]` → `{"acknowledged": true}`.
pub(crate) async fn delete(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
    id: &str,
) -> ApiResult<(StatusCode, Value)> {
    no_body(request)?;
    let hard = request.bool_param("hard", false)?;
    let delete_jobs = request.bool_param("delete_sync_jobs", false)?;
    if hard {
        match store.delete(CONNECTORS, id).await? {
            Written::Done { .. } => {}
            Written::Missing | Written::IndexMissing => return Err(connector_not_found(id).into()),
        }
    } else {
        load(store, id, false).await?;
        updated(
            store
                .update(CONNECTORS, id, json!({"deleted": true}))
                .await?,
            id,
        )?;
    }
    if delete_jobs {
        store
            .delete_by_query(SYNC_JOBS, json!({"term": {"connector.id": id}}))
            .await?;
    }
    Ok((StatusCode::OK, json!({"acknowledged": true})))
}

/// `PUT _connector/{id}/_check_in`: sets `last_seen` (no soft-delete check, as in ES).
pub(crate) async fn check_in(
    store: &Store<'_>,
    request: &ApiRequest<'_>,
    id: &str,
) -> ApiResult<(StatusCode, Value)> {
    no_body(request)?;
    let outcome = store
        .update(CONNECTORS, id, json!({"last_seen": documents::now()}))
        .await?;
    updated(outcome, id)
}
