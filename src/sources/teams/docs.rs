//! Graph objects → the documents the reference indexes (spec §10.8). Pure functions over `serde_json::Value`: the
//! crawl fetches, these shape. Field names and values are a compatibility contract (users keep their indices), so
//! every field is the reference's, copied verbatim (a missing Graph field becomes `null`, as Python's `dict.get`
//! gives `None`), and a missing string becomes `""` only where the reference defaults it.
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
    let names: Vec<&str> = items(&chat["members"])
        .filter_map(|member| member["displayName"].as_str())
        .filter(|name| !name.is_empty())
        .collect();
    names.join(",")
}

/// None when the message is skipped (deletedDateTime set, messageType contains "unknownFutureValue", empty text).
pub fn chat_message(chat: &Value, members: &str, message: &Value) -> Option<Doc> {
    let text = message_text(message)?;
    let title = if truthy(&chat["topic"]) {
        chat["topic"].clone()
    } else {
        Value::from(members)
    };
    let mut doc = typed(USER_CHAT_MESSAGES);
    copy(&mut doc, "_id", message, "id");
    copy(&mut doc, "_timestamp", message, "lastModifiedDateTime");
    copy(&mut doc, "creation_time", message, "createdDateTime");
    copy(&mut doc, "webUrl", chat, "webUrl");
    doc.insert("title".into(), title);
    copy(&mut doc, "chatType", chat, "chatType");
    doc.insert("sender".into(), sender(message));
    doc.insert("message".into(), Value::from(text));
    Some(doc)
}

/// Some when message.eventDetail is a callRecordingEventMessageDetail whose callRecordingUrl contains
/// ".sharepoint.com".
pub fn chat_recording(message: &Value) -> Option<Doc> {
    let event = &message["eventDetail"];
    if event["@odata.type"].as_str() != Some(CALL_RECORDING) {
        return None;
    }
    let url = event["callRecordingUrl"]
        .as_str()
        .filter(|url| url.contains(SHAREPOINT_HOST))?;
    let mut doc = typed(USER_CHAT_MEETING_RECORDING);
    copy(&mut doc, "_id", event, "callId");
    copy(&mut doc, "title", event, "callRecordingDisplayName");
    doc.insert("url".into(), Value::from(url));
    copy(&mut doc, "_timestamp", message, "lastModifiedDateTime");
    Some(doc)
}

/// A tab of a chat; its `_timestamp` is the chat's `lastUpdatedDateTime`.
pub fn chat_tab(chat: &Value, members: &str, tab: &Value) -> Doc {
    let mut doc = typed(USER_CHAT_TABS);
    copy(&mut doc, "url", &tab["configuration"], "websiteUrl");
    copy(&mut doc, "_timestamp", chat, "lastUpdatedDateTime");
    doc.insert("members".into(), Value::from(members));
    copy(&mut doc, "_id", tab, "id");
    copy(&mut doc, "title", tab, "displayName");
    doc
}

/// The reference attachments of a message worth resolving: (sender user id, attachment name) for each attachment
/// with non-empty name and contentType == "reference", only when message.from.user is set (and the message is not
/// deleted).
pub fn chat_attachment_refs(message: &Value) -> Vec<(String, String)> {
    let user = &message["from"]["user"];
    if truthy(&message["deletedDateTime"]) || !truthy(user) {
        return Vec::new();
    }
    let Some(sender_id) = user["id"].as_str().filter(|id| !id.is_empty()) else {
        return Vec::new();
    };
    items(&message["attachments"])
        .filter(|attachment| attachment["contentType"].as_str() == Some("reference"))
        .filter_map(|attachment| attachment["name"].as_str())
        .filter(|name| !name.is_empty())
        .map(|name| (sender_id.to_string(), name.to_string()))
        .collect()
}

/// A driveItem found for one of [`chat_attachment_refs`] in the sender's "Microsoft Teams Chat Files".
pub fn chat_attachment(members: &str, item: &Value) -> Doc {
    let mut doc = typed(USER_CHAT_ATTACHMENT);
    doc.insert("members".into(), Value::from(members));
    drive_item_fields(&mut doc, item);
    doc
}

