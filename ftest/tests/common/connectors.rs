//! Helpers for the Connector API tests: requests as `elastic`, and assertions on Elasticsearch error bodies
//! and timestamps.

use reqwest::Method;
use serde_json::{json, Value};

use super::{send, Es};

pub async fn put_connector(es: &Es, id: &str, body: Value) -> Value {
    let (status, out) = send(
        es.elastic(Method::PUT, &format!("/_connector/{id}"))
            .json(&body),
    )
    .await;
    assert_eq!(status, 201, "{out}");
    out
}

pub async fn get_connector(es: &Es, id: &str) -> Value {
    let (status, out) = send(es.elastic(Method::GET, &format!("/_connector/{id}"))).await;
    assert_eq!(status, 200, "{out}");
    out
}

pub async fn put(es: &Es, path: &str, body: Value) -> (u16, Value) {
    send(es.elastic(Method::PUT, path).json(&body)).await
}

/// A connector that can sync: index, service type, language.
pub async fn syncable(es: &Es, id: &str, index: &str) {
    put_connector(
        es,
        id,
        json!({"index_name": index, "service_type": "microsoft_teams", "language": "en", "name": id}),
    )
    .await;
}

pub async fn create_job(es: &Es, body: Value) -> String {
    let (status, out) = send(
        es.elastic(Method::POST, "/_connector/_sync_job")
            .json(&body),
    )
    .await;
    assert_eq!(status, 201, "{out}");
    out["id"].as_str().unwrap_or_default().to_string()
}

pub async fn get_job(es: &Es, id: &str) -> Value {
    let (status, out) = send(es.elastic(Method::GET, &format!("/_connector/_sync_job/{id}"))).await;
    assert_eq!(status, 200, "{out}");
    out
}

/// Asserts an ES error body: status, `error.type`, `root_cause[0]` and the reason.
pub fn assert_es_error(status: u16, body: &Value, want_status: u16, kind: &str, reason: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["status"], want_status, "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert_eq!(body["error"]["root_cause"][0]["type"], kind, "{body}");
    assert_eq!(body["error"]["reason"], reason, "{body}");
}

pub fn is_es_timestamp(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 24
            && s.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(s).is_ok()
            && s.as_bytes()[19] == b'.'
    })
}
