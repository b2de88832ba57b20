//! The middleware every Graph route and download passes: counts the request by endpoint class, checks the
//! bearer token (Graph routes only), then applies the configured faults in this order — overrides (a canned
//! status and body), forbidden paths (403), failing paths (500), throttling (429), the random error rate, slowness — runs the handler and
//! maybe truncates its JSON. Adds Graph's `request-id` / `client-request-id` headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use super::auth::Caller;
use super::errors::{request_id, GraphError};
use super::throttle::{Charge, Headroom, Tenant};
use super::AppState;

/// Outlook's concurrent-request limit per app per mailbox.
const OUTLOOK_CONCURRENCY: usize = 4;
/// Largest response body the truncation fault buffers; bigger bodies pass untouched.
const MAX_TRUNCATE_BODY: usize = 16 * 1024 * 1024;

/// The endpoint class of a route template, for counters and throttling.
pub fn classify(route: &str) -> &'static str {
    if route.contains("/oauth2/") {
        "token"
    } else if route.starts_with("/_download") {
        "downloads"
    } else if route.contains("/messages") {
        "messages"
    } else if route.contains("/events") {
        "outlook"
    } else if route.contains("/drive") {
        "drives"
    } else if route.contains("/teams") || route.contains("/chats") {
        "teams"
    } else {
        "users"
    }
}

/// Percent-decodes a path (invalid escapes stay as they are).
pub fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The segment after `name` in a decoded path (`/teams/{id}/...` → id).
fn segment_after<'a>(segments: &[&'a str], name: &str) -> Option<&'a str> {
    segments
        .iter()
        .position(|s| *s == name)
        .and_then(|i| segments.get(i + 1).copied())
}