/// None for null events and isCancelled == true.
pub fn meeting(event: &Value) -> Option<Doc> {
    if !event.is_object() || truthy(&event["isCancelled"]) {
        return None;
    }
    let attendees: Vec<Value> = items(&event["attendees"])
        .map(|attendee| {
            let address = &attendee["emailAddress"];
            Value::from(format!(
                "{}({})",
                py_str(&address["name"]),
                py_str(&address["address"])
            ))
        })
        .collect();
    let online_meeting_url = if truthy(&event["onlineMeeting"]) {
        event["onlineMeeting"]["joinUrl"].clone()
    } else {
        Value::from("")
    };
    let location: Vec<Value> = items(&event["locations"])
        .map(|location| Value::from(py_str(&location["displayName"])))
        .collect();
    let mut doc = typed(USER_MEETING);
    doc.insert("attendees".into(), Value::Array(attendees));
    doc.insert("online_meeting_url".into(), online_meeting_url);
    copy(&mut doc, "description", event, "bodyPreview");
    doc.insert("meeting_detail".into(), Value::from(meeting_detail(event)));
    doc.insert("location".into(), Value::Array(location));
    for (field, source) in [
        ("_id", "id"),
        ("creation_time", "createdDateTime"),
        ("_timestamp", "lastModifiedDateTime"),
        ("title", "subject"),
        ("Cancelled_status", "isCancelled"),
        ("web_link", "webLink"),
        ("reminder", "isReminderOn"),
        ("reminder_time", "reminderMinutesBeforeStart"),
        ("categories", "categories"),
        ("original_start_timezone", "originalStartTimeZone"),
        ("original_end_timezone", "originalEndTimeZone"),
    ] {
        copy(&mut doc, field, event, source);
    }
    Some(doc)
}

/// The meeting's schedule or recurrence in words, exactly as the reference phrases it (spec §10.8), e.g.
/// `Recurrence: Occurs Every 1 week on monday,wednesday starting 2023-08-01 until 2023-12-31 Organizer: Alex`.
pub fn meeting_detail(event: &Value) -> String {
    let organizer = py_str(&event["organizer"]["emailAddress"]["name"]);
    let recurrence = &event["recurrence"];
    if !truthy(recurrence) {
        let start = meeting_time(&event["start"]["dateTime"]);
        let end = meeting_time(&event["end"]["dateTime"]);
        return format!("Schedule: {start} to {end} Organizer: {organizer}");
    }
    let pattern = &recurrence["pattern"];
    let range = &recurrence["range"];
    let every = if truthy(&pattern["interval"]) {
        py_str(&pattern["interval"])
    } else {
        String::new()
    };
    let weekdays: Vec<String> = items(&pattern["daysOfWeek"]).map(py_str).collect();
    let weekdays = weekdays.join(",");
    let day = if truthy(&pattern["dayOfMonth"]) {
        format!("on day {}", py_str(&pattern["dayOfMonth"]))
    } else {
        format!("on {} {weekdays}", py_str(&pattern["index"]))
    };
    let days = match pattern["type"].as_str().unwrap_or("") {
        "daily" => format!("{every} day"),
        "absoluteYearly" | "relativeYearly" => {
            format!("year {day} of {}", month_name(&pattern["month"]))
        }
        "absoluteMonthly" | "relativeMonthly" => format!("{every} month {day}"),
        _ => format!("{every} week on {weekdays}"),
    };
    let start = py_str(&range["startDate"]);
    let date = if range["type"].as_str() == Some("noEnd") {
        start
    } else {
        format!("{start} until {}", py_str(&range["endDate"]))
    };
    format!("Recurrence: Occurs Every {days} starting {date} Organizer: {organizer}")
}

/// A team, versioned by content (deviation 2).
pub fn team(team: &Value) -> Doc {
    let mut doc = typed(TEAMS);
    copy(&mut doc, "_id", team, "id");
    copy(&mut doc, "title", team, "displayName");
    copy(&mut doc, "description", team, "description");
    versioned(doc)
}

/// A channel of the team named `team_name`, versioned by content (deviation 2).
pub fn channel(team_name: &str, channel: &Value) -> Doc {
    let mut doc = typed(TEAM_CHANNEL);
    doc.insert("team_name".into(), Value::from(team_name));
    copy(&mut doc, "_id", channel, "id");
    copy(&mut doc, "url", channel, "webUrl");
    copy(&mut doc, "title", channel, "displayName");
    copy(&mut doc, "description", channel, "description");
    copy(&mut doc, "creation_time", channel, "createdDateTime");
    versioned(doc)
}

/// A tab of a channel, versioned by content (deviation 2).
pub fn channel_tab(team_name: &str, channel_name: &str, tab: &Value) -> Doc {
    let mut doc = typed(CHANNEL_TAB);
    doc.insert("team_name".into(), Value::from(team_name));
    doc.insert("channel_name".into(), Value::from(channel_name));
    copy(&mut doc, "_id", tab, "id");
    copy(&mut doc, "title", tab, "displayName");
    copy(&mut doc, "url", tab, "webUrl");
    versioned(doc)
}

