//! Request counts for `/_fixture/requests`: per endpoint class, per route, and outcomes (throttled,
//! injected faults, slowed, unauthorized), the bytes of file content sent (`downloaded_bytes`) and the bytes of
//! the answers whose size is known (JSON bodies, `bytes`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Endpoint classes, as reported.
pub const CLASSES: &[&str] = &[
    "token",
    "users",
    "teams",
    "messages",
    "outlook",
    "drives",
    "downloads",
];

#[derive(Debug, Default)]
pub struct Counters {
    by_class: BTreeMap<&'static str, u64>,
    by_route: BTreeMap<String, u64>,
    throttled: u64,
    faults: u64,
    slowed: u64,
    unauthorized: u64,
    total: u64,
    /// Bytes of file content handed to connections by the download URL.
    downloaded_bytes: u64,
    /// Bytes of JSON answers.
    bytes: u64,
}

impl Counters {
    pub fn request(&mut self, class: &'static str, route: String) {
        *self.by_class.entry(class).or_default() += 1;
        *self.by_route.entry(route).or_default() += 1;
        self.total += 1;
    }

    pub fn throttled(&mut self) {
        self.throttled += 1;
    }

    pub fn fault(&mut self) {
        self.faults += 1;
    }

    pub fn slowed(&mut self) {
        self.slowed += 1;
    }

    pub fn unauthorized(&mut self) {
        self.unauthorized += 1;
    }

    pub fn downloaded(&mut self, bytes: u64) {
        self.downloaded_bytes += bytes;
    }

    /// An answer of `bytes` body bytes went out.
    pub fn answered(&mut self, bytes: u64) {
        self.bytes += bytes;
    }

    pub fn reset(&mut self) {
        *self = Counters::default();
    }

    pub fn snapshot(&self) -> Value {
        let mut v = json!({
            "throttled": self.throttled,
            "faults": self.faults,
            "slowed": self.slowed,
            "unauthorized": self.unauthorized,
            "total": self.total,
            "downloaded_bytes": self.downloaded_bytes,
            "bytes": self.bytes,
            "by_route": self.by_route,
        });
        for class in CLASSES {
            v[*class] = json!(self.by_class.get(class).copied().unwrap_or(0));
        }
        v
    }
}
