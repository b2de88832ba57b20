//! A connector-like crawl of the fixture (every listing followed page by page, the connector's document
//! rules applied to the JSON) finds exactly the documents `/_fixture/expected` announces, in both modes,
//! before and after a mutation.

mod graph_support;

use ftest::graph::data::DataSize;
use graph_support::{crawl, expected_ids, start, Mode};
use serde_json::json;

#[tokio::test]
async fn delegated_crawl_finds_exactly_the_expected_documents() {
    let fixture = start(DataSize::Small, 1);
    let expected = fixture.expected().await.unwrap();
    let total = expected["total"].as_u64().unwrap();
    assert!(
        (150..=300).contains(&total),
        "small holds {total} documents"
    );
    let crawl = crawl(&fixture, Mode::Delegated).await;
    assert_eq!(crawl.docs, expected_ids(&expected));
    // Small pages everywhere: far more pages than listings.
    assert!(crawl.pages > 100, "only {} pages", crawl.pages);
    for kind in [
        "User Chat Messages",
        "User Chat Tabs",
        "User Chat Attachment",
        "User Chat Meeting Recording",
        "User Meeting",
        "Teams",
        "Team Channel",
        "Channel Tab",
        "Channel Message",
        "Channel Meeting",
        "Channel Attachment",
    ] {
        assert!(
            expected["by_type"][kind].as_u64().unwrap_or(0) > 0,
            "no {kind} in small"
        );
    }
}

#[tokio::test]
async fn app_crawl_sees_every_users_chats_and_every_channel() {
    let fixture = start(DataSize::Small, 1);
    let delegated = fixture.expected().await.unwrap();
    let app = fixture.expected_app().await.unwrap();
    assert!(app["total"].as_u64() > delegated["total"].as_u64());
    let crawl = crawl(&fixture, Mode::App).await;
    assert_eq!(crawl.docs, expected_ids(&app));
}

#[tokio::test]
async fn crawl_after_a_mutation_matches_the_new_expectation() {
    let fixture = start(DataSize::Small, 3);
    fixture
        .mutate(json!({
            "add_chat_messages": 5, "edit_chat_messages": 3, "delete_chat_messages": 2,
            "add_channel_messages": 5, "delete_channel_messages": 2, "add_files": 3, "delete_files": 2,
            "add_channels": 1, "delete_channels": 1, "cancel_events": 1
        }))
        .await
        .unwrap();
    let expected = fixture.expected().await.unwrap();
    let crawl = crawl(&fixture, Mode::Delegated).await;
    assert_eq!(crawl.docs, expected_ids(&expected));
}