/// The buckets a request draws from (see `throttle`).
fn charges(
    route: &str,
    class: &str,
    decoded: &str,
    query: &str,
    caller: Option<&Caller>,
) -> Vec<Charge> {
    let segments: Vec<&str> = decoded.split('/').collect();
    let scoped = |limit: &'static str, scope: &str| Charge {
        limit,
        scope: scope.to_string(),
        cost: 1.0,
    };
    let mut out = Vec::new();
    if route.starts_with("/v1.0") {
        out.push(scoped("global", ""));
    }
    let team = segment_after(&segments, "teams");
    let channel = segment_after(&segments, "channels");
    match class {
        "messages" if channel.is_some() => {
            out.push(scoped("channel_messages", ""));
            out.push(scoped("team_or_channel", channel.unwrap_or_default()));
        }
        "messages" => out.push(scoped("chat_messages", "")),
        "teams" if route.ends_with("/channels") => {
            out.push(scoped("channels_list", ""));
            out.push(scoped("team_or_channel", team.unwrap_or_default()));
        }
        "teams" => {
            out.push(scoped("teams_get", ""));
            if let Some(scope) = channel.or(team) {
                out.push(scoped("team_or_channel", scope));
            }
        }
        "outlook" => {
            let mailbox = segment_after(&segments, "users")
                .map(str::to_string)
                .or_else(|| match caller.map(|c| &c.kind) {
                    Some(super::auth::TokenKind::Delegated { user_id }) => Some(user_id.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            out.push(scoped("outlook", &mailbox));
        }
        "users" => {
            let mut cost: f64 = if route == "/v1.0/users" { 2.0 } else { 1.0 };
            if query.contains("expand=") {
                cost += 1.0;
            }
            let small_top = url::form_urlencoded::parse(query.as_bytes())
                .any(|(k, v)| k == "$top" && v.parse::<u32>().is_ok_and(|t| t < 20));
            if small_top {
                cost -= 1.0;
            }
            out.push(Charge {
                limit: "directory",
                scope: String::new(),
                cost: cost.max(1.0),
            });
        }
        "drives" | "downloads" => out.push(Charge {
            limit: "files",
            scope: String::new(),
            cost: if route.ends_with("/children") {
                2.0
            } else {
                1.0
            },
        }),
        _ => {}
    }
    out
}

/// Decrements the in-flight count of a mailbox when the request ends.
struct Inflight {
    map: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    key: String,
}

impl Drop for Inflight {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

pub async fn gate(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let class = classify(&route);
    state
        .counters()
        .request(class, format!("{} {route}", req.method()));
    let raw_path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let url = if query.is_empty() {
        raw_path.clone()
    } else {
        format!("{raw_path}?{query}")
    };
    let decoded = percent_decode(&raw_path);
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&request_id()).unwrap_or(HeaderValue::from_static("0"))
        });

    let caller = if route.starts_with("/v1.0") {
        let checked = state.tokens().check(req.headers());
        match checked {
            Ok(caller) => {
                req.extensions_mut().insert(caller.clone());
                Some(caller)
            }
            Err(e) => {
                state.counters().unauthorized();
                tracing::debug!(%route, status = 401, "graph request refused");
                return with_ids(e.into_response(), client_request_id);
            }
        }
    } else {
        None
    };

    let canned = state.faults().canned(&url, &decoded);
    if let Some(canned) = canned {
        state.counters().fault();
        let own_url = format!("{}{url}", state.base(req.headers()));
        let body = canned.body.replace("{{self}}", &own_url);
        let status = StatusCode::from_u16(canned.status).unwrap_or(StatusCode::OK);
        let response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        return with_ids(response, client_request_id);
    }
    let decision = state.faults().decide(&url, &decoded);
    if decision.forbidden {
        state.counters().fault();
        return with_ids(
            GraphError::forbidden(
                "Missing scope permissions on the request. API requires one of 'ChannelMessage.Read.All, ChannelMessage.ReadWrite, Chat.Read, Chat.ReadWrite, Chat.Read.All, Calendars.Read, Files.Read.All, Sites.Read.All, User.Read.All'. Roles on the request ''. Resource specific consent grants on the request ''.",
            )
            .into_response(),
            client_request_id,
        );
    }
    if decision.fail {
        state.counters().fault();
        return with_ids(
            GraphError::injected(StatusCode::INTERNAL_SERVER_ERROR, None).into_response(),
            client_request_id,
        );
    }

    let mut _inflight = None;
    let (throttle_on, scale, overrides, retry_after, licenses, send_headroom) = {
        let f = state.faults();
        (
            f.config.throttle,
            f.config.throttle_scale,
            f.config.throttle_limits.clone(),
            f.config.retry_after_secs,
            f.config.tenant_licenses,
            f.config.rate_limit_headers,
        )
    };
    let mut headroom = None;
    if throttle_on {
        let app = caller
            .as_ref()
            .map(|c| c.app.clone())
            .unwrap_or_else(|| state.creds.client_id.clone());
        let list = charges(&route, class, &decoded, &query, caller.as_ref());
        let tenant = Tenant {
            users: state.data().users.len(),
            licenses,
        };
        let admitted =
            state
                .faults()
                .throttle
                .admit(&app, &list, scale, &overrides, tenant, Instant::now());
        headroom = match &admitted {
            Ok(h) => *h,
            Err(refusal) => refusal.headroom,
        }
        .filter(|_| send_headroom);
        if let Err(refusal) = admitted {
            state.counters().throttled();
            let message = format!(
                "Too many requests: the app exceeded the {} limit ({} requests per {} s).",
                refusal.limit, refusal.budget.requests, refusal.budget.window_secs
            );
            let response =
                GraphError::throttled(refusal.retry_after_secs, &message).into_response();
            return with_ids(with_headroom(response, headroom), client_request_id);
        }
        if class == "outlook" {
            let mailbox = list
                .iter()
                .find(|c| c.limit == "outlook")
                .map(|c| c.scope.clone())
                .unwrap_or_default();
            let key = format!("{app}|{mailbox}");
            let over = {
                let mut map = state.inflight.lock().unwrap_or_else(|p| p.into_inner());
                let n = map.entry(key.clone()).or_insert(0);
                *n += 1;
                *n > OUTLOOK_CONCURRENCY
            };
            _inflight = Some(Inflight {
                map: Arc::clone(&state.inflight),
                key,
            });
            if over {
                state.counters().throttled();
                let mut e =
                    GraphError::throttled(1, "Application is over its MailboxConcurrency limit.");
                e.code = "ApplicationThrottled".into();
                return with_ids(e.into_response(), client_request_id);
            }
        }
    }

    if let Some(status) = decision.error_status {
        state.counters().fault();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return with_ids(
            GraphError::injected(status, Some(retry_after)).into_response(),
            client_request_id,
        );
    }
    if decision.slow_ms > 0 {
        state.counters().slowed();
        tokio::time::sleep(Duration::from_millis(decision.slow_ms)).await;
    }

    if state.faults().config.ignore_select {
        drop_select(&mut req);
    }
    let response = next.run(req).await;
    let response = if decision.truncate && response.status() == StatusCode::OK && is_json(&response)
    {
        state.counters().fault();
        truncate(response).await
    } else {
        response
    };
    // Graph's answers are whole JSON bodies of a known size; a streamed body (none here) would count 0.
    let bytes = axum::body::HttpBody::size_hint(response.body()).exact();
    state.counters().answered(bytes.unwrap_or(0));
    tracing::debug!(%route, status = response.status().as_u16(), "graph request");
    with_ids(with_headroom(response, headroom), client_request_id)
}

