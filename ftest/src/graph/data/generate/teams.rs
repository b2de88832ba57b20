//! Teams, their standard and private channels, channel tabs, posts with replies, channel meetings, and
//! the channel folders' files.

use super::super::time::{self, DAY_MS, HOUR_MS, MINUTE_MS};
use super::super::words::{self, escape, slug, url_segment};
use super::super::*;
use super::*;

impl Generator {
    // ---- teams -----------------------------------------------------------------------------------

    pub(super) fn teams(&mut self) {
        for k in 0..self.p.teams {
            let base = words::TEAM_NAMES[k % words::TEAM_NAMES.len()];
            let name = if k >= words::TEAM_NAMES.len() {
                format!("{base} {}", k / words::TEAM_NAMES.len() + 1)
            } else {
                base.to_string()
            };
            let created = self.time_in_2024(200);
            let id = self.rng.guid();
            let team = Team {
                seq: self.ds.take_seq(),
                id,
                description: format!("{name} team: {}", words::sentence(&mut self.rng)),
                mail_nickname: slug(&name),
                display_name: name,
                created_ms: created,
                visibility: if self.rng.chance(0.7) {
                    "public"
                } else {
                    "private"
                },
                channels: Vec::new(),
            };
            self.ds.teams.push(team);
            let team_idx = self.ds.teams.len() - 1;
            let library =
                self.library_drive(&self.ds.teams[team_idx].display_name.clone(), created);
            let count = self
                .rng
                .between(self.p.channels_per_team.0, self.p.channels_per_team.1);
            for c in 0..count {
                let privacy = match (k, c) {
                    (_, 0) => Privacy::Standard,
                    (0, 1) => Privacy::PrivateWithMe,
                    (1, 1) => Privacy::PrivateWithoutMe,
                    _ if self.rng.chance(0.2) => {
                        if self.rng.chance(0.5) {
                            Privacy::PrivateWithMe
                        } else {
                            Privacy::PrivateWithoutMe
                        }
                    }
                    _ => Privacy::Standard,
                };
                let name = if c == 0 {
                    "General".to_string()
                } else {
                    words::CHANNEL_NAMES[(k * 5 + c) % words::CHANNEL_NAMES.len()].to_string()
                };
                let channel = self.channel(
                    team_idx,
                    &name,
                    privacy,
                    &library,
                    created + (c as i64) * HOUR_MS,
                );
                self.ds.teams[team_idx].channels.push(channel);
            }
        }
    }

    /// A team's (or private channel's) SharePoint document library; returns the drive id.
    fn library_drive(&mut self, site: &str, created: i64) -> String {
        let drive_id = self.drive_id();
        let root_id = self.item_id();
        let web_url = format!(
            "https://{}.sharepoint.com/sites/{}/Shared%20Documents",
            self.ds.tenant.name,
            url_segment(&site.replace(' ', ""))
        );
        let owner = ("".to_string(), "System Account".to_string());
        self.ds.drives.drives.insert(
            drive_id.clone(),
            Drive {
                id: drive_id.clone(),
                drive_type: "documentLibrary",
                name: "Documents".into(),
                web_url: web_url.clone(),
                created_ms: created,
                owner: owner.clone(),
                root_id: root_id.clone(),
            },
        );
        let root = Item {
            seq: self.ds.take_seq(),
            id: root_id,
            drive_id: drive_id.clone(),
            parent_id: None,
            name: "root".into(),
            created_ms: created,
            modified_ms: created,
            web_url,
            kind: ItemKind::Folder,
            size: 0,
            created_by: owner,
            etag_guid: self.rng.guid().to_uppercase(),
        };
        self.ds.drives.add_item(root);
        drive_id
    }

