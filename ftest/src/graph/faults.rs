//! Injected misbehaviour, set through `/_fixture/faults`: throttling (see `throttle`), a random error
//! rate, slow answers, truncated JSON, paths that always fail (500) or are always forbidden (403), and
//! overrides: a path answered with a chosen status and body, a bounded number of times or always (an empty
//! page, a page without `value`, a 404 on a child listing, a repeated next link...).
//! Random decisions are deterministic per request URL: the n-th request for a given URL gets the same
//! outcome for the same `seed`, whatever the interleaving of concurrent requests.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::rng::{hash, mix};
use super::throttle::{Limit, Throttle, LIMIT_NAMES};

/// Distinct URLs remembered for occurrence counting before the memory is reset.
const MAX_TRACKED_URLS: usize = 200_000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub throttle: bool,
    /// Multiplies every documented budget (0.01 = a hundredth of Graph's limits).
    pub throttle_scale: f64,
    /// Per-limit budget overrides, e.g. `{"channel_messages": {"requests": 2, "window_secs": 1}}`.
    pub throttle_limits: BTreeMap<String, Limit>,
    /// The tenant's Microsoft 365 license count: sets SharePoint's `files` budget (0–1 000 → 1 250 resource units
    /// per minute, up to 6 250 past 50 000).
    pub tenant_licenses: u64,
    /// Whether the `files` limit sends SharePoint's `RateLimit-*` headers (from 80 % used, and on its 429s).
    pub rate_limit_headers: bool,
    pub error_rate: f64,
    pub error_status: u16,
    /// `Retry-After` sent with injected 429/503 errors.
    pub retry_after_secs: u64,
    pub slow_rate: f64,
    pub slow_ms: u64,
    pub truncate_rate: f64,
    /// Answers whole objects whatever `$select` asks (the query option is dropped before the handler): the
    /// reference answers to compare a selecting client's documents with.
    pub ignore_select: bool,
    pub seed: u64,
    /// Regexes on the request path (raw or percent-decoded) plus `?query`: always 500.
    pub fail_paths: Vec<String>,
    /// Regexes as above: always 403 with Graph's missing-permission error.
    pub forbidden_paths: Vec<String>,
    /// Answers replacing the handler's, checked first (after the token check) in order; the first rule that
    /// matches and has answers left wins.
    #[serde(rename = "override")]
    pub overrides: Vec<Override>,
}

/// One override rule: requests whose path (raw or percent-decoded, plus `?query`) matches `path` get `status`
/// with `body` — `times` times in all (counted across every matching URL), or always when `times` is absent.
/// `{{self}}` in the body becomes the request's own absolute URL (a next link that repeats the page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub path: String,
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

fn ok_status() -> u16 {
    200
}

/// The answer an override chose for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Canned {
    pub status: u16,
    pub body: String,
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig {
            throttle: false,
            throttle_scale: 1.0,
            throttle_limits: BTreeMap::new(),
            tenant_licenses: 0,
            rate_limit_headers: true,
            error_rate: 0.0,
            error_status: 503,
            retry_after_secs: 1,
            slow_rate: 0.0,
            slow_ms: 0,
            truncate_rate: 0.0,
            ignore_select: false,
            seed: 7,
            fail_paths: Vec::new(),
            forbidden_paths: Vec::new(),
            overrides: Vec::new(),
        }
    }
}

/// What to do with one request, before the throttle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub forbidden: bool,
    pub fail: bool,
    pub error_status: Option<u16>,
    pub slow_ms: u64,
    pub truncate: bool,
}

#[derive(Debug, Default)]
pub struct Faults {
    pub config: FaultConfig,
    fail: Vec<Regex>,
    forbidden: Vec<Regex>,
    /// Each override's regex and how many answers it has given.
    overrides: Vec<(Regex, u64)>,
    seen: HashMap<String, u64>,
    pub throttle: Throttle,
}

impl Faults {
    pub fn new() -> Faults {
        Faults::default()
    }

    /// Replaces the configuration; refuses bad regexes, rates outside [0, 1], unknown limit names.
    pub fn set(&mut self, config: FaultConfig) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", config.error_rate),
            ("slow_rate", config.slow_rate),
            ("truncate_rate", config.truncate_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if !(100..=599).contains(&config.error_status) {
            return Err(format!(
                "error_status must be an HTTP status, got {}",
                config.error_status
            ));
        }
        if !(config.throttle_scale.is_finite() && config.throttle_scale > 0.0) {
            return Err("throttle_scale must be a positive number".into());
        }
        for (name, limit) in &config.throttle_limits {
            if !LIMIT_NAMES.contains(&name.as_str()) {
                return Err(format!(
                    "unknown throttle limit [{name}]; known: {LIMIT_NAMES:?}"
                ));
            }
            if !(limit.requests > 0.0 && limit.window_secs > 0.0) {
                return Err(format!(
                    "throttle limit [{name}] needs positive requests and window_secs"
                ));
            }
        }
        let compile = |list: &[String]| -> Result<Vec<Regex>, String> {
            list.iter()
                .map(|p| Regex::new(p).map_err(|e| format!("bad regex [{p}]: {e}")))
                .collect()
        };
        for rule in &config.overrides {
            if !(100..=599).contains(&rule.status) {
                return Err(format!(
                    "override status must be an HTTP status, got {}",
                    rule.status
                ));
            }
        }
        let paths: Vec<String> = config.overrides.iter().map(|o| o.path.clone()).collect();
        self.overrides = compile(&paths)?.into_iter().map(|r| (r, 0)).collect();
        self.fail = compile(&config.fail_paths)?;
        self.forbidden = compile(&config.forbidden_paths)?;
        self.config = config;
        self.seen.clear();
        self.throttle.clear();
        Ok(())
    }

