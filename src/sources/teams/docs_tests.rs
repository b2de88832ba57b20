//! Tests of `docs.rs`: one golden test per document type (the spec §10.8 examples, as the source emits them:
//! `_id` in the body, no pipeline flags, no `_attachment`), then the skip and formatting rules.

use super::*;
use serde_json::json;

fn obj(value: Value) -> Doc {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn chat() -> Value {
    json!({
        "id": "19:abc@unq.gbl.spaces",
        "topic": null,
        "chatType": "oneOnOne",
        "webUrl": "https://teams.microsoft.com/l/chat/19%3Aabc/0",
        "createdDateTime": "2023-07-20T10:00:00Z",
        "lastUpdatedDateTime": "2023-07-21T21:24:18.338Z",
        "members": [
            {"@odata.type": "#microsoft.graph.aadUserConversationMember", "displayName": "Adele Vance", "userId": "u1"},
            {"@odata.type": "#microsoft.graph.aadUserConversationMember", "displayName": "Alex Wilber", "userId": "u2"},
            {"displayName": ""},
            {"displayName": null},
            {}
        ]
    })
}

fn chat_msg() -> Value {
    json!({
        "id": "1689974658726",
        "messageType": "message",
        "createdDateTime": "2023-07-21T21:24:18.726Z",
        "lastModifiedDateTime": "2023-07-21T21:24:18.726Z",
        "deletedDateTime": null,
        "chatId": "19:abc@unq.gbl.spaces",
        "from": {"application": null, "user": {"id": "u1", "displayName": "Adele Vance"}},
        "body": {"contentType": "html", "content": "<p>Hello <b>team</b></p>"},
        "attachments": [],
        "eventDetail": null
    })
}

fn call_event(kind: &str, call_id: Option<&str>, extra: Value) -> Value {
    let mut event = obj(json!({"@odata.type": kind}));
    if let Some(id) = call_id {
        event.insert("callId".into(), json!(id));
    }
    event.extend(obj(extra));
    json!({
        "id": "1692163800000",
        "messageType": "systemEventMessage",
        "lastModifiedDateTime": "2023-08-16T05:30:00Z",
        "body": {"contentType": "html", "content": "<systemEventMessage/>"},
        "eventDetail": Value::Object(event)
    })
}

fn ended(call_id: &str) -> Value {
    call_event(
        CALL_ENDED,
        Some(call_id),
        json!({
            "callDuration": "PT30M",
            "callParticipants": [
                {"participant": {"user": {"id": "u2", "displayName": "Alex Wilber"}}},
                {"participant": {"user": {"id": "u1", "displayName": "Adele Vance"}}},
                {"participant": {"application": {"displayName": "Bot"}, "user": null}},
                {"participant": {"user": {"id": "u3"}}}
            ]
        }),
    )
}

fn recording(call_id: &str, url: &str) -> Value {
    call_event(
        CALL_RECORDING,
        Some(call_id),
        json!({"callRecordingDisplayName": "Review-Meeting Recording", "callRecordingUrl": url}),
    )
}

fn event() -> Value {
    json!({
        "id": "AAMkAG",
        "createdDateTime": "2023-08-10T08:22:14.5296951Z",
        "lastModifiedDateTime": "2023-08-10T08:25:29.3693436Z",
        "subject": "Sync",
        "bodyPreview": "Weekly sync",
        "isCancelled": false,
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 15,
        "categories": [],
        "webLink": "https://outlook.office365.com/owa/?itemid=x",
        "originalStartTimeZone": "India Standard Time",
        "originalEndTimeZone": "India Standard Time",
        "start": {"dateTime": "2023-08-01T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2023-08-01T08:30:00.0000000", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
                        "daysOfWeek": ["monday", "wednesday"], "firstDayOfWeek": "sunday", "index": "first"},
            "range": {"type": "endDate", "startDate": "2023-08-01", "endDate": "2023-12-31",
                      "recurrenceTimeZone": "India Standard Time", "numberOfOccurrences": 0}
        },
        "attendees": [{"type": "required", "status": {"response": "none"},
                       "emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.com"}}],
        "organizer": {"emailAddress": {"name": "Alex Wilber", "address": "AlexW@contoso.com"}},
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/x"},
        "locations": [{"displayName": "Microsoft Teams Meeting", "locationType": "default"}]
    })
}

