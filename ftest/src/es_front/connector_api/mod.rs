//! The Elasticsearch Connector API (`/_connector*`), answered by the front itself: osmem has no such API.
//! Connectors and sync jobs are stored as ordinary documents in `.elastic-connectors` and
//! `.elastic-connectors-sync-jobs` (see `store`), so direct index access sees the same data. This module
//! routes a request to its endpoint, rejects what ES's REST layer rejects (unknown query parameters, a body
//! on an endpoint that takes none, a wrong method on a known path), and renders results and errors.
//!
//! Files: `connectors` (create/get/list/delete/check-in), `connector_updates` (the `PUT _connector/{id}/_x`
//! field updates), `filtering` (the `_filtering*` endpoints), `sync_jobs`, `state` (status enums and state
//! machines), `documents` (document shapes and defaults), `schema` (value validation), `body` (request
//! parsing and error shapes), `store` (osmem calls).

mod body;
mod connector_updates;
mod connectors;
mod documents;
mod filtering;
mod schema;
mod state;
mod store;
mod sync_jobs;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::es_front::actions::percent_decode;
use crate::es_front::errors::{json_response, EsError};
use crate::es_front::proxy::Upstream;
use store::{ApiError, ApiResult, Store};

/// Parameters every REST endpoint accepts; they change nothing here.
const GLOBAL_PARAMS: [&str; 4] = ["pretty", "human", "error_trace", "filter_path"];

/// Whether a path belongs to the Connector API.
pub(crate) fn is_connector_path(path: &str) -> bool {
    path == "/_connector" || path.starts_with("/_connector/")
}

/// A routed request: the decoded path segments after `_connector`, query parameters and body.
pub(crate) struct ApiRequest<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
}

