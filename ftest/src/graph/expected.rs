//! The documents a correct connector sync produces from the current data (`GET /_fixture/expected`),
//! computed with the connector's rules (spec §10.5, §10.8) and our deviations from the reference: a channel
//! meeting needs a call id but not a callEnded event, and private channels are only visible to their
//! members in delegated mode. Each document also gets a fingerprint of the source fields it is built from,
//! so a mutation can report which documents changed.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::graph::data::{Chat, Dataset, EventDetail, Message, Sender};
use crate::graph::html_text::has_text;
use crate::graph::rng::hash;

pub const CHAT_MESSAGE: &str = "User Chat Messages";
pub const CHAT_TAB: &str = "User Chat Tabs";
pub const CHAT_ATTACHMENT: &str = "User Chat Attachment";
pub const CHAT_RECORDING: &str = "User Chat Meeting Recording";
pub const MEETING: &str = "User Meeting";
pub const TEAM: &str = "Teams";
pub const CHANNEL: &str = "Team Channel";
pub const CHANNEL_TAB: &str = "Channel Tab";
pub const CHANNEL_MESSAGE: &str = "Channel Message";
pub const CHANNEL_MEETING: &str = "Channel Meeting";
pub const CHANNEL_ATTACHMENT: &str = "Channel Attachment";

pub const TYPES: [&str; 11] = [
    CHAT_MESSAGE,
    CHAT_TAB,
    CHAT_ATTACHMENT,
    CHAT_RECORDING,
    MEETING,
    TEAM,
    CHANNEL,
    CHANNEL_TAB,
    CHANNEL_MESSAGE,
    CHANNEL_MEETING,
    CHANNEL_ATTACHMENT,
];

/// Which token the connector crawls with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Username/password configured: `/chats` of the signed-in user; channels that user can see.
    Delegated,
    /// App-only: every user's `/users/{id}/chats`; every channel.
    App,
}

impl Mode {
    pub fn parse(value: Option<&str>) -> Result<Mode, String> {
        match value {
            None | Some("delegated") => Ok(Mode::Delegated),
            Some("app") => Ok(Mode::App),
            Some(other) => Err(format!("unknown mode [{other}]: delegated or app")),
        }
    }
}