/// `doc` without its `_timestamp`, after checking that it is the document's content version.
fn without_version(mut doc: Doc) -> Doc {
    let version = doc.remove("_timestamp").expect("a _timestamp");
    assert_eq!(version, json!(content_version(&doc)));
    doc
}

#[test]
fn golden_user_chat_messages() {
    let members = chat_members(&chat());
    let doc = chat_message(&chat(), &members, &chat_msg()).unwrap();
    let expected = json!({
        "_id": "1689974658726", "type": "User Chat Messages", "_timestamp": "2023-07-21T21:24:18.726Z",
        "creation_time": "2023-07-21T21:24:18.726Z", "webUrl": "https://teams.microsoft.com/l/chat/19%3Aabc/0",
        "title": "Adele Vance,Alex Wilber", "chatType": "oneOnOne", "sender": "Adele Vance", "message": "Hello \nteam"
    });
    assert_eq!(doc, obj(expected));
}

#[test]
fn golden_user_chat_tabs() {
    let tab = json!({"id": "a1b2c3", "displayName": "Notes", "webUrl": "https://teams.microsoft.com/l/entity/n",
                     "configuration": {"entityId": "e", "websiteUrl": "https://www.onenote.com/x"}});
    let expected = json!({
        "_id": "a1b2c3", "type": "User Chat Tabs", "url": "https://www.onenote.com/x",
        "_timestamp": "2023-07-21T21:24:18.338Z", "members": "Adele Vance,Alex Wilber", "title": "Notes"
    });
    assert_eq!(
        chat_tab(&chat(), "Adele Vance,Alex Wilber", &tab),
        obj(expected)
    );
}