    pub fn channel(
        &mut self,
        team_idx: usize,
        name: &str,
        privacy: Privacy,
        team_library: &str,
        created: i64,
    ) -> Channel {
        let team_name = self.ds.teams[team_idx].display_name.clone();
        let team_id = self.ds.teams[team_idx].id.clone();
        let licensed = self.licensed();
        let me_id = self.ds.me().id.clone();
        let private = privacy != Privacy::Standard;
        let mut members: Vec<String> = Vec::new();
        if private {
            let n = self.rng.between(2, 5).min(licensed.len());
            while members.len() < n {
                let u = self.ds.users[*self.rng.pick(&licensed)].id.clone();
                if !members.contains(&u) && u != me_id {
                    members.push(u);
                }
            }
            if privacy == Privacy::PrivateWithMe {
                members.push(me_id.clone());
            }
        }
        let drive_id = if private {
            self.library_drive(&format!("{team_name}-{name}"), created)
        } else {
            team_library.to_string()
        };
        let root_id = self.ds.drives.drives[&drive_id].root_id.clone();
        let system = ("".to_string(), "System Account".to_string());
        let folder_id = self.folder(&drive_id, &root_id, name, created, &system);
        let id = self.channel_id();
        let mut channel = Channel {
            seq: self.ds.take_seq(),
            email: format!("{}.{}@emea.teams.ms", slug(name), self.rng.hex(8)),
            id,
            display_name: name.to_string(),
            description: if name == "General" {
                None
            } else {
                Some(format!("{name}: {}", words::sentence(&mut self.rng)))
            },
            created_ms: created,
            membership_type: if private { "private" } else { "standard" },
            members: members.clone(),
            tabs: Vec::new(),
            messages: Vec::new(),
            drive_id: drive_id.clone(),
            folder_id: folder_id.clone(),
        };
        let posters: Vec<usize> = if private {
            members
                .iter()
                .filter_map(|id| self.ds.users.iter().position(|u| &u.id == id))
                .collect()
        } else {
            licensed.clone()
        };
        self.channel_files(&channel, &posters);
        let tabs = self.rng.between(1, 2);
        for _ in 0..tabs {
            let tab = self.tab();
            channel.tabs.push(tab);
        }
        let posts = self
            .rng
            .between(self.p.posts_per_channel.0, self.p.posts_per_channel.1);
        // The first team's General channel always holds a channel meeting.
        let first_general = self.ds.teams.len() == 1 && name == "General";
        let meeting_at = (first_general || self.rng.chance(0.5))
            .then(|| self.rng.between(0, posts.saturating_sub(1)));
        let mut t = created + HOUR_MS;
        if name == "General" {
            // "X added Y to the team": an event without a call id.
            let mut added = self.blank_message(t, Sender::System);
            added.message_type = "systemEventMessage";
            added.body = "<systemEventMessage/>".into();
            let initiator = self.party(posters[0]);
            let member = self.random_party(&posters);
            added.event = Some(EventDetail::MembersAdded {
                members: vec![member],
                initiator,
            });
            channel.messages.push(added);
        }
        for n in 0..posts {
            t += self.rng.range(10, 3000) as i64 * MINUTE_MS + self.rng.below(60_000) as i64;
            let post = if Some(n) == meeting_at {
                self.channel_meeting(&channel, &posters, t)
            } else {
                self.channel_post(&channel, &posters, t, &team_id)
            };
            channel.messages.push(post);
        }
        channel
    }

