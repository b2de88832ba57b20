//! The Microsoft Graph HTTP client: tokens per request (auth.rs), rate limits per endpoint class sized to
//! Microsoft's published limits, retries that honour `Retry-After`, paging as a `Stream`, bounded downloads, and
//! one error classification the crawl relies on:
//! - 403 → [`GraphError::Forbidden`] naming the Graph permission the endpoint needs (not retried);
//! - 404 → [`GraphError::NotFound`] (what it means is the crawl's decision, per endpoint); a 404 on a next-link
//!   page is [`GraphError::Failed`]: the listing was under way, so it cannot be complete;
//! - 429/503 → wait `Retry-After` (capped), retry — throttling has its own, larger retry budget;
//! - 5xx, timeouts, connection failures → backoff and retry; exhausted → [`GraphError::Failed`] (for a listing,
//!   the crawl reports that part incomplete);
//! - a 2xx that does not prove itself is a failure like a 5xx (retried, then `Failed`): an empty body, a body
//!   over [`GraphSettings::max_body_bytes`], anything but a JSON object; for a listing page also a missing or
//!   non-array `value` or a next link already followed. A listing is complete only when every page was such a
//!   proven page and the last had no next link (ARCHITECTURE.md, "Completeness of a listing");
//! - 401 → the token is dropped and the request retried once with a fresh one.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::Value;

use super::auth::{AuthError, TokenProvider};
use super::hosts::DownloadHosts;
use crate::net::body::{read_capped, BodyError};
use crate::net::Outbound;
use crate::retry::Backoff;
use crate::source::ApiUsage;

/// Endpoint classes with separate request budgets (Microsoft throttles per service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointClass {
    /// Chat messages (Teams: 20 rps per app per tenant).
    ChatMessages,
    /// Channel messages (Teams: 20 rps per app per tenant).
    ChannelMessages,
    /// Teams, channels, tabs, chats and members (other Teams GETs).
    Teams,
    /// Calendar events (Outlook).
    Outlook,
    /// OneDrive/SharePoint drives, items and downloads.
    Drives,
    /// Users and everything else.
    Other,
}

impl EndpointClass {
    pub const ALL: [EndpointClass; 6] = [
        EndpointClass::ChatMessages,
        EndpointClass::ChannelMessages,
        EndpointClass::Teams,
        EndpointClass::Outlook,
        EndpointClass::Drives,
        EndpointClass::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EndpointClass::ChatMessages => "chat_messages",
            EndpointClass::ChannelMessages => "channel_messages",
            EndpointClass::Teams => "teams",
            EndpointClass::Outlook => "outlook",
            EndpointClass::Drives => "drives",
            EndpointClass::Other => "other",
        }
    }

    /// The class of a Graph path (`/chats/x/messages`, `/users/x/events`, ...).
    pub fn of(path: &str) -> EndpointClass {
        let path = path.split('?').next().unwrap_or(path);
        if path.contains("/messages") && path.starts_with("/chats") {
            EndpointClass::ChatMessages
        } else if path.contains("/messages") {
            EndpointClass::ChannelMessages
        } else if path.contains("/events") {
            EndpointClass::Outlook
        } else if path.contains("/drive")
            || path.contains("/filesFolder")
            || path.contains("/items/")
        {
            EndpointClass::Drives
        } else if path.contains("/teams") || path.contains("/chats") || path.contains("/tabs") {
            EndpointClass::Teams
        } else {
            EndpointClass::Other
        }
    }
}

/// Requests per second per endpoint class, plus the per team/channel budget. Defaults follow Microsoft's
/// published per-app-per-tenant limits: Teams allows 20 rps each for chat and channel message reads, 30 rps for
/// other GETs and 4 rps on any one team or channel; Outlook 10 000 requests per 10 minutes ≈ 16 rps (per mailbox,
/// applied here across mailboxes to stay safe); SharePoint files 1 250 resource units per minute (≈ 20.8 per
/// second; the drives class counts resource units: a children listing costs 2, other file requests 1); the rest
/// 30 rps.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    pub per_class: BTreeMap<EndpointClass, u32>,
    /// Requests per second on one team or channel (all classes together); 0 = no limit.
    pub per_team_or_channel: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_class: BTreeMap::from([
                (EndpointClass::ChatMessages, 20),
                (EndpointClass::ChannelMessages, 20),
                (EndpointClass::Teams, 30),
                (EndpointClass::Outlook, 16),
                (EndpointClass::Drives, 20),
                (EndpointClass::Other, 30),
            ]),
            per_team_or_channel: 4,
        }
    }
}

