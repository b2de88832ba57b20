//! Chats: one-on-one, group and meeting chats with members, messages (every edge case the connector's
//! rules care about), call events, reference attachments backed by OneDrive files, and tabs.

use super::super::time::{self, HOUR_MS, MINUTE_MS};
use super::super::words::{self, escape, url_segment};
use super::super::*;
use super::*;

impl Generator {
    // ---- chats -----------------------------------------------------------------------------------

    pub(super) fn licensed(&self) -> Vec<usize> {
        (0..self.ds.users.len())
            .filter(|&i| self.ds.users[i].has_mailbox())
            .collect()
    }

    pub(super) fn chats(&mut self) {
        let licensed = self.licensed();
        let me = self.ds.me;
        let others: Vec<usize> = licensed.iter().copied().filter(|&i| i != me).collect();
        for k in 0..self.p.my_chats + self.p.other_chats {
            let mine = k < self.p.my_chats;
            let kind = match k {
                0 => ChatType::OneOnOne,
                1 => ChatType::Group,
                2 => ChatType::Meeting,
                _ => match self.rng.below(100) {
                    0..=39 => ChatType::OneOnOne,
                    40..=74 => ChatType::Group,
                    _ => ChatType::Meeting,
                },
            };
            let mut members: Vec<usize> = if mine { vec![me] } else { Vec::new() };
            let wanted = match kind {
                ChatType::OneOnOne => 2,
                ChatType::Group => self.rng.between(3, 8),
                ChatType::Meeting => self.rng.between(3, 7),
            }
            .min(others.len() + members.len());
            while members.len() < wanted {
                let u = *self.rng.pick(&others);
                if !members.contains(&u) {
                    members.push(u);
                }
            }
            let mut kind = kind;
            if kind == ChatType::OneOnOne {
                let mut pair = (
                    self.ds.users[members[0]].id.clone(),
                    self.ds.users[members[1]].id.clone(),
                );
                if pair.0 > pair.1 {
                    pair = (pair.1, pair.0);
                }
                if !self.one_on_one_pairs.insert(pair) {
                    kind = ChatType::Group;
                    let extra = others.iter().copied().find(|u| !members.contains(u));
                    if let Some(extra) = extra {
                        members.push(extra);
                    }
                }
            }
            let with_deleted_member = kind == ChatType::Group && k == 1;
            let chat = self.chat(kind, &members, with_deleted_member);
            self.ds.chats.push(chat);
        }
    }

