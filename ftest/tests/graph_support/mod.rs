//! Shared by the Graph fixture's integration tests: start a fixture built by this `cargo test`, make
//! authenticated requests, and a miniature connector crawl that applies the connector's document rules to
//! what the HTTP API returns (an independent check of `/_fixture/expected` and of paging).
#![allow(dead_code)] // each test file uses a different subset

use std::collections::{BTreeMap, BTreeSet};

use ftest::graph::data::DataSize;
use ftest::{GraphFixture, GraphOptions};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub fn start(size: DataSize, seed: u64) -> GraphFixture {
    start_with(GraphOptions {
        data_size: size,
        seed,
        ..GraphOptions::default()
    })
}

pub fn start_with(mut options: GraphOptions) -> GraphFixture {
    options.binary = Some(env!("CARGO_BIN_EXE_graph-fixture").into());
    GraphFixture::start(options).expect("graph fixture starts")
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// GET with an optional bearer token.
pub async fn get(url: &str, token: Option<&str>) -> Reply {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body read");
    Reply {
        status,
        headers,
        text,
    }
}

/// Every item of a listing, following `@odata.nextLink`; also returns how many pages there were.
pub async fn pages(url: &str, token: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut next = Some(url.to_string());
    let mut count = 0;
    while let Some(url) = next {
        let reply = get(&url, Some(token)).await;
        assert_eq!(reply.status, 200, "GET {url}: {}", reply.text);
        let body = reply.json();
        items.extend(body["value"].as_array().cloned().unwrap_or_default());
        next = body["@odata.nextLink"].as_str().map(str::to_string);
        count += 1;
        assert!(count < 10_000, "paging does not end at {url}");
    }
    (items, count)
}

/// The connector's `html_to_text(body)` is non-empty.
pub fn has_text(html: &str) -> bool {
    let tags = regex::Regex::new(r"(?s)<!--.*?-->|<[^>]*>").expect("regex");
    let text = tags.replace_all(html, "");
    let text = text
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    !text.trim().is_empty()
}

fn message_doc(m: &Value) -> bool {
    m["deletedDateTime"].is_null()
        && !m["messageType"]
            .as_str()
            .unwrap_or_default()
            .contains("unknownFutureValue")
        && has_text(m["body"]["content"].as_str().unwrap_or_default())
}

/// `{name}` for `$filter=name eq '{name}'`: percent-encoded except unreserved characters and `'`, then
/// each `'` doubled (spec §10.3).
pub fn filter_name(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~'".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.replace('\'', "''")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Delegated,
    App,
}

/// Documents by type, and how many listing pages the crawl read.
pub struct Crawl {
    pub docs: BTreeMap<String, BTreeSet<String>>,
    pub pages: usize,
}

impl Crawl {
    fn add(&mut self, kind: &str, id: &str) {
        self.docs
            .entry(kind.to_string())
            .or_default()
            .insert(id.to_string());
    }
}

