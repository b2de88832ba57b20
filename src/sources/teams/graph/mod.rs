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

mod answer;
mod failure;
mod limits;
mod pacer;
mod paths;
mod permissions;
mod retry;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde_json::Value;

pub use self::answer::Items;
pub(super) use self::answer::{fields, lenient_fields, lenient_str, lenient_u64};
use self::answer::{json_object, listing_page, Paging};
use self::failure::error_message;
pub(super) use self::failure::{is_certificate_failure, transport_reason};
pub use self::limits::{EndpointClass, RateLimits, TenantSize};
use self::limits::{Limiters, Windows};
use self::paths::{download_label, Destination, Endpoints};
pub use self::permissions::permission_for;
use self::retry::{retry_after, Attempts, Retry};
use super::auth::{AuthError, TokenKind, TokenProvider};
use super::hosts::DownloadHosts;
use super::{defaults, DEFAULT_GRAPH_URL};
use crate::net::body::{read_capped, BodyError};
use crate::net::Outbound;
use crate::source::{ApiUsage, ErrorKind};

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
    /// How often each class's pacer reconsiders its rate (see `pacer.rs`).
    pub pacing_window: Duration,
    /// The window SharePoint's `RateLimit-Limit` counts over (one minute).
    pub rate_limit_window: Duration,
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
            base_url: DEFAULT_GRAPH_URL.into(),
            connect_timeout: defaults::CONNECT_TIMEOUT,
            request_timeout: defaults::REQUEST_TIMEOUT,
            max_attempts: defaults::MAX_ATTEMPTS,
            max_throttle_retries: defaults::MAX_THROTTLE_RETRIES,
            retry_delay: defaults::RETRY_DELAY,
            max_retry_after: defaults::MAX_RETRY_AFTER,
            limits: RateLimits::default(),
            pacing_window: defaults::PACING_WINDOW,
            rate_limit_window: defaults::RATE_LIMIT_WINDOW,
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_pages: defaults::MAX_PAGES,
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
    /// What is left after the client's own retries; `kind` says why (see `SourceError`).
    #[error("{path}: {reason}")]
    Failed {
        path: String,
        reason: String,
        kind: ErrorKind,
    },
    /// A next link or download URL pointing somewhere this client does not send requests (see [`Destination`]).
    #[error("refused to follow {what} to {origin}: {rule}")]
    ForeignHost {
        what: &'static str,
        origin: String,
        rule: &'static str,
    },
}