    pub fn clear(&mut self) {
        *self = Faults::default();
    }

    /// The override answer for a request, if a rule matches and has answers left (using one up).
    pub fn canned(&mut self, url: &str, decoded_path: &str) -> Option<Canned> {
        for (rule, (regex, used)) in self.config.overrides.iter().zip(self.overrides.iter_mut()) {
            if !(regex.is_match(url) || regex.is_match(decoded_path)) {
                continue;
            }
            if rule.times.is_some_and(|times| *used >= times) {
                continue;
            }
            *used += 1;
            return Some(Canned {
                status: rule.status,
                body: rule.body.clone(),
            });
        }
        None
    }

    /// Decides the fate of a request for `url` (path + `?query` as received) whose path decodes to
    /// `decoded_path`.
    pub fn decide(&mut self, url: &str, decoded_path: &str) -> Decision {
        let matches = |list: &[Regex]| {
            list.iter()
                .any(|r| r.is_match(url) || r.is_match(decoded_path))
        };
        let mut d = Decision {
            forbidden: matches(&self.forbidden),
            fail: matches(&self.fail),
            ..Decision::default()
        };
        let c = &self.config;
        if c.error_rate <= 0.0 && c.slow_rate <= 0.0 && c.truncate_rate <= 0.0 {
            return d;
        }
        if self.seen.len() >= MAX_TRACKED_URLS {
            self.seen.clear();
        }
        let n = self.seen.entry(url.to_string()).or_insert(0);
        *n += 1;
        let base = hash(url) ^ mix(c.seed) ^ mix(*n);
        let draw = |salt: u64| (mix(base ^ salt) >> 11) as f64 / (1u64 << 53) as f64;
        if draw(1) < c.error_rate {
            d.error_status = Some(c.error_status);
        }
        if draw(2) < c.slow_rate {
            d.slow_ms = c.slow_ms;
        }
        d.truncate = draw(3) < c.truncate_rate;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_url_same_sequence_of_outcomes() {
        let config = FaultConfig {
            error_rate: 0.5,
            seed: 3,
            ..FaultConfig::default()
        };
        let run = || {
            let mut f = Faults::new();
            f.set(config.clone()).unwrap();
            (0..20)
                .map(|_| {
                    f.decide("/v1.0/users", "/v1.0/users")
                        .error_status
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.contains(&true) && a.contains(&false));
    }

    #[test]
    fn overrides_answer_a_bounded_number_of_times() {
        let mut f = Faults::new();
        let config: FaultConfig = serde_json::from_value(serde_json::json!({"override": [
            {"path": "^/v1.0/teams$", "body": "{}", "times": 2},
            {"path": "/channels$", "status": 404},
        ]}))
        .unwrap();
        f.set(config).unwrap();
        let teams = || Canned {
            status: 200,
            body: "{}".into(),
        };
        assert_eq!(
            f.canned("/v1.0/teams?$top=999", "/v1.0/teams"),
            Some(teams())
        );
        assert_eq!(
            f.canned("/v1.0/teams?$top=999", "/v1.0/teams"),
            Some(teams())
        );
        assert_eq!(f.canned("/v1.0/teams?$top=999", "/v1.0/teams"), None);
        for _ in 0..5 {
            assert_eq!(
                f.canned("/v1.0/teams/t/channels", "/v1.0/teams/t/channels")
                    .map(|c| c.status),
                Some(404)
            );
        }
        assert!(f
            .set(
                serde_json::from_value(
                    serde_json::json!({"override": [{"path": "x", "status": 42}]})
                )
                .unwrap()
            )
            .is_err());
    }

    #[test]
    fn paths_and_validation() {
        let mut f = Faults::new();
        f.set(FaultConfig {
            fail_paths: vec!["/channels/.*/messages".into()],
            forbidden_paths: vec!["/events".into()],
            ..FaultConfig::default()
        })
        .unwrap();
        let d = f.decide(
            "/v1.0/teams/t/channels/19%3Ax/messages?$top=5",
            "/v1.0/teams/t/channels/19:x/messages",
        );
        assert!(d.fail && !d.forbidden);
        assert!(
            f.decide("/v1.0/users/u/events", "/v1.0/users/u/events")
                .forbidden
        );
        assert!(f
            .set(FaultConfig {
                error_rate: 2.0,
                ..FaultConfig::default()
            })
            .is_err());
        assert!(f
            .set(FaultConfig {
                fail_paths: vec!["(".into()],
                ..FaultConfig::default()
            })
            .is_err());
    }
}
