//! The request pipeline of the front, in the order ES applies it: read the body, validate media types,
//! authenticate, authorize, then answer locally (`/`, `/_license`, `/_security/*`, `/_connector*`, `/_ingest/*`,
//! and the `/_standin/*` test hooks) or forward to osmem (with the connector templates merged into index
//! creation; bulk and single-document writes go through `writes.rs` for item authorization, injected faults and
//! ingest pipelines).
//! Every response gets `X-Elastic-Product: Elasticsearch` and, when asked for, the vendor content type.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;

use super::actions::{self, Required};
use super::api_keys::ApiKeyStore;
use super::auth::{self, Principal};
use super::authz::{self, Verdict};
use super::bulk::{self, BulkPlan};
use super::errors::{json_response, EsError, FrontError};
use super::faults::FaultStore;
use super::info::ClusterIdentity;
use super::ingest::PipelineStore;
use super::media;
use super::proxy::{Upstream, UpstreamResponse};
use super::request_log::RequestLog;
use super::{connector_api, security, templates, writes};

/// Largest request body accepted. ES defaults to 100 MiB (`http.max_content_length`); bulk requests from the
/// service stay far below, and the bound keeps a runaway test from exhausting memory.
pub(crate) const MAX_REQUEST_BODY: usize = 256 * 1024 * 1024;

/// Shared by all requests.
pub(crate) struct FrontState {
    pub(crate) identity: ClusterIdentity,
    pub(crate) password: String,
    pub(crate) keys: ApiKeyStore,
    pub(crate) upstream: Upstream,
    pub(crate) pipelines: PipelineStore,
    pub(crate) faults: FaultStore,
    pub(crate) requests: RequestLog,
}

pub(crate) fn router(state: Arc<FrontState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<Arc<FrontState>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let (mut response, principal) = match respond(&state, request).await {
        Ok(done) => done,
        Err(err) => (err.into_response(), None),
    };
    response.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    if !path.starts_with("/_standin/requests") {
        state
            .requests
            .record(&method, &path, query.as_deref(), response.status().as_u16());
    }
    // Never the credentials: only who (user name or key id) did what.
    tracing::debug!(
        %method,
        %path,
        status = response.status().as_u16(),
        principal = principal.as_ref().map(Principal::log_label).unwrap_or_default(),
        "request"
    );
    response
}

async fn respond(
    state: &FrontState,
    request: Request,
) -> Result<(Response, Option<Principal>), EsError> {
    let (parts, body) = request.into_parts();
    let body = read_body(body).await.map_err(FrontError::into_es_error)?;
    let negotiated = media::negotiate(&parts.headers, !body.is_empty(), state.identity.major())?;
    let uri = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/")
        .to_string();
    let now_ms = chrono::Utc::now().timestamp_millis();

    // From here on ES answers errors in the negotiated media type too.
    let (mut response, principal) = match authorized(state, &parts, &uri, body, now_ms).await {
        Ok((response, principal)) => (response, Some(principal)),
        Err(err) => (err.into_response(), None),
    };
    let upstream_type = response.headers().get(header::CONTENT_TYPE).cloned();
    if let Some(vendor) = media::response_content_type(negotiated, upstream_type.as_ref()) {
        response.headers_mut().insert(header::CONTENT_TYPE, vendor);
    }
    Ok((response, principal))
}

/// Authenticates and authorizes, then answers.
async fn authorized(
    state: &FrontState,
    parts: &axum::http::request::Parts,
    uri: &str,
    body: Bytes,
    now_ms: i64,
) -> Result<(Response, Principal), EsError> {
    let principal = auth::authenticate(&parts.headers, uri, &state.password, &state.keys, now_ms)?;
    let required = actions::classify(&parts.method, parts.uri.path(), parts.uri.query());
    let response = match (authz::authorize(&principal, &required, &body)?, &required) {
        (Verdict::PartialBulk(plan), _) => writes::bulk(state, parts, &body, plan).await?,
        (Verdict::Allow, Required::Bulk { default_index }) => {
            let plan = BulkPlan::new(bulk::parse(&body, default_index.as_deref())?);
            writes::bulk(state, parts, &body, plan).await?
        }
        (Verdict::Allow, _) => route(state, parts, uri, body, &principal, now_ms).await?,
    };
    Ok((response, principal))
}

