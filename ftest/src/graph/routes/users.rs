//! `/me`, `/users`, `/users/{id}` and calendars (`/users/{id}/events`, `/me/events`).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::json;

use super::{list_query, GraphResult, Shared};
use crate::graph::auth::{Caller, TokenKind};
use crate::graph::data::render::Ctx;
use crate::graph::data::{Dataset, User};
use crate::graph::errors::GraphError;
use crate::graph::paging::{listing, next_link, page};

/// Default and largest `/users` page, as Graph has them.
const USERS_PAGE: (usize, usize) = (100, 999);
/// Default and largest events page (Outlook).
const EVENTS_PAGE: (usize, usize) = (10, 1000);

/// The signed-in user of a delegated token; app tokens get Graph's 400.
pub fn signed_in<'a>(ds: &'a Dataset, caller: &Caller) -> Result<&'a User, GraphError> {
    match &caller.kind {
        TokenKind::Delegated { user_id } => ds
            .user(user_id)
            .ok_or_else(|| GraphError::not_found(user_id)),
        TokenKind::App => Err(GraphError::bad_request(
            "/me request is only valid with delegated authentication flow.",
        )),
    }
}

fn user_not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}

pub async fn me(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> GraphResult {
    let base = s.base(&headers);
    let ds = s.data();
    let user = signed_in(&ds, &caller)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.user(user);
    v["@odata.context"] = json!(ctx.context("users/$entity"));
    Ok(Json(v))
}

pub async fn list(
    State(s): State<Shared>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    let size = q.page_size(USERS_PAGE.0, USERS_PAGE.1, true)?;
    let base = s.base(&headers);
    let ds = s.data();
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let (items, next) = page(
        ds.users.iter().collect(),
        |u| u.seq,
        false,
        size,
        q.skiptoken,
    );
    let next = next.map(|t| next_link(&base, "/v1.0/users", &q.raw, "$skiptoken", &t));
    Ok(Json(listing(
        ctx.context("users"),
        items.into_iter().map(|u| q.selected(ctx.user(u))).collect(),
        next,
    )))
}

pub async fn one(
    State(s): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let base = s.base(&headers);
    let ds = s.data();
    let user = ds.user(&id).ok_or_else(|| user_not_found(&id))?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.user(user);
    v["@odata.context"] = json!(ctx.context("users/$entity"));
    Ok(Json(v))
}

pub async fn my_events(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let id = {
        let ds = s.data();
        signed_in(&ds, &caller)?.id.clone()
    };
    events_of(&s, &caller, &id, "/v1.0/me/events", raw, &headers)
}

pub async fn events(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let path = format!(
        "/v1.0/users/{}/events",
        crate::graph::data::words::url_segment(&id)
    );
    events_of(&s, &caller, &id, &path, raw, &headers)
}

fn events_of(
    s: &Shared,
    caller: &Caller,
    id: &str,
    path: &str,
    raw: Option<String>,
    headers: &HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    let size = q.page_size(EVENTS_PAGE.0, EVENTS_PAGE.1, false)?;
    let base = s.base(headers);
    let ds = s.data();
    let user = ds.user(id).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{id}' is invalid."),
        )
    })?;
    if let TokenKind::Delegated { user_id } = &caller.kind {
        if user_id != &user.id {
            return Err(GraphError::new(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ));
        }
    }
    if !user.has_mailbox() {
        return Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        ));
    }
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let items: Vec<_> = user.events.iter().skip(q.skip).take(size).collect();
    let next = (q.skip + size < user.events.len())
        .then(|| next_link(&base, path, &q.raw, "$skip", &(q.skip + size).to_string()));
    Ok(Json(listing(
        ctx.context(&format!("users('{}')/events", user.id)),
        items
            .into_iter()
            .map(|e| q.selected(ctx.event(e)))
            .collect(),
        next,
    )))
}
