//! Graph objects → the documents the reference indexes (spec §10.8). Pure functions over `serde_json::Value`: the
//! crawl fetches, these shape, reading each Graph object through its `model` struct (parsed once per call).
//! Field names and values are a compatibility contract (users keep their indices), so every field is the
//! reference's, copied verbatim (a missing Graph field becomes `null`, as Python's `dict.get` gives `None`),
//! and a missing string becomes `""` only where the reference defaults it.
//!
//! Deviations from the reference (README cites these):
//! 1. A `Channel Meeting` always has `_id` = its callId, even without a callEnded event (its `_timestamp` is then
//!    its first event's `lastModifiedDateTime`); call events without a callId are skipped and counted (the
//!    reference emitted a doc without `_id`, which aborted the whole sync).
//! 2. `Teams`, `Team Channel` and `Channel Tab` get a stable `_timestamp` (a content version, not a time: it
//!    changes exactly when the document's content changes), so unchanged ones are skipped on incremental syncs
//!    (the reference used the sync time, so they were re-indexed every time). See [`content_version`].
//! 3. Missing or malformed Graph fields never fail the sync: where the reference would raise, text renders a
//!    missing value as Python prints `None`, an unparseable meeting start/end stays the raw Graph string, call
//!    participants without a name are left out and attachments of a sender without an id are not resolved.
//! 4. Attachments of a deleted chat message are not resolved (the reference looked them up regardless).

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use crate::pyvalue::truthy;

use super::html_text::html_to_text;
use super::model::{
    parse, Chat, DriveItem, Event, EventDetail, Group, IdentitySet, Message, Named, OnlineMeeting,
    Recurrence, Tab, User,
};

pub type Doc = Map<String, Value>;

pub const USER_CHAT_MESSAGES: &str = "User Chat Messages";
pub const USER_CHAT_TABS: &str = "User Chat Tabs";
pub const USER_CHAT_ATTACHMENT: &str = "User Chat Attachment";
pub const USER_CHAT_MEETING_RECORDING: &str = "User Chat Meeting Recording";
pub const USER_MEETING: &str = "User Meeting";
pub const TEAMS: &str = "Teams";
pub const TEAM_CHANNEL: &str = "Team Channel";
pub const CHANNEL_TAB: &str = "Channel Tab";
pub const CHANNEL_MESSAGE: &str = "Channel Message";
pub const CHANNEL_MEETING: &str = "Channel Meeting";
pub const CHANNEL_ATTACHMENT: &str = "Channel Attachment";

/// Every document type (the spec's "12 object types" also counts chats, which produce no document of their own).
pub const ALL_TYPES: [&str; 11] = [
    USER_CHAT_MESSAGES,
    USER_CHAT_TABS,
    USER_CHAT_ATTACHMENT,
    USER_CHAT_MEETING_RECORDING,
    USER_MEETING,
    TEAMS,
    TEAM_CHANNEL,
    CHANNEL_TAB,
    CHANNEL_MESSAGE,
    CHANNEL_MEETING,
    CHANNEL_ATTACHMENT,
];

const CALL_ENDED: &str = "#microsoft.graph.callEndedEventMessageDetail";
const CALL_RECORDING: &str = "#microsoft.graph.callRecordingEventMessageDetail";
/// Only call recordings whose URL has this host are indexed, as the reference does.
const SHAREPOINT_HOST: &str = ".sharepoint.com";
/// Graph's meeting times with the last 4 characters cut (7 fraction digits → 3), as the reference parses them.
const MEETING_TIME_IN: &str = "%Y-%m-%dT%H:%M:%S";
const MEETING_TIME_OUT: &str = "%d %b, %Y at %H:%M";
/// Content versions are `2000-01-01T00:00:00Z` plus up to ~31.7 years of seconds.
const CONTENT_VERSION_EPOCH: i64 = 946_684_800;
const CONTENT_VERSION_SPAN: u64 = 1_000_000_000;

/// `displayName`s of `chat.members` that are non-empty, joined with "," (no space).
pub fn chat_members(chat: &Value) -> String {
    let chat: Chat = parse(chat);
    let names: Vec<&str> = chat
        .members
        .iter()
        .filter_map(|member| member.display_name)
        .filter(|name| !name.is_empty())
        .collect();
    names.join(",")
}

