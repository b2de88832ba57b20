//! The calendars lister: users with a mailbox → their events (`User Meeting` documents). A user without a
//! mailbox answers 404, which means nothing to list.

use std::sync::Arc;

use futures::StreamExt;

use super::items::{select, User};
use super::Crawl;
use crate::encode::graph_segment;
use crate::sources::teams::auth::TokenKind;
use crate::sources::teams::docs;

impl Crawl {
    pub(super) async fn users(self: Arc<Self>) {
        if !self.types.on(docs::USER_MEETING) {
            return;
        }
        let users = match self.user_list().await {
            Ok(users) => users,
            Err(e) => return self.fatal("users", &e).await,
        };
        let with_mail: Vec<&User> = users
            .iter()
            .filter(|u| u.mail.as_deref().is_some_and(|m| !m.is_empty()))
            .collect();
        self.progress.users.found(with_mail.len());
        futures::stream::iter(with_mail)
            .for_each_concurrent(self.concurrency.calendars, |user| {
                let this = self.clone();
                async move {
                    let Some(id) = user.id.as_deref() else {
                        this.progress.users.finished_one();
                        return;
                    };
                    let path = format!(
                        "/users/{}/events?$top=50&$select={}",
                        graph_segment(id),
                        select::EVENTS
                    );
                    let mut pages = std::pin::pin!(this.graph.pages(&path, TokenKind::App));
                    while let Some(page) = pages.next().await {
                        match page {
                            Ok(events) => {
                                for event in events {
                                    if let Some(doc) = docs::meeting(&event) {
                                        this.doc(doc, None).await;
                                    }
                                }
                            }
                            Err(e) => {
                                // A first-page 404 is a user without a mailbox; `pages` turns a later one into
                                // a failure.
                                this.absent_or_failure(format!("calendar of user {id}"), &e)
                                    .await;
                                break;
                            }
                        }
                    }
                    this.progress.users.finished_one();
                }
            })
            .await;
    }
}
