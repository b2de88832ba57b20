//! Graph's error responses: `{"error": {"code", "message", "innerError": {...}}}` with the status, plus
//! `Retry-After` for throttling. Request ids come from a process-wide counter (not the data seed: they
//! are per request, as Graph's are).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::rng::mix;

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh GUID-shaped request id.
pub fn request_id() -> String {
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = std::process::id() as u64;
    let a = mix(n ^ (seed << 32));
    let b = mix(a ^ n);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` for 401s.
    pub authenticate: bool,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
            authenticate: false,
        }
    }

    /// 404 as Teams and directory APIs say it.
    pub fn not_found(what: &str) -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("Resource not found for the segment '{what}'."),
        )
    }

    /// 404 as OneDrive says it.
    pub fn item_not_found() -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            "The resource could not be found.",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn unauthorized(message: &str) -> GraphError {
        let mut e = GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        );
        e.authenticate = true;
        e
    }

    pub fn forbidden(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn throttled(retry_after: u64, message: &str) -> GraphError {
        let mut e = GraphError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message);
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// An injected failure with `status`, using Graph's code for it.
    pub fn injected(status: StatusCode, retry_after: Option<u64>) -> GraphError {
        let (code, message) = match status.as_u16() {
            429 => ("TooManyRequests", "Too many requests"),
            500 => ("InternalServerError", "Internal server error."),
            502 => ("BadGateway", "Bad gateway."),
            503 => (
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            ),
            504 => ("GatewayTimeout", "Gateway timeout."),
            400 => ("BadRequest", "Bad request."),
            403 => ("Forbidden", "Forbidden."),
            404 => ("NotFound", "Not found."),
            _ => ("generalException", "An error occurred."),
        };
        let mut e = GraphError::new(status, code, message);
        if matches!(status.as_u16(), 429 | 503) {
            e.retry_after = retry_after;
        }
        e
    }

    pub fn body(&self) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": request_id(),
                    "client-request-id": request_id(),
                }
            }
        })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        if self.authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                ),
            );
        }
        response
    }
}