#[test]
fn golden_user_chat_attachment() {
    let item = json!({
        "id": "01ABCDEF", "name": "plan.docx", "size": 20480,
        "webUrl": "https://contoso-my.sharepoint.com/personal/adele/plan.docx",
        "createdDateTime": "2023-07-22T08:59:00Z", "lastModifiedDateTime": "2023-07-22T09:00:00Z",
        "file": {"mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        "@microsoft.graph.downloadUrl": "https://contoso-my.sharepoint.com/download?x=1"
    });
    let expected = json!({
        "_id": "01ABCDEF", "type": "User Chat Attachment", "members": "Adele Vance,Alex Wilber", "name": "plan.docx",
        "weburl": "https://contoso-my.sharepoint.com/personal/adele/plan.docx", "size_in_bytes": 20480,
        "_timestamp": "2023-07-22T09:00:00Z", "creation_time": "2023-07-22T08:59:00Z"
    });
    assert_eq!(
        chat_attachment("Adele Vance,Alex Wilber", &item),
        obj(expected)
    );
    assert_eq!(
        download_url(&item),
        Some("https://contoso-my.sharepoint.com/download?x=1")
    );
    assert_eq!(download_url(&json!({"id": "x"})), None);
}

#[test]
fn golden_user_chat_meeting_recording() {
    let mut message = call_event(
        CALL_RECORDING,
        Some("9f1e-callid"),
        json!({"callRecordingDisplayName": "Standup-20230810_0800-Meeting Recording",
               "callRecordingUrl": "https://contoso-my.sharepoint.com/x/rec.mp4"}),
    );
    message["lastModifiedDateTime"] = json!("2023-08-10T08:40:00Z");
    let expected = json!({
        "_id": "9f1e-callid", "type": "User Chat Meeting Recording",
        "title": "Standup-20230810_0800-Meeting Recording", "url": "https://contoso-my.sharepoint.com/x/rec.mp4",
        "_timestamp": "2023-08-10T08:40:00Z"
    });
    assert_eq!(chat_recording(&message), Some(obj(expected)));
    // The same system message has no text, so it is not a chat message.
    assert_eq!(chat_message(&chat(), "", &message), None);
}

#[test]
fn golden_user_meeting() {
    let expected = json!({
        "_id": "AAMkAG", "type": "User Meeting", "attendees": ["Adele Vance(AdeleV@contoso.com)"],
        "online_meeting_url": "https://teams.microsoft.com/l/meetup-join/x", "description": "Weekly sync",
        "meeting_detail":
            "Recurrence: Occurs Every 1 week on monday,wednesday starting 2023-08-01 until 2023-12-31 Organizer: Alex Wilber",
        "location": ["Microsoft Teams Meeting"], "creation_time": "2023-08-10T08:22:14.5296951Z",
        "_timestamp": "2023-08-10T08:25:29.3693436Z", "title": "Sync", "Cancelled_status": false,
        "web_link": "https://outlook.office365.com/owa/?itemid=x", "reminder": true, "reminder_time": 15,
        "categories": [], "original_start_timezone": "India Standard Time",
        "original_end_timezone": "India Standard Time"
    });
    assert_eq!(meeting(&event()), Some(obj(expected)));
}

#[test]
fn golden_teams() {
    let team_json = json!({"id": "2f0c-team", "displayName": "Sales", "description": "Sales team",
                           "visibility": "public", "isArchived": false});
    let doc = team(&team_json);
    let expected =
        json!({"_id": "2f0c-team", "type": "Teams", "title": "Sales", "description": "Sales team"});
    assert_eq!(without_version(doc), obj(expected));
}

#[test]
fn golden_team_channel() {
    let graph = json!({
        "id": "19:x@thread.tacv2", "displayName": "General", "description": "Main", "membershipType": "standard",
        "webUrl": "https://teams.microsoft.com/l/channel/19%3Ax", "createdDateTime": "2023-08-16T04:46:53.056Z"
    });
    let expected = json!({
        "_id": "19:x@thread.tacv2", "type": "Team Channel", "team_name": "Sales",
        "url": "https://teams.microsoft.com/l/channel/19%3Ax", "title": "General", "description": "Main",
        "creation_time": "2023-08-16T04:46:53.056Z"
    });
    assert_eq!(without_version(channel("Sales", &graph)), obj(expected));
}

#[test]
fn golden_channel_tab() {
    let tab = json!({"id": "tab-guid", "displayName": "Wiki", "webUrl": "https://teams.microsoft.com/l/entity/x",
                     "configuration": {"websiteUrl": null}});
    let expected = json!({
        "_id": "tab-guid", "type": "Channel Tab", "team_name": "Sales", "channel_name": "General", "title": "Wiki",
        "url": "https://teams.microsoft.com/l/entity/x"
    });
    assert_eq!(
        without_version(channel_tab("Sales", "General", &tab)),
        obj(expected)
    );
}

#[test]
fn golden_channel_message() {
    let message = json!({
        "id": "1692161275794", "replyToId": null, "messageType": "message", "deletedDateTime": null,
        "webUrl": "https://teams.microsoft.com/l/message/19%3Ax/1692161275794",
        "createdDateTime": "2023-08-16T04:47:55.794Z", "lastModifiedDateTime": "2023-08-16T04:47:55.794Z",
        "from": {"user": {"id": "u2", "displayName": "Alex Wilber"}},
        "body": {"contentType": "html", "content": "<p>I added a tab at the top of this channel. Check it out!</p>"},
        "attachments": [{"name": "spec.docx", "contentType": "reference"}, {"name": ""}, {"name": null},
                        {"contentType": "messageReference"}, {"name": "notes.txt"}]
    });
    let expected = json!({
        "_id": "1692161275794", "type": "Channel Message", "sender": "Alex Wilber", "channel": "General",
        "message": "I added a tab at the top of this channel. Check it out!", "attached_documents": "spec.docx,notes.txt",
        "url": "https://teams.microsoft.com/l/message/19%3Ax/1692161275794",
        "_timestamp": "2023-08-16T04:47:55.794Z", "creation_time": "2023-08-16T04:47:55.794Z"
    });
    assert_eq!(channel_message("General", &message), Some(obj(expected)));
}

#[test]
fn golden_channel_meeting() {
    let url = "https://contoso.sharepoint.com/sites/Sales/rec.mp4";
    let expected = obj(json!({
        "_id": "7d2e-callid", "type": "Channel Meeting", "_timestamp": "2023-08-16T05:30:00Z",
        "participants": "Alex Wilber, Adele Vance", "title": "Review-Meeting Recording", "recording_url": url
    }));
    for replies in [
        [ended("7d2e-callid"), recording("7d2e-callid", url)],
        [recording("7d2e-callid", url), ended("7d2e-callid")],
    ] {
        let mut meetings = ChannelMeetings::default();
        for reply in &replies {
            meetings.add(reply);
        }
        assert_eq!(meetings.finish(), (vec![expected.clone()], 0));
    }
}

#[test]
fn golden_channel_attachment() {
    let item = json!({
        "id": "01XYZ", "name": "list.txt", "size": 52311, "webUrl": "https://contoso.sharepoint.com/sites/Sales/list.txt",
        "createdDateTime": "2023-08-16T04:47:26Z", "lastModifiedDateTime": "2023-08-16T04:47:29Z",
        "file": {"mimeType": "text/plain"}, "parentReference": {"driveId": "b!x"}
    });
    let expected = json!({
        "_id": "01XYZ", "type": "Channel Attachment", "team_name": "Sales", "channel_name": "General",
        "name": "list.txt", "weburl": "https://contoso.sharepoint.com/sites/Sales/list.txt", "size_in_bytes": 52311,
        "_timestamp": "2023-08-16T04:47:29Z", "creation_time": "2023-08-16T04:47:26Z"
    });
    assert_eq!(channel_attachment("Sales", "General", &item), obj(expected));
}

#[test]
fn every_type_is_listed_once() {
    let mut types = ALL_TYPES.to_vec();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types.len(), 11);
    assert!(ALL_TYPES.contains(&"Channel Meeting") && ALL_TYPES.contains(&"User Chat Messages"));
}

