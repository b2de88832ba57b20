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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
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
}
