//! Injected faults: error rate, throttling with `Retry-After`, failing and forbidden paths, truncated
//! JSON, slowness, and the request counters that record them.

mod graph_support;

use ftest::graph::data::DataSize;
use graph_support::{get, start};
use serde_json::json;

#[tokio::test]
async fn error_rate_one_fails_every_graph_request_with_503() {
    let fixture = start(DataSize::Small, 1);
    let token = fixture.app_token().await.unwrap();
    fixture
        .set_faults(json!({"error_rate": 1.0, "error_status": 503, "retry_after_secs": 2}))
        .await
        .unwrap();
    fixture.reset_counters().await.unwrap();
    for path in ["/users", "/teams", "/users?$top=5"] {
        let reply = get(&format!("{}{path}", fixture.graph_url()), Some(&token)).await;
        assert_eq!(reply.status, 503, "{path}");
        assert_eq!(reply.headers["retry-after"], "2");
        assert_eq!(reply.json()["error"]["code"], "ServiceUnavailable");
    }
    let counts = fixture.requests().await.unwrap();
    assert_eq!(counts["faults"], 3, "{counts}");
    assert_eq!(counts["users"], 2, "{counts}");
    assert_eq!(counts["teams"], 1, "{counts}");
    // Control endpoints and the token endpoint are never faulted.
    assert!(fixture.app_token().await.is_ok());
    fixture.clear_faults().await.unwrap();
    assert_eq!(
        get(&format!("{}/users", fixture.graph_url()), Some(&token))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn random_faults_are_deterministic_per_url_and_seed() {
    let outcomes = || async {
        let fixture = start(DataSize::Small, 1);
        let token = fixture.app_token().await.unwrap();
        fixture
            .set_faults(json!({"error_rate": 0.5, "seed": 11}))
            .await
            .unwrap();
        let mut statuses = Vec::new();
        for _ in 0..16 {
            statuses.push(
                get(&format!("{}/teams", fixture.graph_url()), Some(&token))
                    .await
                    .status,
            );
        }
        statuses
    };
    let a = outcomes().await;
    assert_eq!(a, outcomes().await);
    assert!(a.contains(&200) && a.contains(&503), "{a:?}");
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let fixture = start(DataSize::Small, 1);
    let token = fixture.app_token().await.unwrap();
    let faults = fixture
        .set_faults(json!({"throttle": true, "throttle_limits": {"directory": {"requests": 3, "window_secs": 30}}}))
        .await
        .unwrap();
    assert_eq!(faults["throttle"], true);
    let url = format!("{}/users/{}", fixture.graph_url(), "adele@fixture.test");
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let reply = get(&url, Some(&token)).await;
        statuses.push(reply.status);
        if reply.status == 429 {
            assert_eq!(reply.json()["error"]["code"], "TooManyRequests");
            retry_after = reply
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    let secs: u64 = retry_after.unwrap().parse().unwrap();
    assert!((1..=10).contains(&secs), "{secs}");
    // Other limits are independent: teams still answer.
    assert_eq!(
        get(&format!("{}/teams", fixture.graph_url()), Some(&token))
            .await
            .status,
        200
    );
    let counts = fixture.requests().await.unwrap();
    assert_eq!(counts["throttled"], 2, "{counts}");

    // A tiny scale makes the documented budgets bite quickly: chat messages (20 rps) scaled to 1.
    fixture
        .set_faults(json!({"throttle": true, "throttle_scale": 0.05}))
        .await
        .unwrap();
    let delegated = fixture.delegated_token().await.unwrap();
    let chats = get(&format!("{}/chats", fixture.graph_url()), Some(&delegated))
        .await
        .json();
    let chat = graph_support::filter_name(chats["value"][0]["id"].as_str().unwrap());
    let url = format!("{}/chats/{chat}/messages", fixture.graph_url());
    let first = get(&url, Some(&delegated)).await.status;
    let second = get(&url, Some(&delegated)).await;
    assert_eq!((first, second.status), (200, 429));
    assert!(second.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("chat_messages"));
    // Unknown limit names are refused.
    assert!(fixture
        .set_faults(json!({"throttle": true, "throttle_limits": {"nope": {"requests": 1, "window_secs": 1}}}))
        .await
        .is_err());
}

#[tokio::test]
async fn failing_forbidden_truncated_and_slow_paths() {
    let fixture = start(DataSize::Small, 1);
    let token = fixture.app_token().await.unwrap();
    let g = fixture.graph_url();
    fixture
        .set_faults(json!({
            "fail_paths": ["/channels/.*/messages"],
            "forbidden_paths": ["/events"],
        }))
        .await
        .unwrap();
    let teams = get(&format!("{g}/teams"), Some(&token)).await.json();
    let team = teams["value"][0]["id"].as_str().unwrap().to_string();
    let channels = get(&format!("{g}/teams/{team}/channels"), Some(&token))
        .await
        .json();
    let channel = graph_support::filter_name(channels["value"][0]["id"].as_str().unwrap());
    for _ in 0..3 {
        let reply = get(
            &format!("{g}/teams/{team}/channels/{channel}/messages"),
            Some(&token),
        )
        .await;
        assert_eq!(reply.status, 500);
    }
    assert_eq!(
        get(
            &format!("{g}/teams/{team}/channels/{channel}/tabs"),
            Some(&token)
        )
        .await
        .status,
        200
    );
    let forbidden = get(
        &format!("{g}/users/adele@fixture.test/events"),
        Some(&token),
    )
    .await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["error"]["code"], "Forbidden");
    assert!(forbidden.json()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Missing scope permissions on the request."));

    fixture
        .set_faults(json!({"truncate_rate": 1.0, "slow_rate": 1.0, "slow_ms": 50}))
        .await
        .unwrap();
    fixture.reset_counters().await.unwrap();
    let truncated = get(&format!("{g}/teams"), Some(&token)).await;
    assert_eq!(truncated.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&truncated.text).is_err());
    assert!(truncated.text.starts_with("{\"@odata.context\""));
    let counts = fixture.requests().await.unwrap();
    assert_eq!(
        (counts["slowed"].as_u64(), counts["faults"].as_u64()),
        (Some(1), Some(1)),
        "{counts}"
    );
    let current = reqwest::get(format!("{}/_fixture/faults", fixture.url))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(current["truncate_rate"], 1.0);
    assert!(fixture
        .set_faults(json!({"error_rate": 1.5}))
        .await
        .is_err());
    assert!(fixture
        .set_faults(json!({"fail_paths": ["("]}))
        .await
        .is_err());
    assert!(fixture
        .set_faults(json!({"unknown_knob": 1}))
        .await
        .is_err());
}