/// SharePoint's draft-IETF `RateLimit-*` headers, when the request's budget sends them.
fn with_headroom(mut response: Response, headroom: Option<Headroom>) -> Response {
    if let Some(h) = headroom {
        let headers = response.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", h.limit),
            ("ratelimit-remaining", h.remaining),
            ("ratelimit-reset", h.reset_secs),
        ] {
            headers.insert(name, HeaderValue::from(value));
        }
    }
    response
}

/// The request without `$select` (fault `ignore_select`).
fn drop_select(req: &mut Request) {
    let Some(query) = req.uri().query() else {
        return;
    };
    let query = crate::graph::paging::without_select(query);
    let path = req.uri().path();
    let uri = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    };
    if let Ok(uri) = uri.parse() {
        *req.uri_mut() = uri;
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

/// The same response with its body cut in half (a 200 whose JSON does not parse).
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_TRUNCATE_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let cut = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

fn with_ids(mut response: Response, client_request_id: HeaderValue) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        headers.insert("request-id", v);
    }
    headers.insert("client-request-id", client_request_id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify("/v1.0/chats/{chat}/messages"), "messages");
        assert_eq!(
            classify("/v1.0/teams/{team}/channels/{channel}/messages"),
            "messages"
        );
        assert_eq!(classify("/v1.0/users/{user}/events"), "outlook");
        assert_eq!(classify("/v1.0/users/{user}/drive"), "drives");
        assert_eq!(
            classify("/v1.0/drives/{drive}/items/{item}/children"),
            "drives"
        );
        assert_eq!(classify("/v1.0/users/{user}/chats"), "teams");
        assert_eq!(
            classify("/v1.0/teams/{team}/channels/{channel}/filesFolder"),
            "teams"
        );
        assert_eq!(classify("/v1.0/me"), "users");
        assert_eq!(classify("/_download/{item}"), "downloads");
    }

    #[test]
    fn decoding() {
        assert_eq!(
            percent_decode("/teams/19%3Aab%40thread.tacv2"),
            "/teams/19:ab@thread.tacv2"
        );
        assert_eq!(percent_decode("/a%2"), "/a%2");
        assert_eq!(percent_decode("/a%zz"), "/a%zz");
    }

    #[test]
    fn channel_requests_charge_the_channel() {
        let c = charges(
            "/v1.0/teams/{team}/channels/{channel}/messages",
            "messages",
            "/v1.0/teams/t1/channels/c1/messages",
            "",
            None,
        );
        let limits: Vec<&str> = c.iter().map(|c| c.limit).collect();
        assert_eq!(
            limits,
            vec!["global", "channel_messages", "team_or_channel"]
        );
        assert_eq!(c[2].scope, "c1");
    }
}