impl ApiRequest<'_> {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `RestRequest.paramAsBoolean`: present without value means true; otherwise only `true`/`false`.
    pub(crate) fn bool_param(&self, name: &str, default: bool) -> Result<bool, EsError> {
        match self.param(name) {
            None => Ok(default),
            Some("") | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(EsError::illegal_argument(format!(
                "Failed to parse value [{other}] as only [true] or [false] are allowed."
            ))),
        }
    }

    /// `RestRequest.paramAsInt`.
    pub(crate) fn int_param(&self, name: &str, default: i64) -> Result<i64, EsError> {
        match self.param(name) {
            None => Ok(default),
            Some(raw) => raw.parse::<i32>().map(i64::from).map_err(|_| {
                EsError::illegal_argument(format!(
                    "Failed to parse int parameter [{name}] with value [{raw}]"
                ))
            }),
        }
    }

    /// `RestRequest.paramAsStringArray`: comma-separated, empty entries dropped.
    pub(crate) fn list_param(&self, name: &str) -> Option<Vec<String>> {
        self.param(name).map(|raw| {
            raw.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    /// `from`/`size` as `PageParams` checks them.
    pub(crate) fn page(&self) -> Result<(i64, i64), EsError> {
        let from = self.int_param("from", 0)?;
        let size = self.int_param("size", 100)?;
        if from < 0 {
            return Err(EsError::illegal_argument("Parameter [from] cannot be < 0"));
        }
        if size < 0 {
            return Err(EsError::illegal_argument("Parameter [size] cannot be < 0"));
        }
        Ok((from, size))
    }
}

/// The endpoints, by path shape. `id` is a connector id, `job` a sync job id.
enum Endpoint {
    Connectors,
    Connector(String),
    ConnectorAction(String, &'static str),
    SyncJobs,
    SyncJob(String),
    SyncJobAction(String, &'static str),
}

const CONNECTOR_ACTIONS: [&str; 16] = [
    "_check_in",
    "_configuration",
    "_error",
    "_filtering",
    "_filtering/_validation",
    "_filtering/_activate",
    "_index_name",
    "_last_sync",
    "_name",
    "_native",
    "_pipeline",
    "_scheduling",
    "_service_type",
    "_status",
    "_api_key_id",
    "_features",
];
const SYNC_JOB_ACTIONS: [&str; 5] = ["_cancel", "_check_in", "_claim", "_stats", "_error"];

fn route(segments: &[String]) -> Option<Endpoint> {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let action = |name: String| -> Option<&'static str> {
        CONNECTOR_ACTIONS.iter().copied().find(|a| *a == name)
    };
    match segs.as_slice() {
        [] => Some(Endpoint::Connectors),
        ["_sync_job"] => Some(Endpoint::SyncJobs),
        ["_sync_job", job] => Some(Endpoint::SyncJob(job.to_string())),
        ["_sync_job", job, act] => SYNC_JOB_ACTIONS
            .iter()
            .copied()
            .find(|a| a == act)
            .map(|a| Endpoint::SyncJobAction(job.to_string(), a)),
        [id] => Some(Endpoint::Connector(id.to_string())),
        [id, rest @ ..] => {
            action(rest.join("/")).map(|a| Endpoint::ConnectorAction(id.to_string(), a))
        }
    }
}

/// Methods each endpoint answers to, and the query parameters it reads.
fn methods_of(endpoint: &Endpoint) -> &'static [(Method, &'static [&'static str])] {
    const LIST: &[&str] = &[
        "from",
        "size",
        "index_name",
        "connector_name",
        "service_type",
        "query",
        "include_deleted",
    ];
    const JOB_LIST: &[&str] = &["from", "size", "connector_id", "status", "job_type"];
    match endpoint {
        Endpoint::Connectors => &[(Method::GET, LIST), (Method::POST, &[]), (Method::PUT, &[])],
        Endpoint::Connector(_) => &[
            (Method::GET, &["include_deleted"]),
            (Method::PUT, &[]),
            (Method::DELETE, &["hard", "delete_sync_jobs"]),
        ],
        Endpoint::SyncJobs => &[(Method::GET, JOB_LIST), (Method::POST, &[])],
        Endpoint::SyncJob(_) => &[(Method::GET, &[]), (Method::DELETE, &[])],
        Endpoint::ConnectorAction(..) | Endpoint::SyncJobAction(..) => &[(Method::PUT, &[])],
    }
}

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Answers one `/_connector*` request. Never panics on request data; every failure is an ES-shaped error.
pub(crate) async fn handle(
    upstream: &Upstream,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Response {
    match dispatch(upstream, method, path, query, body).await {
        Ok((status, value)) => json_response(status, &value),
        Err(ApiError::Es(err)) => err.into_response(),
        Err(ApiError::Upstream(raw)) => {
            let mut response = Response::new(axum::body::Body::from(raw.body));
            *response.status_mut() = raw.status;
            *response.headers_mut() = raw.headers;
            response
        }
    }
}

async fn dispatch(
    upstream: &Upstream,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> ApiResult<(StatusCode, Value)> {
    let mut segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .skip(1)
        .map(percent_decode)
        .collect();
    if segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    let uri = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let Some(endpoint) = route(&segments) else {
        return Err(EsError::illegal_argument(format!(
            "no handler found for uri [{uri}] and method [{method}]"
        ))
        .into());
    };
    let allowed = methods_of(&endpoint);
    let Some((_, params)) = allowed.iter().find(|(m, _)| m == method) else {
        // ES answers a known path with the wrong method with a bare string error, not an exception object.
        let names: Vec<&str> = allowed.iter().map(|(m, _)| m.as_str()).collect();
        let reason = format!(
            "Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{}]",
            names.join(", ")
        );
        return Ok((
            StatusCode::METHOD_NOT_ALLOWED,
            serde_json::json!({"error": reason, "status": 405}),
        ));
    };
    let request = ApiRequest {
        method: method.clone(),
        path,
        params: parse_query(query),
        body,
    };
    let mut unknown: Vec<&str> = request
        .params
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !params.contains(k) && !GLOBAL_PARAMS.contains(k))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    if !unknown.is_empty() {
        let plural = if unknown.len() > 1 { "s" } else { "" };
        let list: Vec<String> = unknown.iter().map(|k| format!("[{k}]")).collect();
        return Err(EsError::illegal_argument(format!(
            "request [{path}] contains unrecognized parameter{plural}: {}",
            list.join(", ")
        ))
        .into());
    }
    let store = Store::new(upstream);
    match endpoint {
        Endpoint::Connectors if *method == Method::GET => connectors::list(&store, &request).await,
        Endpoint::Connectors => connectors::create(&store, &request, None).await,
        Endpoint::Connector(id) => match *method {
            Method::GET => connectors::get(&store, &request, &id).await,
            Method::DELETE => connectors::delete(&store, &request, &id).await,
            _ => connectors::create(&store, &request, Some(&id)).await,
        },
        Endpoint::ConnectorAction(id, "_check_in") => {
            connectors::check_in(&store, &request, &id).await
        }
        Endpoint::ConnectorAction(id, action) => {
            connector_updates::update(&store, &request, &id, action).await
        }
        Endpoint::SyncJobs if *method == Method::GET => sync_jobs::list(&store, &request).await,
        Endpoint::SyncJobs => sync_jobs::create(&store, &request).await,
        Endpoint::SyncJob(job) if *method == Method::GET => {
            sync_jobs::get(&store, &request, &job).await
        }
        Endpoint::SyncJob(job) => sync_jobs::delete(&store, &request, &job).await,
        Endpoint::SyncJobAction(job, action) => {
            sync_jobs::action(&store, &request, &job, action).await
        }
    }
}

/// ES refuses a body on endpoints that do not read one.
pub(crate) fn no_body(request: &ApiRequest<'_>) -> Result<(), EsError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        Ok(())
    } else {
        Err(EsError::illegal_argument(format!(
            "request [{} {}] does not support having a body",
            request.method, request.path
        )))
    }
}

/// `{"result": "updated"}`-style answers of the update endpoints.
pub(crate) fn result_body(result: &str) -> (StatusCode, Value) {
    (StatusCode::OK, serde_json::json!({ "result": result }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/').map(str::to_string).collect()
    }

    #[test]
    fn routes() {
        assert!(matches!(route(&[]), Some(Endpoint::Connectors)));
        assert!(matches!(
            route(&segs("c1/_filtering/_activate")),
            Some(Endpoint::ConnectorAction(_, "_filtering/_activate"))
        ));
        assert!(matches!(
            route(&segs("_sync_job/j1/_claim")),
            Some(Endpoint::SyncJobAction(_, "_claim"))
        ));
        assert!(route(&segs("c1/_nope")).is_none());
        assert!(route(&segs("_sync_job/j1/_nope")).is_none());
    }

    #[test]
    fn query_strings() {
        let params = parse_query(Some("a=1&b&c=x%2Cy&d=a+b"));
        assert_eq!(params[1], ("b".to_string(), String::new()));
        assert_eq!(params[2].1, "x,y");
        assert_eq!(params[3].1, "a b");
    }
}
