//! Elasticsearch-shaped error responses produced by the front itself (authentication, authorization, media
//! types, bad security requests) and the front's internal error type. Errors that osmem produces are passed
//! through untouched; this module only shapes the ones Elasticsearch would raise before reaching a shard.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

/// The challenges a real cluster with the default realms and API keys enabled sends on a 401. The same list
/// goes both into the `WWW-Authenticate` response headers and into the body's `header` object, as ES does.
pub(crate) const WWW_AUTHENTICATE: [&str; 2] =
    ["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"];

/// One Elasticsearch exception: `type`, `reason`, optional `caused_by`, extra metadata fields, and the HTTP
/// status it maps to. Rendered as `{"error":{root_cause:[..], type, reason, ..},"status":N}`.
#[derive(Debug, Clone)]
pub(crate) struct EsError {
    status: StatusCode,
    kind: &'static str,
    reason: String,
    caused_by: Option<(&'static str, String)>,
    extra: Map<String, Value>,
    challenge: bool,
}

impl EsError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, reason: impl Into<String>) -> Self {
        EsError {
            status,
            kind,
            reason: reason.into(),
            caused_by: None,
            extra: Map::new(),
            challenge: false,
        }
    }

    /// 401 `security_exception` carrying the authentication challenges.
    pub(crate) fn unauthenticated(reason: impl Into<String>) -> Self {
        EsError {
            challenge: true,
            ..EsError::new(StatusCode::UNAUTHORIZED, "security_exception", reason)
        }
    }

    /// 403 `security_exception`: authenticated, but the role does not grant the action.
    pub(crate) fn forbidden(reason: impl Into<String>) -> Self {
        EsError::new(StatusCode::FORBIDDEN, "security_exception", reason)
    }

    pub(crate) fn illegal_argument(reason: impl Into<String>) -> Self {
        EsError::new(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            reason,
        )
    }

    pub(crate) fn with_caused_by(mut self, kind: &'static str, reason: impl Into<String>) -> Self {
        self.caused_by = Some((kind, reason.into()));
        self
    }

    pub(crate) fn with_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The inner exception object (`type`, `reason`, metadata) without the `error`/`status` envelope; bulk item
    /// failures embed exactly this.
    pub(crate) fn exception_object(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("type".into(), json!(self.kind));
        obj.insert("reason".into(), json!(self.reason));
        for (k, v) in &self.extra {
            obj.insert(k.clone(), v.clone());
        }
        if self.challenge {
            obj.insert(
                "header".into(),
                json!({ "WWW-Authenticate": WWW_AUTHENTICATE }),
            );
        }
        Value::Object(obj)
    }

    pub(crate) fn body(&self) -> Value {
        let root = self.exception_object();
        let mut error = match root.clone() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        error.insert("root_cause".into(), json!([root]));
        if let Some((kind, reason)) = &self.caused_by {
            error.insert(
                "caused_by".into(),
                json!({ "type": kind, "reason": reason }),
            );
        }
        json!({ "error": Value::Object(error), "status": self.status.as_u16() })
    }

    pub(crate) fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        if self.challenge {
            for challenge in WWW_AUTHENTICATE {
                response.headers_mut().append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
        }
        response
    }
}

/// A JSON response with the given status; the caller's media negotiation may later swap the content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Failures of the front's own plumbing (not Elasticsearch semantics). They surface to the client as 5xx or
/// 413 so a test sees that the stand-in, not the service under test, broke.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrontError {
    #[error("request body is larger than the stand-in's {limit} byte limit")]
    BodyTooLarge { limit: usize },
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    #[error("osmem request failed: {0}")]
    Upstream(#[from] reqwest::Error),
    #[error("osmem answered a bulk request with an unreadable body: {0}")]
    UpstreamBulk(String),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

impl FrontError {
    pub(crate) fn into_es_error(self) -> EsError {
        match self {
            FrontError::BodyTooLarge { .. } => EsError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "content_too_long_exception",
                self.to_string(),
            ),
            FrontError::BodyRead(_) => {
                EsError::new(StatusCode::BAD_REQUEST, "parse_exception", self.to_string())
            }
            FrontError::Upstream(_) | FrontError::UpstreamBulk(_) => EsError::new(
                StatusCode::BAD_GATEWAY,
                "es_standin_upstream_exception",
                self.to_string(),
            ),
            FrontError::Random(_) => EsError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "es_standin_exception",
                self.to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthenticated_body_has_root_cause_and_challenges() {
        let body =
            EsError::unauthenticated("missing authentication credentials for REST request [/]")
                .body();
        assert_eq!(body["status"], 401);
        assert_eq!(body["error"]["type"], "security_exception");
        assert_eq!(
            body["error"]["root_cause"][0]["reason"],
            "missing authentication credentials for REST request [/]"
        );
        assert_eq!(body["error"]["header"]["WWW-Authenticate"][1], "ApiKey");
    }

    #[test]
    fn caused_by_is_only_on_the_outer_error() {
        let body = EsError::new(
            StatusCode::BAD_REQUEST,
            "media_type_header_exception",
            "bad",
        )
        .with_caused_by("status_exception", "why")
        .body();
        assert_eq!(body["error"]["caused_by"]["type"], "status_exception");
        assert!(body["error"]["root_cause"][0].get("caused_by").is_none());
    }
}
