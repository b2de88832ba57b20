//! The HTTP surface: Graph v1.0 routes (behind `gate`), downloads, the token endpoint, and the control
//! endpoints. One file per Graph area.

mod chats;
mod drives;
mod teams;
mod token;
mod users;

use std::sync::Arc;

use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::Value;

use super::errors::GraphError;
use super::paging::ListQuery;
use super::{control, gate, AppState};

pub type Shared = Arc<AppState>;
pub type GraphResult = Result<Json<Value>, GraphError>;

pub fn router(state: Shared) -> Router {
    let graph = Router::new()
        .route("/v1.0/me", get(users::me))
        .route("/v1.0/me/chats", get(chats::my_chats))
        .route("/v1.0/me/events", get(users::my_events))
        .route("/v1.0/me/drive", get(drives::my_drive))
        .route("/v1.0/users", get(users::list))
        .route("/v1.0/users/{user}", get(users::one))
        .route("/v1.0/users/{user}/chats", get(chats::user_chats))
        .route("/v1.0/users/{user}/events", get(users::events))
        .route("/v1.0/users/{user}/drive", get(drives::user_drive))
        .route("/v1.0/chats", get(chats::my_chats))
        .route("/v1.0/chats/{chat}", get(chats::one))
        .route("/v1.0/chats/{chat}/members", get(chats::members))
        .route("/v1.0/chats/{chat}/messages", get(chats::messages))
        .route("/v1.0/chats/{chat}/messages/{message}", get(chats::message))
        .route("/v1.0/chats/{chat}/tabs", get(chats::tabs))
        .route("/v1.0/teams", get(teams::list))
        .route("/v1.0/teams/{team}", get(teams::one))
        .route("/v1.0/teams/{team}/channels", get(teams::channels))
        .route("/v1.0/teams/{team}/channels/{channel}", get(teams::channel))
        .route(
            "/v1.0/teams/{team}/channels/{channel}/tabs",
            get(teams::tabs),
        )
        .route(
            "/v1.0/teams/{team}/channels/{channel}/messages",
            get(teams::messages),
        )
        .route(
            "/v1.0/teams/{team}/channels/{channel}/messages/{message}",
            get(teams::message),
        )
        .route(
            "/v1.0/teams/{team}/channels/{channel}/messages/{message}/replies",
            get(teams::replies),
        )
        .route(
            "/v1.0/teams/{team}/channels/{channel}/filesFolder",
            get(teams::files_folder),
        )
        .route("/v1.0/drives/{drive}", get(drives::drive))
        .route("/v1.0/drives/{drive}/root", get(drives::root))
        .route(
            "/v1.0/drives/{drive}/root/children",
            get(drives::root_children),
        )
        .route("/v1.0/drives/{drive}/items/root", get(drives::root))
        .route(
            "/v1.0/drives/{drive}/items/root/children",
            get(drives::root_children),
        )
        .route("/v1.0/drives/{drive}/items/{item}", get(drives::item))
        .route(
            "/v1.0/drives/{drive}/items/{item}/children",
            get(drives::children),
        )
        .route(
            "/v1.0/drives/{drive}/items/{item}/content",
            get(drives::content),
        )
        .route("/_download/{item}", get(drives::download))
        .route_layer(middleware::from_fn_with_state(state.clone(), gate::gate));
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(token::openid_configuration),
        )
        .merge(graph)
        .merge(control::router())
        .fallback(unknown)
        .with_state(state)
}

/// Graph answers an unknown segment with 400.
async fn unknown(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
    let segment = path.rsplit('/').next().unwrap_or_default().to_string();
    GraphError::bad_request(format!("Resource not found for the segment '{segment}'."))
}

fn list_query(raw: Option<String>) -> Result<ListQuery, GraphError> {
    ListQuery::parse(raw.as_deref())
}