    fn chat(&mut self, kind: ChatType, members: &[usize], deleted_member: bool) -> Chat {
        let created = self.time_in_2024(60);
        let id = match kind {
            ChatType::OneOnOne => {
                let mut ids = [
                    self.ds.users[members[0]].id.clone(),
                    self.ds.users[members[1]].id.clone(),
                ];
                ids.sort();
                format!("19:{}_{}@unq.gbl.spaces", ids[0], ids[1])
            }
            ChatType::Group => format!("19:{}@thread.v2", self.rng.hex(32)),
            ChatType::Meeting => format!("19:meeting_{}@thread.v2", self.rng.chars(B64URL, 48)),
        };
        let topic = match kind {
            ChatType::OneOnOne => None,
            ChatType::Group => self
                .rng
                .chance(0.6)
                .then(|| self.rng.pick(words::TOPICS).to_string()),
            ChatType::Meeting => Some(self.rng.pick(words::MEETING_SUBJECTS).to_string()),
        };
        let mut chat_members: Vec<Member> = members
            .iter()
            .enumerate()
            .map(|(n, &u)| {
                let user = &self.ds.users[u];
                Member {
                    id: membership_id(&id, &user.id),
                    user_id: user.id.clone(),
                    display_name: Some(user.display_name.clone()),
                    email: user.mail.clone(),
                    owner: n == 0 || kind == ChatType::OneOnOne,
                }
            })
            .collect();
        if deleted_member {
            let ghost = self.rng.guid();
            chat_members.push(Member {
                id: membership_id(&id, &ghost),
                user_id: ghost,
                display_name: None,
                email: None,
                owner: false,
            });
        }
        let meeting = (kind == ChatType::Meeting).then(|| {
            (
                format!(
                    "https://teams.microsoft.com/l/meetup-join/{}/0?context=%7b%22Tid%22%3a%22{}%22%7d",
                    url_segment(&id),
                    self.ds.tenant.id
                ),
                self.ds.users[members[0]].id.clone(),
            )
        });
        let mut chat = Chat {
            seq: self.ds.take_seq(),
            id,
            chat_type: kind,
            topic,
            created_ms: created,
            last_updated_ms: created,
            members: chat_members,
            messages: Vec::new(),
            tabs: Vec::new(),
            meeting,
        };
        let count = self
            .rng
            .between(self.p.messages_per_chat.0, self.p.messages_per_chat.1);
        let mut t = created + MINUTE_MS;
        let senders: Vec<usize> = members.to_vec();
        let calls_at = if kind == ChatType::Meeting {
            Some(self.rng.between(0, count.saturating_sub(1)))
        } else {
            None
        };
        for n in 0..count {
            t += self.rng.range(1, 600) as i64 * MINUTE_MS + self.rng.below(60_000) as i64;
            if Some(n) == calls_at {
                let messages = self.call_messages(&chat, &senders, t, true);
                t += 2 * HOUR_MS;
                chat.messages.extend(messages);
                continue;
            }
            let msg = self.chat_message(&chat, &senders, t, n);
            chat.messages.push(msg);
        }
        let tabs = self.rng.between(0, 2);
        for _ in 0..tabs {
            let tab = self.tab();
            chat.tabs.push(tab);
        }
        chat.last_updated_ms = chat
            .messages
            .iter()
            .map(|m| m.modified_ms)
            .max()
            .unwrap_or(created);
        chat
    }

    pub(super) fn random_party(&mut self, among: &[usize]) -> Party {
        let i = *self.rng.pick(among);
        self.party(i)
    }

    pub(super) fn party(&self, user_idx: usize) -> Party {
        let u = &self.ds.users[user_idx];
        (u.id.clone(), Some(u.display_name.clone()))
    }

    pub(super) fn user_sender(&self, user_idx: usize) -> Sender {
        let u = &self.ds.users[user_idx];
        Sender::User {
            id: u.id.clone(),
            name: u.display_name.clone(),
        }
    }

    /// A blank message at time `t` from `from`, with a fresh unique id.
    pub fn blank_message(&mut self, t: i64, from: Sender) -> Message {
        let ms = self.ds.reserve_message_ms(t);
        Message {
            seq: self.ds.take_seq(),
            id: ms.to_string(),
            created_ms: ms,
            modified_ms: ms,
            edited_ms: None,
            deleted_ms: None,
            message_type: "message",
            from,
            body_type: "html",
            body: String::new(),
            subject: None,
            importance: "normal",
            attachments: Vec::new(),
            mentions: Vec::new(),
            reactions: Vec::new(),
            event: None,
            reply_to: None,
            replies: Vec::new(),
        }
    }