#[test]
fn chat_members_keep_non_empty_names() {
    assert_eq!(chat_members(&chat()), "Adele Vance,Alex Wilber");
    assert_eq!(chat_members(&json!({"id": "c"})), "");
    assert_eq!(chat_members(&json!({"members": null})), "");
    assert_eq!(
        chat_members(&json!({"members": [{"displayName": "Solo"}]})),
        "Solo"
    );
}

#[test]
fn chat_title_is_the_topic_when_set() {
    let mut with_topic = chat();
    with_topic["topic"] = json!("Launch");
    let doc = chat_message(&with_topic, "A,B", &chat_msg()).unwrap();
    assert_eq!(doc["title"], "Launch");
    with_topic["topic"] = json!("");
    assert_eq!(
        chat_message(&with_topic, "A,B", &chat_msg()).unwrap()["title"],
        "A,B"
    );
}

#[test]
fn messages_are_skipped_like_the_reference() {
    let skipped = |change: fn(&mut Value)| {
        let mut message = chat_msg();
        change(&mut message);
        (
            chat_message(&chat(), "m", &message).is_none(),
            channel_message("c", &message).is_none(),
        )
    };
    assert_eq!(
        skipped(|m| m["deletedDateTime"] = json!("2023-07-22T00:00:00Z")),
        (true, true)
    );
    assert_eq!(
        skipped(|m| m["messageType"] = json!("unknownFutureValue")),
        (true, true)
    );
    assert_eq!(
        skipped(|m| m["body"]["content"] = json!("<p> </p>\n<p>&nbsp;</p>")),
        (true, true)
    );
    assert_eq!(
        skipped(|m| m["body"]["content"] = json!("<attachment id=\"1\"></attachment>")),
        (true, true)
    );
    assert_eq!(
        skipped(|m| m["body"]["content"] = json!(null)),
        (true, true)
    );
    assert_eq!(skipped(|m| m["body"] = json!(null)), (true, true));
    assert_eq!(
        skipped(|m| m["deletedDateTime"] = json!("")),
        (false, false)
    );
    assert_eq!(skipped(|m| m["messageType"] = json!(null)), (false, false));
    assert_eq!(skipped(|_| {}), (false, false));
}

