//! The fixture's tenant: users, chats, calendars, teams, channels and drives as plain Rust values, with the
//! lookups the routes need. `generate` builds one from a seed and a size, `render` turns each value into the
//! JSON Graph would send, `corpus` holds the real files whose bytes drive items serve, `synth` makes the
//! generated ones (realistic office files, PDFs and text, written while they are served). Mutations (see
//! `graph::mutate`) edit these values in place; every listing is rendered from them on each request.

pub mod corpus;
pub mod generate;
pub mod render;
mod render_drive;
pub mod synth;
pub mod time;
pub mod words;

use std::collections::{HashMap, HashSet};

pub use corpus::Corpus;
pub use generate::{generate, generate_with, DataSize};
pub use synth::Synth;

/// Everything the fixture serves.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub tenant: Tenant,
    pub users: Vec<User>,
    pub chats: Vec<Chat>,
    pub teams: Vec<Team>,
    pub drives: Drives,
    /// Index of the signed-in (delegated) user in `users`.
    pub me: usize,
    /// Next sequence number: every listed object gets one at creation, listings are ordered by it and
    /// skiptokens name the last one seen, so paging stays stable while objects are added or removed.
    pub next_seq: u64,
    /// The mutation clock (epoch ms): later than every generated timestamp, advanced by each mutation.
    pub clock_ms: i64,
    /// Epoch-ms values already used as message ids (real Graph message ids are creation times).
    pub message_ids: HashSet<i64>,
    /// How many mutations ran, to derive their random streams.
    pub mutations: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Tenant {
    /// A GUID, as Entra ID tenant ids are; the token endpoint accepts the configured tenant name instead.
    pub id: String,
    /// The SharePoint host label: `https://{name}.sharepoint.com`, `https://{name}-my.sharepoint.com`.
    pub name: String,
    /// Mail domain, from the delegated user's name.
    pub domain: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub seq: u64,
    pub id: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub user_principal_name: String,
    /// Unlicensed accounts (rooms, service accounts) have no mailbox, no OneDrive and no chats.
    pub mail: Option<String>,
    pub job_title: Option<String>,
    pub office_location: Option<String>,
    pub mobile_phone: Option<String>,
    pub business_phones: Vec<String>,
    pub created_ms: i64,
    pub drive_id: Option<String>,
    pub events: Vec<Event>,
}

