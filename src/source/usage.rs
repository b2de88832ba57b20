//! A source's remote-API counters, shared between the source's client (which counts) and the runner (which
//! reports the totals on the job's last log line).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a source's remote API cost during one sync: requests, throttling answers, and the time spent waiting them
/// out. The source's client counts; the runner puts the totals on the job's last log line, whatever the outcome.
#[derive(Debug, Default)]
pub struct ApiUsage {
    requests: AtomicU64,
    throttled: AtomicU64,
    throttle_wait_ms: AtomicU64,
}

/// The counters of an [`ApiUsage`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiTotals {
    pub requests: u64,
    pub throttled: u64,
    pub throttle_wait: Duration,
}

impl ApiTotals {
    /// Seconds waited for throttling, to the millisecond, for log lines.
    pub fn throttle_wait_secs(&self) -> f64 {
        self.throttle_wait.as_millis() as f64 / 1000.0
    }
}

impl ApiUsage {
    pub fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a throttling answer and the wait it costs. True for the first one, which deserves a log line.
    pub fn add_throttled(&self, wait: Duration) -> bool {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.throttle_wait_ms.fetch_add(ms, Ordering::Relaxed);
        self.throttled.fetch_add(1, Ordering::Relaxed) == 0
    }

    pub fn totals(&self) -> ApiTotals {
        ApiTotals {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttle_wait: Duration::from_millis(self.throttle_wait_ms.load(Ordering::Relaxed)),
        }
    }
}
