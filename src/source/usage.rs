//! A source's remote-API counters, shared between the source's client (which counts) and the runner (which
//! reports the totals on the job's last log line), plus one [`BudgetTotals`] per request budget the client paces
//! itself against (Teams: per Graph endpoint class), reported one line each at the end of the sync.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::lock::lock;

/// What a source's remote API cost during one sync: requests, throttling answers, and the time spent waiting them
/// out. The source's client counts; the runner puts the totals on the job's last log line, whatever the outcome.
#[derive(Debug, Default)]
pub struct ApiUsage {
    requests: AtomicU64,
    throttled: AtomicU64,
    throttle_wait_ms: AtomicU64,
    /// Per request budget (an endpoint class), by its bounded name.
    budgets: Mutex<BTreeMap<&'static str, BudgetTotals>>,
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

/// One request budget over a sync: what was sent against it, what the server refused, how long requests waited
/// on the client's own pacing, and the allowed rate (in the budget's units per second: requests, or SharePoint
/// resource units) at the start and now. Rates are `f64::INFINITY` for a budget the client does not pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetTotals {
    pub requests: u64,
    /// Units charged (a SharePoint children listing costs 2 resource units, other requests 1).
    pub units: f64,
    pub throttled_429: u64,
    pub unavailable_503: u64,
    /// Time requests spent waiting on the client's pacer (summed over concurrent requests).
    pub paced_wait: Duration,
    pub start_rate: f64,
    pub allowed_rate: f64,
    /// The lowest the allowed rate went during the sync.
    pub lowest_rate: f64,
    pub ceiling_rate: f64,
    /// First and last request of the budget, for the achieved rate.
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

impl Default for BudgetTotals {
    fn default() -> Self {
        BudgetTotals {
            requests: 0,
            units: 0.0,
            throttled_429: 0,
            unavailable_503: 0,
            paced_wait: Duration::ZERO,
            start_rate: f64::INFINITY,
            allowed_rate: f64::INFINITY,
            lowest_rate: f64::INFINITY,
            ceiling_rate: f64::INFINITY,
            first: None,
            last: None,
        }
    }
}

impl BudgetTotals {
    /// Units per second between the budget's first and last request (0 with fewer than two requests).
    pub fn achieved_rate(&self) -> f64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) if last > first => {
                self.units / last.duration_since(first).as_secs_f64()
            }
            _ => 0.0,
        }
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

    /// Updates the totals of budget `name` (created on first use).
    pub fn update_budget(&self, name: &'static str, update: impl FnOnce(&mut BudgetTotals)) {
        update(lock(&self.budgets).entry(name).or_default());
    }

    /// Every budget's totals so far, by name.
    pub fn budgets(&self) -> Vec<(&'static str, BudgetTotals)> {
        lock(&self.budgets)
            .iter()
            .map(|(name, totals)| (*name, *totals))
            .collect()
    }
}
