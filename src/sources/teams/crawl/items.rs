//! The fields of Graph items the crawl reads to walk the tenant (ids, names, sizes), as small structs read
//! with [`fields`](crate::sources::teams::graph::fields): a missing field or one of another type is `None`, never an error. The items themselves go
//! to `docs` as they came.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::sources::teams::graph::{lenient_fields, lenient_str, lenient_u64};

/// A user (`/users`): the id and, for calendars, the mailbox.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct User {
    #[serde(deserialize_with = "lenient_str")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_str")]
    pub mail: Option<String>,
}

/// Anything addressed by its id alone: a chat, a drive.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Id {
    #[serde(deserialize_with = "lenient_str")]
    pub id: Option<String>,
}

/// A team or a channel: id and display name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Named {
    #[serde(deserialize_with = "lenient_str")]
    pub id: Option<String>,
    #[serde(rename = "displayName", deserialize_with = "lenient_str")]
    pub display_name: Option<String>,
}

/// A channel message or reply: whether it is a system event (`eventDetail`, e.g. a call).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Message {
    #[serde(rename = "eventDetail")]
    pub event_detail: Option<IgnoredAny>,
}

/// A drive item (`/drives/{d}/items/...`): a folder, a file, or (the files folder) both id and drive.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DriveItem {
    #[serde(deserialize_with = "lenient_str")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_str")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub size: Option<u64>,
    /// Present (not null) on folders.
    pub folder: Option<IgnoredAny>,
    /// Present (not null) on files.
    pub file: Option<IgnoredAny>,
    #[serde(rename = "parentReference", deserialize_with = "lenient_fields")]
    pub parent_reference: ParentReference,
}

/// Where a drive item lives.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ParentReference {
    #[serde(rename = "driveId", deserialize_with = "lenient_str")]
    pub drive_id: Option<String>,
}

/// `$select` lists: per listing, the properties the crawl (the structs above) and `docs.rs` (its `model.rs` structs)
/// read, so Graph sends nothing else (Graph adds `id` and `@odata.*` annotations by itself). A property left out
/// here reads as absent and changes the documents, which the fixture (it honours `$select`) makes the sync tests
/// catch. Only where Graph documents `$select` for the endpoint: not on `/chats` (`$expand=members`), chat
/// messages or channel messages ("other OData query parameters are not supported"), which stay whole.
pub(super) mod select {
    /// `/users`: [`User`](super::User) — the id (app-only chats) and the mailbox (calendars).
    pub const USERS: &str = "id,mail";
    /// `/teams`: [`Named`](super::Named) and the `Teams` document (`docs::team`).
    pub const TEAMS: &str = "id,displayName,description";
    /// `/teams/{id}/channels`: the `Team Channel` document (`docs::channel`).
    pub const CHANNELS: &str = "id,displayName,description,webUrl,createdDateTime";
    /// `/teams/{id}/channels/{id}/tabs`: the `Channel Tab` document (`docs::channel_tab`).
    pub const CHANNEL_TABS: &str = "id,displayName,webUrl";
    /// `/chats/{id}/tabs`: the `User Chat Tabs` document (`docs::chat_tab`; `$select` takes top-level properties,
    /// so all of `configuration` for its `websiteUrl`).
    pub const CHAT_TABS: &str = "id,displayName,configuration";
    /// `/users/{id}/events`: every property `docs::meeting` reads (the HTML `body` is the big one left out).
    pub const EVENTS: &str = "id,createdDateTime,lastModifiedDateTime,subject,isCancelled,webLink,isReminderOn,\
        reminderMinutesBeforeStart,categories,originalStartTimeZone,originalEndTimeZone,bodyPreview,attendees,\
        locations,onlineMeeting,organizer,recurrence,start,end";
    /// Folder children and the chat-files lookup: [`DriveItem`](super::DriveItem) (the walk), the attachment
    /// documents (`docs::channel_attachment`, `docs::chat_attachment`) and the download (its URL is an instance
    /// annotation, sent under `$select` only when named).
    pub const DRIVE_ITEMS: &str =
        "id,name,size,folder,file,webUrl,createdDateTime,lastModifiedDateTime,\
        @microsoft.graph.downloadUrl";
    /// A drive's root, searched by name for the "Microsoft Teams Chat Files" folder.
    pub const FOLDER_LOOKUP: &str = "id,name";
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::sources::teams::docs;
    use crate::sources::teams::graph::fields;

    #[test]
    fn fields_of_another_type_read_as_absent_like_value_indexing() {
        let item = json!({"id": 7, "name": "a.txt", "size": "12", "folder": null, "file": {},
                          "parentReference": {"driveId": "d"}});
        let d: DriveItem = fields(&item);
        assert_eq!(
            (d.id, d.name.as_deref(), d.size),
            (None, Some("a.txt"), None)
        );
        assert!(d.folder.is_none() && d.file.is_some());
        assert_eq!(d.parent_reference.drive_id.as_deref(), Some("d"));
        let d: DriveItem = fields(&json!({"size": 5, "parentReference": "x"}));
        assert_eq!((d.size, d.parent_reference.drive_id), (Some(5), None));
        // Not an object (an array would otherwise fill the fields by position): nothing.
        let u: User = fields(&json!(["u1", "u1@x"]));
        assert_eq!((u.id, u.mail), (None, None));
        let n: Named = fields(&json!({"id": "t", "displayName": "Team"}));
        assert_eq!(
            (n.id.as_deref(), n.display_name.as_deref()),
            (Some("t"), Some("Team"))
        );
        assert!(fields::<Message>(&json!({"eventDetail": {"callId": "c"}}))
            .event_detail
            .is_some());
        assert!(fields::<Message>(&json!({"eventDetail": null}))
            .event_detail
            .is_none());
        assert!(fields::<Id>(&json!("id")).id.is_none());
    }

