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
//! | `files`            | SharePoint: 1,250 / 2,500 / 3,750 / 5,000 / 6,250 resource units / min for tenants of up to 1,000 / 5,000 / 15,000 / 50,000 / more licenses (listing children 2, other requests 1) | app per tenant |
//!
//! The tenant's license count is a fault option (`tenant_licenses`, default 0: the smallest tier). Like
//! SharePoint, the `files` limit also answers with the draft-IETF `RateLimit-Limit` (the bucket's budget per
//! window), `RateLimit-Remaining` (whole tokens left) and `RateLimit-Reset` (whole seconds until the bucket is
//! full again) once 80 % of the budget is used, and on its 429s.
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

/// The tenant whose budgets a request draws from: its user count (directory limit) and license count (SharePoint).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tenant {
    pub users: usize,
    pub licenses: u64,
}

/// SharePoint resource units per app per minute by license count (Microsoft Learn, "Avoid getting throttled or
/// blocked in SharePoint Online").
pub fn sharepoint_ru_per_minute(licenses: u64) -> f64 {
    match licenses {
        0..=1_000 => 1_250.0,
        1_001..=5_000 => 2_500.0,
        5_001..=15_000 => 3_750.0,
        15_001..=50_000 => 5_000.0,
        _ => 6_250.0,
    }
}

/// The documented budget of each limit.
pub fn default_limit(name: &str, tenant: Tenant) -> Limit {
    let (requests, window_secs) = match name {
        "global" => (130_000.0, 10.0),
        "teams_get" => (30.0, 1.0),
        "channels_list" => (60.0, 1.0),
        "channel_messages" => (20.0, 1.0),
        "chat_messages" => (20.0, 1.0),
        "team_or_channel" => (4.0, 1.0),
        "outlook" => (10_000.0, 600.0),
        "directory" => match tenant.users {
            0..=49 => (3_500.0, 10.0),
            50..=500 => (5_000.0, 10.0),
            _ => (8_000.0, 10.0),
        },
        "files" => (sharepoint_ru_per_minute(tenant.licenses), 60.0),
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

/// A refused request: which limit, and how long until it would pass; the `RateLimit-*` values when the refusing
/// limit sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub limit: &'static str,
    pub retry_after_secs: u64,
    pub budget: Limit,
    pub headroom: Option<Headroom>,
}

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` as SharePoint sends them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headroom {
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
}

/// The limit that answers with `RateLimit-*` headers, and the share of its budget used before it does.
const HEADERS_LIMIT: &str = "files";
const HEADERS_FROM_USED_SHARE: f64 = 0.8;

impl Throttle {
    pub fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Takes every charge or none. `limits` overrides documented budgets by name. An admitted request that drew
    /// from the `files` limit gets its `RateLimit-*` values once 80 % of that budget is used.
    pub fn admit(
        &mut self,
        app: &str,
        charges: &[Charge],
        scale: f64,
        overrides: &BTreeMap<String, Limit>,
        tenant: Tenant,
        now: Instant,
    ) -> Result<Option<Headroom>, Refusal> {
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
                .unwrap_or_else(|| default_limit(charge.limit, tenant));
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
                let retry_after_secs = (wait.ceil() as u64).max(1);
                let refusal = Refusal {
                    limit: charge.limit,
                    retry_after_secs,
                    budget,
                    headroom: (charge.limit == HEADERS_LIMIT).then_some(Headroom {
                        limit: capacity.round() as u64,
                        remaining: 0,
                        reset_secs: retry_after_secs,
                    }),
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
        let mut headroom = None;
        for charge in charges {
            let key = format!("{app}|{}|{}", charge.limit, charge.scope);
            if let Some(bucket) = self.buckets.get_mut(&key) {
                bucket.tokens -= charge.cost;
                let used = 1.0 - bucket.tokens / bucket.capacity;
                if charge.limit == HEADERS_LIMIT && used >= HEADERS_FROM_USED_SHARE {
                    let missing = bucket.capacity - bucket.tokens;
                    headroom = Some(Headroom {
                        limit: bucket.capacity.round() as u64,
                        remaining: bucket.tokens.max(0.0).floor() as u64,
                        reset_secs: (missing / bucket.per_sec.max(1e-9)).ceil() as u64,
                    });
                }
            }
        }
        Ok(headroom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TEN: Tenant = Tenant {
        users: 10,
        licenses: 10,
    };

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
            t.admit("a", &[charge("chat_messages")], 0.1, &overrides, TEN, now)
                .unwrap();
        }
        let refusal = t
            .admit("a", &[charge("chat_messages")], 0.1, &overrides, TEN, now)
            .unwrap_err();
        assert_eq!(refusal.limit, "chat_messages");
        assert_eq!(refusal.retry_after_secs, 1);
        // Another app has its own bucket.
        t.admit("b", &[charge("chat_messages")], 0.1, &overrides, TEN, now)
            .unwrap();
        let later = now + Duration::from_millis(600);
        t.admit("a", &[charge("chat_messages")], 0.1, &overrides, TEN, later)
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
        t.admit("a", &charges, 1.0, &overrides, TEN, now).unwrap();
        let refusal = t
            .admit("a", &charges, 1.0, &overrides, TEN, now)
            .unwrap_err();
        assert_eq!(refusal.retry_after_secs, 30);
        assert_eq!(refusal.limit, "outlook");
    }

    #[test]
    fn sharepoint_budgets_follow_the_license_tier_and_send_rate_limit_headers() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let overrides = BTreeMap::new();
        let big = Tenant {
            users: 10,
            licenses: 12_000,
        };
        assert_eq!(default_limit("files", big).requests, 3_750.0);
        assert_eq!(default_limit("files", TEN).requests, 1_250.0);
        // Scaled to 100 tokens: the first 79 requests get no headers, the 80th does.
        let files = [Charge {
            limit: "files",
            scope: String::new(),
            cost: 1.0,
        }];
        let scale = 100.0 / 3_750.0;
        for _ in 0..79 {
            assert_eq!(t.admit("a", &files, scale, &overrides, big, now), Ok(None));
        }
        let headroom = t
            .admit("a", &files, scale, &overrides, big, now)
            .unwrap()
            .expect("headers from 80 % used");
        assert_eq!((headroom.limit, headroom.remaining), (100, 20));
        // 80 tokens missing at 100 per minute: 48 s until full.
        assert_eq!(headroom.reset_secs, 48);
        for _ in 0..20 {
            t.admit("a", &files, scale, &overrides, big, now).unwrap();
        }
        let refusal = t
            .admit("a", &files, scale, &overrides, big, now)
            .unwrap_err();
        let headroom = refusal.headroom.expect("a files 429 has the headers");
        assert_eq!(headroom.remaining, 0);
        assert_eq!(headroom.reset_secs, refusal.retry_after_secs);
    }
}
