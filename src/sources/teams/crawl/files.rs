//! Drive items: a channel's files folder walked depth first, and the download policy for a file's content
//! (extractable extension, `0 < size ≤ cap`, the cap enforced on the bytes whatever the listing said).

use futures::StreamExt;
use serde_json::Value;

use super::items::{select, DriveItem};
use super::seen::Seen;
use super::Crawl;
use crate::encode::graph_segment;
use crate::extract::EXTRACTABLE;
use crate::source::{Attachment, Download, SourceError};
use crate::sources::teams::auth::TokenKind;
use crate::sources::teams::docs;
use crate::sources::teams::graph::{fields, GraphError};

impl Crawl {
    /// Every file under a folder, depth first (a folder's content before the folder's siblings). Iterative, so a
    /// deep tree cannot grow the stack; each folder is listed once. A folder's children are handled page by page
    /// as they arrive (at most one page in memory, not the whole folder); its sub-folders wait on the stack. A
    /// failed page ends that folder's listing as an incomplete part: what earlier pages held is still sent, and
    /// the sync deletes nothing.
    pub(super) async fn files(
        &self,
        drive: &str,
        root: &str,
        team_name: &str,
        channel_name: &str,
        label: &str,
    ) {
        let mut folders = vec![root.to_string()];
        let mut visited = Seen::default();
        let part = || format!("files of channel {label}");
        while let Some(folder) = folders.pop() {
            if !visited.insert(folder.as_str()) {
                continue;
            }
            let path = format!(
                "/drives/{}/items/{}/children?$top=5000&$select={}",
                graph_segment(drive),
                graph_segment(&folder),
                select::DRIVE_ITEMS
            );
            let mut pages = std::pin::pin!(self.graph.pages(&path, TokenKind::App));
            while let Some(children) = self.next_child_page(&mut pages, true, part).await {
                for child in children {
                    let item: DriveItem = fields(&child);
                    if item.folder.is_some() {
                        if let Some(id) = item.id {
                            folders.push(id);
                        }
                    }
                    if item.file.is_some() {
                        let download = self.download_for(&child);
                        self.doc(
                            docs::channel_attachment(team_name, channel_name, &child),
                            download,
                        )
                        .await;
                    }
                }
            }
        }
    }

    /// The lazy content of a drive item: only allowed extensions and `0 < size ≤ max_download_bytes` (spec §10.7:
    /// 10 MiB by default). The engine streams it, with the cap enforced on the bytes whatever the listing said.
    pub(super) fn download_for(&self, item: &Value) -> Option<Download> {
        let DriveItem { name, size, .. } = fields(item);
        let (name, size) = (name?, size?);
        if size == 0 || size > self.max_download_bytes {
            return None;
        }
        let extension = crate::extract::extension(&name)?;
        if !EXTRACTABLE.contains(&extension.as_str()) {
            return None;
        }
        let url = docs::download_url(item)?.to_string();
        let graph = self.graph.clone();
        let progress = self.progress.clone();
        Some(Download::new(Some(size), async move {
            match graph.open_download(&url).await {
                Ok(opened) => {
                    progress.downloaded_one();
                    let context = format!("downloading {name}");
                    let body = opened
                        .body
                        .map(move |chunk| {
                            chunk.map_err(|e| SourceError::from(e).context(context.clone()))
                        })
                        .boxed();
                    Ok(Some(Attachment {
                        filename: name,
                        size: opened.size,
                        body,
                    }))
                }
                Err(GraphError::NotFound { .. }) => Ok(None),
                Err(e) => Err(SourceError::from(e).context(format!("downloading {name}"))),
            }
        }))
    }
}