    /// Everything the crawl and the documents read of `item`, as the listing `select` list serves.
    fn observed(list: &str, item: &Value) -> String {
        let chat = json!({"topic": "t", "webUrl": "w", "chatType": "group", "lastUpdatedDateTime": "2024"});
        match list {
            select::USERS => format!("{:?}", fields::<User>(item)),
            select::TEAMS => format!("{:?} {:?}", docs::team(item), fields::<Named>(item)),
            select::CHANNELS => {
                format!("{:?} {:?}", docs::channel("T", item), fields::<Named>(item))
            }
            select::CHANNEL_TABS => format!("{:?}", docs::channel_tab("T", "C", item)),
            select::CHAT_TABS => format!("{:?}", docs::chat_tab(&chat, "A,B", item)),
            select::EVENTS => format!("{:?}", docs::meeting(item)),
            select::DRIVE_ITEMS => format!(
                "{:?} {:?} {:?} {}",
                docs::channel_attachment("T", "C", item),
                docs::chat_attachment("A,B", item),
                docs::download_url(item),
                walked(item)
            ),
            _ => {
                let d: DriveItem = fields(item);
                format!("{:?} {:?}", d.id, d.name)
            }
        }
    }

    /// What a folder walk and the chat-files lookup read of a child (`parentReference` only matters for the
    /// files folder, which is read whole).
    fn walked(item: &Value) -> String {
        let d: DriveItem = fields(item);
        format!(
            "{:?} {:?} {:?} {} {}",
            d.id,
            d.name,
            d.size,
            d.folder.is_some(),
            d.file.is_some()
        )
    }

    /// `item` as Graph sends it under `$select` (the named properties and `id`).
    fn pruned(item: &Value, list: &str) -> Value {
        let keep: Vec<&str> = list.split(',').collect();
        let map = item.as_object().expect("an object");
        Value::Object(
            map.iter()
                .filter(|(k, _)| *k == "id" || keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn select_lists_hold_every_property_read_and_nothing_unread() {
        let at = "2024-05-06T07:08:09.1234567";
        let event = json!({
            "id": "e1", "createdDateTime": "c", "lastModifiedDateTime": "m", "subject": "s", "isCancelled": false,
            "webLink": "w", "isReminderOn": true, "reminderMinutesBeforeStart": 15, "categories": ["x"],
            "originalStartTimeZone": "UTC", "originalEndTimeZone": "CET", "bodyPreview": "p",
            "attendees": [{"emailAddress": {"name": "A", "address": "a@x"}}],
            "locations": [{"displayName": "Room"}], "onlineMeeting": {"joinUrl": "j"},
            "organizer": {"emailAddress": {"name": "O"}}, "start": {"dateTime": at}, "end": {"dateTime": at},
            "recurrence": null, "body": {"content": "<p>long</p>"}, "changeKey": "k", "iCalUId": "u",
        });
        let mut recurring = event.clone();
        recurring["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1},
                                         "range": {"type": "noEnd", "startDate": "2024-01-01"}});
        let file = json!({
            "id": "f1", "name": "a.pdf", "size": 12, "file": {"mimeType": "application/pdf"}, "webUrl": "w",
            "createdDateTime": "c", "lastModifiedDateTime": "m", "@microsoft.graph.downloadUrl": "https://d/f1",
            "eTag": "e", "createdBy": {"user": {"id": "u"}}, "parentReference": {"driveId": "d"},
        });
        let folder = json!({"id": "d1", "name": "Docs", "size": 0, "folder": {"childCount": 1}, "webUrl": "w"});
        let cases: [(&str, Vec<Value>); 8] = [
            (
                select::USERS,
                vec![json!({"id": "u1", "mail": "a@x", "displayName": "A", "jobTitle": "j"})],
            ),
            (
                select::TEAMS,
                vec![json!({"id": "t1", "displayName": "T", "description": "d", "webUrl": "w"})],
            ),
            (
                select::CHANNELS,
                vec![
                    json!({"id": "c1", "displayName": "C", "description": "d", "webUrl": "w",
                                           "createdDateTime": "c", "email": "e", "membershipType": "standard"}),
                ],
            ),
            (
                select::CHANNEL_TABS,
                vec![json!({"id": "b1", "displayName": "B", "webUrl": "w",
                                               "configuration": {"websiteUrl": "s"}})],
            ),
            (
                select::CHAT_TABS,
                vec![json!({"id": "b1", "displayName": "B", "webUrl": "w",
                                            "configuration": {"websiteUrl": "s", "entityId": "e"}})],
            ),
            (select::EVENTS, vec![event, recurring]),
            (select::DRIVE_ITEMS, vec![file.clone(), folder.clone()]),
            (select::FOLDER_LOOKUP, vec![file, folder]),
        ];
        for (list, items) in &cases {
            for item in items {
                // Sufficient: what Graph sends under the list reads exactly as the whole item.
                assert_eq!(
                    observed(list, &pruned(item, list)),
                    observed(list, item),
                    "{list}"
                );
            }
            // Minimal: leaving out any one property changes what some item reads as.
            for left_out in list.split(',').filter(|p| *p != "id") {
                let fewer: Vec<&str> = list.split(',').filter(|p| p != &left_out).collect();
                let fewer = fewer.join(",");
                assert!(
                    items
                        .iter()
                        .any(|item| observed(list, &pruned(item, &fewer)) != observed(list, item)),
                    "{left_out} of {list} is never read"
                );
            }
        }
    }
}
