//! `_security/_authenticate` and the API key lifecycle: mint, use, list, invalidate.

mod common;

use common::{send, Es};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn authenticate_as_elastic() {
    let es = Es::start();
    let (status, body) = send(es.elastic(Method::GET, "/_security/_authenticate")).await;
    assert_eq!(status, 200);
    assert_eq!(body["username"], "elastic");
    assert_eq!(body["roles"], json!(["superuser"]));
    assert_eq!(body["enabled"], true);
    assert_eq!(body["authentication_type"], "realm");
    assert_eq!(body["authentication_realm"]["type"], "reserved");
    assert!(body.get("api_key").is_none());
}

#[tokio::test]
async fn api_key_lifecycle() {
    let es = Es::start();
    let key = es
        .standin
        .mint_api_key("lifecycle", json!({}))
        .await
        .unwrap();

    let (status, body) = send(es.with_key(&key, Method::GET, "/_security/_authenticate")).await;
    assert_eq!(status, 200);
    assert_eq!(body["authentication_type"], "api_key");
    assert_eq!(body["authentication_realm"]["name"], "_es_api_key");
    assert_eq!(body["api_key"]["id"], key.id.as_str());
    assert_eq!(body["api_key"]["name"], "lifecycle");

    // No role descriptors: the key has its creator's (superuser) privileges.
    let (status, _) = send(es.with_key(&key, Method::PUT, "/key-made-index")).await;
    assert_eq!(status, 200);

    let (status, listed) =
        send(es.elastic(Method::GET, &format!("/_security/api_key?id={}", key.id))).await;
    assert_eq!(status, 200);
    assert_eq!(listed["api_keys"][0]["name"], "lifecycle");
    assert_eq!(listed["api_keys"][0]["invalidated"], false);
    assert!(
        !listed.to_string().contains(&key.api_key),
        "listing must not leak the secret"
    );

    let (status, out) = send(
        es.elastic(Method::DELETE, "/_security/api_key")
            .json(&json!({"ids": [key.id]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(out["invalidated_api_keys"], json!([key.id]));
    assert_eq!(out["error_count"], 0);

    let (status, body) = send(es.with_key(&key, Method::GET, "/")).await;
    assert_eq!(status, 401);
    let detail = body["error"]["additional_unsuccessful_credentials"]
        .as_str()
        .unwrap();
    assert!(detail.contains("has been invalidated"), "{detail}");

    let (_, again) = send(
        es.elastic(Method::DELETE, "/_security/api_key")
            .json(&json!({"name": "lifecycle"})),
    )
    .await;
    assert_eq!(again["previously_invalidated_api_keys"], json!([key.id]));
}

#[tokio::test]
async fn create_with_put_and_expiration() {
    let es = Es::start();
    let (status, created) = send(
        es.elastic(Method::PUT, "/_security/api_key")
            .json(&json!({"name": "short", "expiration": "2h"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let expiration = created["expiration"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        (expiration - now - 7_200_000).abs() < 60_000,
        "expiration {expiration} not ~2h from {now}"
    );
    let encoded = created["encoded"].as_str().unwrap();
    let (status, _) = send(
        es.anonymous(Method::GET, "/")
            .header("Authorization", format!("ApiKey {encoded}")),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn forged_api_key_is_refused() {
    let es = Es::start();
    let key = es.standin.mint_api_key("real", json!({})).await.unwrap();
    use base64::Engine;
    let forged =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:not-the-secret", key.id));
    let (status, body) = send(
        es.anonymous(Method::GET, "/")
            .header("Authorization", format!("ApiKey {forged}")),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "security_exception");
}

#[tokio::test]
async fn an_api_key_can_only_mint_empty_derived_keys() {
    let es = Es::start();
    let key = es.standin.mint_api_key("parent", json!({})).await.unwrap();
    let (status, body) = send(
        es.with_key(&key, Method::POST, "/_security/api_key")
            .json(&json!({"name": "child"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("creating derived api keys requires"));
    let (status, _) = send(
        es.with_key(&key, Method::POST, "/_security/api_key")
            .json(&json!({"name": "child", "role_descriptors": {"none": {}}})),
    )
    .await;
    assert_eq!(status, 200);
}