/// None when the message is skipped (deletedDateTime set, messageType contains "unknownFutureValue", empty text).
pub fn chat_message(chat: &Value, members: &str, message: &Value) -> Option<Doc> {
    let message: Message = parse(message);
    let text = message_text(&message)?;
    let chat: Chat = parse(chat);
    let title = if truthy(&chat.topic) {
        chat.topic
    } else {
        Value::from(members)
    };
    let sender = sender(&message.from);
    let fields = [
        ("_id", message.id),
        ("_timestamp", message.last_modified_date_time),
        ("creation_time", message.created_date_time),
        ("webUrl", chat.web_url),
        ("title", title),
        ("chatType", chat.chat_type),
        ("sender", sender),
        ("message", Value::from(text)),
    ];
    Some(typed(USER_CHAT_MESSAGES, fields))
}

/// Some when message.eventDetail is a callRecordingEventMessageDetail whose callRecordingUrl contains
/// ".sharepoint.com".
pub fn chat_recording(message: &Value) -> Option<Doc> {
    let message: Message = parse(message);
    let event: EventDetail = parse(&message.event_detail);
    if event.odata_type != Some(CALL_RECORDING) {
        return None;
    }
    let url = event
        .call_recording_url
        .filter(|url| url.contains(SHAREPOINT_HOST))?;
    let fields = [
        ("_id", event.call_id),
        ("title", event.call_recording_display_name),
        ("url", Value::from(url)),
        ("_timestamp", message.last_modified_date_time),
    ];
    Some(typed(USER_CHAT_MEETING_RECORDING, fields))
}

/// A tab of a chat; its `_timestamp` is the chat's `lastUpdatedDateTime`.
pub fn chat_tab(chat: &Value, members: &str, tab: &Value) -> Doc {
    let tab: Tab = parse(tab);
    let chat: Chat = parse(chat);
    let fields = [
        ("url", tab.configuration.website_url),
        ("_timestamp", chat.last_updated_date_time),
        ("members", Value::from(members)),
        ("_id", tab.id),
        ("title", tab.display_name),
    ];
    typed(USER_CHAT_TABS, fields)
}

/// The reference attachments of a message worth resolving: (sender user id, attachment name) for each attachment
/// with non-empty name and contentType == "reference", only when message.from.user is set (and the message is not
/// deleted).
pub fn chat_attachment_refs(message: &Value) -> Vec<(String, String)> {
    let message: Message = parse(message);
    let user = &message.from.user;
    if truthy(&message.deleted_date_time) || !truthy(user) {
        return Vec::new();
    }
    let Some(sender_id) = parse::<User>(user).id.filter(|id| !id.is_empty()) else {
        return Vec::new();
    };
    message
        .attachments
        .iter()
        .filter(|attachment| attachment.content_type == Some("reference"))
        .filter_map(|attachment| attachment.name)
        .filter(|name| !name.is_empty())
        .map(|name| (sender_id.to_string(), name.to_string()))
        .collect()
}

/// A driveItem found for one of [`chat_attachment_refs`] in the sender's "Microsoft Teams Chat Files".
pub fn chat_attachment(members: &str, item: &Value) -> Doc {
    let mut doc = typed(USER_CHAT_ATTACHMENT, [("members", Value::from(members))]);
    put(&mut doc, drive_item_fields(item));
    doc
}

/// None for null events and isCancelled == true.
pub fn meeting(event: &Value) -> Option<Doc> {
    if !event.is_object() {
        return None;
    }
    let event: Event = parse(event);
    if truthy(&event.is_cancelled) {
        return None;
    }
    let attendees: Vec<Value> = event
        .attendees
        .iter()
        .map(|attendee| {
            let address = &attendee.email_address;
            Value::from(format!(
                "{}({})",
                py_str(&address.name),
                py_str(&address.address)
            ))
        })
        .collect();
    let online_meeting_url = if truthy(&event.online_meeting) {
        parse::<OnlineMeeting>(&event.online_meeting).join_url
    } else {
        Value::from("")
    };
    let location: Vec<Value> = event
        .locations
        .iter()
        .map(|location| Value::from(py_str(&location.display_name)))
        .collect();
    let detail = detail(&event);
    let fields = [
        ("attendees", Value::Array(attendees)),
        ("online_meeting_url", online_meeting_url),
        ("description", event.body_preview),
        ("meeting_detail", Value::from(detail)),
        ("location", Value::Array(location)),
        ("_id", event.id),
        ("creation_time", event.created_date_time),
        ("_timestamp", event.last_modified_date_time),
        ("title", event.subject),
        ("Cancelled_status", event.is_cancelled),
        ("web_link", event.web_link),
        ("reminder", event.is_reminder_on),
        ("reminder_time", event.reminder_minutes_before_start),
        ("categories", event.categories),
        ("original_start_timezone", event.original_start_time_zone),
        ("original_end_timezone", event.original_end_time_zone),
    ];
    Some(typed(USER_MEETING, fields))
}

