//! Teams and channels: `/teams`, channels (private ones only for their members when the token is
//! delegated), channel tabs, channel messages with `$expand=replies`, replies, and `filesFolder`.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde_json::json;

use super::{list_query, GraphResult, Shared};
use crate::graph::auth::{Caller, TokenKind};
use crate::graph::data::render::Ctx;
use crate::graph::data::words::url_segment;
use crate::graph::data::{Channel, Dataset, Team};
use crate::graph::errors::GraphError;
use crate::graph::paging::{listing, next_link, page};

const TEAMS_PAGE: (usize, usize) = (100, 999);
/// Channel messages: Graph's default page is 20 and `$top` may not exceed 50.
const MESSAGES_PAGE: (usize, usize) = (20, 50);
/// Replies expanded inline at most (Graph caps `$expand=replies` at 1000).
const MAX_EXPANDED_REPLIES: usize = 1000;

fn can_see(caller: &Caller, channel: &Channel) -> bool {
    match &caller.kind {
        TokenKind::App => true,
        TokenKind::Delegated { user_id } => channel.visible_to(user_id),
    }
}

fn channel_of<'a>(
    ds: &'a Dataset,
    caller: &Caller,
    team: &str,
    channel: &str,
) -> Result<(&'a Team, &'a Channel), GraphError> {
    let team_ref = ds.team(team).ok_or_else(|| GraphError::not_found(team))?;
    let (team_ref, ch) = ds
        .channel(&team_ref.id, channel)
        .ok_or_else(|| GraphError::not_found(channel))?;
    if !can_see(caller, ch) {
        return Err(GraphError::forbidden(
            "Caller is not a member of this private channel.",
        ));
    }
    Ok((team_ref, ch))
}

pub async fn list(
    State(s): State<Shared>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    let size = q.page_size(TEAMS_PAGE.0, TEAMS_PAGE.1, false)?;
    let base = s.base(&headers);
    let ds = s.data();
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let (items, next) = page(
        ds.teams.iter().collect(),
        |t| t.seq,
        false,
        size,
        q.skiptoken,
    );
    let next = next.map(|t| next_link(&base, "/v1.0/teams", &q.raw, "$skiptoken", &t));
    Ok(Json(listing(
        ctx.context("teams"),
        items.into_iter().map(|t| q.selected(ctx.team(t))).collect(),
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
    let team = ds.team(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.team(team);
    v["@odata.context"] = json!(ctx.context("teams/$entity"));
    Ok(Json(v))
}

pub async fn channels(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    let base = s.base(&headers);
    let ds = s.data();
    let team = ds.team(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    Ok(Json(listing(
        ctx.context(&format!("teams('{id}')/channels")),
        team.channels
            .iter()
            .filter(|c| can_see(&caller, c))
            .map(|c| q.selected(ctx.channel(team, c)))
            .collect(),
        None,
    )))
}

pub async fn channel(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((team, channel)): Path<(String, String)>,
    headers: HeaderMap,
) -> GraphResult {
    let base = s.base(&headers);
    let ds = s.data();
    let (team, ch) = channel_of(&ds, &caller, &team, &channel)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.channel(team, ch);
    v["@odata.context"] = json!(ctx.context(&format!("teams('{}')/channels/$entity", team.id)));
    Ok(Json(v))
}

pub async fn tabs(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((team, channel)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    let base = s.base(&headers);
    let ds = s.data();
    let (team, ch) = channel_of(&ds, &caller, &team, &channel)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    Ok(Json(listing(
        ctx.context(&format!(
            "teams('{}')/channels('{}')/tabs",
            team.id,
            url_segment(&ch.id)
        )),
        ch.tabs.iter().map(|t| q.selected(ctx.tab(t))).collect(),
        None,
    )))
}

pub async fn messages(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((team, channel)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    q.no_select()?;
    let size = q.page_size(MESSAGES_PAGE.0, MESSAGES_PAGE.1, true)?;
    let base = s.base(&headers);
    let ds = s.data();
    let (team, ch) = channel_of(&ds, &caller, &team, &channel)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let newest_first: Vec<_> = ch.messages.iter().rev().collect();
    let (items, next) = page(newest_first, |m| m.seq, true, size, q.skiptoken);
    let path = format!(
        "/v1.0/teams/{}/channels/{}/messages",
        team.id,
        url_segment(&ch.id)
    );
    let next = next.map(|t| next_link(&base, &path, &q.raw, "$skiptoken", &t));
    let expand = q.expands("replies");
    let values: Vec<_> = items
        .into_iter()
        .map(|m| {
            let mut v = ctx.message(m, None, Some((&team.id, &ch.id)), expand);
            if let Some(replies) = v.get_mut("replies").and_then(|r| r.as_array_mut()) {
                replies.truncate(MAX_EXPANDED_REPLIES);
            }
            v
        })
        .collect();
    let mut v = listing(
        ctx.context(&format!(
            "teams('{}')/channels('{}')/messages{}",
            team.id,
            url_segment(&ch.id),
            if expand { "(replies())" } else { "" }
        )),
        values,
        next,
    );
    v["@odata.count"] = json!(v["value"].as_array().map_or(0, Vec::len));
    Ok(Json(v))
}

pub async fn message(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((team, channel, message)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    let base = s.base(&headers);
    let ds = s.data();
    let (team, ch) = channel_of(&ds, &caller, &team, &channel)?;
    let m = ch
        .messages
        .iter()
        .find(|m| m.id == message)
        .ok_or_else(|| GraphError::not_found(&message))?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    Ok(Json(ctx.message(
        m,
        None,
        Some((&team.id, &ch.id)),
        q.expands("replies"),
    )))
}

pub async fn replies(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((team, channel, message)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    q.no_filter()?;
    let size = q.page_size(MESSAGES_PAGE.0, MESSAGES_PAGE.1, true)?;
    let base = s.base(&headers);
    let ds = s.data();
    let (team, ch) = channel_of(&ds, &caller, &team, &channel)?;
    let m = ch
        .messages
        .iter()
        .find(|m| m.id == message)
        .ok_or_else(|| GraphError::not_found(&message))?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let (items, next) = page(
        m.replies.iter().collect(),
        |r| r.seq,
        false,
        size,
        q.skiptoken,
    );
    let path = format!(
        "/v1.0/teams/{}/channels/{}/messages/{}/replies",
        team.id,
        url_segment(&ch.id),
        m.id
    );
    let next = next.map(|t| next_link(&base, &path, &q.raw, "$skiptoken", &t));
    Ok(Json(listing(
        ctx.context(&format!(
            "teams('{}')/channels('{}')/messages('{}')/replies",
            team.id,
            url_segment(&ch.id),
            m.id
        )),
        items
            .into_iter()
            .map(|r| ctx.message(r, None, Some((&team.id, &ch.id)), false))
            .collect(),
        next,
    )))
}

pub async fn files_folder(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((team, channel)): Path<(String, String)>,
    headers: HeaderMap,
) -> GraphResult {
    let base = s.base(&headers);
    let ds = s.data();
    let (team, ch) = channel_of(&ds, &caller, &team, &channel)?;
    let folder = ds
        .drives
        .items
        .get(&ch.folder_id)
        .ok_or_else(GraphError::item_not_found)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.item(folder);
    v["@odata.context"] = json!(ctx.context(&format!(
        "teams('{}')/channels('{}')/filesFolder/$entity",
        team.id,
        url_segment(&ch.id)
    )));
    Ok(Json(v))
}