/// Which single team or channel a path addresses (`/teams/{t}/channels/{c}/...` → `c`, `/teams/{t}/...` → `t`).
fn team_or_channel(path: &str) -> Option<&str> {
    let path = path.split('?').next().unwrap_or(path);
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    if segments.next()? != "teams" {
        return None;
    }
    let team = segments.next()?;
    match (segments.next(), segments.next()) {
        (Some("channels"), Some(channel)) => Some(channel),
        _ => Some(team),
    }
}

impl RateLimits {
    /// Parses `chat_messages=20,teams=30,per_channel=4,...` over the defaults; `0` turns a limit off. An empty
    /// string keeps the defaults.
    pub fn parse(text: &str) -> Result<RateLimits, String> {
        let mut limits = RateLimits::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `class=requests_per_second`"))?;
            let rps: u32 = value.trim().parse().map_err(|_| {
                format!(
                    "`{}` is not a whole number of requests per second",
                    value.trim()
                )
            })?;
            if name.trim() == "per_channel" {
                limits.per_team_or_channel = rps;
                continue;
            }
            let class = EndpointClass::ALL
                .into_iter()
                .find(|c| c.name() == name.trim())
                .ok_or_else(|| {
                    let known: Vec<&str> = EndpointClass::ALL.iter().map(|c| c.name()).collect();
                    format!(
                        "unknown endpoint class `{}` (known: {}, per_channel)",
                        name.trim(),
                        known.join(", ")
                    )
                })?;
            limits.per_class.insert(class, rps);
        }
        Ok(limits)
    }
}

#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// `https://graph.microsoft.com/v1.0`, or a national cloud's / the fixture's.
    pub base_url: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Attempts for a failing request (5xx, timeouts, ...), the first included.
    pub max_attempts: usize,
    /// Retries after 429/503 (each waits the server's `Retry-After`).
    pub max_throttle_retries: usize,
    /// First backoff delay; doubles per attempt.
    pub retry_delay: Duration,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
    pub limits: RateLimits,
    /// Largest JSON answer read into memory; a bigger one is a failed request (retried), never an OOM.
    pub max_body_bytes: usize,
    /// Pages one listing may have; past it the listing fails (a server that keeps sending next links).
    pub max_pages: usize,
    /// Trust roots and proxy rules for Graph, sign-in and downloads (`graph.ca_certs`, the proxy variables).
    pub outbound: Outbound,
    /// Where download URLs may point (see `hosts.rs`).
    pub download_hosts: DownloadHosts,
}

impl Default for GraphSettings {
    fn default() -> Self {
        GraphSettings {
            base_url: "https://graph.microsoft.com/v1.0".into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_attempts: 4,
            max_throttle_retries: 12,
            retry_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(300),
            limits: RateLimits::default(),
            // Graph's largest pages (999 users, 50 messages with their replies) are a few MiB.
            max_body_bytes: 32 * 1024 * 1024,
            // 100 000 pages of 50 messages is five million messages in one channel: far past any real listing.
            max_pages: 100_000,
            outbound: Outbound::default(),
            download_hosts: DownloadHosts::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("Graph refused {path} (403): the app registration needs the {permission} permission, with admin consent")]
    Forbidden {
        path: String,
        permission: &'static str,
    },
    #[error("{path} was not found (404)")]
    NotFound { path: String },
    #[error("Graph rejected the access token for {path} twice (401)")]
    Unauthorized { path: String },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{path}: {reason}")]
    Failed { path: String, reason: String },
    /// A next link or download URL pointing somewhere this client does not send requests (see [`Destination`]).
    #[error("refused to follow {what} to {origin}: {rule}")]
    ForeignHost {
        what: &'static str,
        origin: String,
        rule: &'static str,
    },
}

/// What a URL out of a Graph answer is used for, which decides the hosts it may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    /// A Graph request (a next link): it carries the bearer token, so only `graph_url`'s own origin.
    Graph,
    /// A pre-authenticated download URL, requested without the token: the cloud's SharePoint/OneDrive hosts or
    /// operator-allowed ones.
    Download,
}