/// Top-level messages and replies alike: same skip rules as chat messages.
pub fn channel_message(channel_name: &str, message: &Value) -> Option<Doc> {
    let text = message_text(message)?;
    let attached: Vec<&str> = items(&message["attachments"])
        .filter_map(|attachment| attachment["name"].as_str())
        .filter(|name| !name.is_empty())
        .collect();
    let mut doc = typed(CHANNEL_MESSAGE);
    doc.insert("sender".into(), sender(message));
    doc.insert("channel".into(), Value::from(channel_name));
    doc.insert("message".into(), Value::from(text));
    doc.insert("attached_documents".into(), Value::from(attached.join(",")));
    copy(&mut doc, "_id", message, "id");
    copy(&mut doc, "url", message, "webUrl");
    copy(&mut doc, "_timestamp", message, "lastModifiedDateTime");
    copy(&mut doc, "creation_time", message, "createdDateTime");
    Some(doc)
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
        let event = &reply["eventDetail"];
        if !truthy(event) {
            return;
        }
        let Some(call_id) = event["callId"].as_str().filter(|id| !id.is_empty()) else {
            self.without_call_id += 1;
            return;
        };
        let at = *self.by_call.entry(call_id.to_string()).or_insert_with(|| {
            let mut doc = typed(CHANNEL_MEETING);
            doc.insert("_id".into(), Value::from(call_id));
            self.docs.push(doc);
            self.docs.len() - 1
        });
        let doc = &mut self.docs[at];
        match event["@odata.type"].as_str() {
            Some(CALL_ENDED) => {
                let participants: Vec<&str> = items(&event["callParticipants"])
                    .map(|participant| &participant["participant"]["user"])
                    .filter(|user| truthy(user))
                    .filter_map(|user| user["displayName"].as_str())
                    .collect();
                copy(doc, "_timestamp", reply, "lastModifiedDateTime");
                doc.insert("participants".into(), Value::from(participants.join(", ")));
            }
            Some(CALL_RECORDING) => {
                if let Some(url) = event["callRecordingUrl"]
                    .as_str()
                    .filter(|url| url.contains(SHAREPOINT_HOST))
                {
                    copy(doc, "title", event, "callRecordingDisplayName");
                    doc.insert("recording_url".into(), Value::from(url));
                }
            }
            _ => {}
        }
        // Without a callEnded event the meeting is still stamped (with its first event's time), so incremental
        // syncs can skip it; callEnded's time wins when it comes.
        if !doc.contains_key("_timestamp") {
            copy(doc, "_timestamp", reply, "lastModifiedDateTime");
        }
    }

    /// The merged docs, in first-seen order, plus how many call events had no callId (skipped; the caller warns).
    pub fn finish(self) -> (Vec<Doc>, usize) {
        (self.docs, self.without_call_id)
    }
}

/// A driveItem with a `file` facet under the channel's `filesFolder`.
pub fn channel_attachment(team_name: &str, channel_name: &str, item: &Value) -> Doc {
    let mut doc = typed(CHANNEL_ATTACHMENT);
    doc.insert("team_name".into(), Value::from(team_name));
    doc.insert("channel_name".into(), Value::from(channel_name));
    drive_item_fields(&mut doc, item);
    doc
}

/// Attachment docs carry what the lazy download needs; these read them back from the Graph driveItem.
pub fn download_url(item: &Value) -> Option<&str> {
    item["@microsoft.graph.downloadUrl"].as_str()
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

fn typed(doc_type: &str) -> Doc {
    let mut doc = Doc::new();
    doc.insert("type".into(), Value::from(doc_type));
    doc
}

/// `doc[field] = source.get(key)`: the value verbatim, `null` when absent.
fn copy(doc: &mut Doc, field: &str, source: &Value, key: &str) {
    doc.insert(field.into(), source[key].clone());
}

/// The driveItem fields both attachment types share.
fn drive_item_fields(doc: &mut Doc, item: &Value) {
    copy(doc, "_id", item, "id");
    copy(doc, "name", item, "name");
    copy(doc, "weburl", item, "webUrl");
    copy(doc, "size_in_bytes", item, "size");
    copy(doc, "_timestamp", item, "lastModifiedDateTime");
    copy(doc, "creation_time", item, "createdDateTime");
}

/// The message's text, or None when the reference skips it: deleted, of an unknown future type, or without text.
fn message_text(message: &Value) -> Option<String> {
    if truthy(&message["deletedDateTime"]) {
        return None;
    }
    if message["messageType"]
        .as_str()
        .unwrap_or("")
        .contains("unknownFutureValue")
    {
        return None;
    }
    let text = html_to_text(message["body"]["content"].as_str()?);
    (!text.is_empty()).then_some(text)
}

/// `from.user.displayName` when `from.user` is set (`null` if it has no name), else `""`.
fn sender(message: &Value) -> Value {
    let user = &message["from"]["user"];
    if truthy(user) {
        user["displayName"].clone()
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
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
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
