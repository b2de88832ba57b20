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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, OnceCell};
use tracing::Instrument;

use super::docs::{self, Doc};
use super::graph::{GraphClient, GraphError};
use super::progress::{self, CrawlProgress, Moment};
use crate::extract::EXTRACTABLE;
use crate::source::{Attachment, Download, ErrorKind, SourceDoc, SourceError, SourceEvent};

/// Files larger than this are indexed without content (spec §10.7).
pub const MAX_DOWNLOAD_BYTES: u64 = 10 * 1024 * 1024;

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
            chats: 8,
            calendars: 4,
            teams: 2,
            channels_per_team: 4,
            attachments: 4,
        }
    }
}

type Event = Result<SourceEvent, SourceError>;

/// Page sizes the crawl asks for (Graph's maximum per endpoint).
const CHATS: &str = "$expand=members&$top=50";

/// What every task shares.
struct Crawl {
    graph: Arc<GraphClient>,
    app_only: bool,
    concurrency: Concurrency,
    tx: mpsc::Sender<Event>,
    /// Chat ids already crawled (app-only lists each chat once per member).
    chats_seen: Mutex<HashSet<String>>,
    /// Sender → (drive id, "Microsoft Teams Chat Files" folder id), looked up once per sync.
    chat_files: Mutex<HashMap<String, Arc<ChatFilesCell>>>,
    /// The tenant's users, listed once per sync (calendars and, app-only, chats both need them).
    users: OnceCell<Result<Arc<Vec<Value>>, GraphError>>,
    /// (sender, file name) already resolved: a file shared in several messages is one document, looked up once.
    attachments_seen: Mutex<HashSet<(String, String)>>,
    progress: Arc<CrawlProgress>,
    /// The document types this connector syncs; listings that could only yield others are not made.
    types: Arc<DocTypes>,
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

const CHAT_TYPES: [&str; 4] = [
    docs::USER_CHAT_MESSAGES,
    docs::USER_CHAT_TABS,
    docs::USER_CHAT_ATTACHMENT,
    docs::USER_CHAT_MEETING_RECORDING,
];
const TEAM_TYPES: [&str; 6] = [
    docs::TEAMS,
    docs::TEAM_CHANNEL,
    docs::CHANNEL_TAB,
    docs::CHANNEL_MESSAGE,
    docs::CHANNEL_MEETING,
    docs::CHANNEL_ATTACHMENT,
];

/// A sender's (drive id, chat files folder id), or `None` when they have none; filled by the first lookup.
type ChatFilesCell = OnceCell<Option<(String, String)>>;

/// Starts the crawl; the stream ends when every task has finished. Progress is logged every `progress_every`.
pub fn start(
    graph: Arc<GraphClient>,
    app_only: bool,
    concurrency: Concurrency,
    progress_every: Duration,
    types: Arc<DocTypes>,
) -> BoxStream<'static, Event> {
    let (tx, mut rx) = mpsc::channel::<Event>(128);
    let progress = Arc::new(CrawlProgress::default());
    let usage = graph.usage().clone();
    let crawl = Arc::new(Crawl {
        graph,
        app_only,
        concurrency,
        tx: tx.clone(),
        chats_seen: Mutex::default(),
        chat_files: Mutex::default(),
        attachments_seen: Mutex::default(),
        users: OnceCell::new(),
        progress: progress.clone(),
        types,
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
        delegated: bool,
    ) -> Option<Vec<Value>> {
        match self.graph.collect(path, delegated).await {
            Ok(items) => Some(items),
            Err(e) => {
                self.sub_failure(part(), &e).await;
                None
            }
        }
    }

    async fn user_list(&self) -> Result<Arc<Vec<Value>>, GraphError> {
        self.users
            .get_or_init(|| async {
                self.graph
                    .collect("/users?$top=999", true)
                    .await
                    .map(Arc::new)
            })
            .await
            .clone()
    }

    // ---- chats ------------------------------------------------------------------------------------------------

    async fn chats(self: Arc<Self>) {
        if !self.types.any(&CHAT_TYPES) {
            return;
        }
        if self.app_only {
            // App-only: no signed-in user; each user's chats (a chat shows up once per member, crawled once).
            let users = match self.user_list().await {
                Ok(users) => users,
                Err(e) => return self.fatal("users (for their chats)", &e).await,
            };
            futures::stream::iter(users.iter())
                .for_each_concurrent(self.concurrency.chats.div_ceil(2).max(1), |user| {
                    let this = self.clone();
                    async move {
                        let Some(id) = user["id"].as_str() else {
                            return;
                        };
                        let path = format!("/users/{}/chats?{CHATS}", encode(id));
                        this.chat_pages(&path, false, Some(id)).await;
                    }
                })
                .await;
        } else {
            self.chat_pages(&format!("/chats?{CHATS}"), true, None)
                .await;
        }
    }

    async fn chat_pages(self: &Arc<Self>, path: &str, top_level: bool, user: Option<&str>) {
        let mut pages = std::pin::pin!(self.graph.pages(path, true));
        while let Some(page) = pages.next().await {
            let chats = match page {
                Ok(chats) => chats,
                Err(e) if top_level => return self.fatal("chats", &e).await,
                Err(e) => {
                    return self
                        .sub_failure(format!("chats of user {}", user.unwrap_or_default()), &e)
                        .await
                }
            };
            let fresh: Vec<Value> = {
                let mut seen = crate::lock::lock(&self.chats_seen);
                chats
                    .into_iter()
                    .filter(|c| {
                        c["id"]
                            .as_str()
                            .is_some_and(|id| seen.insert(id.to_string()))
                    })
                    .collect()
            };
            self.progress.chats.found(fresh.len());
            futures::stream::iter(fresh)
                .for_each_concurrent(self.concurrency.chats, |chat| {
                    let this = self.clone();
                    async move {
                        this.clone().chat(chat).await;
                        this.progress.chats.finished_one();
                    }
                })
                .await;
        }
    }

    async fn chat(self: Arc<Self>, chat: Value) {
        let Some(chat_id) = chat["id"].as_str().map(str::to_string) else {
            return;
        };
        let members = docs::chat_members(&chat);
        let path = format!("/chats/{}/messages?$top=50", encode(&chat_id));
        let wants_messages = self.types.any(&[
            docs::USER_CHAT_MESSAGES,
            docs::USER_CHAT_MEETING_RECORDING,
            docs::USER_CHAT_ATTACHMENT,
        ]);
        let mut pages = std::pin::pin!(self.graph.pages(&path, true));
        // A stream does nothing until polled: not wanted, the listing is never requested.
        while let Some(page) = if wants_messages {
            pages.next().await
        } else {
            None
        } {
            let messages = match page {
                Ok(messages) => messages,
                Err(e) => {
                    self.sub_failure(format!("messages of chat {chat_id}"), &e)
                        .await;
                    break;
                }
            };
            for message in &messages {
                if let Some(doc) = docs::chat_message(&chat, &members, message) {
                    self.doc(doc, None).await;
                }
                if let Some(doc) = docs::chat_recording(message) {
                    self.doc(doc, None).await;
                }
            }
            let refs: Vec<(String, String)> = if self.types.on(docs::USER_CHAT_ATTACHMENT) {
                messages
                    .iter()
                    .flat_map(docs::chat_attachment_refs)
                    .collect()
            } else {
                Vec::new()
            };
            futures::stream::iter(refs)
                .for_each_concurrent(self.concurrency.attachments, |(sender, name)| {
                    let this = self.clone();
                    let members = members.clone();
                    async move { this.chat_attachment(&sender, &name, &members).await }
                })
                .await;
        }
        if !self.types.on(docs::USER_CHAT_TABS) {
            return;
        }
        let tabs_path = format!("/chats/{}/tabs", encode(&chat_id));
        if let Some(tabs) = self
            .list(|| format!("tabs of chat {chat_id}"), &tabs_path, true)
            .await
        {
            for tab in &tabs {
                self.doc(docs::chat_tab(&chat, &members, tab), None).await;
            }
        }
    }

    /// The sender's "Microsoft Teams Chat Files" folder, looked up once per sender per sync (the reference did
    /// two lookups per attachment), then one `$filter` by name per attachment — the reference's ids.
    async fn chat_attachment(&self, sender: &str, name: &str, members: &str) {
        let first_time = crate::lock::lock(&self.attachments_seen)
            .insert((sender.to_string(), name.to_string()));
        if !first_time {
            return;
        }
        let cell = {
            let mut cache = crate::lock::lock(&self.chat_files);
            cache.entry(sender.to_string()).or_default().clone()
        };
        let folder = cell
            .get_or_init(|| async {
                match self.chat_files_folder(sender).await {
                    Ok(folder) => folder,
                    Err(e) => {
                        self.sub_failure(format!("chat files of user {sender}"), &e)
                            .await;
                        None
                    }
                }
            })
            .await;
        let Some((drive, folder)) = folder else {
            return;
        };
        let path = format!(
            "/drives/{}/items/{}/children?$filter=name eq '{}'",
            encode(drive),
            encode(folder),
            filter_literal(name)
        );
        if let Some(items) = self
            .list(|| format!("chat attachment {name}"), &path, false)
            .await
        {
            for item in &items {
                let download = self.download_for(item);
                self.doc(docs::chat_attachment(members, item), download)
                    .await;
            }
        }
    }

    async fn chat_files_folder(
        &self,
        sender: &str,
    ) -> Result<Option<(String, String)>, GraphError> {
        // No drive (no licence) is the user's property: no chat files. A 404 on the root's children of the drive
        // just read is not, and goes to the caller as an error (incomplete).
        let drive = match self
            .graph
            .get_json(&format!("/users/{}/drive", encode(sender)), false)
            .await
        {
            Ok(drive) => drive,
            Err(GraphError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(drive_id) = drive["id"].as_str() else {
            return Ok(None);
        };
        let root = format!("/drives/{}/items/root/children", encode(drive_id));
        let mut pages = std::pin::pin!(self.graph.pages(&root, false));
        while let Some(page) = pages.next().await {
            for child in page? {
                let is_chat_files = child["name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase() == "microsoft teams chat files");
                if let (true, Some(id)) = (is_chat_files, child["id"].as_str()) {
                    return Ok(Some((drive_id.to_string(), id.to_string())));
                }
            }
        }
        Ok(None)
    }

    // ---- calendars --------------------------------------------------------------------------------------------

    async fn users(self: Arc<Self>) {
        if !self.types.on(docs::USER_MEETING) {
            return;
        }
        let users = match self.user_list().await {
            Ok(users) => users,
            Err(e) => return self.fatal("users", &e).await,
        };
        let with_mail: Vec<&Value> = users
            .iter()
            .filter(|u| u["mail"].as_str().is_some_and(|m| !m.is_empty()))
            .collect();
        self.progress.users.found(with_mail.len());
        futures::stream::iter(with_mail)
            .for_each_concurrent(self.concurrency.calendars, |user| {
                let this = self.clone();
                async move {
                    let Some(id) = user["id"].as_str() else {
                        this.progress.users.finished_one();
                        return;
                    };
                    let path = format!("/users/{}/events?$top=50", encode(id));
                    let mut pages = std::pin::pin!(this.graph.pages(&path, false));
                    while let Some(page) = pages.next().await {
                        match page {
                            Ok(events) => {
                                for event in &events {
                                    if let Some(doc) = docs::meeting(event) {
                                        this.doc(doc, None).await;
                                    }
                                }
                            }
                            Err(e) => {
                                // A first-page 404 is a user without a mailbox; `pages` turns a later one into
                                // a failure.
                                this.absent_or_failure(format!("calendar of user {id}"), &e)
                                    .await;
                                break;
                            }
                        }
                    }
                    this.progress.users.finished_one();
                }
            })
            .await;
    }

    // ---- teams ------------------------------------------------------------------------------------------------

    async fn teams(self: Arc<Self>) {
        if !self.types.any(&TEAM_TYPES) {
            return;
        }
        let mut pages = std::pin::pin!(self.graph.pages("/teams?$top=999", true));
        while let Some(page) = pages.next().await {
            let teams = match page {
                Ok(teams) => teams,
                Err(e) => return self.fatal("teams", &e).await,
            };
            self.progress.teams.found(teams.len());
            futures::stream::iter(teams)
                .for_each_concurrent(self.concurrency.teams, |team| {
                    let this = self.clone();
                    async move {
                        this.clone().team(team).await;
                        this.progress.teams.finished_one();
                    }
                })
                .await;
        }
    }

    async fn team(self: Arc<Self>, team: Value) {
        let Some(team_id) = team["id"].as_str().map(str::to_string) else {
            return;
        };
        self.doc(docs::team(&team), None).await;
        if !self.types.any(&TEAM_TYPES[1..]) {
            return;
        }
        let team_name = team["displayName"].as_str().unwrap_or_default().to_string();
        let path = format!("/teams/{}/channels", encode(&team_id));
        let Some(channels) = self
            .list(|| format!("channels of team {team_name}"), &path, true)
            .await
        else {
            return;
        };
        self.progress.channels.found(channels.len());
        futures::stream::iter(channels)
            .for_each_concurrent(self.concurrency.channels_per_team, |channel| {
                let this = self.clone();
                let (team_id, team_name) = (team_id.clone(), team_name.clone());
                async move {
                    this.clone().channel(&team_id, &team_name, channel).await;
                    this.progress.channels.finished_one();
                }
            })
            .await;
    }

    async fn channel(self: Arc<Self>, team_id: &str, team_name: &str, channel: Value) {
        let Some(channel_id) = channel["id"].as_str().map(str::to_string) else {
            return;
        };
        let channel_name = channel["displayName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let label = format!("{team_name}/{channel_name}");
        self.doc(docs::channel(team_name, &channel), None).await;
        let base = format!(
            "/teams/{}/channels/{}",
            encode(team_id),
            encode(&channel_id)
        );

        let tabs = if self.types.on(docs::CHANNEL_TAB) {
            self.list(
                || format!("tabs of channel {label}"),
                &format!("{base}/tabs"),
                true,
            )
            .await
        } else {
            None
        };
        if let Some(tabs) = tabs {
            for tab in &tabs {
                self.doc(docs::channel_tab(team_name, &channel_name, tab), None)
                    .await;
            }
        }

        let mut meetings = docs::ChannelMeetings::default();
        let path = format!("{base}/messages?$top=50&$expand=replies");
        let wants_messages = self
            .types
            .any(&[docs::CHANNEL_MESSAGE, docs::CHANNEL_MEETING]);
        let mut pages = std::pin::pin!(self.graph.pages(&path, true));
        // A stream does nothing until polled: not wanted, the listing is never requested.
        while let Some(page) = if wants_messages {
            pages.next().await
        } else {
            None
        } {
            let messages = match page {
                Ok(messages) => messages,
                Err(e) => {
                    self.sub_failure(format!("messages of channel {label}"), &e)
                        .await;
                    break;
                }
            };
            for message in &messages {
                let replies = message["replies"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                for item in std::iter::once(message).chain(replies) {
                    match docs::channel_message(&channel_name, item) {
                        Some(doc) => self.doc(doc, None).await,
                        None if !item["eventDetail"].is_null() => meetings.add(item),
                        None => {}
                    }
                }
            }
        }
        let (meeting_docs, without_call_id) = meetings.finish();
        if without_call_id > 0 {
            tracing::warn!(
                channel = %label,
                events = without_call_id,
                "Channel call events without a callId were skipped (they cannot be named)"
            );
        }
        for doc in meeting_docs {
            self.doc(doc, None).await;
        }

        if !self.types.on(docs::CHANNEL_ATTACHMENT) {
            return;
        }
        match self
            .graph
            .get_json(&format!("{base}/filesFolder"), true)
            .await
        {
            Ok(folder) => {
                let drive = folder["parentReference"]["driveId"].as_str();
                if let (Some(drive), Some(item)) = (drive, folder["id"].as_str()) {
                    self.files(drive, item, team_name, &channel_name, &label)
                        .await;
                }
            }
            // Graph answers 404 for a channel whose files were never provisioned.
            Err(e) => {
                self.absent_or_failure(format!("files of channel {label}"), &e)
                    .await
            }
        }
    }

    /// Every file under a folder, depth first (a folder's content before the folder's siblings). Iterative, so a
    /// deep tree cannot grow the stack; each folder is listed once.
    async fn files(
        &self,
        drive: &str,
        root: &str,
        team_name: &str,
        channel_name: &str,
        label: &str,
    ) {
        let mut folders = vec![root.to_string()];
        let mut visited = HashSet::new();
        while let Some(folder) = folders.pop() {
            if !visited.insert(folder.clone()) {
                continue;
            }
            let path = format!(
                "/drives/{}/items/{}/children?$top=5000",
                encode(drive),
                encode(&folder)
            );
            let Some(children) = self
                .list(|| format!("files of channel {label}"), &path, false)
                .await
            else {
                continue;
            };
            for child in &children {
                if child.get("folder").is_some_and(|f| !f.is_null()) {
                    if let Some(id) = child["id"].as_str() {
                        folders.push(id.to_string());
                    }
                }
                if child.get("file").is_some_and(|f| !f.is_null()) {
                    let download = self.download_for(child);
                    self.doc(
                        docs::channel_attachment(team_name, channel_name, child),
                        download,
                    )
                    .await;
                }
            }
        }
    }

    /// The lazy content of a drive item: only allowed extensions and `0 < size ≤ 10 MiB` (spec §10.7), streamed
    /// with the cap enforced whatever the listing said.
    fn download_for(&self, item: &Value) -> Option<Download> {
        let name = item["name"].as_str()?.to_string();
        let size = item["size"].as_u64()?;
        if size == 0 || size > MAX_DOWNLOAD_BYTES {
            return None;
        }
        let extension = crate::extract::extension(&name)?;
        if !EXTRACTABLE.contains(&extension.as_str()) {
            return None;
        }
        let url = docs::download_url(item)?.to_string();
        let graph = self.graph.clone();
        let progress = self.progress.clone();
        Some(
            async move {
                match graph.download(&url, MAX_DOWNLOAD_BYTES as usize).await {
                    Ok(bytes) => {
                        progress.downloaded_one();
                        Ok(Some(Attachment {
                            filename: name,
                            bytes,
                        }))
                    }
                    Err(GraphError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(SourceError::from(e).context(format!("downloading {name}"))),
                }
            }
            .boxed(),
        )
    }
}

/// Percent-encodes a path segment (Graph ids hold `:` `@` `=` and the like).
pub fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A `$filter` string literal (spec §10.3): percent-encoded except `'` and unreserved characters, then every `'`
/// doubled.
pub fn filter_literal(name: &str) -> String {
    let mut out = String::new();
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b'\'' => out.push_str("''"),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_literals() {
        assert_eq!(filter_literal("plan.docx"), "plan.docx");
        assert_eq!(filter_literal("O'Brien notes.txt"), "O''Brien%20notes.txt");
        assert_eq!(filter_literal("a/b&c.pdf"), "a%2Fb%26c.pdf");
        assert_eq!(filter_literal("é.txt"), "%C3%A9.txt");
    }

    #[test]
    fn path_segments() {
        assert_eq!(encode("19:abc@thread.v2"), "19%3Aabc%40thread.v2");
        assert_eq!(encode("a b"), "a%20b");
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