pub struct GraphClient {
    http: reqwest::Client,
    download_http: reqwest::Client,
    settings: GraphSettings,
    /// `settings.base_url`'s origin: the only one Graph requests (and so the token) go to.
    graph_origin: url::Origin,
    tokens: Arc<TokenProvider>,
    limiters: BTreeMap<EndpointClass, DefaultDirectRateLimiter>,
    scoped: Option<DefaultKeyedRateLimiter<String>>,
    /// Requests, throttling answers and time waited, for the progress and end-of-sync log lines.
    usage: Arc<ApiUsage>,
    /// Attempts after the first, whatever the reason (tests check that failures were retried).
    retried: AtomicU64,
}

impl GraphClient {
    pub fn new(
        settings: GraphSettings,
        tokens: Arc<TokenProvider>,
    ) -> Result<GraphClient, GraphError> {
        let graph_origin = url::Url::parse(&settings.base_url)
            .map_err(|e| GraphError::Failed {
                path: settings.base_url.clone(),
                reason: format!("not a URL: {e}"),
            })?
            .origin();
        let build = |timeout: Duration, destination: Destination| {
            // Redirects are held to the same rule as the URLs themselves, or a redirect would be a way around it.
            let origin = graph_origin.clone();
            let downloads = settings.download_hosts.clone();
            let redirects = reqwest::redirect::Policy::custom(move |attempt| {
                let allowed = match destination {
                    Destination::Graph => attempt.url().origin() == origin,
                    Destination::Download => downloads.allows(attempt.url()),
                };
                if attempt.previous().len() >= 10 || !allowed {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            });
            settings
                .outbound
                .client_builder()
                .connect_timeout(settings.connect_timeout)
                .timeout(timeout)
                .redirect(redirects)
                .user_agent(concat!("elastic-ingest-rs/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| GraphError::Failed {
                    path: settings.base_url.clone(),
                    reason: format!("cannot build the HTTP client: {e}"),
                })
        };
        let http = build(settings.request_timeout, Destination::Graph)?;
        // Downloads of up to 10 MiB get more time than a JSON page.
        let download_http = build(settings.request_timeout * 5, Destination::Download)?;
        let scoped = NonZeroU32::new(settings.limits.per_team_or_channel)
            .map(|rps| RateLimiter::keyed(Quota::per_second(rps)));
        let limiters = settings
            .limits
            .per_class
            .iter()
            .filter_map(|(class, rps)| {
                let rps = NonZeroU32::new(*rps)?;
                Some((*class, RateLimiter::direct(Quota::per_second(rps))))
            })
            .collect();
        Ok(GraphClient {
            http,
            download_http,
            settings,
            graph_origin,
            tokens,
            limiters,
            scoped,
            usage: Arc::default(),
            retried: AtomicU64::new(0),
        })
    }

    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    pub fn usage(&self) -> &Arc<ApiUsage> {
        &self.usage
    }

    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// `path` (`/teams?$top=999`) or an absolute `@odata.nextLink` → the URL to request.
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!(
                "{}{}",
                self.settings.base_url.trim_end_matches('/'),
                path_or_url
            )
        }
    }

    /// Refuses a URL from a Graph answer that points where `destination` may not go. Only the origin is named in
    /// the error (a download URL's query is a credential).
    fn check_host(&self, url: &str, destination: Destination) -> Result<(), GraphError> {
        let parsed = url::Url::parse(url).ok();
        let allowed = parsed.as_ref().is_some_and(|u| match destination {
            Destination::Graph => u.origin() == self.graph_origin,
            Destination::Download => self.settings.download_hosts.allows(u),
        });
        if allowed {
            return Ok(());
        }
        let origin = parsed.map_or_else(
            || "an unreadable URL".into(),
            |u| u.origin().ascii_serialization(),
        );
        Err(match destination {
            Destination::Graph => GraphError::ForeignHost {
                what: "a Graph link",
                origin,
                rule: "Graph requests carry the access token and go only to the host of graph_url",
            },
            Destination::Download => GraphError::ForeignHost {
                what: "a download URL",
                origin,
                rule: "downloads come only from the SharePoint/OneDrive hosts of the Graph cloud in use or from \
                       graph.allowed_hosts",
            },
        })
    }

    /// The path part of a URL for messages and classification (never the host or a token).
    fn path_of<'a>(&self, url: &'a str) -> &'a str {
        let base = self.settings.base_url.trim_end_matches('/');
        url.strip_prefix(base).unwrap_or(url)
    }

    async fn pace(&self, class: EndpointClass, path: &str) {
        if let Some(limiter) = self.limiters.get(&class) {
            // SharePoint charges 2 resource units for listing a folder's children, 1 for other file requests.
            let cost = if class == EndpointClass::Drives && path.contains("/children") {
                2
            } else {
                1
            };
            let cost = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
            if limiter.until_n_ready(cost).await.is_err() {
                // A budget below the cost (e.g. drives=1): pace one unit at a time instead.
                limiter.until_ready().await;
            }
        }
        if let (Some(limiter), Some(scope)) = (&self.scoped, team_or_channel(path)) {
            limiter.until_key_ready(&scope.to_string()).await;
        }
    }

    /// GET one JSON object. `delegated` marks endpoints the reference calls with the user's token.
    pub async fn get_json(&self, path_or_url: &str, delegated: bool) -> Result<Value, GraphError> {
        self.get_checked(path_or_url, delegated, Ok).await
    }

    /// GET a JSON object and check it with `accept`; a body that is empty, too big, not a JSON object, or that
    /// `accept` refuses (its reason) is retried like a 5xx — a 2xx proves nothing by itself.
    async fn get_checked<T>(
        &self,
        path_or_url: &str,
        delegated: bool,
        accept: impl Fn(Value) -> Result<T, String>,
    ) -> Result<T, GraphError> {
        let url = self.url(path_or_url);
        self.check_host(&url, Destination::Graph)?;
        let path = self.path_of(&url).to_string();
        let class = EndpointClass::of(&path);
        let kind = self.tokens.kind_for(delegated);
        let mut attempts = Attempts::new(self, class);
        let mut refreshed = false;
        loop {
            self.pace(class, &path).await;
            let token = self.tokens.token(kind).await?;
            self.usage.add_request();
            let outcome = self
                .http
                .get(&url)
                .bearer_auth(token.expose())
                .header("accept", "application/json")
                .send()
                .await;
            let failure = match outcome {
                Err(e) if is_certificate_failure(&e) => {
                    return Err(GraphError::Failed {
                        reason: transport_reason(&e),
                        path,
                    })
                }
                Err(e) => Retry::Failure(transport_reason(&e)),
                Ok(response) => match response.status().as_u16() {
                    200..=299 => match read_capped(response, self.settings.max_body_bytes).await {
                        Ok(body) => match json_object(&body).and_then(&accept) {
                            Ok(value) => return Ok(value),
                            Err(reason) => Retry::Failure(reason),
                        },
                        Err(BodyError::TooLarge { limit }) => {
                            Retry::Failure(format!("an answer larger than {limit} bytes"))
                        }
                        Err(BodyError::Transport(e)) => Retry::Failure(transport_reason(&e)),
                    },
                    401 if !refreshed => {
                        self.tokens.invalidate(kind, &token).await;
                        refreshed = true;
                        continue;
                    }
                    401 => return Err(GraphError::Unauthorized { path }),
                    403 => {
                        return Err(GraphError::Forbidden {
                            permission: permission_for(&path),
                            path,
                        })
                    }
                    404 => return Err(GraphError::NotFound { path }),
                    status @ (429 | 503) => {
                        Retry::Throttled(status, retry_after(response.headers()))
                    }
                    400 => {
                        return Err(GraphError::Failed {
                            reason: format!("HTTP 400: {}", error_message(response).await),
                            path,
                        })
                    }
                    status => {
                        Retry::Failure(format!("HTTP {status}: {}", error_message(response).await))
                    }
                },
            };
            let wait = attempts.next_wait(failure, &path)?;
            tracing::debug!(path = %path, wait_ms = wait.as_millis() as u64, "retrying a Graph request");
            tokio::time::sleep(wait).await;
        }
    }

    /// The pages of a listing: each item is one page's `value` array. Ends after a page without
    /// `@odata.nextLink`; the first error ends the stream after yielding it. Every page must prove itself (see
    /// [`listing_page`]); a 404 on a next-link page, a next link already followed (after retries) or more than
    /// `max_pages` pages fail the listing rather than end it early.
    pub fn pages<'a>(
        &'a self,
        path: &str,
        delegated: bool,
    ) -> impl Stream<Item = Result<Vec<Value>, GraphError>> + Send + 'a {
        let first = self.url(path);
        let state = Paging {
            next: Some(first.clone()),
            followed: HashSet::from([first]),
            pages: 0,
        };
        futures::stream::unfold(state, move |mut state| async move {
            let url = state.next.take()?;
            let path = self.path_of(&url).to_string();
            state.pages += 1;
            if state.pages > self.settings.max_pages {
                let reason = format!(
                    "more than {} pages: the listing does not end",
                    self.settings.max_pages
                );
                return Some((Err(GraphError::Failed { path, reason }), state));
            }
            let followed = &state.followed;
            let page = self
                .get_checked(&url, delegated, |page| listing_page(page, followed))
                .await;
            match page {
                Ok((items, next)) => {
                    if let Some(next) = &next {
                        state.followed.insert(next.clone());
                    }
                    state.next = next;
                    Some((Ok(items), state))
                }
                // The first page's 404 is the caller's to read; a later one means the listing broke off.
                Err(GraphError::NotFound { path }) if state.pages > 1 => {
                    let reason = "404 on a next-link page: the listing broke off".to_string();
                    Some((Err(GraphError::Failed { path, reason }), state))
                }
                Err(e) => Some((Err(e), state)),
            }
        })
    }

    /// Every item of a listing, or the first error.
    pub async fn collect(&self, path: &str, delegated: bool) -> Result<Vec<Value>, GraphError> {
        let mut all = Vec::new();
        let mut pages = std::pin::pin!(self.pages(path, delegated));
        while let Some(page) = pages.next().await {
            all.extend(page?);
        }
        Ok(all)
    }

    /// Downloads a pre-authenticated `@microsoft.graph.downloadUrl` (no Authorization header, like Graph wants),
    /// stopping with an error once more than `max_bytes` arrive whatever the headers claimed.
    pub async fn download(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, GraphError> {
        self.check_host(url, Destination::Download)?;
        let path = download_label(url);
        let mut attempts = Attempts::new(self, EndpointClass::Drives);
        loop {
            self.pace(EndpointClass::Drives, "").await;
            self.usage.add_request();
            let failure = match self.download_http.get(url).send().await {
                Err(e) if is_certificate_failure(&e) => {
                    return Err(GraphError::Failed {
                        reason: transport_reason(&e),
                        path,
                    })
                }
                Err(e) => Retry::Failure(transport_reason(&e)),
                Ok(response) => match response.status().as_u16() {
                    200..=299 => match read_capped(response, max_bytes).await {
                        Ok(bytes) => return Ok(bytes),
                        Err(BodyError::TooLarge { limit }) => {
                            return Err(GraphError::Failed {
                                path,
                                reason: format!("larger than {limit} bytes"),
                            })
                        }
                        Err(BodyError::Transport(e)) => Retry::Failure(transport_reason(&e)),
                    },
                    403 => {
                        return Err(GraphError::Forbidden {
                            path,
                            permission: "Files.Read.All",
                        })
                    }
                    404 => return Err(GraphError::NotFound { path }),
                    // The redirect policy stopped at a host downloads may not come from: retrying cannot help.
                    300..=399 => {
                        return Err(GraphError::Failed {
                            path,
                            reason: "redirected to a host downloads may not come from".into(),
                        })
                    }
                    status @ (429 | 503) => {
                        Retry::Throttled(status, retry_after(response.headers()))
                    }
                    status => Retry::Failure(format!("HTTP {status}")),
                },
            };
            let wait = attempts.next_wait(failure, &path)?;
            tokio::time::sleep(wait).await;
        }
    }
}

