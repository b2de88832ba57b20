//! `EsError`: every way an Elasticsearch call fails, classified so callers can tell an unreachable cluster from a
//! TLS problem, bad credentials or a missing privilege, and know what is worth retrying.

use std::error::Error as _;

#[derive(Debug, thiserror::Error)]
pub enum EsError {
    #[error("connection refused by {host} (is Elasticsearch running and listening there?)")]
    ConnectionRefused { host: String },
    #[error("TLS failure talking to {host}: {detail} (check the URL scheme, elasticsearch.ca_certs, the operating system's certificate store and elasticsearch.verify_certs)")]
    Tls { host: String, detail: String },
    #[error("request to {host} timed out")]
    Timeout { host: String },
    #[error("cannot reach {host}: {detail}")]
    Connect { host: String, detail: String },
    #[error("authentication failed (HTTP 401): {reason} (check elasticsearch.username/password or elasticsearch.api_key)")]
    Unauthorized { reason: String },
    #[error("missing privilege (HTTP 403): {reason}")]
    Forbidden { reason: String },
    #[error("HTTP {status} from Elasticsearch: {reason}")]
    Http { status: u16, reason: String },
    #[error("unexpected response from Elasticsearch: {0}")]
    Decode(String),
    /// A reply over the size the service reads (not retried: the same request gets the same reply).
    #[error("reply from Elasticsearch is larger than {limit} bytes ({size} bytes); refused")]
    ReplyTooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    Setup(String),
}

impl EsError {
    /// Whether trying again can succeed: the cluster is starting, overloaded or briefly unreachable.
    pub fn is_retryable(&self) -> bool {
        match self {
            EsError::ConnectionRefused { .. }
            | EsError::Timeout { .. }
            | EsError::Connect { .. } => true,
            EsError::Http { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }

    /// A version conflict (HTTP 409): an optimistic-concurrency update lost a race.
    pub fn is_conflict(&self) -> bool {
        matches!(self, EsError::Http { status: 409, .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, EsError::Http { status: 404, .. })
    }

    /// Classifies a transport-level failure (no HTTP response) from the client library.
    pub(crate) fn from_transport(err: &elasticsearch::Error, host: &str) -> EsError {
        let host = host.to_string();
        let mut messages = Vec::new();
        let mut refused = false;
        let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            messages.push(e.to_string());
            source = e.source();
        }
        // The outermost messages repeat the URL; the innermost says what went wrong.
        let detail = messages.last().cloned().unwrap_or_else(|| err.to_string());
        let all = messages.join(" | ").to_lowercase();
        if refused {
            EsError::ConnectionRefused { host }
        } else if [
            "certificate",
            "tls",
            "ssl",
            "handshake",
            "invalidcontenttype",
            "corrupt message",
        ]
        .iter()
        .any(|w| all.contains(w))
        {
            EsError::Tls { host, detail }
        } else if err.is_timeout() || all.contains("timed out") {
            EsError::Timeout { host }
        } else {
            EsError::Connect { host, detail }
        }
    }

    /// Classifies an HTTP error response from its status and Elasticsearch error body.
    pub(crate) fn from_response(status: u16, body: &str) -> EsError {
        let reason = error_reason(body);
        match status {
            401 => EsError::Unauthorized { reason },
            403 => EsError::Forbidden { reason },
            _ => EsError::Http { status, reason },
        }
    }
}

/// Statuses worth another try: overload and gateway failures.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// `error.reason` (or `error.type`, or the plain `error` string) of an Elasticsearch error body.
fn error_reason(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        let e = v.get("error")?;
        e.get("reason")
            .or_else(|| e.get("type"))
            .or(Some(e))
            .and_then(|r| r.as_str())
            .map(str::to_string)
    });
    from_json.unwrap_or_else(|| {
        let trimmed: String = body.chars().take(300).collect();
        if trimmed.is_empty() {
            "(empty response body)".into()
        } else {
            trimmed
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_classification() {
        let body = r#"{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic]"},"status":401}"#;
        match EsError::from_response(401, body) {
            EsError::Unauthorized { reason } => {
                assert_eq!(reason, "unable to authenticate user [elastic]")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            EsError::from_response(403, "{}"),
            EsError::Forbidden { .. }
        ));
        assert!(EsError::from_response(503, "").is_retryable());
        assert!(EsError::from_response(429, "").is_retryable());
        assert!(!EsError::from_response(400, r#"{"error":"bad"}"#).is_retryable());
        match EsError::from_response(404, r#"{"error":"no handler"}"#) {
            EsError::Http {
                status: 404,
                reason,
            } => assert_eq!(reason, "no handler"),
            other => panic!("{other:?}"),
        }
    }
}
