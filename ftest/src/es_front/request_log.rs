//! Test hook: the requests the front answered, so a test can assert on what the service actually sent (for
//! example that no `_bulk` carried a `pipeline` parameter, or that no update was answered 409). Only method,
//! path, query string and status are kept — never headers or bodies, which may hold credentials. Bounded: the
//! oldest entries are dropped past [`CAPACITY`]. `GET /_standin/requests` lists them, `DELETE` clears them.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::errors::EsError;

/// Enough for every request of a functional test on the medium tenant.
const CAPACITY: usize = 20_000;

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<Value>>,
}

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Value>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn record(&self, method: &Method, path: &str, query: Option<&str>, status: u16) {
        let mut entries = self.lock();
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(json!({
            "method": method.as_str(), "path": path, "query": query.unwrap_or(""), "status": status,
        }));
    }

    /// Answers `/_standin/requests`.
    pub(crate) fn handle(&self, method: &Method) -> Result<(StatusCode, Value), EsError> {
        match *method {
            Method::GET => Ok((
                StatusCode::OK,
                json!({"requests": self.lock().iter().cloned().collect::<Vec<_>>()}),
            )),
            Method::DELETE => {
                self.lock().clear();
                Ok((StatusCode::OK, json!({"acknowledged": true})))
            }
            _ => Err(EsError::illegal_argument(format!(
                "no handler found for uri [/_standin/requests] and method [{method}] (GET or DELETE)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries_and_clears() {
        let log = RequestLog::default();
        for i in 0..CAPACITY + 5 {
            log.record(&Method::POST, "/_bulk", Some(&format!("n={i}")), 200);
        }
        let (_, listed) = log.handle(&Method::GET).unwrap();
        let requests = listed["requests"].as_array().unwrap();
        assert_eq!(requests.len(), CAPACITY);
        assert_eq!(requests[0]["query"], "n=5");
        log.handle(&Method::DELETE).unwrap();
        let (_, listed) = log.handle(&Method::GET).unwrap();
        assert_eq!(listed["requests"], json!([]));
        assert!(log.handle(&Method::PUT).is_err());
    }
}