    /// A call in a chat: callEnded then callRecording sharing a call id. In the very first meeting chat
    /// a second recording points at classic Stream (not SharePoint), which the connector skips.
    fn call_messages(
        &mut self,
        chat: &Chat,
        senders: &[usize],
        t: i64,
        chat_call: bool,
    ) -> Vec<Message> {
        let call_id = self.rng.guid();
        let organizer = self.party(senders[0]);
        let participants: Vec<Party> = senders.iter().map(|&u| self.party(u)).collect();
        let secs = self.rng.range(60, 3600) as i64;
        let mut ended = self.blank_message(t + secs * 1000, Sender::System);
        ended.message_type = "systemEventMessage";
        ended.body = "<systemEventMessage/>".into();
        ended.event = Some(EventDetail::CallEnded {
            call_id: call_id.clone(),
            duration: time::duration(secs),
            event_type: "meeting",
            participants,
            initiator: organizer.clone(),
        });
        let title = chat.topic.clone().unwrap_or_else(|| "Meeting".into());
        let stamp = time::millis(t).replace(['-', ':'], "");
        let display = format!(
            "{}-{}_{}-Meeting Recording.mp4",
            title,
            &stamp[..8],
            &stamp[9..13]
        );
        let organizer_upn = self
            .ds
            .user(&organizer.0)
            .map(|u| u.user_principal_name.replace(['@', '.'], "_"))
            .unwrap_or_default();
        let url = format!(
            "https://{}-my.sharepoint.com/personal/{organizer_upn}/Documents/Recordings/{}",
            self.ds.tenant.name,
            url_segment(&display)
        );
        let mut recording = self.blank_message(t + secs * 1000 + 90_000, Sender::System);
        recording.message_type = "systemEventMessage";
        recording.body = "<systemEventMessage/>".into();
        recording.event = Some(EventDetail::CallRecording {
            call_id: call_id.clone(),
            display_name: display,
            url,
            duration: time::duration(secs - 5),
            organizer: organizer.clone(),
            initiator: organizer.clone(),
        });
        let mut out = vec![ended, recording];
        if chat_call
            && !self
                .ds
                .chats
                .iter()
                .any(|c| c.chat_type == ChatType::Meeting)
        {
            let mut stream = self.blank_message(t + secs * 1000 + 120_000, Sender::System);
            stream.message_type = "systemEventMessage";
            stream.body = "<systemEventMessage/>".into();
            stream.event = Some(EventDetail::CallRecording {
                call_id: self.rng.guid(),
                display_name: "Legacy recording.mp4".into(),
                url: format!("https://web.microsoftstream.com/video/{}", self.rng.guid()),
                duration: time::duration(secs),
                organizer: organizer.clone(),
                initiator: organizer,
            });
            out.push(stream);
        }
        out
    }

    fn chat_message(&mut self, chat: &Chat, senders: &[usize], t: i64, n: usize) -> Message {
        let sender = *self.rng.pick(senders);
        let mut m = self.blank_message(t, self.user_sender(sender));
        // The first messages of the first chats cover every edge case at least once per data set.
        let roll = if self.ds.chats.len() < 3 && n < 12 {
            [0, 60, 70, 77, 80, 83, 86, 89, 92, 94, 96, 98][n]
        } else {
            self.rng.below(100)
        };
        match roll {
            0..=59 => {
                m.body = self.html_body();
                if self.rng.chance(0.15) {
                    let reactor = self.random_party(senders);
                    m.reactions.push((
                        self.rng.pick(words::EMOJI).0.to_string(),
                        t + MINUTE_MS,
                        reactor.0,
                    ));
                }
            }
            60..=69 => self.mention(&mut m, chat),
            70..=76 => {
                let with_text = self.rng.chance(0.5);
                self.reference_attachment(&mut m, sender, with_text, chat.chat_type);
            }
            77..=79 => {
                let (id, alt, title) = *self.rng.pick(words::EMOJI);
                m.body =
                    format!("<p><emoji id=\"{id}\" alt=\"{alt}\" title=\"{title}\"></emoji></p>");
            }
            80..=82 => {
                m.body = self.html_body();
                let deleted = m.created_ms + self.rng.range(1, 120) as i64 * MINUTE_MS;
                m.body.clear();
                m.deleted_ms = Some(deleted);
                m.modified_ms = deleted;
            }
            83..=85 => {
                m.from = Sender::System;
                m.message_type = "systemEventMessage";
                m.body = "<systemEventMessage/>".into();
                let initiator = self.party(sender);
                m.event = Some(
                    if chat.chat_type == ChatType::Group && chat.topic.is_some() {
                        EventDetail::ChatRenamed {
                            chat_id: chat.id.clone(),
                            name: chat.topic.clone().unwrap_or_default(),
                            initiator,
                        }
                    } else {
                        let added = self.random_party(senders);
                        EventDetail::MembersAdded {
                            members: vec![added],
                            initiator,
                        }
                    },
                );
            }
            86..=88 => self.bot_message(&mut m, n),
            89..=91 => {
                m.body = self.html_body();
                let edited = m.created_ms + self.rng.range(1, 300) as i64 * MINUTE_MS;
                m.edited_ms = Some(edited);
                m.modified_ms = edited;
            }
            92..=93 => {
                m.body_type = "text";
                m.body = words::sentence(&mut self.rng);
            }
            94..=95 => m.body = "<div> </div>\n<p>\n</p>".into(),
            96..=97 => {
                m.message_type = "unknownFutureValue";
                m.body = format!("<p>{}</p>", escape(&words::sentence(&mut self.rng)));
            }
            _ => {
                m.body = format!(
                    "<p>Budget &amp; plan: &lt;draft&gt; {}&nbsp;<a href=\"https://contoso.example/wiki\">wiki</a></p>",
                    escape(&words::sentence(&mut self.rng))
                );
                m.importance = "high";
            }
        }
        m
    }