/// Crawls like the connector does (spec §10.5), with small pages to exercise paging.
pub async fn crawl(fixture: &GraphFixture, mode: Mode) -> Crawl {
    let g = fixture.graph_url();
    let app = fixture.app_token().await.expect("app token");
    let delegated = match mode {
        Mode::Delegated => fixture.delegated_token().await.expect("delegated token"),
        Mode::App => app.clone(),
    };
    let mut c = Crawl {
        docs: BTreeMap::new(),
        pages: 0,
    };
    // Users (and their calendars).
    let (users, n) = pages(&format!("{g}/users?$top=3"), &delegated).await;
    c.pages += n;
    for u in &users {
        if u["mail"].as_str().is_some_and(|m| !m.is_empty()) {
            let id = u["id"].as_str().unwrap_or_default();
            let (events, n) = pages(&format!("{g}/users/{id}/events?$top=4"), &app).await;
            c.pages += n;
            for e in events
                .iter()
                .filter(|e| e["isCancelled"] != Value::Bool(true))
            {
                c.add("User Meeting", e["id"].as_str().unwrap_or_default());
            }
        }
    }
    // Chats.
    let mut chats: BTreeMap<String, Value> = BTreeMap::new();
    match mode {
        Mode::Delegated => {
            let (list, n) = pages(&format!("{g}/chats?$expand=members&$top=2"), &delegated).await;
            c.pages += n;
            chats.extend(
                list.into_iter()
                    .map(|ch| (ch["id"].as_str().unwrap_or_default().to_string(), ch)),
            );
        }
        Mode::App => {
            for u in &users {
                let id = u["id"].as_str().unwrap_or_default();
                let (list, n) = pages(
                    &format!("{g}/users/{id}/chats?$expand=members&$top=2"),
                    &app,
                )
                .await;
                c.pages += n;
                chats.extend(
                    list.into_iter()
                        .map(|ch| (ch["id"].as_str().unwrap_or_default().to_string(), ch)),
                );
            }
        }
    }
    for (id, chat) in &chats {
        assert!(chat["members"].is_array(), "members expanded: {chat}");
        let chat_path = filter_name(id);
        let (messages, n) = pages(
            &format!("{g}/chats/{chat_path}/messages?$top=3"),
            &delegated,
        )
        .await;
        c.pages += n;
        for m in &messages {
            if message_doc(m) {
                c.add("User Chat Messages", m["id"].as_str().unwrap_or_default());
            }
            let ev = &m["eventDetail"];
            if ev["@odata.type"] == "#microsoft.graph.callRecordingEventMessageDetail"
                && ev["callRecordingUrl"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(".sharepoint.com")
            {
                c.add(
                    "User Chat Meeting Recording",
                    ev["callId"].as_str().unwrap_or_default(),
                );
            }
            let Some(sender) = m["from"]["user"]["id"].as_str() else {
                continue;
            };
            for a in m["attachments"].as_array().cloned().unwrap_or_default() {
                let name = a["name"].as_str().unwrap_or_default();
                if name.is_empty() || a["contentType"] != "reference" {
                    continue;
                }
                let drive = get(&format!("{g}/users/{sender}/drive"), Some(&app)).await;
                assert_eq!(drive.status, 200, "{}", drive.text);
                let drive_id = drive.json()["id"].as_str().unwrap_or_default().to_string();
                let (root, n) =
                    pages(&format!("{g}/drives/{drive_id}/items/root/children"), &app).await;
                c.pages += n;
                let Some(folder) = root.iter().find(|i| {
                    i["name"].as_str().unwrap_or_default().to_lowercase()
                        == "microsoft teams chat files"
                }) else {
                    continue;
                };
                let folder_id = folder["id"].as_str().unwrap_or_default();
                let url = format!(
                    "{g}/drives/{drive_id}/items/{folder_id}/children?$filter=name eq '{}'",
                    filter_name(name)
                );
                let (found, n) = pages(&url, &app).await;
                c.pages += n;
                for f in found {
                    c.add("User Chat Attachment", f["id"].as_str().unwrap_or_default());
                }
            }
        }
        let tabs = get(&format!("{g}/chats/{chat_path}/tabs"), Some(&delegated)).await;
        assert_eq!(tabs.status, 200, "{}", tabs.text);
        for t in tabs.json()["value"].as_array().cloned().unwrap_or_default() {
            c.add("User Chat Tabs", t["id"].as_str().unwrap_or_default());
        }
    }
    // Teams.
    let (teams, n) = pages(&format!("{g}/teams?$top=1"), &delegated).await;
    c.pages += n;
    for team in &teams {
        let tid = team["id"].as_str().unwrap_or_default();
        c.add("Teams", tid);
        let (channels, n) = pages(&format!("{g}/teams/{tid}/channels"), &delegated).await;
        c.pages += n;
        for ch in &channels {
            let cid = ch["id"].as_str().unwrap_or_default();
            c.add("Team Channel", cid);
            let cpath = filter_name(cid);
            let (tabs, n) = pages(
                &format!("{g}/teams/{tid}/channels/{cpath}/tabs"),
                &delegated,
            )
            .await;
            c.pages += n;
            for t in tabs {
                c.add("Channel Tab", t["id"].as_str().unwrap_or_default());
            }
            let url = format!("{g}/teams/{tid}/channels/{cpath}/messages?$expand=replies&$top=2");
            let (posts, n) = pages(&url, &delegated).await;
            c.pages += n;
            let mut calls = BTreeSet::new();
            for post in &posts {
                let replies = post["replies"].as_array().cloned().unwrap_or_default();
                for m in std::iter::once(post).chain(replies.iter()) {
                    if message_doc(m) {
                        c.add("Channel Message", m["id"].as_str().unwrap_or_default());
                    } else if let Some(call) = m["eventDetail"]["callId"].as_str() {
                        calls.insert(call.to_string());
                    }
                }
            }
            for call in calls {
                c.add("Channel Meeting", &call);
            }
            let folder = get(
                &format!("{g}/teams/{tid}/channels/{cpath}/filesFolder"),
                Some(&delegated),
            )
            .await;
            assert_eq!(folder.status, 200, "{}", folder.text);
            let folder = folder.json();
            let drive = folder["parentReference"]["driveId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut stack = vec![folder["id"].as_str().unwrap_or_default().to_string()];
            while let Some(item) = stack.pop() {
                let (children, n) = pages(
                    &format!("{g}/drives/{drive}/items/{item}/children?$top=2"),
                    &app,
                )
                .await;
                c.pages += n;
                for child in children {
                    if child.get("folder").is_some() {
                        stack.push(child["id"].as_str().unwrap_or_default().to_string());
                    }
                    if child.get("file").is_some() {
                        c.add(
                            "Channel Attachment",
                            child["id"].as_str().unwrap_or_default(),
                        );
                    }
                }
            }
        }
    }
    c
}

/// `expected["ids"]` as sets by type (types without documents omitted).
pub fn expected_ids(expected: &Value) -> BTreeMap<String, BTreeSet<String>> {
    expected["ids"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let ids: BTreeSet<String> = v
                        .as_array()?
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect();
                    (!ids.is_empty()).then(|| (k.clone(), ids))
                })
                .collect()
        })
        .unwrap_or_default()
}
