//! The document write path through the front: `_bulk` and single-document index requests
//! (`PUT|POST /{index}/_doc[/{id}]`, `PUT|POST /{index}/_create/{id}`). Here the front does what osmem cannot:
//! injected bulk faults (`faults.rs`) and ingest pipelines — the request's `pipeline` parameter, a bulk
//! item's own `pipeline`, or else the target index's `index.default_pipeline` (looked up in osmem's index
//! settings); `_none` means none. Only `index`/`create` items run through pipelines (ES runs them for update
//! upserts only, and never for deletes). What osmem receives carries the rewritten sources, no item-level
//! `pipeline`, and `pipeline=_none` so that osmem does not try to run a default pipeline it does not have.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::actions::percent_decode;
use super::bulk::{BulkItem, BulkOp, BulkPlan, Fate};
use super::errors::{json_response, EsError, FrontError};
use super::ingest::{Failure, Flow, IngestDoc, Snapshot, NO_PIPELINE};
use super::proxy::Upstream;
use super::server::{passthrough, FrontState};

/// Runs a bulk request whose items are already parsed (and authorized) in `plan`.
pub(crate) async fn bulk(
    state: &FrontState,
    parts: &Parts,
    body: &[u8],
    mut plan: BulkPlan,
) -> Result<Response, EsError> {
    let query = parts.uri.query();
    state.faults.apply(&mut plan);
    let request_pipeline = param(query, "pipeline");
    let ingest_took = run_pipelines(state, &mut plan, body, request_pipeline.as_deref()).await?;
    if !plan.any_forwarded() {
        let merged = plan
            .weave(None, ingest_took)
            .map_err(FrontError::into_es_error)?;
        return Ok(json_response(StatusCode::OK, &merged));
    }
    let uri = forward_uri(parts.uri.path(), query);
    let forward = Bytes::from(plan.forward_body(body));
    let response = state
        .upstream
        .send(parts.method.clone(), &uri, &parts.headers, forward)
        .await
        .map_err(FrontError::into_es_error)?;
    let untouched = plan.all_forwarded() && ingest_took.is_none();
    if response.status != StatusCode::OK || untouched {
        // osmem's own answer: a request-level failure, or nothing for the front to add.
        return Ok(passthrough(response));
    }
    let woven = serde_json::from_slice(&response.body)
        .map_err(|e| FrontError::UpstreamBulk(e.to_string()))
        .and_then(|parsed| plan.weave(Some(parsed), ingest_took));
    match woven {
        Ok(merged) => Ok(json_response(StatusCode::OK, &merged)),
        // Only `ingest_took` was to be added (e.g. `filter_path` removed `items`): osmem's answer will do.
        Err(_) if plan.all_forwarded() => Ok(passthrough(response)),
        Err(e) => Err(e.into_es_error()),
    }
}

fn runs_pipelines(op: BulkOp) -> bool {
    matches!(op, BulkOp::Index | BulkOp::Create)
}

/// Resolves and runs each forwarded `index`/`create` item's pipeline; returns `ingest_took` (ms) if any ran.
async fn run_pipelines(
    state: &FrontState,
    plan: &mut BulkPlan,
    body: &[u8],
    request_pipeline: Option<&str>,
) -> Result<Option<u64>, EsError> {
    let needs_default: BTreeSet<String> = plan
        .forwarded()
        .filter(|(_, item)| runs_pipelines(item.op) && item.pipeline.is_none())
        .filter(|_| request_pipeline.is_none())
        .filter_map(|(_, item)| item.index.clone())
        .collect();
    let defaults = default_pipelines(&state.upstream, needs_default).await?;
    let snapshot = state.pipelines.snapshot();
    let started = Instant::now();
    let mut ran = false;
    for (item, fate) in plan.items.iter().zip(plan.fates.iter_mut()) {
        if !matches!(fate, Fate::Forward(None)) || !runs_pipelines(item.op) {
            continue;
        }
        let default = item.index.as_ref().and_then(|i| defaults.get(i));
        let name = item
            .pipeline
            .as_deref()
            .or(request_pipeline)
            .or(default.map(String::as_str))
            .filter(|name| *name != NO_PIPELINE);
        match name {
            Some(name) => {
                ran = true;
                *fate = run_item(&snapshot, name, item, body);
            }
            // The action line names `_none`: osmem gets it without the key.
            None if item.pipeline.is_some() => {
                let action = action_line(item, body, &Map::new());
                let source = item
                    .source
                    .clone()
                    .map(|r| body[r].to_vec())
                    .unwrap_or_default();
                *fate = Fate::Forward(Some(lines(&action, &source)));
            }
            None => {}
        }
    }
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(ran.then_some(took))
}

