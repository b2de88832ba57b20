//! The Teams crawl: three listers (chats, users → calendars, teams → channels) run as tasks that send events
//! into one bounded channel the engine consumes from the first document on. Every level has its own concurrency
//! bound (`for_each_concurrent` inside its parent), so no task ever waits for a slot held by its own ancestors —
//! there is no shared pool to deadlock on. A supervisor owns the tasks: a panic becomes a sync error, and
//! dropping the stream (cancel) aborts everything. The supervisor also logs the crawl's progress (see
//! [`progress`](super::progress)); every task runs in the job's span, so those lines name the job.
//!
//! Failure policy, per listing:
//! - a top-level listing (chats, users, teams) that fails, or is refused for a missing permission, fails the
//!   sync: without it the result would be meaningless (and nothing is deleted);
//! - anything below that fails after the client's retries is reported as an incomplete part and the crawl goes
//!   on: the engine indexes what arrived and deletes nothing;
//! - a 404 on a child listing of something just listed (channels of a team, messages or tabs of a chat or
//!   channel, children of a folder, a user's chats) is an incomplete part too: the parent may have been deleted
//!   meanwhile, and the next sync sees it gone from the parent's listing — only then are its documents deleted;
//! - a 404 that describes the parent rather than a deletion means there is nothing to list, skipped without a
//!   report (`absent_or_failure`): a user without a mailbox (`/users/{id}/events`), a user without a drive
//!   (`/users/{id}/drive`), a channel whose files folder was never provisioned (`.../filesFolder`);
//! - token or credential errors fail the sync.
//!
//! ARCHITECTURE.md, "Completeness of a listing", has the whole table of Graph answers and what each means.

mod calendars;
mod channels;
mod chats;
mod files;
mod items;
mod seen;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, OnceCell};
use tracing::Instrument;

use self::chats::ChatFilesCell;
use self::items::User;
use self::seen::Seen;
use super::auth::{AuthMethod, TokenKind};
use super::defaults;
use super::docs::{self, Doc};
use super::graph::{fields, GraphClient, GraphError, Items};
use super::progress::{self, CrawlProgress, Moment};
use crate::source::{Download, ErrorKind, SourceDoc, SourceError, SourceEvent};

/// Concurrency per level. Products bound the requests in flight: chats × 1, users × 1, teams × channels.
#[derive(Debug, Clone)]
pub struct Concurrency {
    pub chats: usize,
    pub calendars: usize,
    pub teams: usize,
    pub channels_per_team: usize,
    pub attachments: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency {
            chats: defaults::CHATS_CONCURRENCY,
            calendars: defaults::CALENDARS_CONCURRENCY,
            teams: defaults::TEAMS_CONCURRENCY,
            channels_per_team: defaults::CHANNELS_PER_TEAM_CONCURRENCY,
            attachments: defaults::ATTACHMENTS_CONCURRENCY,
        }
    }
}

type Event = Result<SourceEvent, SourceError>;

/// What every task shares.
struct Crawl {
    graph: Arc<GraphClient>,
    /// How the connector signs in: app-only lists every user's chats, delegated the signed-in user's.
    sign_in: AuthMethod,
    concurrency: Concurrency,
    tx: mpsc::Sender<Event>,
    /// Chat ids already crawled (app-only lists each chat once per member), as 128-bit hashes ([`seen`]).
    chats_seen: Mutex<Seen>,
    /// Sender → (drive id, "Microsoft Teams Chat Files" folder id), looked up once per sync.
    chat_files: Mutex<HashMap<String, Arc<ChatFilesCell>>>,
    /// The tenant's users, listed once per sync (calendars and, app-only, chats both need them).
    users: OnceCell<Result<Arc<Vec<User>>, GraphError>>,
    /// (sender, file name) already resolved: a file shared in several messages is one document, looked up once.
    attachments_seen: Mutex<Seen>,
    progress: Arc<CrawlProgress>,
    /// The document types this connector syncs; listings that could only yield others are not made.
    types: Arc<DocTypes>,
    /// Files larger than this are indexed without content.
    max_download_bytes: u64,
}

/// The document types a connector syncs (its `document_types` value; all eleven by default). A type switched off
/// is never listed, so its permission is not needed and its documents, no longer listed, are deleted by the next
/// full sync like anything else that is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct DocTypes(Vec<&'static str>);

impl Default for DocTypes {
    fn default() -> Self {
        DocTypes(docs::ALL_TYPES.to_vec())
    }
}

impl DocTypes {
    /// From the configured names (empty: all); an unknown name is an error naming it.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<DocTypes, String> {
        let mut on = Vec::new();
        for name in names {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let Some(known) = docs::ALL_TYPES
                .iter()
                .find(|t| t.eq_ignore_ascii_case(name))
            else {
                return Err(format!(
                    "unknown document type `{name}` (known: {})",
                    docs::ALL_TYPES.join(", ")
                ));
            };
            if !on.contains(known) {
                on.push(*known);
            }
        }
        Ok(if on.is_empty() {
            DocTypes::default()
        } else {
            DocTypes(on)
        })
    }

    pub fn on(&self, doc_type: &str) -> bool {
        self.0.contains(&doc_type)
    }

    fn any(&self, types: &[&str]) -> bool {
        types.iter().any(|t| self.on(t))
    }
}