    fn channel_files(&mut self, channel: &Channel, posters: &[usize]) {
        let count = self
            .rng
            .between(self.p.files_per_channel.0, self.p.files_per_channel.1);
        let mut folders = vec![channel.folder_id.clone()];
        for n in 0..count {
            let by = self.random_party(posters);
            let by = (by.0, by.1.unwrap_or_default());
            let t = channel.created_ms + self.rng.range(1, 200) as i64 * HOUR_MS;
            if n > 0 && self.rng.chance(0.2) && folders.len() < 4 {
                let parent = self.rng.pick(&folders).clone();
                let name = format!(
                    "{} {}",
                    self.rng.pick(&["Archive", "Drafts", "Assets", "Shared"]),
                    n
                );
                let f = self.folder(&channel.drive_id, &parent, &name, t, &by);
                folders.push(f);
                continue;
            }
            let parent = self.rng.pick(&folders).clone();
            let stem = self.rng.pick(words::FILE_STEMS).to_string();
            // The main stream's draws are the same whatever the content turns out to be (see `files.rs`).
            let (special, content) = if !self.big_file_done {
                self.big_file_done = true;
                let seed = self.rng.next_u64();
                self.big_file(seed)
            } else if self.rng.chance(0.06) {
                (None, Content::Empty)
            } else {
                let corpus = self.corpus_content();
                self.channel_file_content(corpus)
            };
            let stem = match (special, content) {
                (Some(name), _) => name.to_string(),
                (None, Content::Empty) => "Empty placeholder".to_string(),
                _ => stem,
            };
            self.file(&channel.drive_id, &parent, &stem, content, t, &by);
        }
        if self.rng.chance(0.25) {
            let id = self.item_id();
            let parent_url = self.ds.drives.items[&channel.folder_id].web_url.clone();
            let by = ("".to_string(), "System Account".to_string());
            let item = Item {
                seq: self.ds.take_seq(),
                id,
                drive_id: channel.drive_id.clone(),
                parent_id: Some(channel.folder_id.clone()),
                name: format!("{} Notebook", channel.display_name),
                created_ms: channel.created_ms,
                modified_ms: channel.created_ms + DAY_MS,
                web_url: format!(
                    "{parent_url}/{}%20Notebook",
                    url_segment(&channel.display_name)
                ),
                kind: ItemKind::Package("oneNote"),
                size: 12_345,
                created_by: by,
                etag_guid: self.rng.guid().to_uppercase(),
            };
            self.ds.drives.add_item(item);
        }
    }

    pub fn channel_post(
        &mut self,
        channel: &Channel,
        posters: &[usize],
        t: i64,
        team_id: &str,
    ) -> Message {
        let author = *self.rng.pick(posters);
        let mut post = self.blank_message(t, self.user_sender(author));
        let _ = team_id;
        match self.rng.below(100) {
            0..=69 => post.body = self.html_body(),
            70..=79 => {
                let files: Vec<(String, String, String)> = self
                    .ds
                    .drives
                    .descendants(&channel.folder_id)
                    .into_iter()
                    .filter(|i| i.is_file())
                    .map(|i| (i.name.clone(), i.etag_guid.clone(), i.web_url.clone()))
                    .collect();
                if files.is_empty() {
                    post.body = self.html_body();
                } else {
                    let (name, guid, url) = self.rng.pick(&files).clone();
                    post.body = format!(
                        "<p>{}</p><attachment id=\"{guid}\"></attachment>",
                        escape(&words::sentence(&mut self.rng))
                    );
                    post.attachments.push(Attachment {
                        id: guid,
                        content_type: "reference".into(),
                        name: Some(name),
                        content_url: Some(url),
                        content: None,
                    });
                }
            }
            80..=84 => {
                post.body = self.html_body();
                let deleted = t + self.rng.range(1, 100) as i64 * MINUTE_MS;
                post.body.clear();
                post.deleted_ms = Some(deleted);
                post.modified_ms = deleted;
            }
            85..=89 => {
                post.body = self.html_body();
                let edited = t + self.rng.range(1, 100) as i64 * MINUTE_MS;
                post.edited_ms = Some(edited);
                post.modified_ms = edited;
            }
            90..=92 => {
                let (id, alt, title) = *self.rng.pick(words::EMOJI);
                post.body =
                    format!("<p><emoji id=\"{id}\" alt=\"{alt}\" title=\"{title}\"></emoji></p>");
            }
            93..=94 => {
                post.message_type = "unknownFutureValue";
                post.body = format!("<p>{}</p>", escape(&words::sentence(&mut self.rng)));
            }
            _ => {
                post.subject = Some(self.rng.pick(words::TOPICS).to_string());
                post.body = format!(
                    "<p>{}</p>\n<p>&nbsp;</p>\n<p>{}</p>",
                    escape(&words::sentence(&mut self.rng)),
                    escape(&words::sentence(&mut self.rng))
                );
                post.importance = "high";
            }
        }
        if post.subject.is_none() && self.rng.chance(0.15) {
            post.subject = Some(self.rng.pick(words::TOPICS).to_string());
        }
        let replies = self
            .rng
            .between(self.p.replies_per_post.0, self.p.replies_per_post.1);
        let mut rt = t;
        for _ in 0..replies {
            rt += self.rng.range(1, 240) as i64 * MINUTE_MS;
            let reply = self.reply(&post, posters, rt);
            post.replies.push(reply);
        }
        post
    }