#[test]
fn sender_defaults_like_the_reference() {
    let sender_of = |from: Value| {
        let mut message = chat_msg();
        message["from"] = from;
        let chat_doc = chat_message(&chat(), "m", &message).unwrap();
        let channel_doc = channel_message("c", &message).unwrap();
        assert_eq!(chat_doc["sender"], channel_doc["sender"]);
        chat_doc["sender"].clone()
    };
    assert_eq!(sender_of(json!(null)), json!(""));
    assert_eq!(
        sender_of(json!({"user": null, "application": {"displayName": "Bot"}})),
        json!("")
    );
    assert_eq!(sender_of(json!({"user": {}})), json!(""));
    assert_eq!(sender_of(json!({"user": {"id": "u9"}})), json!(null));
}

#[test]
fn missing_graph_fields_become_null() {
    let doc = channel_message("General", &json!({"body": {"content": "hi"}})).unwrap();
    let expected = json!({
        "_id": null, "type": "Channel Message", "sender": "", "channel": "General", "message": "hi",
        "attached_documents": "", "url": null, "_timestamp": null, "creation_time": null
    });
    assert_eq!(doc, obj(expected));
    let tab = chat_tab(&json!({}), "", &json!({"id": "t", "configuration": null}));
    assert_eq!(tab["url"], json!(null));
    assert_eq!(tab["_timestamp"], json!(null));
    let attachment = channel_attachment("T", "C", &json!({"id": "f"}));
    assert_eq!(attachment["size_in_bytes"], json!(null));
    assert_eq!(attachment.len(), 9);
}

#[test]
fn chat_recordings_need_a_sharepoint_url() {
    let with_url = |url: Value| {
        let mut message = chat_msg();
        message["eventDetail"] =
            json!({"@odata.type": CALL_RECORDING, "callId": "c", "callRecordingUrl": url});
        chat_recording(&message)
    };
    assert!(with_url(json!("https://contoso.sharepoint.com/r.mp4")).is_some());
    assert!(with_url(json!("https://example.com/r.mp4")).is_none());
    assert!(with_url(json!(null)).is_none());
    assert!(chat_recording(&chat_msg()).is_none());
    assert!(chat_recording(&ended("c")).is_none());
}

#[test]
fn chat_attachment_refs_pick_reference_attachments_of_a_user() {
    let mut message = chat_msg();
    message["attachments"] = json!([
        {"id": "a1", "contentType": "reference", "name": "plan.docx", "contentUrl": "https://x/plan.docx"},
        {"id": "a2", "contentType": "reference", "name": ""},
        {"id": "a3", "contentType": "reference"},
        {"id": "a4", "contentType": "messageReference", "name": "quoted"},
        {"id": "a5", "contentType": "reference", "name": "notes.txt"}
    ]);
    let pairs = vec![
        ("u1".to_string(), "plan.docx".to_string()),
        ("u1".to_string(), "notes.txt".to_string()),
    ];
    assert_eq!(chat_attachment_refs(&message), pairs);

    let mut from_app = message.clone();
    from_app["from"] = json!({"user": null, "application": {"id": "bot"}});
    assert!(chat_attachment_refs(&from_app).is_empty());
    let mut deleted = message.clone();
    deleted["deletedDateTime"] = json!("2023-07-22T00:00:00Z");
    assert!(chat_attachment_refs(&deleted).is_empty());
    let mut no_id = message.clone();
    no_id["from"]["user"]["id"] = json!(null);
    assert!(chat_attachment_refs(&no_id).is_empty());
    assert!(chat_attachment_refs(&chat_msg()).is_empty());
}

#[test]
fn cancelled_and_null_events_are_skipped() {
    assert_eq!(meeting(&json!(null)), None);
    let mut cancelled = event();
    cancelled["isCancelled"] = json!(true);
    assert_eq!(meeting(&cancelled), None);
}

#[test]
fn meeting_lists_default_like_the_reference() {
    let mut bare = event();
    for key in ["attendees", "locations", "onlineMeeting"] {
        bare[key] = json!(null);
    }
    let doc = meeting(&bare).unwrap();
    assert_eq!(doc["attendees"], json!([]));
    assert_eq!(doc["location"], json!([]));
    assert_eq!(doc["online_meeting_url"], json!(""));
    bare["onlineMeeting"] = json!({"conferenceId": "1"});
    bare["attendees"] = json!([{"emailAddress": {"address": "x@contoso.com"}}]);
    let doc = meeting(&bare).unwrap();
    assert_eq!(doc["online_meeting_url"], json!(null));
    assert_eq!(doc["attendees"], json!(["None(x@contoso.com)"]));
}

