//! Throttling modelled on Microsoft's documented Graph limits (learn.microsoft.com, "Microsoft Graph
//! service-specific throttling limits"), as token buckets per (app, limit, scope):
//!
//! | limit              | documented budget                                   | scope              |
//! |--------------------|-----------------------------------------------------|--------------------|
//! | `global`           | 130,000 requests / 10 s per app                      | app                |
//! | `teams_get`        | GET team, channel, tab (and other Teams GETs): 30 rps | app per tenant     |
//! | `channels_list`    | GET /teams/{id}/channels: 60 rps                     | app per tenant     |
//! | `channel_messages` | GET channel message: 20 rps                          | app per tenant     |
//! | `chat_messages`    | GET 1:1/group chat message: 20 rps                   | app per tenant     |
//! | `team_or_channel`  | 4 requests / s on a given team or channel            | app per team/channel |
//! | `outlook`          | 10,000 requests / 10 min                             | app per mailbox    |
//! | `directory`        | 3,500 / 5,000 / 8,000 resource units / 10 s (tenant <50, ≤500, >500 users); GET users costs 2, `$expand` +1, `$top` < 20 −1 | app per tenant |
//! | `files`            | SharePoint: 1,250 resource units / min (listing children 2, other requests 1) | app per tenant |
//!
//! Outlook's 4 concurrent requests per app per mailbox are enforced separately (see `faults`). A bucket
//! holds `budget × throttle_scale` tokens (at least one) and refills at that many per window, so a small
//! scale makes tests hit the limits after a handful of requests. An over-budget request costs nothing and
//! gets 429 with `Retry-After` = whole seconds until the bucket has enough tokens again.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub requests: f64,
    pub window_secs: f64,
}

/// The documented budget of each limit.
pub fn default_limit(name: &str, tenant_users: usize) -> Limit {
    let (requests, window_secs) = match name {
        "global" => (130_000.0, 10.0),
        "teams_get" => (30.0, 1.0),
        "channels_list" => (60.0, 1.0),
        "channel_messages" => (20.0, 1.0),
        "chat_messages" => (20.0, 1.0),
        "team_or_channel" => (4.0, 1.0),
        "outlook" => (10_000.0, 600.0),
        "directory" => match tenant_users {
            0..=49 => (3_500.0, 10.0),
            50..=500 => (5_000.0, 10.0),
            _ => (8_000.0, 10.0),
        },
        "files" => (1_250.0, 60.0),
        _ => (1_000.0, 1.0),
    };
    Limit {
        requests,
        window_secs,
    }
}

pub const LIMIT_NAMES: &[&str] = &[
    "global",
    "teams_get",
    "channels_list",
    "channel_messages",
    "chat_messages",
    "team_or_channel",
    "outlook",
    "directory",
    "files",
];

/// One bucket a request draws from: limit name, scope key (team, channel or mailbox id; empty for the
/// tenant), cost in tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub limit: &'static str,
    pub scope: String,
    pub cost: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.at = now;
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    buckets: HashMap<String, Bucket>,
}

/// A refused request: which limit, and how long until it would pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub limit: &'static str,
    pub retry_after_secs: u64,
    pub budget: Limit,
}

impl Throttle {
    pub fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Takes every charge or none. `limits` overrides documented budgets by name.
    pub fn admit(
        &mut self,
        app: &str,
        charges: &[Charge],
        scale: f64,
        overrides: &BTreeMap<String, Limit>,
        tenant_users: usize,
        now: Instant,
    ) -> Result<(), Refusal> {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let mut worst: Option<Refusal> = None;
        for charge in charges {
            let budget = overrides
                .get(charge.limit)
                .copied()
                .unwrap_or_else(|| default_limit(charge.limit, tenant_users));
            let key = format!("{app}|{}|{}", charge.limit, charge.scope);
            let capacity = (budget.requests * scale).max(1.0);
            let per_sec = budget.requests * scale / budget.window_secs.max(0.001);
            let bucket = self.buckets.entry(key).or_insert(Bucket {
                tokens: capacity,
                capacity,
                per_sec,
                at: now,
            });
            bucket.capacity = capacity;
            bucket.per_sec = per_sec;
            bucket.refill(now);
            if bucket.tokens < charge.cost {
                let wait = (charge.cost - bucket.tokens) / per_sec.max(1e-9);
                let refusal = Refusal {
                    limit: charge.limit,
                    retry_after_secs: (wait.ceil() as u64).max(1),
                    budget,
                };
                if worst
                    .as_ref()
                    .is_none_or(|w| w.retry_after_secs < refusal.retry_after_secs)
                {
                    worst = Some(refusal);
                }
            }
        }
        if let Some(refusal) = worst {
            return Err(refusal);
        }
        for charge in charges {
            let key = format!("{app}|{}|{}", charge.limit, charge.scope);
            if let Some(bucket) = self.buckets.get_mut(&key) {
                bucket.tokens -= charge.cost;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn charge(limit: &'static str) -> Charge {
        Charge {
            limit,
            scope: String::new(),
            cost: 1.0,
        }
    }

    #[test]
    fn bucket_empties_then_refills() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let overrides = BTreeMap::new();
        // 20 rps scaled by 0.1 → 2 tokens, 2 per second.
        for _ in 0..2 {
            t.admit("a", &[charge("chat_messages")], 0.1, &overrides, 10, now)
                .unwrap();
        }
        let refusal = t
            .admit("a", &[charge("chat_messages")], 0.1, &overrides, 10, now)
            .unwrap_err();
        assert_eq!(refusal.limit, "chat_messages");
        assert_eq!(refusal.retry_after_secs, 1);
        // Another app has its own bucket.
        t.admit("b", &[charge("chat_messages")], 0.1, &overrides, 10, now)
            .unwrap();
        let later = now + Duration::from_millis(600);
        t.admit("a", &[charge("chat_messages")], 0.1, &overrides, 10, later)
            .unwrap();
    }

    #[test]
    fn refused_requests_cost_nothing_and_overrides_apply() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "outlook".to_string(),
            Limit {
                requests: 1.0,
                window_secs: 30.0,
            },
        );
        let charges = [charge("global"), charge("outlook")];
        t.admit("a", &charges, 1.0, &overrides, 10, now).unwrap();
        let refusal = t
            .admit("a", &charges, 1.0, &overrides, 10, now)
            .unwrap_err();
        assert_eq!(refusal.retry_after_secs, 30);
        assert_eq!(refusal.limit, "outlook");
    }
}