/// Starts the crawl; the stream ends when every task has finished. Progress is logged every `progress_every`;
/// files larger than `max_download_bytes` are indexed without content.
pub fn start(
    graph: Arc<GraphClient>,
    sign_in: AuthMethod,
    concurrency: Concurrency,
    progress_every: Duration,
    types: Arc<DocTypes>,
    max_download_bytes: u64,
) -> BoxStream<'static, Event> {
    let (tx, mut rx) = mpsc::channel::<Event>(128);
    let progress = Arc::new(CrawlProgress::default());
    let usage = graph.usage().clone();
    let crawl = Arc::new(Crawl {
        graph,
        sign_in,
        concurrency,
        tx: tx.clone(),
        chats_seen: Mutex::default(),
        chat_files: Mutex::default(),
        attachments_seen: Mutex::default(),
        users: OnceCell::new(),
        progress: progress.clone(),
        types,
        max_download_bytes,
    });
    // Spawned tasks leave the caller's span unless told: `in_current_span` keeps the job's ids on their lines.
    let supervisor = tokio::spawn(
        async move {
            let mut tasks = tokio::task::JoinSet::new();
            let c = crawl.clone();
            tasks.spawn(async move { c.chats().await }.in_current_span());
            let c = crawl.clone();
            tasks.spawn(async move { c.users().await }.in_current_span());
            let c = crawl.clone();
            tasks.spawn(async move { c.teams().await }.in_current_span());
            drop(crawl);
            let supervise = async {
                while let Some(done) = tasks.join_next().await {
                    if let Err(e) = done {
                        if e.is_panic() {
                            let _ = tx
                                .send(Err(SourceError::new(
                                    ErrorKind::Failed,
                                    "a Teams crawl task failed unexpectedly (panic)",
                                )))
                                .await;
                        }
                    }
                }
            };
            tokio::select! {
                () = supervise => {}
                never = progress::report(&progress, &usage, progress_every) => match never {},
            }
            progress.log(Moment::ListingDone, &usage);
        }
        .in_current_span(),
    );
    let guard = AbortOnDrop(supervisor);
    futures::stream::poll_fn(move |cx| {
        let _keep = &guard;
        rx.poll_recv(cx)
    })
    .boxed()
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Crawl {
    async fn send(&self, event: Event) {
        // A closed channel means the consumer is gone (cancel); the supervisor is being aborted too.
        let _ = self.tx.send(event).await;
    }

    async fn doc(&self, doc: Doc, download: Option<Download>) {
        if !doc
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| self.types.on(t))
        {
            return;
        }
        self.send(Ok(SourceEvent::Doc(SourceDoc { doc, download })))
            .await;
    }

    async fn incomplete(&self, part: String, error: &GraphError) {
        tracing::warn!(part = %part, error = %error, "Part of the Teams listing failed; this sync deletes nothing");
        self.send(Ok(SourceEvent::Incomplete {
            part,
            reason: error.to_string(),
        }))
        .await;
    }

    async fn fatal(&self, what: &str, error: &GraphError) {
        self.send(Err(
            SourceError::from(error.clone()).context(format!("Listing {what} failed"))
        ))
        .await;
    }

    /// Sub-listing failure policy: credentials → fatal; anything else, a 404 included → incomplete part.
    async fn sub_failure(&self, part: String, error: &GraphError) {
        match error {
            GraphError::Auth(_) | GraphError::Unauthorized { .. } => self.fatal(&part, error).await,
            _ => self.incomplete(part, error).await,
        }
    }

    /// The next page of a child listing: `None` at its end, when the listing is not `wanted` (a stream does
    /// nothing until polled, so it is never requested), or after a failed page, which is reported as `part` by
    /// [`Self::sub_failure`].
    async fn next_child_page(
        &self,
        pages: &mut (impl Stream<Item = Result<Items, GraphError>> + Unpin),
        wanted: bool,
        part: impl FnOnce() -> String,
    ) -> Option<Items> {
        if !wanted {
            return None;
        }
        match pages.next().await? {
            Ok(items) => Some(items),
            Err(e) => {
                self.sub_failure(part(), &e).await;
                None
            }
        }
    }

    /// The policy for the three endpoints whose 404 describes a parent that still exists (no mailbox, no drive,
    /// files never provisioned): nothing there, no report. Every other failure as [`Self::sub_failure`].
    async fn absent_or_failure(&self, part: String, error: &GraphError) {
        match error {
            GraphError::NotFound { .. } => {
                tracing::debug!(part = %part, "Nothing to list (404)");
            }
            _ => self.sub_failure(part, error).await,
        }
    }

    /// Every item of a sub-listing, or `None` after reporting the failure.
    async fn list(
        &self,
        part: impl FnOnce() -> String,
        path: &str,
        token: TokenKind,
    ) -> Option<Vec<Value>> {
        match self.graph.collect(path, token).await {
            Ok(items) => Some(items),
            Err(e) => {
                self.sub_failure(part(), &e).await;
                None
            }
        }
    }

    async fn user_list(&self) -> Result<Arc<Vec<User>>, GraphError> {
        self.users
            .get_or_init(|| async {
                self.graph
                    .collect(
                        &format!("/users?$top=999&$select={}", items::select::USERS),
                        TokenKind::Delegated,
                    )
                    .await
                    .map(|users| Arc::new(users.iter().map(fields).collect()))
            })
            .await
            .clone()
    }
}

#[cfg(test)]
mod doc_type_tests {
    use super::*;

    #[test]
    fn document_types_parse_by_name_empty_means_all() {
        assert_eq!(DocTypes::parse([]).unwrap(), DocTypes::default());
        assert_eq!(DocTypes::parse(["", " "]).unwrap(), DocTypes::default());
        let some = DocTypes::parse(["teams", " Channel Message "]).unwrap();
        assert!(some.on(docs::TEAMS) && some.on(docs::CHANNEL_MESSAGE));
        assert!(!some.on(docs::USER_MEETING));
        let e = DocTypes::parse(["Teams", "Wiki"]).unwrap_err();
        assert!(e.contains("`Wiki`") && e.contains("User Meeting"), "{e}");
    }
}