fn detail(pattern: Value, range: Value) -> String {
    let mut e = event();
    e["recurrence"] = json!({"pattern": pattern, "range": range});
    meeting_detail(&e)
}

fn no_end() -> Value {
    json!({"type": "noEnd", "startDate": "2023-08-01", "endDate": "0001-01-01"})
}

#[test]
fn meeting_detail_without_recurrence_is_the_schedule() {
    let mut e = event();
    e["recurrence"] = json!(null);
    e["end"]["dateTime"] = json!("2023-08-10T17:45:59.1234567");
    e["start"]["dateTime"] = json!("2023-08-10T08:00:00.0000000");
    assert_eq!(
        meeting_detail(&e),
        "Schedule: 10 Aug, 2023 at 08:00 to 10 Aug, 2023 at 17:45 Organizer: Alex Wilber"
    );
    // What the reference could not parse stays as Graph sent it; what is missing prints as Python's None.
    e["start"]["dateTime"] = json!("2023-08-10T08:00:00");
    e["end"] = json!(null);
    e["organizer"] = json!({});
    assert_eq!(
        meeting_detail(&e),
        "Schedule: 2023-08-10T08:00:00 to None Organizer: None"
    );
}

#[test]
fn meeting_detail_daily_and_weekly() {
    let daily = json!({"type": "daily", "interval": 2, "daysOfWeek": []});
    assert_eq!(
        detail(daily, no_end()),
        "Recurrence: Occurs Every 2 day starting 2023-08-01 Organizer: Alex Wilber"
    );
    let weekly = json!({"type": "weekly", "interval": 3, "daysOfWeek": ["monday", "tuesday"]});
    let range = json!({"type": "endDate", "startDate": "2023-08-01", "endDate": "2023-09-30"});
    assert_eq!(
        detail(weekly, range),
        "Recurrence: Occurs Every 3 week on monday,tuesday starting 2023-08-01 until 2023-09-30 Organizer: Alex Wilber"
    );
    // `numbered` ranges are not `noEnd`: the reference prints the end date too.
    let numbered = json!({"type": "numbered", "startDate": "2023-08-01", "endDate": "0001-01-01"});
    assert_eq!(
        detail(json!({"type": "daily", "interval": 1}), numbered),
        "Recurrence: Occurs Every 1 day starting 2023-08-01 until 0001-01-01 Organizer: Alex Wilber"
    );
}

#[test]
fn meeting_detail_without_interval_leaves_a_gap() {
    let zero = json!({"type": "weekly", "interval": 0, "daysOfWeek": ["friday"]});
    assert_eq!(
        detail(zero, no_end()),
        "Recurrence: Occurs Every  week on friday starting 2023-08-01 Organizer: Alex Wilber"
    );
    let missing = json!({"type": "daily"});
    assert_eq!(
        detail(missing, no_end()),
        "Recurrence: Occurs Every  day starting 2023-08-01 Organizer: Alex Wilber"
    );
}

#[test]
fn meeting_detail_monthly() {
    let absolute =
        json!({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 5, "daysOfWeek": []});
    assert_eq!(
        detail(absolute, no_end()),
        "Recurrence: Occurs Every 1 month on day 5 starting 2023-08-01 Organizer: Alex Wilber"
    );
    let relative = json!({"type": "relativeMonthly", "interval": 2, "dayOfMonth": 0, "index": "first", "daysOfWeek": ["monday"]});
    assert_eq!(
        detail(relative, no_end()),
        "Recurrence: Occurs Every 2 month on first monday starting 2023-08-01 Organizer: Alex Wilber"
    );
}