async fn read_body(body: Body) -> Result<Bytes, FrontError> {
    axum::body::to_bytes(body, MAX_REQUEST_BODY)
        .await
        .map_err(|e| {
            let inner = e.into_inner();
            if inner
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                FrontError::BodyTooLarge {
                    limit: MAX_REQUEST_BODY,
                }
            } else {
                FrontError::BodyRead(inner.to_string())
            }
        })
}

async fn route(
    state: &FrontState,
    parts: &axum::http::request::Parts,
    uri: &str,
    body: Bytes,
    principal: &Principal,
    now_ms: i64,
) -> Result<Response, EsError> {
    let method = &parts.method;
    let path = parts.uri.path();
    match (method, path) {
        (&Method::GET, "/") => return Ok(json_response(StatusCode::OK, &state.identity.root())),
        (&Method::HEAD, "/") => return Ok(head_of(&state.identity.root())),
        (&Method::GET, "/_license") => {
            return Ok(json_response(StatusCode::OK, &state.identity.license()))
        }
        _ => {}
    }
    if connector_api::is_connector_path(path) {
        // Authorized as a cluster action above; the API then works on the system indices itself.
        return Ok(
            connector_api::handle(&state.upstream, method, path, parts.uri.query(), &body).await,
        );
    }
    if path.starts_with("/_security/") {
        let answer = security::handle(method, path, parts.uri.query(), &body, principal, &state.keys, now_ms)
            .unwrap_or_else(|| {
                Err(EsError::illegal_argument(format!(
                    "no handler found for uri [{uri}] and method [{method}] (not implemented by es-standin)"
                )))
            })?;
        return Ok(json_response(StatusCode::OK, &answer));
    }
    if path == "/_ingest" || path.starts_with("/_ingest/") {
        let (status, answer) = state
            .pipelines
            .handle(method, path, parts.uri.query(), &body)?;
        return Ok(json_response(status, &answer));
    }
    if path == "/_standin" || path.starts_with("/_standin/") {
        if !matches!(principal, Principal::Elastic) {
            return Err(EsError::forbidden(format!(
                "action [cluster:admin/es_standin/faults] is unauthorized for {}, the es-standin test hooks are only granted to the [elastic] user",
                principal.denial_subject()
            )));
        }
        let (status, answer) = if path.trim_end_matches('/') == "/_standin/requests" {
            state.requests.handle(method)?
        } else {
            state.faults.handle(method, path, &body)?
        };
        return Ok(json_response(status, &answer));
    }
    if let Some(target) = writes::doc_target(method, path) {
        return writes::single(state, parts, body, target).await;
    }
    let mut headers = parts.headers.clone();
    let mut body = body;
    let templated = match templated_index(method, path) {
        Some(index) => templates::apply(index, &body)?,
        None => None,
    };
    if let Some(merged) = templated {
        body = Bytes::from(merged);
        // The client may have sent no body, hence no content type; the merged body is JSON.
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let upstream = state
        .upstream
        .send(method.clone(), uri, &headers, body)
        .await;
    Ok(passthrough(upstream.map_err(FrontError::into_es_error)?))
}

/// `PUT /<index>` (exactly one path segment) is index creation, where built-in templates apply.
fn templated_index<'a>(method: &Method, path: &'a str) -> Option<&'a str> {
    let index = path.strip_prefix('/')?;
    (*method == Method::PUT && !index.is_empty() && !index.contains('/')).then_some(index)
}

/// osmem's answer, status, headers and body as they came.
pub(crate) fn passthrough(upstream: UpstreamResponse) -> Response {
    let mut response = Response::new(Body::from(upstream.body));
    *response.status_mut() = upstream.status;
    *response.headers_mut() = upstream.headers;
    response
}

/// A HEAD answer for a JSON resource: the GET's headers, including its length, and no body.
fn head_of(resource: &serde_json::Value) -> Response {
    let len = serde_json::to_vec(resource).map(|b| b.len()).unwrap_or(0);
    let mut response = json_response(StatusCode::OK, &serde_json::Value::Null);
    *response.body_mut() = Body::empty();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}