/// Where a listing is: the next URL, every URL followed so far (a repeated next link is a loop), pages read.
struct Paging {
    next: Option<String>,
    followed: HashSet<String>,
    pages: usize,
}

/// A body as a JSON object, or why not (every Graph answer the crawl reads is an object).
fn json_object(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("an empty answer".into());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("an answer that is not a JSON object".into()),
        Err(e) => Err(format!("unreadable JSON ({e})")),
    }
}

/// A listing page as Graph's contract for collections has it: an object with a `value` array, and an optional
/// `@odata.nextLink` string not followed before. Returns the items and the next link.
fn listing_page(
    mut page: Value,
    followed: &HashSet<String>,
) -> Result<(Vec<Value>, Option<String>), String> {
    let next = match page.get("@odata.nextLink") {
        None | Some(Value::Null) => None,
        Some(Value::String(link)) if link.is_empty() => None,
        Some(Value::String(link)) if followed.contains(link) => {
            return Err("a next link that was already followed (the listing would loop)".into())
        }
        Some(Value::String(link)) => Some(link.clone()),
        Some(_) => return Err("an @odata.nextLink that is not a string".into()),
    };
    match page.get_mut("value").map(Value::take) {
        Some(Value::Array(items)) => Ok((items, next)),
        Some(_) => Err("a listing page whose `value` is not an array".into()),
        None => Err("a listing page without `value`".into()),
    }
}

