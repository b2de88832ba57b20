//! Failed requests in words: Graph's error message, a transport failure without its URL (a download URL's query
//! is a credential), and a rejected TLS certificate told apart from other connection failures.

use serde::Deserialize;
use serde_json::Value;

use super::answer::{fields, lenient_fields, lenient_str};

/// How much of an error answer is read: Graph's error objects are small, a proxy's error page need not be.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Up to `max_bytes` of a body (the rest is left unread); whatever arrived when the transfer fails.
async fn read_prefix(mut response: reqwest::Response, max_bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = max_bytes - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= max_bytes {
            break;
        }
    }
    out
}

/// Graph's error answer: `{"error": {"code": ..., "message": ...}}`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ErrorAnswer {
    #[serde(deserialize_with = "lenient_fields")]
    error: ErrorDetail,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ErrorDetail {
    #[serde(deserialize_with = "lenient_str")]
    message: Option<String>,
}

/// Graph's `error.message` (or a short body prefix) for failure reports.
pub(super) async fn error_message(response: reqwest::Response) -> String {
    let body = read_prefix(response, MAX_ERROR_BODY_BYTES).await;
    serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| fields::<ErrorAnswer>(&v).error.message)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

/// A transport failure in words, without the URL (a download URL's query is a credential). Also used for the
/// token endpoint.
pub(in crate::sources::teams) fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if let Some(detail) = certificate_failure(e) {
        format!(
            "TLS failure: {detail} (behind a proxy that inspects TLS, its CA certificate belongs in the \
             operating system's certificate store or in graph.ca_certs)"
        )
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off".into()
    } else {
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "<url>");
        }
        text
    }
}

/// What the TLS handshake said when it rejected the server's certificate (the innermost error, e.g. `invalid
/// peer certificate: UnknownIssuer`). That is what a TLS-inspecting proxy causes, so it is named rather than
/// reported as a bare connection failure.
fn certificate_failure(e: &reqwest::Error) -> Option<String> {
    let mut messages = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = source {
        messages.push(inner.to_string());
        source = inner.source();
    }
    messages
        .iter()
        .any(|m| m.to_lowercase().contains("certificate"))
        .then(|| messages.pop().unwrap_or_default())
}

/// A rejected certificate stays rejected until someone changes the trust settings: retrying cannot help.
pub(in crate::sources::teams) fn is_certificate_failure(e: &reqwest::Error) -> bool {
    certificate_failure(e).is_some()
}