pub struct GraphClient {
    http: reqwest::Client,
    download_http: reqwest::Client,
    settings: GraphSettings,
    endpoints: Endpoints,
    tokens: Arc<TokenProvider>,
    limiters: Limiters,
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
        let endpoints = Endpoints::new(&settings.base_url, settings.download_hosts.clone())?;
        let build = |timeout: Duration, destination: Destination| {
            settings
                .outbound
                .client_builder()
                .connect_timeout(settings.connect_timeout)
                .timeout(timeout)
                .redirect(endpoints.redirect_policy(destination))
                .user_agent(concat!("elastic-ingest-rs/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| GraphError::Failed {
                    path: settings.base_url.clone(),
                    reason: format!("cannot build the HTTP client: {e}"),
                    kind: ErrorKind::Configuration,
                })
        };
        let http = build(settings.request_timeout, Destination::Graph)?;
        // Downloads (up to the download cap, 10 MiB by default) get more time than a JSON page.
        let download_http = build(settings.request_timeout * 5, Destination::Download)?;
        let usage = Arc::default();
        let windows = Windows {
            adapt: settings.pacing_window,
            headers: settings.rate_limit_window,
        };
        let limiters = Limiters::new(&settings.limits, windows, &usage);
        Ok(GraphClient {
            http,
            download_http,
            settings,
            endpoints,
            tokens,
            limiters,
            usage,
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

    /// The allowed rate of `class` now (units per second; infinite when not paced).
    pub fn allowed_rate(&self, class: EndpointClass) -> f64 {
        self.limiters.rate(class)
    }

    /// `path` (`/teams?$top=999`) or an absolute `@odata.nextLink` → the URL to request.
    pub fn url(&self, path_or_url: &str) -> String {
        self.endpoints.url(path_or_url)
    }

    /// GET one JSON object. `token`: the token the reference calls the endpoint with ([`TokenKind::Delegated`]:
    /// the user's; app-only sign-in sends the app's everywhere, see [`TokenProvider::kind_for`]).
    pub async fn get_json(&self, path_or_url: &str, token: TokenKind) -> Result<Value, GraphError> {
        self.get_checked(path_or_url, token, json_object).await
    }

    /// GET a JSON object and read it with `accept`; a body that is too big, or that `accept` refuses (its reason:
    /// empty, not a JSON object, not what the caller needs) is retried like a 5xx — a 2xx proves nothing by
    /// itself.
    async fn get_checked<T>(
        &self,
        path_or_url: &str,
        token: TokenKind,
        accept: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, GraphError> {
        let url = self.url(path_or_url);
        self.endpoints.check_host(&url, Destination::Graph)?;
        let path = self.endpoints.path_of(&url).to_string();
        let class = EndpointClass::of(&path);
        let kind = self.tokens.kind_for(token);
        let mut attempts = Attempts::new(self, class);
        let mut refreshed = false;
        loop {
            self.limiters.pace(class, &path).await;
            let token = self.tokens.token(kind).await?;
            self.usage.add_request();
            let outcome = self
                .http
                .get(&url)
                .bearer_auth(token.expose())
                .header("accept", "application/json")
                .send()
                .await;
            if let Ok(response) = &outcome {
                self.limiters.observe(class, response.headers());
            }
            let failure = match outcome {
                Err(e) => unanswered(&e, &path)?,
                Ok(response) => match response.status().as_u16() {
                    200..=299 => match read_capped(response, self.settings.max_body_bytes).await {
                        Ok(body) => match accept(&body) {
                            Ok(value) => return Ok(value),
                            Err(reason) => Retry::Invalid(reason),
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
                            kind: ErrorKind::Failed,
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
        token: TokenKind,
    ) -> impl Stream<Item = Result<Items, GraphError>> + Send + 'a {
        let first = self.url(path);
        let state = Paging {
            next: Some(first.clone()),
            followed: HashSet::from([first]),
            pages: 0,
        };
        futures::stream::unfold(state, move |mut state| async move {
            let url = state.next.take()?;
            let path = self.endpoints.path_of(&url).to_string();
            state.pages += 1;
            if state.pages > self.settings.max_pages {
                let reason = format!(
                    "more than {} pages: the listing does not end",
                    self.settings.max_pages
                );
                let kind = ErrorKind::InvalidData;
                return Some((Err(GraphError::Failed { path, reason, kind }), state));
            }
            let followed = &state.followed;
            let page = self
                .get_checked(&url, token, |page| listing_page(page, followed))
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
                    let kind = ErrorKind::Transient;
                    Some((Err(GraphError::Failed { path, reason, kind }), state))
                }
                Err(e) => Some((Err(e), state)),
            }
        })
    }

    /// Every item of a listing, or the first error.
    pub async fn collect(&self, path: &str, token: TokenKind) -> Result<Vec<Value>, GraphError> {
        let mut all = Vec::new();
        let mut pages = std::pin::pin!(self.pages(path, token));
        while let Some(page) = pages.next().await {
            all.extend(page?);
        }
        Ok(all)
    }

    /// Opens a pre-authenticated `@microsoft.graph.downloadUrl` (no Authorization header, as Graph wants):
    /// retries until the answer's status says the bytes follow (429/503 with
    /// `Retry-After`, 5xx and transport failures, as every Graph request), then hands over the announced size and
    /// the body as a stream of chunks without reading it. A failure while streaming ends the stream with an
    /// error (nothing is retried once bytes have been handed on). The reader enforces its own size cap.
    pub async fn open_download(&self, url: &str) -> Result<OpenedDownload, GraphError> {
        self.endpoints.check_host(url, Destination::Download)?;
        let path = download_label(url);
        let mut attempts = Attempts::new(self, EndpointClass::Drives);
        loop {
            self.limiters.pace(EndpointClass::Drives, "").await;
            self.usage.add_request();
            let outcome = self.download_http.get(url).send().await;
            if let Ok(response) = &outcome {
                self.limiters
                    .observe(EndpointClass::Drives, response.headers());
            }
            let failure = match outcome {
                Err(e) => unanswered(&e, &path)?,
                Ok(response) => match response.status().as_u16() {
                    200..=299 => {
                        let size = response.content_length();
                        let label = path.clone();
                        let body = response
                            .bytes_stream()
                            .map(move |chunk| {
                                chunk.map_err(|e| GraphError::Failed {
                                    path: label.clone(),
                                    reason: transport_reason(&e),
                                    kind: ErrorKind::Transient,
                                })
                            })
                            .boxed();
                        return Ok(OpenedDownload { size, body });
                    }
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
                            kind: ErrorKind::Failed,
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

/// A download whose answer has arrived: the announced size (`Content-Length`) and the body, unread.
pub struct OpenedDownload {
    pub size: Option<u64>,
    pub body: futures::stream::BoxStream<'static, Result<bytes::Bytes, GraphError>>,
}

impl std::fmt::Debug for OpenedDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedDownload")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A request that got no answer: a rejected certificate fails at once (it stays rejected until someone changes
/// the trust settings), anything else is retried.
fn unanswered(e: &reqwest::Error, path: &str) -> Result<Retry, GraphError> {
    if is_certificate_failure(e) {
        return Err(GraphError::Failed {
            reason: transport_reason(e),
            path: path.to_string(),
            kind: ErrorKind::Failed,
        });
    }
    Ok(Retry::Failure(transport_reason(e)))
}