#[test]
fn meeting_detail_yearly() {
    let absolute = json!({"type": "absoluteYearly", "interval": 1, "dayOfMonth": 5, "month": 3});
    assert_eq!(
        detail(absolute, no_end()),
        "Recurrence: Occurs Every year on day 5 of March starting 2023-08-01 Organizer: Alex Wilber"
    );
    let relative = json!({"type": "relativeYearly", "interval": 1, "index": "last", "month": 12,
                          "daysOfWeek": ["friday", "saturday"]});
    let range = json!({"type": "endDate", "startDate": "2023-01-01", "endDate": "2030-12-31"});
    assert_eq!(
        detail(relative, range),
        "Recurrence: Occurs Every year on last friday,saturday of December starting 2023-01-01 until 2030-12-31 \
         Organizer: Alex Wilber"
    );
    let bad_month = json!({"type": "absoluteYearly", "dayOfMonth": 1, "month": 13});
    assert_eq!(
        detail(bad_month, no_end()),
        "Recurrence: Occurs Every year on day 1 of  starting 2023-08-01 Organizer: Alex Wilber"
    );
}

#[test]
fn content_version_is_stable_and_a_valid_date() {
    let graph = json!({"id": "2f0c-team", "displayName": "Sales", "description": "Sales team"});
    let first = team(&graph);
    // Pinned: the version must not change between builds or Rust releases, or every doc is re-indexed.
    assert_eq!(first["_timestamp"], json!("2015-07-24T07:11:33Z"));
    let version = first["_timestamp"].as_str().unwrap().to_string();
    let parsed = DateTime::parse_from_rfc3339(&version).unwrap();
    assert!(version.ends_with('Z') && version.len() == 20, "{version}");
    assert!((2000..=2031).contains(&chrono::Datelike::year(&parsed)));

    assert_eq!(team(&graph), first, "same content, same version");
    let mut renamed = graph.clone();
    renamed["displayName"] = json!("Sales EMEA");
    assert_ne!(team(&renamed)["_timestamp"], first["_timestamp"]);
    // Graph fields the document does not carry do not change it.
    let mut noisy = graph.clone();
    noisy["visibility"] = json!("private");
    assert_eq!(team(&noisy), first);
    // The version ignores key order and any `_timestamp` already present.
    let mut shuffled = Doc::new();
    for key in ["title", "description", "_id", "type"] {
        shuffled.insert(key.into(), first[key].clone());
    }
    shuffled.insert("_timestamp".into(), json!("2024-01-01T00:00:00Z"));
    assert_eq!(content_version(&shuffled), version);
    let channel_a = channel("Sales", &json!({"id": "c", "displayName": "General"}));
    let channel_b = channel("Marketing", &json!({"id": "c", "displayName": "General"}));
    assert_ne!(channel_a["_timestamp"], channel_b["_timestamp"]);
    let tab_a = channel_tab(
        "Sales",
        "General",
        &json!({"id": "t", "displayName": "Wiki"}),
    );
    let tab_b = channel_tab(
        "Sales",
        "Random",
        &json!({"id": "t", "displayName": "Wiki"}),
    );
    assert_ne!(tab_a["_timestamp"], tab_b["_timestamp"]);
}