enum Retry {
    Throttled(u16, Option<Duration>),
    Failure(String),
}

/// One request's retry budget: failures (5xx, timeouts, ...) and throttling answers are counted separately.
struct Attempts<'a> {
    client: &'a GraphClient,
    class: EndpointClass,
    backoff: Backoff,
    failures: usize,
    throttles: usize,
}

impl<'a> Attempts<'a> {
    fn new(client: &'a GraphClient, class: EndpointClass) -> Self {
        let backoff = Backoff::with_jitter(
            client.settings.retry_delay,
            2.0,
            Duration::from_secs(60),
            0.2,
        );
        Attempts {
            client,
            class,
            backoff,
            failures: 0,
            throttles: 0,
        }
    }

    /// How long to wait before the next attempt, or the final error once the budget is spent. Throttling waits
    /// the server's `Retry-After` (capped), or backs off without one. The sync's first throttling is logged at
    /// INFO (a person watching a slow sync learns why); later ones are counted for the progress lines.
    fn next_wait(&mut self, retry: Retry, path: &str) -> Result<Duration, GraphError> {
        let settings = &self.client.settings;
        let usage = &self.client.usage;
        let wait = match retry {
            Retry::Throttled(status, after) => {
                self.throttles += 1;
                if self.throttles > settings.max_throttle_retries {
                    usage.add_throttled(Duration::ZERO);
                    return Err(GraphError::Failed {
                        path: path.to_string(),
                        reason: format!(
                            "still throttled (HTTP {status}) after {} retries",
                            self.throttles - 1
                        ),
                    });
                }
                let wait = after
                    .map(|a| a.min(settings.max_retry_after))
                    .unwrap_or_else(|| self.backoff.next_delay());
                if usage.add_throttled(wait) {
                    tracing::info!(
                        endpoint_class = %self.class.name(),
                        status,
                        wait_s = wait.as_millis() as f64 / 1000.0,
                        "Graph is throttling this sync; waiting as Retry-After asks (the progress lines count \
                         further throttling)"
                    );
                }
                wait
            }
            Retry::Failure(reason) => {
                self.failures += 1;
                if self.failures >= settings.max_attempts {
                    return Err(GraphError::Failed {
                        path: path.to_string(),
                        reason: format!("{reason} (after {} attempts)", self.failures),
                    });
                }
                self.backoff.next_delay()
            }
        };
        self.client.retried.fetch_add(1, Ordering::Relaxed);
        Ok(wait)
    }
}

