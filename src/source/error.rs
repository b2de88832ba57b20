//! [`SourceError`]: why a source failed, as a kind the engine and the loops can act on (retry or not, which
//! wording, which connector status) plus the message for the job's or connector's `error` field.

/// What kind of failure a source reports. A source maps its own client's errors onto these once, at its edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The connector's configuration values are missing, malformed or not allowed (a host outside the allow-list,
    /// a key that does not parse). A person must edit the configuration.
    Configuration,
    /// The remote service rejected the credentials (sign-in failed, a second 401 after a token refresh).
    Auth,
    /// The credentials work but lack a permission (a 403); the message names it.
    Permission,
    /// The remote service asked us to slow down and its retry budget ran out.
    Throttled,
    /// A failure that may heal by itself: timeouts, connection failures, 5xx answers, broken pages.
    Transient,
    /// What was asked for does not exist (any more).
    NotFound,
    /// The remote service answered something that cannot be used (not the documented shape).
    InvalidData,
    /// Anything else that will not heal by trying again (for example a 400, or a refused redirect).
    Failed,
}

impl ErrorKind {
    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }

    /// The kind's name in log fields and job metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Configuration => "configuration",
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidData => "invalid_data",
            ErrorKind::Failed => "failed",
        }
    }
}

/// A source failure: a kind and a message worded for a person (it never holds a secret: sources build it from
/// their own redacted errors). `Display` is the message alone, so the text in job and connector documents does
/// not change with the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    kind: ErrorKind,
    message: String,
}

impl SourceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        SourceError {
            kind,
            message: message.into(),
        }
    }

    /// A configuration problem (the most common error while building a source).
    pub fn configuration(message: impl Into<String>) -> Self {
        SourceError::new(ErrorKind::Configuration, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context` in front of its message (`"{context}: {message}"`), kind kept.
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        SourceError {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttling_and_transient_failures_are_retryable() {
        let all = [
            ErrorKind::Configuration,
            ErrorKind::Auth,
            ErrorKind::Permission,
            ErrorKind::Throttled,
            ErrorKind::Transient,
            ErrorKind::NotFound,
            ErrorKind::InvalidData,
            ErrorKind::Failed,
        ];
        let retryable: Vec<_> = all.into_iter().filter(|k| k.is_retryable()).collect();
        assert_eq!(retryable, [ErrorKind::Throttled, ErrorKind::Transient]);
    }

    #[test]
    fn the_message_is_the_display_and_context_keeps_the_kind() {
        let e =
            SourceError::new(ErrorKind::Permission, "needs Chat.Read.All").context("Listing chats");
        assert_eq!(e.to_string(), "Listing chats: needs Chat.Read.All");
        assert_eq!(e.kind(), ErrorKind::Permission);
        assert!(!e.is_retryable());
    }
}
