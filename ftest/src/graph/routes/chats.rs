//! Chats: the signed-in user's (`/chats`, `/me/chats`), any user's (`/users/{id}/chats`, app tokens),
//! members, messages and tabs.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde_json::json;

use super::users::signed_in;
use super::{list_query, GraphResult, Shared};
use crate::graph::auth::{Caller, TokenKind};
use crate::graph::data::render::Ctx;
use crate::graph::data::words::url_segment;
use crate::graph::data::{Chat, Dataset};
use crate::graph::errors::GraphError;
use crate::graph::paging::{listing, next_link, page};

/// Default and largest page of chats and of chat messages (Graph refuses `$top` above 50).
const CHATS_PAGE: (usize, usize) = (20, 50);
const MESSAGES_PAGE: (usize, usize) = (20, 50);

fn chat_not_found(id: &str) -> GraphError {
    GraphError::not_found(id)
}

/// A chat the caller may read: any chat for app tokens, the user's own chats for delegated ones.
fn readable<'a>(ds: &'a Dataset, caller: &Caller, id: &str) -> Result<&'a Chat, GraphError> {
    let chat = ds.chat(id).ok_or_else(|| chat_not_found(id))?;
    match &caller.kind {
        TokenKind::App => Ok(chat),
        TokenKind::Delegated { user_id } if chat.has_member(user_id) => Ok(chat),
        TokenKind::Delegated { .. } => Err(GraphError::forbidden("Forbidden")),
    }
}

fn chats_of(
    s: &Shared,
    user_id: &str,
    path: &str,
    raw: Option<String>,
    headers: &HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    q.no_select()?;
    let size = q.page_size(CHATS_PAGE.0, CHATS_PAGE.1, true)?;
    let base = s.base(headers);
    let ds = s.data();
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mine: Vec<&Chat> = ds.chats.iter().filter(|c| c.has_member(user_id)).collect();
    let (items, next) = page(mine, |c| c.seq, false, size, q.skiptoken);
    let next = next.map(|t| next_link(&base, path, &q.raw, "$skiptoken", &t));
    let expand = q.expands("members");
    Ok(Json(listing(
        ctx.context(if expand { "chats(members())" } else { "chats" }),
        items.into_iter().map(|c| ctx.chat(c, expand)).collect(),
        next,
    )))
}

pub async fn my_chats(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let id = {
        let ds = s.data();
        match signed_in(&ds, &caller) {
            Ok(u) => u.id.clone(),
            Err(_) => {
                return Err(GraphError::bad_request(
                    "Requested API is not supported in application-only context",
                ))
            }
        }
    };
    chats_of(&s, &id, "/v1.0/chats", raw, &headers)
}

pub async fn user_chats(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let id = {
        let ds = s.data();
        let u = ds.user(&user).ok_or_else(|| GraphError::not_found(&user))?;
        if let TokenKind::Delegated { user_id } = &caller.kind {
            if user_id != &u.id {
                return Err(GraphError::forbidden("Forbidden"));
            }
        }
        u.id.clone()
    };
    let path = format!("/v1.0/users/{}/chats", url_segment(&user));
    chats_of(&s, &id, &path, raw, &headers)
}

pub async fn one(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    let base = s.base(&headers);
    let ds = s.data();
    let chat = readable(&ds, &caller, &id)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.chat(chat, q.expands("members"));
    v["@odata.context"] = json!(ctx.context("chats/$entity"));
    Ok(Json(v))
}

pub async fn members(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let base = s.base(&headers);
    let ds = s.data();
    let chat = readable(&ds, &caller, &id)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    Ok(Json(listing(
        ctx.context(&format!("chats('{}')/members", url_segment(&id))),
        chat.members.iter().map(|m| ctx.member(m)).collect(),
        None,
    )))
}

pub async fn messages(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    q.no_select()?;
    let size = q.page_size(MESSAGES_PAGE.0, MESSAGES_PAGE.1, true)?;
    let base = s.base(&headers);
    let ds = s.data();
    let chat = readable(&ds, &caller, &id)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    // Newest first, as Graph lists chat messages.
    let newest_first: Vec<_> = chat.messages.iter().rev().collect();
    let (items, next) = page(newest_first, |m| m.seq, true, size, q.skiptoken);
    let path = format!("/v1.0/chats/{}/messages", url_segment(&id));
    let next = next.map(|t| next_link(&base, &path, &q.raw, "$skiptoken", &t));
    let values: Vec<_> = items
        .into_iter()
        .map(|m| ctx.message(m, Some(&chat.id), None, false))
        .collect();
    let mut v = listing(
        ctx.context(&format!("chats('{}')/messages", url_segment(&id))),
        values,
        next,
    );
    v["@odata.count"] = json!(v["value"].as_array().map_or(0, Vec::len));
    Ok(Json(v))
}

pub async fn message(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((id, message)): Path<(String, String)>,
    headers: HeaderMap,
) -> GraphResult {
    let base = s.base(&headers);
    let ds = s.data();
    let chat = readable(&ds, &caller, &id)?;
    let m = chat
        .messages
        .iter()
        .find(|m| m.id == message)
        .ok_or_else(|| GraphError::not_found(&message))?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.message(m, Some(&chat.id), None, false);
    v["@odata.context"] =
        json!(ctx.context(&format!("chats('{}')/messages/$entity", url_segment(&id))));
    Ok(Json(v))
}

pub async fn tabs(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    let base = s.base(&headers);
    let ds = s.data();
    let chat = readable(&ds, &caller, &id)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    Ok(Json(listing(
        ctx.context(&format!("chats('{}')/tabs", url_segment(&id))),
        chat.tabs.iter().map(|t| q.selected(ctx.tab(t))).collect(),
        None,
    )))
}