    pub(super) fn html_body(&mut self) -> String {
        let n = 1 + self.rng.below(3) as usize;
        let s = words::paragraph(&mut self.rng, n);
        match self.rng.below(4) {
            0 => format!("<p>{}</p>", escape(&s)),
            1 => {
                let (a, b) = s.split_once(' ').unwrap_or((&s, ""));
                format!("<p><b>{}</b> {}</p>", escape(a), escape(b))
            }
            2 => format!("<div><div>{}</div></div>", escape(&s)),
            _ => format!(
                "<p>{}</p>\n<ul>\n<li>{}</li>\n<li><i>{}</i></li>\n</ul>",
                escape(&s),
                escape(&words::sentence(&mut self.rng)),
                escape(&words::sentence(&mut self.rng))
            ),
        }
    }

    fn mention(&mut self, m: &mut Message, chat: &Chat) {
        let named: Vec<&Member> = chat
            .members
            .iter()
            .filter(|mm| mm.display_name.is_some())
            .collect();
        if named.is_empty() {
            m.body = self.html_body();
            return;
        }
        let target = (*self.rng.pick(&named)).clone();
        let name = target.display_name.clone().unwrap_or_default();
        m.body = format!(
            "<p>Hi <at id=\"0\">{}</at>, {}</p>",
            escape(&name),
            escape(&words::sentence(&mut self.rng).to_lowercase())
        );
        m.mentions.push(Mention {
            id: 0,
            text: name.clone(),
            user_id: target.user_id.clone(),
            user_name: name,
        });
    }

    /// A message sharing a file from the sender's "Microsoft Teams Chat Files" folder. Some point at a
    /// file that has since been deleted; some re-share a file already shared.
    fn reference_attachment(
        &mut self,
        m: &mut Message,
        sender: usize,
        with_text: bool,
        kind: ChatType,
    ) {
        let user = self.ds.users[sender].clone();
        let Some(drive_id) = user.drive_id.clone() else {
            m.body = self.html_body();
            return;
        };
        let Some(folder) = self.root_folder(&drive_id, "Microsoft Teams Chat Files") else {
            m.body = self.html_body();
            return;
        };
        let owner = (user.id.clone(), user.display_name.clone());
        let existing: Vec<(String, String)> = self
            .ds
            .drives
            .children_of(&folder)
            .map(|i| (i.name.clone(), i.etag_guid.clone()))
            .collect();
        let roll = self.rng.below(10);
        let (name, guid) = if roll == 0 && !existing.is_empty() {
            self.rng.pick(&existing).clone()
        } else if roll == 1 {
            // Shared, then deleted from OneDrive: the lookup by name finds nothing.
            let ext = self.extensions
                [self.rng.below(self.corpus_len as u64) as usize % self.extensions.len().max(1)]
            .clone();
            (
                format!("Removed draft {}.{ext}", self.rng.hex(4)),
                self.rng.guid().to_uppercase(),
            )
        } else {
            let stem = self.rng.pick(words::FILE_STEMS).to_string();
            let corpus = self.corpus_content();
            let content = self.file_content(corpus);
            let id = self.file(
                &drive_id,
                &folder,
                &stem,
                content,
                m.created_ms - MINUTE_MS,
                &owner,
            );
            let item = &self.ds.drives.items[&id];
            (item.name.clone(), item.etag_guid.clone())
        };
        let folder_url = self.ds.drives.items[&folder].web_url.clone();
        m.attachments.push(Attachment {
            id: guid.clone(),
            content_type: "reference".into(),
            name: Some(name.clone()),
            content_url: Some(format!("{folder_url}/{}", url_segment(&name))),
            content: None,
        });
        let _ = kind;
        m.body = if with_text {
            format!(
                "<p>{}</p><attachment id=\"{guid}\"></attachment>",
                escape(&words::sentence(&mut self.rng))
            )
        } else {
            format!("<attachment id=\"{guid}\"></attachment>")
        };
    }

