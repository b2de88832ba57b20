//! Graph endpoint behaviour: `$filter` by name, `$top` limits, 404 bodies, private channels, downloads of
//! real corpus bytes and generated files (zero-byte, > 10 MiB and wrongly listed files included), and determinism
//! of the data set.

mod graph_support;

use std::path::PathBuf;

use ftest::graph::data::DataSize;
use graph_support::{filter_name, get, pages, start};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

/// Every file item under every channel folder, via the API.
async fn channel_files(fixture: &ftest::GraphFixture, token: &str) -> Vec<Value> {
    let g = fixture.graph_url();
    let mut files = Vec::new();
    let (teams, _) = pages(&format!("{g}/teams"), token).await;
    for team in teams {
        let tid = team["id"].as_str().unwrap().to_string();
        let (channels, _) = pages(&format!("{g}/teams/{tid}/channels"), token).await;
        for ch in channels {
            let cid = filter_name(ch["id"].as_str().unwrap());
            let folder = get(
                &format!("{g}/teams/{tid}/channels/{cid}/filesFolder"),
                Some(token),
            )
            .await
            .json();
            let drive = folder["parentReference"]["driveId"]
                .as_str()
                .unwrap()
                .to_string();
            let mut stack = vec![folder["id"].as_str().unwrap().to_string()];
            while let Some(item) = stack.pop() {
                let (children, _) =
                    pages(&format!("{g}/drives/{drive}/items/{item}/children"), token).await;
                for c in children {
                    if c.get("folder").is_some() {
                        stack.push(c["id"].as_str().unwrap().to_string());
                    }
                    if c.get("file").is_some() {
                        files.push(c);
                    }
                }
            }
        }
    }
    files
}

