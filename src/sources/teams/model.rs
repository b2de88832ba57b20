//! The Graph objects `docs.rs` reads (chat, chat message, tab, event, team, channel, drive item…), as serde
//! structs read straight from the crawl's `&Value`s (borrowing: strings are `&str` into the JSON).
//!
//! Reading is as forgiving as `value["field"]` was, on purpose: Graph omits fields, sends `null`, and a field of
//! an unexpected type must not lose the document. So every field is one of
//! - `Value`: copied verbatim into a document or tested for Python truthiness (absent and `null` both read as
//!   `null`, everything else passes through unchanged);
//! - `Option<&str>` via [`string`]: a string, else `None` (what `.as_str()` gave);
//! - a nested struct via [`object`] or a list of them via [`list`]: a non-object reads as the default (all
//!   `null`/`None`), a non-array as an empty list.
//!
//! and [`parse`] reads any `Value` (an object or not) without failing.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// `value` as a `T`: an object gives its fields, anything else `T::default()` (as `value["x"]` is `null` there).
pub fn parse<'a, T: Deserialize<'a> + Default>(value: &'a Value) -> T {
    value
        .deserialize_any(OrDefault(PhantomData))
        .unwrap_or_default()
}

/// A string field; anything else is `None`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    d.deserialize_any(Str)
}

/// A nested object; anything else is `T::default()`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    d.deserialize_any(OrDefault(PhantomData))
}

/// A list of objects (an element that is not one reads as `T::default()`); anything else is an empty list.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_any(List(PhantomData))
}

/// Scalars read as the default; a list or object is skipped whole (a `Value` deserializer wants it consumed).
macro_rules! everything_else_is_default {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

struct Str;

impl<'de> Visitor<'de> for Str {
    type Value = Option<&'de str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        skip_map(map).map(|()| None)
    }

    everything_else_is_default!();
}

struct OrDefault<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for OrDefault<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        skip_seq(seq).map(|()| T::default())
    }

    everything_else_is_default!();
}

impl<'de, T: Deserialize<'de> + Default> DeserializeSeed<'de> for OrDefault<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
}

struct List<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for List<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(OrDefault(PhantomData))? {
            items.push(item);
        }
        Ok(items)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
        skip_map(map).map(|()| Vec::new())
    }

    everything_else_is_default!();
}

/// A chat, with its members expanded.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Chat<'a> {
    #[serde(borrow, deserialize_with = "list")]
    pub members: Vec<Named<'a>>,
    pub topic: Value,
    pub web_url: Value,
    pub chat_type: Value,
    pub last_updated_date_time: Value,
}

/// A chat member or a call participant's user: only its `displayName`, read as a string.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Named<'a> {
    #[serde(borrow, deserialize_with = "string")]
    pub display_name: Option<&'a str>,
}

/// A chatMessage, of a chat or a channel (a top-level message or a reply).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Message<'a> {
    pub id: Value,
    pub web_url: Value,
    pub created_date_time: Value,
    pub last_modified_date_time: Value,
    pub deleted_date_time: Value,
    #[serde(borrow, deserialize_with = "string")]
    pub message_type: Option<&'a str>,
    #[serde(borrow, deserialize_with = "object")]
    pub body: ItemBody<'a>,
    #[serde(deserialize_with = "object")]
    pub from: IdentitySet,
    #[serde(borrow, deserialize_with = "list")]
    pub attachments: Vec<Attachment<'a>>,
    /// Kept whole: a call event is tested for truthiness before [`EventDetail`] is read from it.
    pub event_detail: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ItemBody<'a> {
    #[serde(borrow, deserialize_with = "string")]
    pub content: Option<&'a str>,
}

/// `from` of a message, `participant` of a call participant.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdentitySet {
    /// Kept whole: tested for truthiness before [`User`] is read from it.
    pub user: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User<'a> {
    #[serde(borrow, deserialize_with = "string")]
    pub id: Option<&'a str>,
    pub display_name: Value,
}

/// A chatMessageAttachment.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Attachment<'a> {
    #[serde(borrow, deserialize_with = "string")]
    pub content_type: Option<&'a str>,
    #[serde(borrow, deserialize_with = "string")]
    pub name: Option<&'a str>,
}

/// A message's eventDetail (callEnded, callRecording, or any other event).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EventDetail<'a> {
    #[serde(rename = "@odata.type", borrow, deserialize_with = "string")]
    pub odata_type: Option<&'a str>,
    pub call_id: Value,
    #[serde(borrow, deserialize_with = "string")]
    pub call_recording_url: Option<&'a str>,
    pub call_recording_display_name: Value,
    #[serde(deserialize_with = "list")]
    pub call_participants: Vec<CallParticipant>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallParticipant {
    #[serde(deserialize_with = "object")]
    pub participant: IdentitySet,
}