impl User {
    pub fn has_mailbox(&self) -> bool {
        self.mail.as_deref().is_some_and(|m| !m.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatType {
    OneOnOne,
    Group,
    Meeting,
}

impl ChatType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatType::OneOnOne => "oneOnOne",
            ChatType::Group => "group",
            ChatType::Meeting => "meeting",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Chat {
    pub seq: u64,
    pub id: String,
    pub chat_type: ChatType,
    pub topic: Option<String>,
    pub created_ms: i64,
    pub last_updated_ms: i64,
    pub members: Vec<Member>,
    pub messages: Vec<Message>,
    pub tabs: Vec<Tab>,
    /// Meeting chats: the online meeting's join URL and organizer (user id).
    pub meeting: Option<(String, String)>,
}

impl Chat {
    pub fn has_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.user_id == user_id)
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub user_id: String,
    /// `None` for a deleted account still listed in an old chat.
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub owner: bool,
}

/// Who sent a message: a user, an app (bot), or nobody (system events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    User { id: String, name: String },
    App { id: String, name: String },
    System,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub seq: u64,
    pub id: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub edited_ms: Option<i64>,
    pub deleted_ms: Option<i64>,
    /// `message`, `systemEventMessage` or `unknownFutureValue`.
    pub message_type: &'static str,
    pub from: Sender,
    /// `html` or `text`.
    pub body_type: &'static str,
    pub body: String,
    pub subject: Option<String>,
    pub importance: &'static str,
    pub attachments: Vec<Attachment>,
    pub mentions: Vec<Mention>,
    pub reactions: Vec<(String, i64, String)>,
    pub event: Option<EventDetail>,
    pub reply_to: Option<String>,
    pub replies: Vec<Message>,
}

impl Message {
    pub fn is_deleted(&self) -> bool {
        self.deleted_ms.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    /// `reference` for files; `application/vnd.microsoft.card.adaptive` for bot cards.
    pub content_type: String,
    pub name: Option<String>,
    pub content_url: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Mention {
    pub id: u32,
    pub text: String,
    pub user_id: String,
    pub user_name: String,
}

/// A participant or initiator of a call event: (user id, display name).
pub type Party = (String, Option<String>);

#[derive(Debug, Clone)]
pub enum EventDetail {
    CallStarted {
        call_id: String,
        initiator: Party,
    },
    CallEnded {
        call_id: String,
        duration: String,
        event_type: &'static str,
        participants: Vec<Party>,
        initiator: Party,
    },
    CallRecording {
        call_id: String,
        display_name: String,
        url: String,
        duration: String,
        organizer: Party,
        initiator: Party,
    },
    MembersAdded {
        members: Vec<Party>,
        initiator: Party,
    },
    ChatRenamed {
        chat_id: String,
        name: String,
        initiator: Party,
    },
}

impl EventDetail {
    pub fn call_id(&self) -> Option<&str> {
        match self {
            EventDetail::CallStarted { call_id, .. }
            | EventDetail::CallEnded { call_id, .. }
            | EventDetail::CallRecording { call_id, .. } => Some(call_id),
            EventDetail::MembersAdded { .. } | EventDetail::ChatRenamed { .. } => None,
        }
    }

    pub fn odata_type(&self) -> &'static str {
        match self {
            EventDetail::CallStarted { .. } => "#microsoft.graph.callStartedEventMessageDetail",
            EventDetail::CallEnded { .. } => "#microsoft.graph.callEndedEventMessageDetail",
            EventDetail::CallRecording { .. } => "#microsoft.graph.callRecordingEventMessageDetail",
            EventDetail::MembersAdded { .. } => "#microsoft.graph.membersAddedEventMessageDetail",
            EventDetail::ChatRenamed { .. } => "#microsoft.graph.chatRenamedEventMessageDetail",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tab {
    pub seq: u64,
    pub id: String,
    pub display_name: String,
    pub web_url: Option<String>,
    pub website_url: Option<String>,
    pub content_url: Option<String>,
    pub entity_id: Option<String>,
    pub app_id: &'static str,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    pub id: String,
    pub ical_uid: String,
    pub change_key: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub subject: String,
    pub body_html: String,
    pub body_preview: String,
    pub categories: Vec<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub time_zone: &'static str,
    pub is_all_day: bool,
    pub is_cancelled: bool,
    pub is_organizer: bool,
    pub join_url: Option<String>,
    pub reminder_on: bool,
    pub reminder_minutes: i64,
    pub importance: &'static str,
    pub show_as: &'static str,
    pub recurrence: Option<Recurrence>,
    /// (name, address, `required`/`optional`/`resource`, response)
    pub attendees: Vec<(String, String, &'static str, &'static str)>,
    pub organizer: (String, String),
    pub locations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Recurrence {
    pub pattern_type: &'static str,
    pub interval: u32,
    pub month: u32,
    pub day_of_month: u32,
    pub days_of_week: Vec<&'static str>,
    pub first_day_of_week: &'static str,
    pub index: &'static str,
    pub range_type: &'static str,
    pub start_date: String,
    pub end_date: String,
    pub occurrences: u32,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub seq: u64,
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub created_ms: i64,
    pub visibility: &'static str,
    pub mail_nickname: String,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub seq: u64,
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    /// `standard` or `private`.
    pub membership_type: &'static str,
    /// Private channels: the user ids that can see it. Standard channels: empty (every team member).
    pub members: Vec<String>,
    pub email: String,
    pub tabs: Vec<Tab>,
    pub messages: Vec<Message>,
    pub drive_id: String,
    pub folder_id: String,
}

impl Channel {
    pub fn visible_to(&self, user_id: &str) -> bool {
        self.membership_type != "private" || self.members.iter().any(|m| m == user_id)
    }
}

/// Personal OneDrives and document libraries.
#[derive(Debug, Clone)]
pub struct Drive {
    pub id: String,
    /// `business` (OneDrive) or `documentLibrary` (a team or private channel site).
    pub drive_type: &'static str,
    pub name: String,
    pub web_url: String,
    pub created_ms: i64,
    pub owner: (String, String),
    pub root_id: String,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    Folder,
    File {
        content: Content,
        mime: String,
    },
    /// Neither a file nor a folder (a OneNote notebook).
    Package(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// The bytes of `Corpus::files[i]`.
    Corpus(usize),
    /// A zero-byte file.
    Empty,
    /// A file of `kind`, exactly `size` bytes, written on the fly from `seed` (see `synth`). `listed` is the size
    /// the item's listing says: usually `size`, for a few items not (listings can be wrong; downloads must cap
    /// the bytes, not trust the number).
    Generated {
        kind: Synth,
        size: u64,
        listed: u64,
        seed: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Item {
    pub seq: u64,
    pub id: String,
    pub drive_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub web_url: String,
    pub kind: ItemKind,
    /// The size the listing says (for files with `Content::Generated`, not always the bytes served).
    pub size: u64,
    pub created_by: (String, String),
    pub etag_guid: String,
}

impl Item {
    pub fn is_file(&self) -> bool {
        matches!(self.kind, ItemKind::File { .. })
    }

    pub fn is_folder(&self) -> bool {
        matches!(self.kind, ItemKind::Folder)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Drives {
    pub drives: HashMap<String, Drive>,
    pub items: HashMap<String, Item>,
    /// Folder id → child ids in creation (= sequence) order.
    pub children: HashMap<String, Vec<String>>,
}

impl Drives {
    pub fn add_item(&mut self, item: Item) {
        if let Some(parent) = &item.parent_id {
            self.children
                .entry(parent.clone())
                .or_default()
                .push(item.id.clone());
        }
        if item.is_folder() {
            self.children.entry(item.id.clone()).or_default();
        }
        self.items.insert(item.id.clone(), item);
    }

    pub fn children_of(&self, folder_id: &str) -> impl Iterator<Item = &Item> {
        self.children
            .get(folder_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.items.get(id))
    }

    /// Every item under `folder_id`, depth first (a folder before its contents).
    pub fn descendants(&self, folder_id: &str) -> Vec<&Item> {
        let mut out = Vec::new();
        let mut stack: Vec<&str> = vec![folder_id];
        while let Some(id) = stack.pop() {
            for child in self.children_of(id) {
                out.push(child);
                if child.is_folder() {
                    stack.push(&child.id);
                }
            }
        }
        out
    }

    /// Removes an item and, for a folder, everything under it. Returns the removed items.
    pub fn remove_tree(&mut self, item_id: &str) -> Vec<Item> {
        let Some(item) = self.items.get(item_id) else {
            return Vec::new();
        };
        if let Some(parent) = item.parent_id.clone() {
            if let Some(siblings) = self.children.get_mut(&parent) {
                siblings.retain(|id| id != item_id);
            }
        }
        let mut removed = Vec::new();
        let mut stack = vec![item_id.to_string()];
        while let Some(id) = stack.pop() {
            if let Some(children) = self.children.remove(&id) {
                stack.extend(children);
            }
            if let Some(item) = self.items.remove(&id) {
                removed.push(item);
            }
        }
        removed
    }

    /// The drive root's child named like `name`, compared case-insensitively (as OneDrive does).
    pub fn child_named(&self, folder_id: &str, name: &str) -> Option<&Item> {
        self.children_of(folder_id)
            .find(|i| i.name.to_lowercase() == name.to_lowercase())
    }
}

impl Dataset {
    pub fn me(&self) -> &User {
        &self.users[self.me]
    }

    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        let lower = id_or_upn.to_lowercase();
        self.users
            .iter()
            .find(|u| u.id == id_or_upn || u.user_principal_name.to_lowercase() == lower)
    }

    pub fn chat(&self, id: &str) -> Option<&Chat> {
        self.chats.iter().find(|c| c.id == id)
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn channel(&self, team_id: &str, channel_id: &str) -> Option<(&Team, &Channel)> {
        let team = self.team(team_id)?;
        let channel = team.channels.iter().find(|c| c.id == channel_id)?;
        Some((team, channel))
    }

    pub fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A creation time at or after `ms` that no other message uses, reserved; message ids are these.
    pub fn reserve_message_ms(&mut self, mut ms: i64) -> i64 {
        while !self.message_ids.insert(ms) {
            ms += 1;
        }
        ms
    }

    /// Advances the mutation clock and returns the new time.
    pub fn tick(&mut self, by_ms: i64) -> i64 {
        self.clock_ms += by_ms.max(1);
        self.clock_ms
    }
}