#[test]
fn content_version_hash_is_fnv1a_64() {
    // Published FNV-1a 64 test vectors.
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    let doc = obj(json!({"b": 1, "a": [true, null, {"d": "x", "c": 1.5}]}));
    let mut canonical = String::new();
    write_canonical(&Value::Object(doc), &mut canonical);
    assert_eq!(canonical, r#"{"a":[true,null,{"c":1.5,"d":"x"}],"b":1}"#);
}

#[test]
fn channel_meetings_recordings_elsewhere_give_no_title() {
    let mut meetings = ChannelMeetings::default();
    meetings.add(&ended("call-1"));
    meetings.add(&recording("call-1", "https://example.com/rec.mp4"));
    let (docs, skipped) = meetings.finish();
    assert_eq!(skipped, 0);
    assert_eq!(docs.len(), 1);
    assert!(!docs[0].contains_key("title") && !docs[0].contains_key("recording_url"));
    assert_eq!(docs[0]["participants"], "Alex Wilber, Adele Vance");
}

#[test]
fn channel_meetings_without_call_end_still_have_an_id() {
    let mut meetings = ChannelMeetings::default();
    meetings.add(&recording(
        "call-2",
        "https://contoso.sharepoint.com/rec.mp4",
    ));
    meetings.add(&call_event(
        "#microsoft.graph.callStartedEventMessageDetail",
        Some("call-3"),
        json!({}),
    ));
    let (docs, skipped) = meetings.finish();
    assert_eq!(skipped, 0);
    let expected = vec![
        obj(
            json!({"_id": "call-2", "type": "Channel Meeting", "title": "Review-Meeting Recording",
                   "recording_url": "https://contoso.sharepoint.com/rec.mp4", "_timestamp": "2023-08-16T05:30:00Z"}),
        ),
        // Stamped with its (first) event's time, so incremental syncs can skip it when unchanged.
        obj(
            json!({"_id": "call-3", "type": "Channel Meeting", "_timestamp": "2023-08-16T05:30:00Z"}),
        ),
    ];
    assert_eq!(docs, expected);
}

#[test]
fn channel_meetings_count_events_without_call_id_and_keep_order() {
    let mut meetings = ChannelMeetings::default();
    meetings.add(&ended("b"));
    meetings.add(&call_event(
        "#microsoft.graph.membersAddedEventMessageDetail",
        None,
        json!({"members": []}),
    ));
    meetings.add(&call_event(CALL_ENDED, Some(""), json!({})));
    meetings.add(&ended("a"));
    meetings.add(&ended("b"));
    meetings.add(&json!({"id": "no-event", "eventDetail": null}));
    meetings.add(&json!({"id": "empty-event", "eventDetail": {}}));
    let (docs, skipped) = meetings.finish();
    assert_eq!(skipped, 2);
    let ids: Vec<&Value> = docs.iter().map(|d| &d["_id"]).collect();
    assert_eq!(ids, [&json!("b"), &json!("a")]);
}

#[test]
fn later_call_events_overwrite_earlier_fields() {
    let mut meetings = ChannelMeetings::default();
    meetings.add(&ended("c"));
    let mut again = call_event(CALL_ENDED, Some("c"), json!({"callParticipants": []}));
    again["lastModifiedDateTime"] = json!("2023-08-16T06:00:00Z");
    meetings.add(&again);
    let (docs, _) = meetings.finish();
    assert_eq!(docs[0]["participants"], "");
    assert_eq!(docs[0]["_timestamp"], "2023-08-16T06:00:00Z");
}

#[test]
fn fields_of_an_unexpected_type_read_as_absent() {
    // Each odd field reads as `v["field"]` did (a non-string is no string, a non-object has no fields); the
    // document is still made, and verbatim fields keep their shape.
    let mut message = chat_msg();
    message["messageType"] = json!(7);
    message["from"] = json!("someone");
    message["id"] = json!(12);
    message["attachments"] =
        json!([{"name": 5}, "x", {"name": "a.docx", "contentType": "reference"}]);
    let doc = channel_message("General", &message).expect("a document");
    assert_eq!(doc["sender"], json!(""));
    assert_eq!(doc["_id"], json!(12));
    assert_eq!(doc["attached_documents"], json!("a.docx"));
    assert!(chat_attachment_refs(&message).is_empty());
    message["from"] = json!({"user": {"id": ["u1"], "displayName": 3}});
    assert_eq!(
        channel_message("General", &message).unwrap()["sender"],
        json!(3)
    );
    assert!(chat_attachment_refs(&message).is_empty());

    let mut chat = chat();
    chat["members"] = json!({"displayName": "Adele Vance"});
    assert_eq!(chat_members(&chat), "");
    chat["members"] = json!([{"displayName": 1}, "Alex", {"displayName": "Adele Vance"}]);
    assert_eq!(chat_members(&chat), "Adele Vance");

    let mut event = event();
    event["recurrence"] = json!("weekly");
    event["organizer"] = json!([1]);
    assert_eq!(
        meeting_detail(&event),
        "Recurrence: Occurs Every  week on  starting None until None Organizer: None"
    );
    event["attendees"] = json!(["a", {"emailAddress": {"name": "A", "address": 1}}]);
    let doc = meeting(&event).expect("a document");
    assert_eq!(doc["attendees"], json!(["None(None)", "A(1)"]));
    assert_eq!(
        download_url(&json!({"@microsoft.graph.downloadUrl": 1})),
        None
    );
}
