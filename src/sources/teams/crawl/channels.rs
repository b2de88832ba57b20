//! The teams lister: teams → channels → tabs, messages with their replies, channel meetings (from call events)
//! and the channel's files folder (walked by [`files`](super::files)).

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;

use super::items::{select, DriveItem, Message, Named};
use super::Crawl;
use crate::encode::graph_segment;
use crate::sources::teams::auth::TokenKind;
use crate::sources::teams::docs;
use crate::sources::teams::graph::fields;

pub(super) const TEAM_TYPES: [&str; 6] = [
    docs::TEAMS,
    docs::TEAM_CHANNEL,
    docs::CHANNEL_TAB,
    docs::CHANNEL_MESSAGE,
    docs::CHANNEL_MEETING,
    docs::CHANNEL_ATTACHMENT,
];

impl Crawl {
    pub(super) async fn teams(self: Arc<Self>) {
        if !self.types.any(&TEAM_TYPES) {
            return;
        }
        let mut pages = std::pin::pin!(self.graph.pages(
            &format!("/teams?$top=999&$select={}", select::TEAMS),
            TokenKind::Delegated
        ));
        while let Some(page) = pages.next().await {
            let teams = match page {
                Ok(teams) => teams,
                Err(e) => return self.fatal("teams", &e).await,
            };
            self.progress.teams.found(teams.len());
            futures::stream::iter(teams)
                .for_each_concurrent(self.concurrency.teams, |team| {
                    let this = self.clone();
                    async move {
                        this.clone().team(team).await;
                        this.progress.teams.finished_one();
                    }
                })
                .await;
        }
    }

    async fn team(self: Arc<Self>, team: Value) {
        let Named { id, display_name } = fields(&team);
        let Some(team_id) = id else {
            return;
        };
        self.doc(docs::team(&team), None).await;
        if !self.types.any(&TEAM_TYPES[1..]) {
            return;
        }
        let team_name = display_name.unwrap_or_default();
        let path = format!(
            "/teams/{}/channels?$select={}",
            graph_segment(&team_id),
            select::CHANNELS
        );
        let Some(channels) = self
            .list(
                || format!("channels of team {team_name}"),
                &path,
                TokenKind::Delegated,
            )
            .await
        else {
            return;
        };
        self.progress.channels.found(channels.len());
        futures::stream::iter(channels)
            .for_each_concurrent(self.concurrency.channels_per_team, |channel| {
                let this = self.clone();
                let (team_id, team_name) = (team_id.clone(), team_name.clone());
                async move {
                    this.clone().channel(&team_id, &team_name, channel).await;
                    this.progress.channels.finished_one();
                }
            })
            .await;
    }

    async fn channel(self: Arc<Self>, team_id: &str, team_name: &str, channel: Value) {
        let Named { id, display_name } = fields(&channel);
        let Some(channel_id) = id else {
            return;
        };
        let channel_name = display_name.unwrap_or_default();
        let label = format!("{team_name}/{channel_name}");
        self.doc(docs::channel(team_name, &channel), None).await;
        let base = format!(
            "/teams/{}/channels/{}",
            graph_segment(team_id),
            graph_segment(&channel_id)
        );

        let tabs = if self.types.on(docs::CHANNEL_TAB) {
            self.list(
                || format!("tabs of channel {label}"),
                &format!("{base}/tabs?$select={}", select::CHANNEL_TABS),
                TokenKind::Delegated,
            )
            .await
        } else {
            None
        };
        if let Some(tabs) = tabs {
            for tab in &tabs {
                self.doc(docs::channel_tab(team_name, &channel_name, tab), None)
                    .await;
            }
        }

        let mut meetings = docs::ChannelMeetings::default();
        let path = format!("{base}/messages?$top=50&$expand=replies");
        let wants_messages = self
            .types
            .any(&[docs::CHANNEL_MESSAGE, docs::CHANNEL_MEETING]);
        let mut pages = std::pin::pin!(self.graph.pages(&path, TokenKind::Delegated));
        let part = || format!("messages of channel {label}");
        while let Some(messages) = self.next_child_page(&mut pages, wants_messages, part).await {
            for message in messages {
                // Read in place, not through a struct: replies are whole messages, handed on as they are.
                let replies = message
                    .get("replies")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                for item in std::iter::once(&message).chain(replies) {
                    match docs::channel_message(&channel_name, item) {
                        Some(doc) => self.doc(doc, None).await,
                        None if fields::<Message>(item).event_detail.is_some() => {
                            meetings.add(item)
                        }
                        None => {}
                    }
                }
            }
        }
        let (meeting_docs, without_call_id) = meetings.finish();
        if without_call_id > 0 {
            tracing::warn!(
                channel = %label,
                events = without_call_id,
                "Channel call events without a callId were skipped (they cannot be named)"
            );
        }
        for doc in meeting_docs {
            self.doc(doc, None).await;
        }

        if !self.types.on(docs::CHANNEL_ATTACHMENT) {
            return;
        }
        match self
            .graph
            .get_json(&format!("{base}/filesFolder"), TokenKind::Delegated)
            .await
        {
            Ok(folder) => {
                let folder: DriveItem = fields(&folder);
                if let (Some(drive), Some(item)) = (folder.parent_reference.drive_id, folder.id) {
                    self.files(&drive, &item, team_name, &channel_name, &label)
                        .await;
                }
            }
            // Graph answers 404 for a channel whose files were never provisioned.
            Err(e) => {
                self.absent_or_failure(format!("files of channel {label}"), &e)
                    .await
            }
        }
    }
}