    pub fn reply(&mut self, post: &Message, posters: &[usize], t: i64) -> Message {
        let author = *self.rng.pick(posters);
        let mut reply = self.blank_message(t, self.user_sender(author));
        reply.reply_to = Some(post.id.clone());
        match self.rng.below(10) {
            0 => {
                reply.body = self.html_body();
                let deleted = t + MINUTE_MS;
                reply.body.clear();
                reply.deleted_ms = Some(deleted);
                reply.modified_ms = deleted;
            }
            1 => {
                let target = self.random_party(posters);
                let name = target.1.clone().unwrap_or_default();
                reply.body = format!(
                    "<div><div><at id=\"0\">{}</at>&nbsp;{}</div></div>",
                    escape(&name),
                    escape(&words::sentence(&mut self.rng))
                );
                reply.mentions.push(Mention {
                    id: 0,
                    text: name.clone(),
                    user_id: target.0,
                    user_name: name,
                });
            }
            _ => reply.body = self.html_body(),
        }
        reply
    }

    /// A channel meeting thread: the root is the callStarted event; replies carry callEnded and (usually)
    /// callRecording with the same call id, plus a chat line. Some meetings have no recording, a few have
    /// a recording but no callEnded.
    fn channel_meeting(&mut self, channel: &Channel, posters: &[usize], t: i64) -> Message {
        let call_id = self.rng.guid();
        let organizer = self.random_party(posters);
        let mut root = self.blank_message(t, Sender::System);
        root.message_type = "systemEventMessage";
        root.body = "<systemEventMessage/>".into();
        root.event = Some(EventDetail::CallStarted {
            call_id: call_id.clone(),
            initiator: organizer.clone(),
        });
        let secs = self.rng.range(120, 5400) as i64;
        let variant = self.rng.below(6);
        let mut rt = t + secs * 1000;
        if variant != 5 {
            let mut ended = self.blank_message(rt, Sender::System);
            ended.message_type = "systemEventMessage";
            ended.body = "<systemEventMessage/>".into();
            ended.reply_to = Some(root.id.clone());
            let participants: Vec<Party> = posters
                .iter()
                .take(self.rng.between(2, 4))
                .map(|&u| self.party(u))
                .collect();
            ended.event = Some(EventDetail::CallEnded {
                call_id: call_id.clone(),
                duration: time::duration(secs),
                event_type: "meeting",
                participants,
                initiator: organizer.clone(),
            });
            root.replies.push(ended);
        }
        if variant < 4 || variant == 5 {
            rt += 60_000;
            let mut rec = self.blank_message(rt, Sender::System);
            rec.message_type = "systemEventMessage";
            rec.body = "<systemEventMessage/>".into();
            rec.reply_to = Some(root.id.clone());
            let display = format!("{}-Meeting Recording.mp4", channel.display_name);
            let folder_url = self.ds.drives.items[&channel.folder_id].web_url.clone();
            rec.event = Some(EventDetail::CallRecording {
                call_id: call_id.clone(),
                url: format!("{folder_url}/Recordings/{}", url_segment(&display)),
                display_name: display,
                duration: time::duration(secs - 3),
                organizer: organizer.clone(),
                initiator: organizer.clone(),
            });
            root.replies.push(rec);
        }
        rt += 30_000;
        let who = *self.rng.pick(posters);
        let mut chat_line = self.blank_message(rt, self.user_sender(who));
        chat_line.reply_to = Some(root.id.clone());
        chat_line.body = format!("<p>{}</p>", escape("Thanks all, notes to follow."));
        root.replies.push(chat_line);
        root
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    Standard,
    PrivateWithMe,
    PrivateWithoutMe,
}