/// The meeting's schedule or recurrence in words, exactly as the reference phrases it (spec §10.8), e.g.
/// `Recurrence: Occurs Every 1 week on monday,wednesday starting 2023-08-01 until 2023-12-31 Organizer: Alex`.
pub fn meeting_detail(event: &Value) -> String {
    detail(&parse(event))
}

fn detail(event: &Event) -> String {
    let organizer = py_str(&event.organizer.email_address.name);
    if !truthy(&event.recurrence) {
        let start = meeting_time(&event.start.date_time);
        let end = meeting_time(&event.end.date_time);
        return format!("Schedule: {start} to {end} Organizer: {organizer}");
    }
    let Recurrence { pattern, range } = parse(&event.recurrence);
    let every = if truthy(&pattern.interval) {
        py_str(&pattern.interval)
    } else {
        String::new()
    };
    let weekdays: Vec<String> = items(&pattern.days_of_week).map(py_str).collect();
    let weekdays = weekdays.join(",");
    let day = if truthy(&pattern.day_of_month) {
        format!("on day {}", py_str(&pattern.day_of_month))
    } else {
        format!("on {} {weekdays}", py_str(&pattern.index))
    };
    let days = match pattern.kind.unwrap_or("") {
        "daily" => format!("{every} day"),
        "absoluteYearly" | "relativeYearly" => {
            format!("year {day} of {}", month_name(&pattern.month))
        }
        "absoluteMonthly" | "relativeMonthly" => format!("{every} month {day}"),
        _ => format!("{every} week on {weekdays}"),
    };
    let start = py_str(&range.start_date);
    let date = if range.kind == Some("noEnd") {
        start
    } else {
        format!("{start} until {}", py_str(&range.end_date))
    };
    format!("Recurrence: Occurs Every {days} starting {date} Organizer: {organizer}")
}

/// A team, versioned by content (deviation 2).
pub fn team(team: &Value) -> Doc {
    let team: Group = parse(team);
    let fields = [
        ("_id", team.id),
        ("title", team.display_name),
        ("description", team.description),
    ];
    versioned(typed(TEAMS, fields))
}

/// A channel of the team named `team_name`, versioned by content (deviation 2).
pub fn channel(team_name: &str, channel: &Value) -> Doc {
    let channel: Group = parse(channel);
    let fields = [
        ("team_name", Value::from(team_name)),
        ("_id", channel.id),
        ("url", channel.web_url),
        ("title", channel.display_name),
        ("description", channel.description),
        ("creation_time", channel.created_date_time),
    ];
    versioned(typed(TEAM_CHANNEL, fields))
}

/// A tab of a channel, versioned by content (deviation 2).
pub fn channel_tab(team_name: &str, channel_name: &str, tab: &Value) -> Doc {
    let tab: Tab = parse(tab);
    let fields = [
        ("team_name", Value::from(team_name)),
        ("channel_name", Value::from(channel_name)),
        ("_id", tab.id),
        ("title", tab.display_name),
        ("url", tab.web_url),
    ];
    versioned(typed(CHANNEL_TAB, fields))
}

