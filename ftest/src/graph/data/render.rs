//! The JSON Graph sends for each kind of object, with Graph's field names. Field sets follow the v1.0
//! resource docs (users, chat, aadUserConversationMember, chatMessage and its eventMessageDetail types,
//! teamsTab, event, team, channel, drive, driveItem).

use serde_json::{json, Value};

use super::time::{local_ticks, millis, ticks};
use super::words::url_segment;
use super::*;

/// What rendering needs besides the object: the fixture's public base URL and the data set.
pub struct Ctx<'a> {
    /// e.g. `http://127.0.0.1:41234`, for download URLs and `@odata.context`.
    pub base: &'a str,
    pub ds: &'a Dataset,
}

impl Ctx<'_> {
    pub fn context(&self, fragment: &str) -> String {
        format!("{}/v1.0/$metadata#{fragment}", self.base)
    }

    fn tenant_id(&self) -> &str {
        &self.ds.tenant.id
    }

    fn user_identity(&self, id: &str, name: Option<&str>) -> Value {
        json!({
            "application": null,
            "device": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": id,
                "displayName": name,
                "userIdentityType": "aadUser",
                "tenantId": self.tenant_id(),
            }
        })
    }

    fn party(&self, party: &Party) -> Value {
        self.user_identity(&party.0, party.1.as_deref())
    }

    pub fn user(&self, u: &User) -> Value {
        json!({
            "businessPhones": u.business_phones,
            "displayName": u.display_name,
            "givenName": u.given_name,
            "jobTitle": u.job_title,
            "mail": u.mail,
            "mobilePhone": u.mobile_phone,
            "officeLocation": u.office_location,
            "preferredLanguage": if u.has_mailbox() { Some("en-US") } else { None },
            "surname": u.surname,
            "userPrincipalName": u.user_principal_name,
            "id": u.id,
        })
    }

    pub fn chat(&self, c: &Chat, expand_members: bool) -> Value {
        let mut v = json!({
            "id": c.id,
            "topic": c.topic,
            "createdDateTime": millis(c.created_ms),
            "lastUpdatedDateTime": millis(c.last_updated_ms),
            "chatType": c.chat_type.as_str(),
            "webUrl": format!(
                "https://teams.microsoft.com/l/chat/{}/0?tenantId={}",
                url_segment(&c.id),
                self.tenant_id()
            ),
            "tenantId": self.tenant_id(),
            "isHiddenForAllMembers": false,
            "onlineMeetingInfo": c.meeting.as_ref().map(|(join, organizer)| json!({
                "calendarEventId": null,
                "joinWebUrl": join,
                "organizer": {
                    "id": organizer,
                    "displayName": null,
                    "userIdentityType": "aadUser",
                    "tenantId": self.tenant_id(),
                }
            })),
            "viewpoint": {
                "isHidden": false,
                "lastMessageReadDateTime": millis(c.last_updated_ms),
            },
        });
        if expand_members {
            v["members@odata.context"] =
                json!(self.context(&format!("chats('{}')/members", url_segment(&c.id))));
            v["members"] = c.members.iter().map(|m| self.member(m)).collect();
        }
        v
    }

    pub fn member(&self, m: &Member) -> Value {
        json!({
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "id": m.id,
            "roles": if m.owner { vec!["owner"] } else { Vec::new() },
            "displayName": m.display_name,
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "userId": m.user_id,
            "email": m.email,
            "tenantId": self.tenant_id(),
        })
    }

    /// A chat message (`channel` = None) or a channel message/reply (`channel` = (team id, channel id)).
    pub fn message(
        &self,
        m: &Message,
        chat_id: Option<&str>,
        channel: Option<(&str, &str)>,
        expand_replies: bool,
    ) -> Value {
        let from = match &m.from {
            Sender::User { id, name } => self.user_identity(id, Some(name)),
            Sender::App { id, name } => json!({
                "application": {
                    "@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
                    "id": id,
                    "displayName": name,
                    "applicationIdentityType": "bot",
                },
                "device": null,
                "user": null,
            }),
            Sender::System => Value::Null,
        };
        let web_url = channel.map(|(team, ch)| {
            let mut url = format!(
                "https://teams.microsoft.com/l/message/{}/{}?groupId={team}&tenantId={}&createdTime={}",
                url_segment(ch),
                m.id,
                self.tenant_id(),
                m.created_ms
            );
            if let Some(parent) = &m.reply_to {
                url.push_str(&format!("&parentMessageId={parent}"));
            } else {
                url.push_str(&format!("&parentMessageId={}", m.id));
            }
            url
        });
        let mut v = json!({
            "id": m.id,
            "replyToId": m.reply_to,
            "etag": m.modified_ms.to_string(),
            "messageType": m.message_type,
            "createdDateTime": millis(m.created_ms),
            "lastModifiedDateTime": millis(m.modified_ms),
            "lastEditedDateTime": m.edited_ms.map(millis),
            "deletedDateTime": m.deleted_ms.map(millis),
            "subject": m.subject,
            "summary": null,
            "chatId": chat_id,
            "importance": m.importance,
            "locale": "en-us",
            "webUrl": web_url,
            "channelIdentity": channel.map(|(team, ch)| json!({"teamId": team, "channelId": ch})),
            "policyViolation": null,
            "eventDetail": m.event.as_ref().map(|e| self.event_detail(e)),
            "from": from,
            "body": {"contentType": m.body_type, "content": m.body},
            "attachments": m.attachments.iter().map(|a| json!({
                "id": a.id,
                "contentType": a.content_type,
                "contentUrl": a.content_url,
                "content": a.content,
                "name": a.name,
                "thumbnailUrl": null,
                "teamsAppId": null,
            })).collect::<Vec<_>>(),
            "mentions": m.mentions.iter().map(|x| json!({
                "id": x.id,
                "mentionText": x.text,
                "mentioned": {
                    "application": null,
                    "device": null,
                    "conversation": null,
                    "tag": null,
                    "user": {
                        "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                        "id": x.user_id,
                        "displayName": x.user_name,
                        "userIdentityType": "aadUser",
                        "tenantId": self.tenant_id(),
                    }
                }
            })).collect::<Vec<_>>(),
            "reactions": m.reactions.iter().map(|(kind, at, user)| json!({
                "reactionType": kind,
                "displayName": kind,
                "reactionContentUrl": null,
                "createdDateTime": millis(*at),
                "user": self.user_identity(user, None),
            })).collect::<Vec<_>>(),
            "messageHistory": [],
        });
        if expand_replies && m.reply_to.is_none() {
            if let Some((team, ch)) = channel {
                v["replies@odata.context"] = json!(self.context(&format!(
                    "teams('{team}')/channels('{}')/messages('{}')/replies",
                    url_segment(ch),
                    m.id
                )));
                v["replies"] = m
                    .replies
                    .iter()
                    .map(|r| self.message(r, None, channel, false))
                    .collect();
            }
        }
        v
    }

    fn event_detail(&self, e: &EventDetail) -> Value {
        let mut v = match e {
            EventDetail::CallStarted { call_id, initiator } => json!({
                "callId": call_id,
                "callEventType": "meeting",
                "initiator": self.party(initiator),
            }),
            EventDetail::CallEnded {
                call_id,
                duration,
                event_type,
                participants,
                initiator,
            } => json!({
                "callId": call_id,
                "callDuration": duration,
                "callEventType": event_type,
                "callParticipants": participants.iter().map(|p| json!({
                    "callDuration": duration,
                    "participant": self.party(p),
                })).collect::<Vec<_>>(),
                "initiator": self.party(initiator),
            }),
            EventDetail::CallRecording {
                call_id,
                display_name,
                url,
                duration,
                organizer,
                initiator,
            } => json!({
                "callId": call_id,
                "callRecordingDisplayName": display_name,
                "callRecordingUrl": url,
                "callRecordingDuration": duration,
                "callRecordingStatus": "success",
                "meetingOrganizer": self.party(organizer),
                "initiator": self.party(initiator),
            }),
            EventDetail::MembersAdded { members, initiator } => json!({
                "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
                "members": members.iter().map(|(id, name)| json!({
                    "id": id,
                    "displayName": name,
                    "userIdentityType": "aadUser",
                    "tenantId": self.tenant_id(),
                })).collect::<Vec<_>>(),
                "initiator": self.party(initiator),
            }),
            EventDetail::ChatRenamed {
                chat_id,
                name,
                initiator,
            } => json!({
                "chatId": chat_id,
                "chatDisplayName": name,
                "initiator": self.party(initiator),
            }),
        };
        v["@odata.type"] = json!(e.odata_type());
        v
    }

    pub fn tab(&self, t: &Tab) -> Value {
        json!({
            "id": t.id,
            "displayName": t.display_name,
            "webUrl": t.web_url,
            "configuration": {
                "entityId": t.entity_id,
                "contentUrl": t.content_url,
                "removeUrl": null,
                "websiteUrl": t.website_url,
            },
        })
    }

    pub fn event(&self, e: &Event) -> Value {
        let addr = |(name, address): &(String, String)| json!({"name": name, "address": address});
        json!({
            "@odata.etag": format!("W/\"{}\"", e.change_key),
            "id": e.id,
            "createdDateTime": ticks(e.created_ms),
            "lastModifiedDateTime": ticks(e.modified_ms),
            "changeKey": e.change_key,
            "categories": e.categories,
            "transactionId": null,
            "originalStartTimeZone": e.time_zone,
            "originalEndTimeZone": e.time_zone,
            "iCalUId": e.ical_uid,
            "uid": e.ical_uid,
            "reminderMinutesBeforeStart": e.reminder_minutes,
            "isReminderOn": e.reminder_on,
            "hasAttachments": false,
            "subject": e.subject,
            "bodyPreview": e.body_preview,
            "importance": e.importance,
            "sensitivity": "normal",
            "isAllDay": e.is_all_day,
            "isCancelled": e.is_cancelled,
            "isOrganizer": e.is_organizer,
            "responseRequested": true,
            "seriesMasterId": null,
            "showAs": e.show_as,
            "type": if e.recurrence.is_some() { "seriesMaster" } else { "singleInstance" },
            "webLink": format!(
                "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
                url_segment(&e.id)
            ),
            "onlineMeetingUrl": null,
            "isOnlineMeeting": e.join_url.is_some(),
            "onlineMeetingProvider": if e.join_url.is_some() { "teamsForBusiness" } else { "unknown" },
            "allowNewTimeProposals": true,
            "occurrenceId": null,
            "isDraft": false,
            "hideAttendees": false,
            "responseStatus": {
                "response": if e.is_organizer { "organizer" } else { "accepted" },
                "time": "0001-01-01T00:00:00Z",
            },
            "body": {"contentType": "html", "content": e.body_html},
            "start": {"dateTime": local_ticks(e.start_ms), "timeZone": "UTC"},
            "end": {"dateTime": local_ticks(e.end_ms), "timeZone": "UTC"},
            "location": {
                "displayName": e.locations.first().cloned().unwrap_or_default(),
                "locationType": "default",
                "uniqueIdType": if e.locations.is_empty() { "unknown" } else { "private" },
                "address": {},
                "coordinates": {},
            },
            "locations": e.locations.iter().map(|l| json!({
                "displayName": l,
                "locationType": "default",
                "uniqueId": l,
                "uniqueIdType": "private",
            })).collect::<Vec<_>>(),
            "recurrence": e.recurrence.as_ref().map(|r| json!({
                "pattern": {
                    "type": r.pattern_type,
                    "interval": r.interval,
                    "month": r.month,
                    "dayOfMonth": r.day_of_month,
                    "daysOfWeek": r.days_of_week,
                    "firstDayOfWeek": r.first_day_of_week,
                    "index": r.index,
                },
                "range": {
                    "type": r.range_type,
                    "startDate": r.start_date,
                    "endDate": r.end_date,
                    "recurrenceTimeZone": e.time_zone,
                    "numberOfOccurrences": r.occurrences,
                },
            })),
            "attendees": e.attendees.iter().map(|(name, address, kind, response)| json!({
                "type": kind,
                "status": {"response": response, "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"name": name, "address": address},
            })).collect::<Vec<_>>(),
            "organizer": {"emailAddress": addr(&e.organizer)},
            "onlineMeeting": e.join_url.as_ref().map(|u| json!({"joinUrl": u})),
        })
    }

    pub fn team(&self, t: &Team) -> Value {
        let general = t.channels.first().map(|c| c.id.clone());
        json!({
            "id": t.id,
            "createdDateTime": millis(t.created_ms),
            "displayName": t.display_name,
            "description": t.description,
            "internalId": general,
            "classification": null,
            "specialization": "none",
            "visibility": t.visibility,
            "webUrl": general.map(|g| format!(
                "https://teams.microsoft.com/l/team/{}/conversations?groupId={}&tenantId={}",
                url_segment(&g), t.id, self.tenant_id()
            )),
            "isArchived": false,
            "tenantId": self.tenant_id(),
            "isMembershipLimitedToOwners": false,
            "memberSettings": null,
            "guestSettings": null,
            "messagingSettings": null,
            "funSettings": null,
            "discoverySettings": null,
            "summary": null,
        })
    }

    pub fn channel(&self, team: &Team, c: &Channel) -> Value {
        json!({
            "id": c.id,
            "createdDateTime": millis(c.created_ms),
            "displayName": c.display_name,
            "description": c.description,
            "isFavoriteByDefault": null,
            "email": c.email,
            "tenantId": self.tenant_id(),
            "webUrl": format!(
                "https://teams.microsoft.com/l/channel/{}/{}?groupId={}&tenantId={}",
                url_segment(&c.id),
                url_segment(&c.display_name),
                team.id,
                self.tenant_id()
            ),
            "membershipType": c.membership_type,
            "isArchived": false,
        })
    }
}