#[tokio::test]
async fn downloads_serve_the_corpus_bytes_without_auth() {
    let fixture = start(DataSize::Small, 1);
    let token = fixture.app_token().await.unwrap();
    let files = channel_files(&fixture, &token).await;
    let corpus: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.extension()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_lowercase(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    let (mut checked, mut generated) = (0, 0);
    let (mut saw_empty, mut saw_big, mut listed_smaller, mut listed_larger) =
        (false, false, false, false);
    for f in &files {
        let url = f["@microsoft.graph.downloadUrl"].as_str().unwrap();
        let listed = f["size"].as_u64().unwrap();
        let name = f["name"].as_str().unwrap();
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let declared = response.content_length();
        let body = response.bytes().await.unwrap();
        let len = body.len() as u64;
        assert_eq!(declared, Some(len), "{name}: Content-Length is the bytes'");
        if len == 0 {
            assert_eq!(listed, 0, "{name}");
            saw_empty = true;
            continue;
        }
        let ext = name.rsplit('.').next().unwrap().to_lowercase();
        if corpus
            .iter()
            .any(|(e, bytes)| *e == ext && bytes[..] == body[..])
        {
            assert_eq!(listed, len, "{name}");
            checked += 1;
            continue;
        }
        // Generated on the fly: the bytes are the format the name says.
        let valid = match ext.as_str() {
            "pdf" => body.starts_with(b"%PDF-1.") && body.ends_with(b"%%EOF\n"),
            "docx" | "pptx" => {
                body.starts_with(b"PK\x03\x04")
                    && body[len as usize - 22..].starts_with(b"PK\x05\x06")
            }
            "txt" | "csv" | "html" => std::str::from_utf8(&body).is_ok(),
            "mp4" => true,
            _ => false,
        };
        assert!(valid, "{name}: not a generated {ext} file");
        generated += 1;
        saw_big |= len > 10 * 1024 * 1024 && listed == len;
        listed_smaller |= listed < len;
        listed_larger |= listed > len;
    }
    assert!(
        checked > 5 && generated > 3 && saw_empty && saw_big && listed_smaller && listed_larger,
        "corpus {checked}, generated {generated}, empty {saw_empty}, big {saw_big}, \
         listed smaller {listed_smaller}, listed larger {listed_larger}"
    );
    let missing = get(&format!("{}/_download/nope", fixture.url), None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "itemNotFound");
    // `/content` redirects to the download URL.
    let first = &files[0];
    let drive = first["parentReference"]["driveId"].as_str().unwrap();
    let content = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/drives/{drive}/items/{}/content",
            fixture.graph_url(),
            first["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), 302);
    assert_eq!(
        content.headers()["location"].to_str().unwrap(),
        first["@microsoft.graph.downloadUrl"].as_str().unwrap()
    );
}

#[tokio::test]
async fn filter_by_name_finds_chat_files_including_quotes() {
    let fixture = start(DataSize::Medium, 1);
    let g = fixture.graph_url();
    let token = fixture.app_token().await.unwrap();
    let (users, _) = pages(&format!("{g}/users?$top=999"), &token).await;
    let mut checked_quote = false;
    let mut checked = 0;
    for u in users.iter().filter(|u| u["mail"].is_string()) {
        let id = u["id"].as_str().unwrap();
        let drive = get(&format!("{g}/users/{id}/drive"), Some(&token))
            .await
            .json();
        let drive_id = drive["id"].as_str().unwrap();
        let (root, _) = pages(
            &format!("{g}/drives/{drive_id}/items/root/children"),
            &token,
        )
        .await;
        let folder = root
            .iter()
            .find(|i| i["name"] == "Microsoft Teams Chat Files")
            .unwrap();
        let folder_id = folder["id"].as_str().unwrap();
        let (files, _) = pages(
            &format!("{g}/drives/{drive_id}/items/{folder_id}/children"),
            &token,
        )
        .await;
        for f in files {
            let name = f["name"].as_str().unwrap();
            let url = format!(
                "{g}/drives/{drive_id}/items/{folder_id}/children?$filter=name eq '{}'",
                filter_name(name)
            );
            let (found, _) = pages(&url, &token).await;
            assert_eq!(found.len(), 1, "{name}");
            assert_eq!(found[0]["id"], f["id"]);
            checked_quote |= name.contains('\'');
            checked += 1;
        }
        let none = format!(
            "{g}/drives/{drive_id}/items/{folder_id}/children?$filter=name eq 'nothing.docx'"
        );
        assert!(pages(&none, &token).await.0.is_empty());
    }
    assert!(
        checked > 20 && checked_quote,
        "checked {checked}, quote {checked_quote}"
    );
    let bad = get(
        &format!("{g}/users?$filter=startswith(displayName,'A')"),
        Some(&token),
    )
    .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn limits_not_found_bodies_and_private_channels() {
    let fixture = start(DataSize::Small, 1);
    let g = fixture.graph_url();
    let app = fixture.app_token().await.unwrap();
    let delegated = fixture.delegated_token().await.unwrap();
    let (chats, _) = pages(&format!("{g}/chats"), &delegated).await;
    let chat = filter_name(chats[0]["id"].as_str().unwrap());
    let too_big = get(
        &format!("{g}/chats/{chat}/messages?$top=51"),
        Some(&delegated),
    )
    .await;
    assert_eq!(too_big.status, 400);
    assert_eq!(
        get(
            &format!("{g}/chats/{chat}/messages?$top=50"),
            Some(&delegated)
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(&format!("{g}/users?$top=1000"), Some(&app))
            .await
            .status,
        400
    );
    assert_eq!(
        get(&format!("{g}/users?$skiptoken=bogus"), Some(&app))
            .await
            .status,
        400
    );

    let missing = get(&format!("{g}/chats/19:nope@thread.v2/messages"), Some(&app)).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "NotFound");
    let missing = get(
        &format!("{g}/teams/00000000-0000-0000-0000-000000000000/channels"),
        Some(&app),
    )
    .await;
    assert_eq!(missing.status, 404);
    let missing = get(
        &format!("{g}/drives/b!nope/items/01NOPE/children"),
        Some(&app),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "itemNotFound");
    let unknown_route = get(&format!("{g}/nothing/here"), Some(&app)).await;
    assert_eq!(unknown_route.status, 400);

    // Private channels the signed-in user is not in: invisible to a delegated token, visible to the app.
    let (teams, _) = pages(&format!("{g}/teams"), &app).await;
    let mut hidden = 0;
    for team in teams {
        let tid = team["id"].as_str().unwrap();
        let (as_app, _) = pages(&format!("{g}/teams/{tid}/channels"), &app).await;
        let (as_user, _) = pages(&format!("{g}/teams/{tid}/channels"), &delegated).await;
        for ch in &as_app {
            if !as_user.iter().any(|c| c["id"] == ch["id"]) {
                assert_eq!(ch["membershipType"], "private");
                let cid = filter_name(ch["id"].as_str().unwrap());
                let denied = get(
                    &format!("{g}/teams/{tid}/channels/{cid}/messages"),
                    Some(&delegated),
                )
                .await;
                assert_eq!(denied.status, 403);
                hidden += 1;
            }
        }
    }
    assert!(hidden > 0);
    // Users without a mailbox have no OneDrive.
    let (users, _) = pages(&format!("{g}/users"), &app).await;
    let unlicensed = users.iter().find(|u| u["mail"].is_null()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let drive = get(&format!("{g}/users/{unlicensed}/drive"), Some(&app)).await;
    assert_eq!(drive.status, 404);
    let events = get(&format!("{g}/users/{unlicensed}/events"), Some(&app)).await;
    assert_eq!(
        events.json()["error"]["code"],
        "MailboxNotEnabledForRESTAPI"
    );
}

#[tokio::test]
async fn same_seed_same_data() {
    let a = start(DataSize::Small, 42);
    let b = start(DataSize::Small, 42);
    let c = start(DataSize::Small, 43);
    assert_eq!(a.expected().await.unwrap(), b.expected().await.unwrap());
    assert_ne!(
        a.expected().await.unwrap()["ids"],
        c.expected().await.unwrap()["ids"]
    );
    assert_eq!(teams_body(&a).await, teams_body(&b).await);
}

async fn teams_body(f: &ftest::GraphFixture) -> Value {
    let token = f.app_token().await.unwrap();
    let mut v = get(&format!("{}/teams", f.graph_url()), Some(&token))
        .await
        .json();
    // The context names the fixture's own address, which differs.
    v.as_object_mut().unwrap().remove("@odata.context");
    v
}