    /// A message from an app: an Adaptive Card (no text) or a plain text notification.
    fn bot_message(&mut self, m: &mut Message, n: usize) {
        let app_id = "a2da8768-a5f1-4d95-9d47-ff6b7e6b1f38".to_string();
        m.from = Sender::App {
            id: app_id,
            name: "Workflows".into(),
        };
        if n & 1 == 0 {
            let card = self.rng.guid();
            m.body = format!("<attachment id=\"{card}\"></attachment>");
            m.attachments.push(Attachment {
                id: card,
                content_type: "application/vnd.microsoft.card.adaptive".into(),
                name: None,
                content_url: None,
                content: Some(
                    "{\"type\":\"AdaptiveCard\",\"version\":\"1.4\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"Build succeeded\"}]}"
                        .into(),
                ),
            });
        } else {
            m.body = format!(
                "<p>Reminder: {}</p>",
                escape(&words::sentence(&mut self.rng))
            );
        }
    }

    pub fn tab(&mut self) -> Tab {
        let id = self.rng.guid();
        let (name, app, website, content): (&str, &'static str, Option<String>, Option<String>) =
            match self.rng.below(4) {
                0 => (
                    "Notes",
                    "0d820ecd-def2-4297-adad-78056cde7c78",
                    Some(format!("https://www.onenote.com/notebooks/{}", self.rng.hex(12))),
                    Some(format!("https://www.onenote.com/teams/TabContent?notebookSource=New&id={}", self.rng.hex(8))),
                ),
                1 => (
                    "Tasks",
                    "com.microsoft.teamspace.tab.planner",
                    Some(format!("https://tasks.office.com/{}/Home/PlanViews/{}", self.ds.tenant.domain, self.rng.hex(16))),
                    Some(format!("https://tasks.teams.microsoft.com/teamsui/{{tid}}/Home/PlannerFrame?planId={}", self.rng.hex(16))),
                ),
                2 => (
                    "Project site",
                    "com.microsoft.teamspace.tab.web",
                    Some(format!("https://contoso.example/projects/{}", self.rng.hex(6))),
                    Some(format!("https://contoso.example/projects/{}", self.rng.hex(6))),
                ),
                _ => (
                    "Wiki",
                    "com.microsoft.teamspace.tab.wiki",
                    None,
                    None,
                ),
            };
        let entity = self.rng.hex(10);
        Tab {
            seq: self.ds.take_seq(),
            web_url: Some(format!(
                "https://teams.microsoft.com/l/entity/{app}/_djb2_msteams_prefix_{}?label={}",
                self.rng.below(4_000_000_000),
                url_segment(name)
            )),
            id,
            display_name: name.to_string(),
            website_url: website,
            content_url: content,
            entity_id: Some(entity),
            app_id: app,
        }
    }
}
