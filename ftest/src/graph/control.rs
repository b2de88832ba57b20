//! `/_fixture/*`: test hooks, not Graph APIs, no authentication. Expected documents, mutations, request
//! counters, fault configuration, token expiry, and a summary of the fixture's identity.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::expected::{self, Mode};
use super::faults::FaultConfig;
use super::mutate::{self, MutationRequest};
use super::routes::Shared;

#[derive(Debug, Default, Deserialize)]
pub struct ModeQuery {
    mode: Option<String>,
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/_fixture/info", get(info))
        .route("/_fixture/expected", get(expected_docs))
        .route("/_fixture/mutate", post(mutate_data))
        .route("/_fixture/requests", get(requests))
        .route("/_fixture/requests/reset", post(reset_requests))
        .route(
            "/_fixture/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/_fixture/tokens/expire", post(expire_tokens))
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

fn mode(q: &ModeQuery) -> Result<Mode, String> {
    Mode::parse(q.mode.as_deref())
}

async fn info(State(s): State<Shared>) -> Response {
    let ds = s.data();
    let me = ds.me();
    Json(json!({
        "tenant": s.creds.tenant,
        "tenant_guid": ds.tenant.id,
        "client_id": s.creds.client_id,
        "delegated_user": {"id": me.id, "userPrincipalName": me.user_principal_name, "displayName": me.display_name},
        "data_size": s.size.to_string(),
        "seed": ds.seed,
        "users": ds.users.len(),
        "chats": ds.chats.len(),
        "teams": ds.teams.len(),
        "channels": ds.teams.iter().map(|t| t.channels.len()).sum::<usize>(),
        "drive_items": ds.drives.items.len(),
        "mutations": ds.mutations,
        "corpus_files": s.corpus.files.iter().map(|f| f.file_name.clone()).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn expected_docs(State(s): State<Shared>, Query(q): Query<ModeQuery>) -> Response {
    let mode = match mode(&q) {
        Ok(m) => m,
        Err(e) => return bad_request(e),
    };
    let ds = s.data();
    Json(expected::summary(&expected::expected(&ds, mode))).into_response()
}

async fn mutate_data(State(s): State<Shared>, Query(q): Query<ModeQuery>, body: Bytes) -> Response {
    let mode = match mode(&q) {
        Ok(m) => m,
        Err(e) => return bad_request(e),
    };
    let req: MutationRequest = if body.is_empty() {
        MutationRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return bad_request(format!("bad mutation request: {e}")),
        }
    };
    let result = {
        let mut ds = s.data_mut();
        mutate::apply(&mut ds, &s.corpus, &req, mode)
    };
    tracing::info!(applied = %result["applied"], "data mutated");
    Json(result).into_response()
}

async fn requests(State(s): State<Shared>) -> Response {
    Json(s.counters().snapshot()).into_response()
}

async fn reset_requests(State(s): State<Shared>) -> Response {
    s.counters().reset();
    Json(s.counters().snapshot()).into_response()
}

async fn get_faults(State(s): State<Shared>) -> Response {
    Json(json!(s.faults().config)).into_response()
}

async fn set_faults(State(s): State<Shared>, body: Bytes) -> Response {
    let config: FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad_request(format!("bad fault configuration: {e}")),
    };
    let result = s.faults().set(config);
    match result {
        Ok(()) => {
            tracing::info!(faults = %json!(s.faults().config), "faults set");
            Json(json!(s.faults().config)).into_response()
        }
        Err(e) => bad_request(e),
    }
}

async fn clear_faults(State(s): State<Shared>) -> Response {
    s.faults().clear();
    Json(json!(s.faults().config)).into_response()
}

async fn expire_tokens(State(s): State<Shared>) -> Response {
    let n = s.tokens().expire_all();
    Json(json!({"expired": n})).into_response()
}
