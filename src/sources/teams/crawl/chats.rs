//! The chats lister: the signed-in user's chats (delegated) or every user's (app-only, each chat crawled once),
//! then per chat its messages, meeting recordings, tabs and shared files (looked up in the sender's "Microsoft
//! Teams Chat Files" folder by name).

use crate::lock::lock;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::items::{select, DriveItem, Id};
use super::Crawl;
use crate::encode::{filter_literal, graph_segment};
use crate::sources::teams::auth::TokenKind;
use crate::sources::teams::docs;
use crate::sources::teams::graph::{fields, GraphError};

/// Page sizes the crawl asks for (Graph's maximum per endpoint).
const CHATS: &str = "$expand=members&$top=50";

pub(super) const CHAT_TYPES: [&str; 4] = [
    docs::USER_CHAT_MESSAGES,
    docs::USER_CHAT_TABS,
    docs::USER_CHAT_ATTACHMENT,
    docs::USER_CHAT_MEETING_RECORDING,
];

/// A sender's (drive id, chat files folder id), or `None` when they have none; filled by the first lookup.
pub(super) type ChatFilesCell = OnceCell<Option<(String, String)>>;

impl Crawl {
    pub(super) async fn chats(self: Arc<Self>) {
        if !self.types.any(&CHAT_TYPES) {
            return;
        }
        if self.sign_in.app_only() {
            // App-only: no signed-in user; each user's chats (a chat shows up once per member, crawled once).
            let users = match self.user_list().await {
                Ok(users) => users,
                Err(e) => return self.fatal("users (for their chats)", &e).await,
            };
            futures::stream::iter(users.iter())
                .for_each_concurrent(self.concurrency.chats.div_ceil(2).max(1), |user| {
                    let this = self.clone();
                    async move {
                        let Some(id) = user.id.as_deref() else {
                            return;
                        };
                        let path = format!("/users/{}/chats?{CHATS}", graph_segment(id));
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
        let mut pages = std::pin::pin!(self.graph.pages(path, TokenKind::Delegated));
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
                let mut seen = lock(&self.chats_seen);
                chats
                    .into_iter()
                    .filter(|c| fields::<Id>(c).id.is_some_and(|id| seen.insert(id)))
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
        let Some(chat_id) = fields::<Id>(&chat).id else {
            return;
        };
        let members = docs::chat_members(&chat);
        let path = format!("/chats/{}/messages?$top=50", graph_segment(&chat_id));
        let wants_messages = self.types.any(&[
            docs::USER_CHAT_MESSAGES,
            docs::USER_CHAT_MEETING_RECORDING,
            docs::USER_CHAT_ATTACHMENT,
        ]);
        let mut pages = std::pin::pin!(self.graph.pages(&path, TokenKind::Delegated));
        let part = || format!("messages of chat {chat_id}");
        while let Some(messages) = self.next_child_page(&mut pages, wants_messages, part).await {
            let mut refs: Vec<(String, String)> = Vec::new();
            for message in messages {
                if let Some(doc) = docs::chat_message(&chat, &members, &message) {
                    self.doc(doc, None).await;
                }
                if let Some(doc) = docs::chat_recording(&message) {
                    self.doc(doc, None).await;
                }
                if self.types.on(docs::USER_CHAT_ATTACHMENT) {
                    refs.extend(docs::chat_attachment_refs(&message));
                }
            }
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
        let tabs_path = format!(
            "/chats/{}/tabs?$select={}",
            graph_segment(&chat_id),
            select::CHAT_TABS
        );
        if let Some(tabs) = self
            .list(
                || format!("tabs of chat {chat_id}"),
                &tabs_path,
                TokenKind::Delegated,
            )
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
        let first_time = lock(&self.attachments_seen).insert((sender, name));
        if !first_time {
            return;
        }
        let cell = {
            let mut cache = lock(&self.chat_files);
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
            "/drives/{}/items/{}/children?$filter=name eq '{}'&$select={}",
            graph_segment(drive),
            graph_segment(folder),
            filter_literal(name),
            select::DRIVE_ITEMS
        );
        if let Some(items) = self
            .list(|| format!("chat attachment {name}"), &path, TokenKind::App)
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
            .get_json(
                &format!("/users/{}/drive", graph_segment(sender)),
                TokenKind::App,
            )
            .await
        {
            Ok(drive) => drive,
            Err(GraphError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(drive_id) = fields::<Id>(&drive).id else {
            return Ok(None);
        };
        let root = format!(
            "/drives/{}/items/root/children?$select={}",
            graph_segment(&drive_id),
            select::FOLDER_LOOKUP
        );
        let mut pages = std::pin::pin!(self.graph.pages(&root, TokenKind::App));
        while let Some(page) = pages.next().await {
            for child in page? {
                let child: DriveItem = fields(&child);
                let is_chat_files = child
                    .name
                    .is_some_and(|n| n.to_lowercase() == "microsoft teams chat files");
                if let (true, Some(id)) = (is_chat_files, child.id) {
                    return Ok(Some((drive_id, id)));
                }
            }
        }
        Ok(None)
    }
}