/// Top-level messages and replies alike: same skip rules as chat messages.
pub fn channel_message(channel_name: &str, message: &Value) -> Option<Doc> {
    let message: Message = parse(message);
    let text = message_text(&message)?;
    let attached: Vec<&str> = message
        .attachments
        .iter()
        .filter_map(|attachment| attachment.name)
        .filter(|name| !name.is_empty())
        .collect();
    let attached = attached.join(",");
    let sender = sender(&message.from);
    let fields = [
        ("sender", sender),
        ("channel", Value::from(channel_name)),
        ("message", Value::from(text)),
        ("attached_documents", Value::from(attached)),
        ("_id", message.id),
        ("url", message.web_url),
        ("_timestamp", message.last_modified_date_time),
        ("creation_time", message.created_date_time),
    ];
    Some(typed(CHANNEL_MESSAGE, fields))
}

/// Collects call events from a channel message's replies (and the top-level message itself if it carries an
/// eventDetail), merged per eventDetail.callId: the callEnded event gives `_timestamp` and `participants`, a
/// SharePoint-hosted recording gives `title` and `recording_url`; a later event overwrites an earlier one's fields.
#[derive(Debug, Default)]
pub struct ChannelMeetings {
    docs: Vec<Doc>,
    /// callId → index in `docs`, which keeps first-seen order.
    by_call: std::collections::HashMap<String, usize>,
    without_call_id: usize,
}

impl ChannelMeetings {
    /// Called with every reply that is NOT emitted as a channel message and has an eventDetail.
    pub fn add(&mut self, reply: &Value) {
        let reply: Message = parse(reply);
        if !truthy(&reply.event_detail) {
            return;
        }
        let event: EventDetail = parse(&reply.event_detail);
        let Some(call_id) = event.call_id.as_str().filter(|id| !id.is_empty()) else {
            self.without_call_id += 1;
            return;
        };
        let at = *self.by_call.entry(call_id.to_string()).or_insert_with(|| {
            self.docs
                .push(typed(CHANNEL_MEETING, [("_id", Value::from(call_id))]));
            self.docs.len() - 1
        });
        let doc = &mut self.docs[at];
        let timestamp = &reply.last_modified_date_time;
        match event.odata_type {
            Some(CALL_ENDED) => {
                let participants: Vec<&str> = event
                    .call_participants
                    .iter()
                    .map(|participant| &participant.participant.user)
                    .filter(|user| truthy(user))
                    .filter_map(|user| parse::<Named>(user).display_name)
                    .collect();
                doc.insert("_timestamp".into(), timestamp.clone());
                doc.insert("participants".into(), Value::from(participants.join(", ")));
            }
            Some(CALL_RECORDING) => {
                if let Some(url) = event
                    .call_recording_url
                    .filter(|url| url.contains(SHAREPOINT_HOST))
                {
                    let title = event.call_recording_display_name.clone();
                    doc.insert("title".into(), title);
                    doc.insert("recording_url".into(), Value::from(url));
                }
            }
            _ => {}
        }
        // Without a callEnded event the meeting is still stamped (with its first event's time), so incremental
        // syncs can skip it; callEnded's time wins when it comes.
        if !doc.contains_key("_timestamp") {
            doc.insert("_timestamp".into(), timestamp.clone());
        }
    }

    /// The merged docs, in first-seen order, plus how many call events had no callId (skipped; the caller warns).
    pub fn finish(self) -> (Vec<Doc>, usize) {
        (self.docs, self.without_call_id)
    }
}

/// A driveItem with a `file` facet under the channel's `filesFolder`.
pub fn channel_attachment(team_name: &str, channel_name: &str, item: &Value) -> Doc {
    let fields = [
        ("team_name", Value::from(team_name)),
        ("channel_name", Value::from(channel_name)),
    ];
    let mut doc = typed(CHANNEL_ATTACHMENT, fields);
    put(&mut doc, drive_item_fields(item));
    doc
}

/// Attachment docs carry what the lazy download needs; these read them back from the Graph driveItem.
pub fn download_url(item: &Value) -> Option<&str> {
    parse::<DriveItem>(item).download_url
}