/// `Retry-After` in seconds (Graph sends an integer; an HTTP date is not used by Graph and is ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// How much of an error answer is read: Graph's error objects are small, a proxy's error page need not be.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Up to `max_bytes` of a body (the rest is left unread); whatever arrived when the transfer fails.
async fn read_prefix(mut response: reqwest::Response, max_bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = max_bytes - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= max_bytes {
            break;
        }
    }
    out
}

/// Graph's `error.message` (or a short body prefix) for failure reports.
async fn error_message(response: reqwest::Response) -> String {
    let body = read_prefix(response, MAX_ERROR_BODY_BYTES).await;
    serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

/// A download URL carries a pre-authentication token in its query: report only its path.
fn download_label(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    format!("download {without_query}")
}

/// A transport failure in words, without the URL (a download URL's query is a credential). Also used for the
/// token endpoint.
pub(super) fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if let Some(detail) = certificate_failure(e) {
        format!(
            "TLS failure: {detail} (behind a proxy that inspects TLS, its CA certificate belongs in the \
             operating system's certificate store or in graph.ca_certs)"
        )
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off".into()
    } else {
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "<url>");
        }
        text
    }
}

/// What the TLS handshake said when it rejected the server's certificate (the innermost error, e.g. `invalid
/// peer certificate: UnknownIssuer`). That is what a TLS-inspecting proxy causes, so it is named rather than
/// reported as a bare connection failure.
fn certificate_failure(e: &reqwest::Error) -> Option<String> {
    let mut messages = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = source {
        messages.push(inner.to_string());
        source = inner.source();
    }
    messages
        .iter()
        .any(|m| m.to_lowercase().contains("certificate"))
        .then(|| messages.pop().unwrap_or_default())
}