/// Document id → (type, fingerprint). Ids are global: the first type to claim an id keeps it.
pub type Docs = BTreeMap<String, (&'static str, u64)>;

/// True if the connector turns this chat or channel message into a message document.
pub fn is_message_doc(m: &Message) -> bool {
    m.deleted_ms.is_none() && !m.message_type.contains("unknownFutureValue") && has_text(&m.body)
}

fn fp(parts: &[&str]) -> u64 {
    hash(&parts.join("\u{1f}"))
}

fn message_fp(m: &Message, extra: &str) -> u64 {
    let names: Vec<&str> = m
        .attachments
        .iter()
        .filter_map(|a| a.name.as_deref())
        .collect();
    fp(&[&m.modified_ms.to_string(), &m.body, &names.join(","), extra])
}

/// The chats the connector crawls in `mode`.
pub fn crawled_chats(ds: &Dataset, mode: Mode) -> Vec<&Chat> {
    let me = &ds.me().id;
    ds.chats
        .iter()
        .filter(|c| match mode {
            Mode::Delegated => c.has_member(me),
            Mode::App => c
                .members
                .iter()
                .any(|m| ds.users.iter().any(|u| u.id == m.user_id)),
        })
        .collect()
}

pub fn expected(ds: &Dataset, mode: Mode) -> Docs {
    let mut docs = Docs::new();
    let mut add = |id: &str, kind: &'static str, f: u64| {
        docs.entry(id.to_string()).or_insert((kind, f));
    };
    for chat in crawled_chats(ds, mode) {
        let members: Vec<&str> = chat
            .members
            .iter()
            .filter_map(|m| m.display_name.as_deref())
            .filter(|n| !n.is_empty())
            .collect();
        let chat_fp = format!("{:?}|{}", chat.topic, members.join(","));
        for m in &chat.messages {
            if is_message_doc(m) {
                add(&m.id, CHAT_MESSAGE, message_fp(m, &chat_fp));
            }
            if let Some(EventDetail::CallRecording {
                call_id,
                url,
                display_name,
                ..
            }) = &m.event
            {
                if url.contains(".sharepoint.com") {
                    add(
                        call_id,
                        CHAT_RECORDING,
                        fp(&[&m.modified_ms.to_string(), display_name, url]),
                    );
                }
            }
            if let Sender::User { id: sender, .. } = &m.from {
                for a in &m.attachments {
                    let Some(name) = a.name.as_deref().filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    if a.content_type != "reference" {
                        continue;
                    }
                    if let Some(item) = chat_file(ds, sender, name) {
                        add(&item.0, CHAT_ATTACHMENT, fp(&[&item.1, &chat_fp]));
                    }
                }
            }
        }
        for tab in &chat.tabs {
            add(
                &tab.id,
                CHAT_TAB,
                fp(&[
                    &format!("{tab:?}"),
                    &chat.last_updated_ms.to_string(),
                    &chat_fp,
                ]),
            );
        }
    }
    for user in ds.users.iter().filter(|u| u.has_mailbox()) {
        for e in user.events.iter().filter(|e| !e.is_cancelled) {
            add(
                &e.id,
                MEETING,
                fp(&[&e.modified_ms.to_string(), &format!("{e:?}")]),
            );
        }
    }
    let me = &ds.me().id;
    for team in &ds.teams {
        add(&team.id, TEAM, fp(&[&team.display_name, &team.description]));
        for ch in team
            .channels
            .iter()
            .filter(|c| mode == Mode::App || c.visible_to(me))
        {
            add(
                &ch.id,
                CHANNEL,
                fp(&[
                    &format!("{:?}{:?}", ch.display_name, ch.description),
                    &team.display_name,
                ]),
            );
            for tab in &ch.tabs {
                add(
                    &tab.id,
                    CHANNEL_TAB,
                    fp(&[&format!("{tab:?}"), &ch.display_name, &team.display_name]),
                );
            }
            let mut calls: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for post in &ch.messages {
                for m in std::iter::once(post).chain(post.replies.iter()) {
                    if is_message_doc(m) {
                        add(&m.id, CHANNEL_MESSAGE, message_fp(m, &ch.display_name));
                    } else if let Some(call_id) = m.event.as_ref().and_then(EventDetail::call_id) {
                        calls
                            .entry(call_id)
                            .or_default()
                            .push(format!("{}|{:?}", m.modified_ms, m.event));
                    }
                }
            }
            for (call_id, parts) in calls {
                add(call_id, CHANNEL_MEETING, fp(&[&parts.join(";")]));
            }
            for item in ds.drives.descendants(&ch.folder_id) {
                if item.is_file() {
                    add(
                        &item.id,
                        CHANNEL_ATTACHMENT,
                        fp(&[
                            &item.modified_ms.to_string(),
                            &item.name,
                            &item.size.to_string(),
                            &ch.display_name,
                            &team.display_name,
                        ]),
                    );
                }
            }
        }
    }
    docs
}

/// The drive item a reference attachment named `name` resolves to: (id, fingerprint source), looked up
/// the way the connector does — sender's drive, root child "Microsoft Teams Chat Files", child by name.
pub fn chat_file(ds: &Dataset, sender_id: &str, name: &str) -> Option<(String, String)> {
    let user = ds.users.iter().find(|u| u.id == sender_id)?;
    let drive = ds.drives.drives.get(user.drive_id.as_deref()?)?;
    let folder = ds
        .drives
        .child_named(&drive.root_id, "Microsoft Teams Chat Files")?;
    let item = ds.drives.child_named(&folder.id, name)?;
    Some((
        item.id.clone(),
        format!("{}|{}|{}", item.modified_ms, item.name, item.size),
    ))
}

/// `{"total", "by_type", "ids"}` for the fixture's `expected` endpoint.
pub fn summary(docs: &Docs) -> Value {
    let mut by_type: BTreeMap<&str, usize> = TYPES.iter().map(|t| (*t, 0)).collect();
    let mut ids: BTreeMap<&str, Vec<&str>> = TYPES.iter().map(|t| (*t, Vec::new())).collect();
    for (id, (kind, _)) in docs {
        *by_type.entry(kind).or_default() += 1;
        ids.entry(kind).or_default().push(id);
    }
    json!({"total": docs.len(), "by_type": by_type, "ids": ids})
}

/// What changed between two states: `(changed_or_added, deleted)`, each by type.
pub fn diff(before: &Docs, after: &Docs) -> (Value, Value, Value) {
    let mut changed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut added: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut deleted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, (kind, f)) in after {
        match before.get(id) {
            Some((_, old)) if old == f => {}
            Some(_) => changed.entry(kind).or_default().push(id),
            None => {
                changed.entry(kind).or_default().push(id);
                added.entry(kind).or_default().push(id);
            }
        }
    }
    for (id, (kind, _)) in before {
        if !after.contains_key(id) {
            deleted.entry(kind).or_default().push(id);
        }
    }
    (json!(changed), json!(added), json!(deleted))
}
