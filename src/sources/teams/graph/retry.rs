//! One request's retry budget: backoff after failures (5xx, timeouts, ...), `Retry-After` after throttling
//! answers (429/503, capped, with their own larger budget; the endpoint class's pacer halves its rate and pauses
//! the class for that long too), and the sync's first throttling logged at INFO.

use crate::source::ErrorKind;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{EndpointClass, GraphClient, GraphError};
use crate::retry::Backoff;

pub(super) enum Retry {
    Throttled(u16, Option<Duration>),
    /// A failure that may heal: transport errors, 5xx, a cut-off body.
    Failure(String),
    /// A 2xx whose body is not what Graph documents (retried too: Graph sometimes answers half a page).
    Invalid(String),
}

/// One request's retry budget: failures (5xx, timeouts, ...) and throttling answers are counted separately.
pub(super) struct Attempts<'a> {
    client: &'a GraphClient,
    class: EndpointClass,
    backoff: Backoff,
    failures: usize,
    throttles: usize,
}

impl<'a> Attempts<'a> {
    pub(super) fn new(client: &'a GraphClient, class: EndpointClass) -> Self {
        let backoff = Backoff::with_jitter(
            client.settings.retry_delay,
            2.0,
            Duration::from_secs(60),
            0.2,
        );
        Attempts {
            client,
            class,
            backoff,
            failures: 0,
            throttles: 0,
        }
    }

    /// How long to wait before the next attempt, or the final error once the budget is spent. Throttling waits
    /// the server's `Retry-After` (capped), or backs off without one. The sync's first throttling is logged at
    /// INFO (a person watching a slow sync learns why); later ones are counted for the progress lines.
    pub(super) fn next_wait(&mut self, retry: Retry, path: &str) -> Result<Duration, GraphError> {
        let settings = &self.client.settings;
        let usage = &self.client.usage;
        // The last failure decides what an exhausted budget is reported as.
        let kind = match &retry {
            Retry::Invalid(_) => ErrorKind::InvalidData,
            _ => ErrorKind::Transient,
        };
        let wait = match retry {
            Retry::Throttled(status, after) => {
                self.throttles += 1;
                if self.throttles > settings.max_throttle_retries {
                    usage.add_throttled(Duration::ZERO);
                    self.client.limiters.throttled(self.class, status, after);
                    return Err(GraphError::Failed {
                        path: path.to_string(),
                        reason: format!(
                            "still throttled (HTTP {status}) after {} retries",
                            self.throttles - 1
                        ),
                        kind: ErrorKind::Throttled,
                    });
                }
                let wait = after
                    .map(|a| a.min(settings.max_retry_after))
                    .unwrap_or_else(|| self.backoff.next_delay());
                // The whole class slows down and pauses, not just this request (see `pacer.rs`).
                self.client
                    .limiters
                    .throttled(self.class, status, Some(wait));
                if usage.add_throttled(wait) {
                    tracing::info!(
                        endpoint_class = %self.class.name(),
                        status,
                        wait_s = wait.as_millis() as f64 / 1000.0,
                        "Graph is throttling this sync; waiting as Retry-After asks (the progress lines count \
                         further throttling)"
                    );
                }
                wait
            }
            Retry::Failure(reason) | Retry::Invalid(reason) => {
                self.failures += 1;
                if self.failures >= settings.max_attempts {
                    return Err(GraphError::Failed {
                        path: path.to_string(),
                        reason: format!("{reason} (after {} attempts)", self.failures),
                        kind,
                    });
                }
                self.backoff.next_delay()
            }
        };
        self.client.retried.fetch_add(1, Ordering::Relaxed);
        Ok(wait)
    }
}

/// `Retry-After` in seconds (Graph sends an integer; an HTTP date is not used by Graph and is ignored).
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_only() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
