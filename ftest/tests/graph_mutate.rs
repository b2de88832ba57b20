//! `/_fixture/mutate`: the changes show in the API the way Graph shows them, the expected documents move
//! by exactly the reported ids, and the same mutations on the same seed give the same result.

mod graph_support;

use std::collections::BTreeSet;

use ftest::graph::data::DataSize;
use graph_support::{expected_ids, filter_name, get, pages, start};
use serde_json::{json, Value};

fn ids(v: &Value, kind: &str) -> BTreeSet<String> {
    v[kind]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn all_mutations() -> Value {
    json!({
        "add_chat_messages": 5, "edit_chat_messages": 3, "delete_chat_messages": 2,
        "add_channel_messages": 5, "delete_channel_messages": 2, "add_files": 3, "delete_files": 2,
        "add_channels": 1, "delete_channels": 1, "cancel_events": 1
    })
}

#[tokio::test]
async fn expected_documents_move_by_the_reported_ids() {
    let fixture = start(DataSize::Small, 1);
    let before = fixture.expected().await.unwrap();
    let result = fixture.mutate(all_mutations()).await.unwrap();
    let after = fixture.expected().await.unwrap();
    assert_eq!(result["applied"]["delete_chat_messages"], 2);
    assert_eq!(result["expected_total"], after["total"]);
    let before_ids = expected_ids(&before);
    let after_ids = expected_ids(&after);
    let kinds: BTreeSet<&String> = before_ids.keys().chain(after_ids.keys()).collect();
    for kind in kinds {
        let old = before_ids.get(kind).cloned().unwrap_or_default();
        let new = after_ids.get(kind).cloned().unwrap_or_default();
        let added = ids(&result["added_ids"], kind);
        let deleted = ids(&result["deleted_ids"], kind);
        let changed = ids(&result["changed_ids"], kind);
        let rebuilt: BTreeSet<String> = old
            .difference(&deleted)
            .cloned()
            .chain(added.iter().cloned())
            .collect();
        assert_eq!(rebuilt, new, "{kind}");
        assert!(added.is_subset(&changed), "{kind}");
    }
    let count = |v: &Value, k: &str| v["by_type"][k].as_i64().unwrap_or(0);
    assert_eq!(
        count(&after, "User Chat Messages") - count(&before, "User Chat Messages"),
        5 - 2
    );
    assert_eq!(
        count(&before, "User Meeting") - count(&after, "User Meeting"),
        1
    );
    assert_eq!(
        ids(&result["changed_ids"], "User Chat Messages").len(),
        5 + 3
    );
    assert_eq!(ids(&result["deleted_ids"], "Team Channel").len(), 1);
    assert_eq!(ids(&result["added_ids"], "Team Channel").len(), 1);

    // Deleted chat messages stay listed, soft-deleted, as in Graph.
    let token = fixture.delegated_token().await.unwrap();
    let deleted = ids(&result["deleted_ids"], "User Chat Messages");
    let (chats, _) = pages(&format!("{}/chats", fixture.graph_url()), &token).await;
    let mut seen = 0;
    for chat in chats {
        let id = filter_name(chat["id"].as_str().unwrap());
        let (messages, _) = pages(
            &format!("{}/chats/{id}/messages?$top=50", fixture.graph_url()),
            &token,
        )
        .await;
        for m in messages
            .iter()
            .filter(|m| deleted.contains(m["id"].as_str().unwrap()))
        {
            assert!(m["deletedDateTime"].is_string(), "{m}");
            assert_eq!(m["body"]["content"], "");
            seen += 1;
        }
    }
    assert_eq!(seen, 2);
    // A deleted channel is gone: 404.
    let gone = ids(&result["deleted_ids"], "Team Channel");
    let gone = gone.iter().next().unwrap();
    let app = fixture.app_token().await.unwrap();
    let (teams, _) = pages(&format!("{}/teams", fixture.graph_url()), &app).await;
    for team in teams {
        let url = format!(
            "{}/teams/{}/channels/{}",
            fixture.graph_url(),
            team["id"].as_str().unwrap(),
            filter_name(gone)
        );
        assert_eq!(get(&url, Some(&app)).await.status, 404);
    }
}

#[tokio::test]
async fn edits_bump_last_modified_and_mutations_are_deterministic() {
    let a = start(DataSize::Small, 9);
    let b = start(DataSize::Small, 9);
    let ra = a.mutate(json!({"edit_chat_messages": 2})).await.unwrap();
    let rb = b.mutate(json!({"edit_chat_messages": 2})).await.unwrap();
    assert_eq!(ra, rb);
    let ra2 = a.mutate(all_mutations()).await.unwrap();
    let rb2 = b.mutate(all_mutations()).await.unwrap();
    assert_eq!(ra2, rb2);
    assert_eq!(a.expected().await.unwrap(), b.expected().await.unwrap());

    let edited = ids(&ra["changed_ids"], "User Chat Messages");
    assert_eq!(edited.len(), 2);
    let token = a.delegated_token().await.unwrap();
    let (chats, _) = pages(&format!("{}/chats", a.graph_url()), &token).await;
    let mut seen = 0;
    for chat in chats {
        let id = filter_name(chat["id"].as_str().unwrap());
        let (messages, _) = pages(&format!("{}/chats/{id}/messages", a.graph_url()), &token).await;
        for m in messages
            .iter()
            .filter(|m| edited.contains(m["id"].as_str().unwrap()))
        {
            assert!(
                m["lastModifiedDateTime"]
                    .as_str()
                    .unwrap()
                    .starts_with("2025-"),
                "{m}"
            );
            assert_eq!(m["lastEditedDateTime"], m["lastModifiedDateTime"]);
            seen += 1;
        }
    }
    assert_eq!(seen, 2);
    assert!(a.mutate(json!({"explode": 1})).await.is_err());
}