/// A deterministic stand-in for `_timestamp`: FNV-1a 64 over the canonical JSON (keys sorted at every level,
/// compact) of `doc` without `_timestamp`, as `2000-01-01T00:00:00Z` plus (hash mod 10^9) seconds, formatted
/// `2017-03-04T05:06:07Z`. A valid date because `_timestamp` is date-mapped; a content version, not a time: it
/// changes exactly when the document's content changes. The hash is fixed here (never std's `DefaultHasher`,
/// which may change between Rust releases), so versions survive upgrades.
pub fn content_version(doc: &Doc) -> String {
    let mut content = doc.clone();
    content.remove("_timestamp");
    let mut canonical = String::new();
    write_canonical(&Value::Object(content), &mut canonical);
    let offset = fnv1a64(canonical.as_bytes()) % CONTENT_VERSION_SPAN;
    // The offset is below 10^9, so the sum is far inside chrono's range.
    let seconds = CONTENT_VERSION_EPOCH + i64::try_from(offset).unwrap_or_default();
    DateTime::from_timestamp(seconds, 0).map_or_else(
        || "2000-01-01T00:00:00Z".to_string(),
        |at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

fn versioned(mut doc: Doc) -> Doc {
    let version = content_version(&doc);
    doc.insert("_timestamp".into(), Value::from(version));
    doc
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

fn sorted_keys(map: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    keys
}

/// Compact JSON with object keys sorted, whatever order the map keeps (serde_json's `preserve_order` may be on).
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(values) => {
            out.push('[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, key) in sorted_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(&Value::from(key.as_str()), out);
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A document of `doc_type` with `fields`, in order (the order documents are written in).
fn typed<const N: usize>(doc_type: &str, fields: [(&str, Value); N]) -> Doc {
    let mut doc = Doc::new();
    doc.insert("type".into(), Value::from(doc_type));
    put(&mut doc, fields);
    doc
}

/// Inserts each `(field, value)` in order.
fn put<const N: usize>(doc: &mut Doc, fields: [(&str, Value); N]) {
    for (field, value) in fields {
        doc.insert(field.into(), value);
    }
}

/// The driveItem fields both attachment types share.
fn drive_item_fields(item: &Value) -> [(&'static str, Value); 6] {
    let item: DriveItem = parse(item);
    [
        ("_id", item.id),
        ("name", item.name),
        ("weburl", item.web_url),
        ("size_in_bytes", item.size),
        ("_timestamp", item.last_modified_date_time),
        ("creation_time", item.created_date_time),
    ]
}

/// The message's text, or None when the reference skips it: deleted, of an unknown future type, or without text.
fn message_text(message: &Message) -> Option<String> {
    if truthy(&message.deleted_date_time) {
        return None;
    }
    if message
        .message_type
        .unwrap_or("")
        .contains("unknownFutureValue")
    {
        return None;
    }
    let text = html_to_text(message.body.content?);
    (!text.is_empty()).then_some(text)
}

/// `from.user.displayName` when `from.user` is set (`null` if it has no name), else `""`.
fn sender(from: &IdentitySet) -> Value {
    if truthy(&from.user) {
        parse::<User>(&from.user).display_name
    } else {
        Value::from("")
    }
}

/// A value as Python's f-string prints it (`None`, `True`, `15`, the string itself).
fn py_str(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The elements of a JSON array; nothing for anything else (a missing or null list is an empty one).
fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

/// Python's `calendar.month_name[m]`; `""` outside 1–12.
fn month_name(month: &Value) -> &'static str {
    #[rustfmt::skip]
    const NAMES: [&str; 12] = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ];
    month
        .as_u64()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| NAMES.get(usize::try_from(i).ok()?))
        .copied()
        .unwrap_or("")
}

/// `start`/`end.dateTime` as the reference prints it: the last 4 characters cut, parsed as
/// `%Y-%m-%dT%H:%M:%S.%f` (1–6 fraction digits), printed `%d %b, %Y at %H:%M`, no timezone conversion. A value
/// that does not parse stays as Graph sent it (the reference raised).
fn meeting_time(value: &Value) -> String {
    let Some(raw) = value.as_str() else {
        return py_str(value);
    };
    let cut = raw
        .char_indices()
        .rev()
        .nth(3)
        .map_or("", |(at, _)| &raw[..at]);
    let parsed = cut.split_once('.').and_then(|(seconds, fraction)| {
        let fraction_ok =
            (1..=6).contains(&fraction.len()) && fraction.bytes().all(|b| b.is_ascii_digit());
        fraction_ok.then(|| NaiveDateTime::parse_from_str(seconds, MEETING_TIME_IN).ok())?
    });
    match parsed {
        Some(at) => at.format(MEETING_TIME_OUT).to_string(),
        None => raw.to_string(),
    }
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