fn run_item(snapshot: &Snapshot, name: &str, item: &BulkItem, body: &[u8]) -> Fate {
    let raw_source = item.source.clone().map(|r| &body[r]).unwrap_or_default();
    let Ok(Value::Object(source)) = serde_json::from_slice::<Value>(raw_source) else {
        // Not a JSON object: forwarded as is, osmem reports the parse failure for the item.
        return Fate::Forward(Some(lines(
            &action_line(item, body, &Map::new()),
            raw_source,
        )));
    };
    let mut doc = IngestDoc::new(source);
    if let Some(index) = &item.index {
        doc.meta.insert("_index".into(), json!(index));
    }
    if let Some(id) = &item.id {
        doc.meta.insert("_id".into(), json!(id));
    }
    let seeded = doc.meta.clone();
    match snapshot.run(name, &mut doc) {
        Ok(Flow::Drop) => Fate::Drop,
        Ok(Flow::Continue) => {
            let changed: Map<String, Value> = doc
                .meta
                .iter()
                .filter(|(k, v)| seeded.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let source = serde_json::to_vec(&Value::Object(doc.source)).unwrap_or_default();
            Fate::Forward(Some(lines(&action_line(item, body, &changed), &source)))
        }
        Err(failure) => Fate::Fail(failure_error(failure)),
    }
}

fn failure_error(failure: Failure) -> EsError {
    EsError::new(failure.status, failure.kind, failure.message)
}

/// The item's action line without `pipeline`, with metadata a pipeline changed (`_index`, `_id`, `_routing`).
fn action_line(item: &BulkItem, body: &[u8], changed: &Map<String, Value>) -> Value {
    let parsed: Value = serde_json::from_slice(&body[item.action.clone()]).unwrap_or(Value::Null);
    let mut meta = parsed
        .get(item.op.key())
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    meta.remove("pipeline");
    for (field, key) in [
        ("_index", "_index"),
        ("_id", "_id"),
        ("_routing", "routing"),
    ] {
        match changed.get(field) {
            Some(Value::Null) => {
                meta.remove(key);
            }
            Some(value) => {
                meta.insert(key.to_string(), value.clone());
            }
            None => {}
        }
    }
    json!({ item.op.key(): meta })
}

fn lines(action: &Value, source: &[u8]) -> Vec<u8> {
    let mut out = serde_json::to_vec(action).unwrap_or_default();
    out.push(b'\n');
    if !source.is_empty() {
        out.extend_from_slice(source);
        out.push(b'\n');
    }
    out
}

/// `index.default_pipeline` of each named index (or alias, when all its indices agree), from osmem's settings.
/// Missing indices have none (index templates are not consulted).
async fn default_pipelines(
    upstream: &Upstream,
    names: BTreeSet<String>,
) -> Result<BTreeMap<String, String>, EsError> {
    let mut out = BTreeMap::new();
    for name in names {
        let uri = format!(
            "/{}/_settings/index.default_pipeline?flat_settings=true&ignore_unavailable=true",
            encode_segment(&name)
        );
        let response = upstream
            .send(Method::GET, &uri, &HeaderMap::new(), Bytes::new())
            .await
            .map_err(FrontError::into_es_error)?;
        if response.status != StatusCode::OK {
            continue;
        }
        let Ok(Value::Object(indices)) = serde_json::from_slice::<Value>(&response.body) else {
            continue;
        };
        let found: BTreeSet<Option<&str>> = indices
            .values()
            .map(|entry| {
                entry
                    .pointer("/settings/index.default_pipeline")
                    .and_then(Value::as_str)
            })
            .collect();
        if let [Some(pipeline)] = found.into_iter().collect::<Vec<_>>().as_slice() {
            out.insert(name, pipeline.to_string());
        }
    }
    Ok(out)
}

/// A single-document index request: the path's raw (still percent-encoded) index, endpoint and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocTarget {
    index: String,
    endpoint: String,
    id: Option<String>,
}