/// A teamsTab, of a chat or a channel.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Tab {
    pub id: Value,
    pub display_name: Value,
    pub web_url: Value,
    #[serde(deserialize_with = "object")]
    pub configuration: TabConfiguration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TabConfiguration {
    pub website_url: Value,
}

/// A team or a channel: the fields their documents copy (a team has no `webUrl`/`createdDateTime` copied).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Group {
    pub id: Value,
    pub display_name: Value,
    pub description: Value,
    pub web_url: Value,
    pub created_date_time: Value,
}

/// A driveItem (a chat or channel attachment).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DriveItem<'a> {
    pub id: Value,
    pub name: Value,
    pub web_url: Value,
    pub size: Value,
    pub last_modified_date_time: Value,
    pub created_date_time: Value,
    #[serde(
        rename = "@microsoft.graph.downloadUrl",
        borrow,
        deserialize_with = "string"
    )]
    pub download_url: Option<&'a str>,
}

/// A calendar event (a user's meeting).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    pub id: Value,
    pub created_date_time: Value,
    pub last_modified_date_time: Value,
    pub subject: Value,
    pub is_cancelled: Value,
    pub web_link: Value,
    pub is_reminder_on: Value,
    pub reminder_minutes_before_start: Value,
    pub categories: Value,
    pub original_start_time_zone: Value,
    pub original_end_time_zone: Value,
    pub body_preview: Value,
    #[serde(deserialize_with = "list")]
    pub attendees: Vec<Recipient>,
    #[serde(deserialize_with = "list")]
    pub locations: Vec<Location>,
    /// Kept whole: tested for truthiness before its `joinUrl` is read ([`OnlineMeeting`]).
    pub online_meeting: Value,
    #[serde(deserialize_with = "object")]
    pub organizer: Recipient,
    /// Kept whole: tested for truthiness before [`Recurrence`] is read from it.
    pub recurrence: Value,
    #[serde(deserialize_with = "object")]
    pub start: DateTimeTimeZone,
    #[serde(deserialize_with = "object")]
    pub end: DateTimeTimeZone,
}

/// An attendee or the organizer.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Recipient {
    #[serde(deserialize_with = "object")]
    pub email_address: EmailAddress,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmailAddress {
    pub name: Value,
    pub address: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Location {
    pub display_name: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OnlineMeeting {
    pub join_url: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DateTimeTimeZone {
    pub date_time: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Recurrence<'a> {
    #[serde(borrow, deserialize_with = "object")]
    pub pattern: RecurrencePattern<'a>,
    #[serde(borrow, deserialize_with = "object")]
    pub range: RecurrenceRange<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecurrencePattern<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "string")]
    pub kind: Option<&'a str>,
    pub interval: Value,
    pub month: Value,
    pub day_of_month: Value,
    pub index: Value,
    /// Printed element by element as Python would (any element type), so kept as JSON.
    pub days_of_week: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecurrenceRange<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "string")]
    pub kind: Option<&'a str>,
    pub start_date: Value,
    pub end_date: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_null_and_wrong_types_read_as_absent() {
        let json = json!({
            "id": "m1", "deletedDateTime": null, "messageType": 7,
            "body": "not an object", "from": {"user": {"id": 3}},
            "attachments": [{"name": "a.txt", "contentType": "reference"}, "junk", {"name": ["x"]}],
        });
        let message: Message = parse(&json);
        assert_eq!(message.id, json!("m1"));
        assert_eq!(message.deleted_date_time, Value::Null);
        assert_eq!(message.web_url, Value::Null);
        assert_eq!(message.message_type, None);
        assert_eq!(message.body.content, None);
        assert_eq!(parse::<User>(&message.from.user).id, None);
        let names: Vec<_> = message.attachments.iter().map(|a| a.name).collect();
        assert_eq!(names, [Some("a.txt"), None, None]);
        assert_eq!(message.attachments[0].content_type, Some("reference"));
    }

    #[test]
    fn anything_but_an_object_is_the_default() {
        for value in [
            json!(null),
            json!("x"),
            json!(1),
            json!(true),
            json!(["m1", "u"]),
        ] {
            let message: Message = parse(&value);
            assert_eq!(message.id, Value::Null);
            assert!(message.attachments.is_empty());
        }
        let json = json!({"members": {"displayName": "A"}});
        let chat: Chat = parse(&json);
        assert!(chat.members.is_empty());
    }

    #[test]
    fn verbatim_fields_keep_their_shape() {
        let json = json!({
            "size": 12.5, "name": {"a": [1, null]}, "@microsoft.graph.downloadUrl": "https://d/x"
        });
        let item: DriveItem = parse(&json);
        assert_eq!(item.size, json!(12.5));
        assert_eq!(item.name, json!({"a": [1, null]}));
        assert_eq!(item.download_url, Some("https://d/x"));
    }
}