/// A rejected certificate stays rejected until someone changes the trust settings: retrying cannot help.
pub(super) fn is_certificate_failure(e: &reqwest::Error) -> bool {
    certificate_failure(e).is_some()
}

/// The Graph permission an endpoint needs (application permission names; delegated ones match without `.All`
/// where Microsoft defines them so).
pub fn permission_for(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let has = |s: &str| segments.contains(&s);
    if has("chats") && has("messages") {
        "Chat.Read.All (application) or Chat.Read (delegated)"
    } else if has("channels") && has("messages") {
        "ChannelMessage.Read.All"
    } else if has("tabs") {
        "TeamsTab.Read.All"
    } else if has("chats") {
        "Chat.ReadBasic.All (application) or Chat.ReadBasic (delegated)"
    } else if has("filesFolder") || has("drive") || has("drives") || has("items") {
        "Files.Read.All"
    } else if has("channels") {
        "Channel.ReadBasic.All"
    } else if has("teams") {
        "Team.ReadBasic.All"
    } else if has("events") {
        "Calendars.Read"
    } else {
        "User.Read.All"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(
            EndpointClass::of("/chats/1/messages?$top=50"),
            EndpointClass::ChatMessages
        );
        assert_eq!(
            EndpointClass::of("/teams/1/channels/2/messages?$expand=replies"),
            EndpointClass::ChannelMessages
        );
        assert_eq!(team_or_channel("/teams/t/channels/c/tabs"), Some("c"));
        assert_eq!(team_or_channel("/teams/t/channels"), Some("t"));
        assert_eq!(team_or_channel("/teams?$top=999"), None);
        assert_eq!(team_or_channel("/chats/x/messages"), None);
        assert_eq!(
            EndpointClass::of("/users/1/events?$top=50"),
            EndpointClass::Outlook
        );
        assert_eq!(
            EndpointClass::of("/drives/d/items/root/children"),
            EndpointClass::Drives
        );
        assert_eq!(
            EndpointClass::of("/teams/1/channels/2/filesFolder"),
            EndpointClass::Drives
        );
        assert_eq!(EndpointClass::of("/users/1/drive"), EndpointClass::Drives);
        assert_eq!(
            EndpointClass::of("/chats?$expand=members"),
            EndpointClass::Teams
        );
        assert_eq!(EndpointClass::of("/teams/1/channels"), EndpointClass::Teams);
        assert_eq!(EndpointClass::of("/users?$top=999"), EndpointClass::Other);
    }

    #[test]
    fn rate_limits_parse() {
        let l = RateLimits::parse(" chat_messages=5, drives = 0, per_channel=2 ").unwrap();
        assert_eq!(l.per_class[&EndpointClass::ChatMessages], 5);
        assert_eq!(l.per_class[&EndpointClass::ChannelMessages], 20);
        assert_eq!(l.per_class[&EndpointClass::Drives], 0);
        assert_eq!(l.per_class[&EndpointClass::Teams], 30);
        assert_eq!(l.per_team_or_channel, 2);
        assert_eq!(RateLimits::parse("").unwrap(), RateLimits::default());
        assert!(RateLimits::parse("mail=3")
            .unwrap_err()
            .contains("unknown endpoint class `mail`"));
        assert!(RateLimits::parse("teams")
            .unwrap_err()
            .contains("class=requests_per_second"));
        assert!(RateLimits::parse("teams=fast")
            .unwrap_err()
            .contains("whole number"));
    }

    #[test]
    fn permissions_named() {
        assert_eq!(
            permission_for("/teams/1/channels/2/messages"),
            "ChannelMessage.Read.All"
        );
        assert!(permission_for("/chats/1/messages").starts_with("Chat.Read.All"));
        assert_eq!(permission_for("/chats/1/tabs"), "TeamsTab.Read.All");
        assert_eq!(permission_for("/teams/1/channels"), "Channel.ReadBasic.All");
        assert_eq!(permission_for("/teams?$top=999"), "Team.ReadBasic.All");
        assert_eq!(permission_for("/users/1/events"), "Calendars.Read");
        assert_eq!(
            permission_for("/drives/1/items/2/children"),
            "Files.Read.All"
        );
        assert_eq!(permission_for("/users"), "User.Read.All");
    }

    #[test]
    fn retry_after_seconds_only() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn listing_pages_prove_themselves() {
        let followed = HashSet::from(["https://g/v1.0/teams".to_string()]);
        let page = |v: Value| listing_page(v, &followed);
        assert_eq!(
            page(serde_json::json!({"value": [1], "@odata.nextLink": "https://g/v1.0/teams?p=2"})),
            Ok((
                vec![serde_json::json!(1)],
                Some("https://g/v1.0/teams?p=2".into())
            ))
        );
        assert_eq!(page(serde_json::json!({"value": []})), Ok((vec![], None)));
        assert!(page(serde_json::json!({}))
            .unwrap_err()
            .contains("without `value`"));
        assert!(page(serde_json::json!({"@odata.context": "x"})).is_err());
        assert!(page(serde_json::json!({"value": {}}))
            .unwrap_err()
            .contains("not an array"));
        assert!(
            page(serde_json::json!({"value": [], "@odata.nextLink": "https://g/v1.0/teams"}))
                .unwrap_err()
                .contains("already followed")
        );
        assert!(page(serde_json::json!({"value": [], "@odata.nextLink": 3})).is_err());
        assert!(json_object(b"").unwrap_err().contains("empty"));
        assert!(json_object(b"  \n").is_err());
        assert!(json_object(b"[]")
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(json_object(b"{\"value\": [")
            .unwrap_err()
            .contains("unreadable"));
    }

    #[test]
    fn download_labels_drop_the_query() {
        assert_eq!(
            download_label("https://x.sharepoint.com/_layouts/download.aspx?tempauth=SECRET"),
            "download https://x.sharepoint.com/_layouts/download.aspx"
        );
    }
}