pub(crate) fn doc_target(method: &Method, path: &str) -> Option<DocTarget> {
    if *method != Method::PUT && *method != Method::POST {
        return None;
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (index, endpoint, id) = match segments.as_slice() {
        [index, "_doc"] if *method == Method::POST => (*index, "_doc", None),
        [index, endpoint @ ("_doc" | "_create"), id] => (*index, *endpoint, Some(*id)),
        _ => return None,
    };
    (!index.starts_with('_')).then(|| DocTarget {
        index: index.to_string(),
        endpoint: endpoint.to_string(),
        id: id.map(str::to_string),
    })
}

/// Indexes one document, through its pipeline if it has one.
pub(crate) async fn single(
    state: &FrontState,
    parts: &Parts,
    body: Bytes,
    target: DocTarget,
) -> Result<Response, EsError> {
    let query = parts.uri.query();
    let index = percent_decode(&target.index);
    let id = target.id.as_deref().map(percent_decode);
    let name = match param(query, "pipeline") {
        Some(name) => Some(name),
        None => default_pipelines(&state.upstream, BTreeSet::from([index.clone()]))
            .await?
            .remove(&index),
    };
    let mut path = parts.uri.path().to_string();
    let mut body = body;
    let parsed = serde_json::from_slice::<Value>(&body);
    if let (Some(name), Ok(Value::Object(source))) = (name.filter(|n| n != NO_PIPELINE), parsed) {
        let mut doc = IngestDoc::new(source);
        doc.meta.insert("_index".into(), json!(index));
        if let Some(id) = &id {
            doc.meta.insert("_id".into(), json!(id));
        }
        match state.pipelines.snapshot().run(&name, &mut doc) {
            Err(failure) => return Err(failure_error(failure)),
            Ok(Flow::Drop) => {
                let noop = json!({"_index": index, "_id": id, "_version": -3, "result": "noop",
                                  "_shards": {"total": 0, "successful": 0, "failed": 0}});
                return Ok(json_response(StatusCode::OK, &noop));
            }
            Ok(Flow::Continue) => {
                let new_index = doc
                    .meta
                    .get("_index")
                    .and_then(Value::as_str)
                    .unwrap_or(&index);
                let new_id = doc
                    .meta
                    .get("_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or(id.clone());
                if new_index != index || new_id != id {
                    path = match &new_id {
                        Some(new_id) => format!(
                            "/{}/{}/{}",
                            encode_segment(new_index),
                            target.endpoint,
                            encode_segment(new_id)
                        ),
                        None => format!("/{}/_doc", encode_segment(new_index)),
                    };
                }
                body =
                    Bytes::from(serde_json::to_vec(&Value::Object(doc.source)).unwrap_or_default());
            }
        }
    }
    // No pipeline, or a body that is not a JSON object (osmem reports that): forwarded as sent.
    let response = state
        .upstream
        .send(
            parts.method.clone(),
            &forward_uri(&path, query),
            &parts.headers,
            body,
        )
        .await
        .map_err(FrontError::into_es_error)?;
    Ok(passthrough(response))
}

/// A query parameter's decoded value.
fn param(query: Option<&str>, name: &str) -> Option<String> {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(&v.replace('+', " ")))
}

/// The URI for osmem: the query without `pipeline`, plus `pipeline=_none`.
fn forward_uri(path: &str, query: Option<&str>) -> String {
    let mut kept: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("pipeline"))
        .collect();
    kept.push("pipeline=_none");
    format!("{path}?{}", kept.join("&"))
}

/// Percent-encodes a path segment (index names and ids may hold characters a URL path cannot).
fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'*' | b',')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            doc_target(&Method::PUT, "/idx/_doc/1"),
            Some(DocTarget {
                index: "idx".into(),
                endpoint: "_doc".into(),
                id: Some("1".into())
            })
        );
        assert!(doc_target(&Method::POST, "/idx/_doc").is_some());
        assert!(doc_target(&Method::PUT, "/idx/_doc").is_none());
        assert!(doc_target(&Method::PUT, "/idx/_create/9").is_some());
        assert!(doc_target(&Method::GET, "/idx/_doc/1").is_none());
        assert!(doc_target(&Method::POST, "/idx/_update/1").is_none());
        assert!(doc_target(&Method::PUT, "/_connector/_doc/1").is_none());
    }

    #[test]
    fn query_rewriting() {
        assert_eq!(
            forward_uri("/_bulk", Some("pipeline=p&refresh=true")),
            "/_bulk?refresh=true&pipeline=_none"
        );
        assert_eq!(forward_uri("/_bulk", None), "/_bulk?pipeline=_none");
        assert_eq!(
            param(Some("a=1&pipeline=my%2Dp"), "pipeline").as_deref(),
            Some("my-p")
        );
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn action_lines_lose_pipeline_and_gain_changed_metadata() {
        let body = br#"{"index":{"_index":"a","_id":"1","pipeline":"p","routing":"r"}}
{"x":1}
"#;
        let items = crate::es_front::bulk::parse(body, None).unwrap();
        let mut changed = Map::new();
        changed.insert("_index".into(), json!("b"));
        let action = action_line(&items[0], body, &changed);
        assert_eq!(
            action,
            json!({"index": {"_index": "b", "_id": "1", "routing": "r"}})
        );
        assert_eq!(items[0].pipeline.as_deref(), Some("p"));
    }
}
