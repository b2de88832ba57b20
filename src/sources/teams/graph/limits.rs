//! Request budgets: the [`EndpointClass`] of a Graph path, the [`TenantSize`] the operator declares, the
//! [`RateLimits`] per class (and per team or channel), and the [`Limiters`] that pace every request against them:
//! one adaptive [`Pacer`] per class (see `pacer.rs`) and a `governor` limiter keyed by team or channel.
//!
//! Where each class starts, and how far it may grow without a `rate_limits` value for it:
//!
//! | class | starts at | ceiling | source |
//! |---|---|---|---|
//! | `chat_messages`, `channel_messages` | 20 rps | 20 rps | Graph throttling limits, Teams: 20 rps per app per tenant (any tenant size) |
//! | `teams` | 30 rps | 30 rps | Teams: other GETs 30 rps per app per tenant |
//! | `outlook` | 16 rps | 32 rps | Outlook: 10 000 requests per 10 min per app per mailbox; the class spans mailboxes |
//! | `drives` | the tenant size's resource units | 2 × that, at most 6 250 RU/min | SharePoint: RU per app per minute by license count (below) |
//! | `other` | 30 rps | 60 rps | Entra ID (directory) budgets are 3 500–8 000 RU per 10 s; users listings are few |
//!
//! The Teams limits are per app per tenant whatever the tenant's size, so their documented rate is also their
//! ceiling: growing past it only earns 429s. A class the operator set in `rate_limits` keeps that rate as start
//! and ceiling (it still halves on a 429 and recovers to it, never above).

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;

pub(super) use super::pacer::Windows;
use super::pacer::{Pacer, PacerRates, Signal};
use crate::source::ApiUsage;
use crate::sources::teams::defaults;

/// The tenant size the operator declares (connector field `tenant_size`): SharePoint's per-app budget depends on
/// the tenant's license count. Microsoft Learn, "Avoid getting throttled or blocked in SharePoint Online"
/// (learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online),
/// application limits:
///
/// | licenses | 0–1 000 | 1 001–5 000 | 5 001–15 000 | 15 001–50 000 | 50 000+ |
/// |---|---|---|---|---|---|
/// | resource units per app per minute | 1 250 | 2 500 | 3 750 | 5 000 | 6 250 |
/// | per app per 24 h | 1 200 000 | 2 400 000 | 3 600 000 | 4 800 000 | 6 000 000 |
///
/// (Earlier revisions of the page, still shown by some translations, had 1 200 / 2 400 / 3 600 / 4 800 / 6 000
/// per minute; the difference is 4 %, and the pacer adapts either way.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum TenantSize {
    #[default]
    UpTo1000,
    UpTo5000,
    UpTo15000,
    UpTo50000,
    Over50000,
}

impl TenantSize {
    pub const ALL: [TenantSize; 5] = [
        TenantSize::UpTo1000,
        TenantSize::UpTo5000,
        TenantSize::UpTo15000,
        TenantSize::UpTo50000,
        TenantSize::Over50000,
    ];
    /// The configuration values, in [`TenantSize::ALL`]'s order.
    pub const VALUES: [&'static str; 5] = [
        "up_to_1000",
        "up_to_5000",
        "up_to_15000",
        "up_to_50000",
        "over_50000",
    ];

    pub fn value(self) -> &'static str {
        Self::VALUES[self as usize]
    }

    /// The dropdown label.
    pub fn label(self) -> &'static str {
        [
            "Up to 1,000 licenses",
            "1,001 to 5,000 licenses",
            "5,001 to 15,000 licenses",
            "15,001 to 50,000 licenses",
            "More than 50,000 licenses",
        ][self as usize]
    }

    /// `up_to_1000`, ...; an empty value is the smallest size.
    pub fn parse(text: &str) -> Option<TenantSize> {
        let text = text.trim();
        if text.is_empty() {
            return Some(TenantSize::default());
        }
        Self::ALL.into_iter().find(|s| s.value() == text)
    }

    /// SharePoint resource units per app per minute.
    pub fn sharepoint_ru_per_minute(self) -> u32 {
        defaults::SHAREPOINT_RU_PER_MINUTE[self as usize]
    }
}

/// Endpoint classes with separate request budgets (Microsoft throttles per service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointClass {
    /// Chat messages (Teams: 20 rps per app per tenant).
    ChatMessages,
    /// Channel messages (Teams: 20 rps per app per tenant).
    ChannelMessages,
    /// Teams, channels, tabs, chats and members (other Teams GETs).
    Teams,
    /// Calendar events (Outlook).
    Outlook,
    /// OneDrive/SharePoint drives, items and downloads.
    Drives,
    /// Users and everything else.
    Other,
}

impl EndpointClass {
    pub const ALL: [EndpointClass; 6] = [
        EndpointClass::ChatMessages,
        EndpointClass::ChannelMessages,
        EndpointClass::Teams,
        EndpointClass::Outlook,
        EndpointClass::Drives,
        EndpointClass::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EndpointClass::ChatMessages => "chat_messages",
            EndpointClass::ChannelMessages => "channel_messages",
            EndpointClass::Teams => "teams",
            EndpointClass::Outlook => "outlook",
            EndpointClass::Drives => "drives",
            EndpointClass::Other => "other",
        }
    }

    /// The class of a Graph path (`/chats/x/messages`, `/users/x/events`, ...).
    pub fn of(path: &str) -> EndpointClass {
        let path = path.split('?').next().unwrap_or(path);
        if path.contains("/messages") && path.starts_with("/chats") {
            EndpointClass::ChatMessages
        } else if path.contains("/messages") {
            EndpointClass::ChannelMessages
        } else if path.contains("/events") {
            EndpointClass::Outlook
        } else if path.contains("/drive")
            || path.contains("/filesFolder")
            || path.contains("/items/")
        {
            EndpointClass::Drives
        } else if path.contains("/teams") || path.contains("/chats") || path.contains("/tabs") {
            EndpointClass::Teams
        } else {
            EndpointClass::Other
        }
    }
}

/// Requests per second per endpoint class, plus the per team/channel budget. Defaults follow Microsoft's
/// published per-app-per-tenant limits: Teams allows 20 rps each for chat and channel message reads, 30 rps for
/// other GETs and 4 rps on any one team or channel; Outlook 10 000 requests per 10 minutes ≈ 16 rps (per mailbox,
/// applied here across mailboxes to stay safe); SharePoint files 1 250 resource units per minute (≈ 20.8 per
/// second; the drives class counts resource units: a children listing costs 2, other file requests 1); the rest
/// 30 rps.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    pub per_class: BTreeMap<EndpointClass, u32>,
    /// Requests per second on one team or channel (all classes together); 0 = no limit.
    pub per_team_or_channel: u32,
    /// Classes the operator set in `rate_limits`: fixed at that rate (never grown past it).
    pub explicit: BTreeSet<EndpointClass>,
    /// Sets where `drives` starts and how far it may grow when not explicit.
    pub tenant_size: TenantSize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_class: BTreeMap::from([
                (EndpointClass::ChatMessages, defaults::CHAT_MESSAGES_RPS),
                (
                    EndpointClass::ChannelMessages,
                    defaults::CHANNEL_MESSAGES_RPS,
                ),
                (EndpointClass::Teams, defaults::TEAMS_RPS),
                (EndpointClass::Outlook, defaults::OUTLOOK_RPS),
                (EndpointClass::Drives, defaults::DRIVES_RPS),
                (EndpointClass::Other, defaults::OTHER_RPS),
            ]),
            per_team_or_channel: defaults::PER_TEAM_OR_CHANNEL_RPS,
            explicit: BTreeSet::new(),
            tenant_size: TenantSize::default(),
        }
    }
}

/// Which single team or channel a path addresses (`/teams/{t}/channels/{c}/...` → `c`, `/teams/{t}/...` → `t`).
fn team_or_channel(path: &str) -> Option<&str> {
    let path = path.split('?').next().unwrap_or(path);
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    if segments.next()? != "teams" {
        return None;
    }
    let team = segments.next()?;
    match (segments.next(), segments.next()) {
        (Some("channels"), Some(channel)) => Some(channel),
        _ => Some(team),
    }
}

impl RateLimits {
    /// Parses `chat_messages=20,teams=30,per_channel=4,...` over the defaults; `0` turns a limit off. An empty
    /// string keeps the defaults.
    pub fn parse(text: &str) -> Result<RateLimits, String> {
        let mut limits = RateLimits::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `class=requests_per_second`"))?;
            let rps: u32 = value.trim().parse().map_err(|_| {
                format!(
                    "`{}` is not a whole number of requests per second",
                    value.trim()
                )
            })?;
            if name.trim() == "per_channel" {
                limits.per_team_or_channel = rps;
                continue;
            }
            let class = EndpointClass::ALL
                .into_iter()
                .find(|c| c.name() == name.trim())
                .ok_or_else(|| {
                    let known: Vec<&str> = EndpointClass::ALL.iter().map(|c| c.name()).collect();
                    format!(
                        "unknown endpoint class `{}` (known: {}, per_channel)",
                        name.trim(),
                        known.join(", ")
                    )
                })?;
            limits.per_class.insert(class, rps);
            limits.explicit.insert(class);
        }
        Ok(limits)
    }

    /// `self` for a tenant of `size`.
    pub fn for_tenant(self, size: TenantSize) -> RateLimits {
        RateLimits {
            tenant_size: size,
            ..self
        }
    }

    /// Where a class's pacer starts and how far it may grow (units per second; infinite = not paced). See the
    /// table at the top of this file.
    pub(super) fn rates(&self, class: EndpointClass) -> PacerRates {
        let configured = self.per_class.get(&class).copied().unwrap_or(0);
        if self.explicit.contains(&class) || configured == 0 {
            let rate = match configured {
                0 => f64::INFINITY,
                rps => f64::from(rps),
            };
            return PacerRates {
                start: rate,
                ceiling: rate,
            };
        }
        let start = f64::from(configured);
        match class {
            EndpointClass::ChatMessages | EndpointClass::ChannelMessages | EndpointClass::Teams => {
                PacerRates {
                    start,
                    ceiling: start,
                }
            }
            EndpointClass::Drives => {
                let start = f64::from(self.tenant_size.sharepoint_ru_per_minute()) / 60.0;
                let largest = f64::from(TenantSize::Over50000.sharepoint_ru_per_minute()) / 60.0;
                PacerRates {
                    start,
                    ceiling: (start * defaults::PACING_CEILING_FACTOR)
                        .min(largest)
                        .max(start),
                }
            }
            EndpointClass::Outlook | EndpointClass::Other => PacerRates {
                start,
                ceiling: start * defaults::PACING_CEILING_FACTOR,
            },
        }
    }
}

/// The limiters built from [`RateLimits`]: one adaptive pacer per endpoint class, one keyed by team or channel.
pub(super) struct Limiters {
    per_class: BTreeMap<EndpointClass, Pacer>,
    scoped: Option<DefaultKeyedRateLimiter<String>>,
}

impl Limiters {
    /// Pacers for every class; their per-class totals go to `usage` (reported at the end of the sync).
    pub(super) fn new(limits: &RateLimits, windows: Windows, usage: &Arc<ApiUsage>) -> Limiters {
        let scoped = NonZeroU32::new(limits.per_team_or_channel)
            .map(|rps| RateLimiter::keyed(Quota::per_second(rps)));
        let per_class = EndpointClass::ALL
            .into_iter()
            .map(|class| {
                let pacer = Pacer::new(class.name(), limits.rates(class), windows, usage.clone());
                (class, pacer)
            })
            .collect();
        Limiters { per_class, scoped }
    }

    /// Waits until a request of `class` on `path` fits every budget it counts against.
    pub(super) async fn pace(&self, class: EndpointClass, path: &str) {
        if let Some(pacer) = self.per_class.get(&class) {
            // SharePoint charges 2 resource units for listing a folder's children, 1 for other file requests.
            let cost = if class == EndpointClass::Drives && path.contains("/children") {
                2.0
            } else {
                1.0
            };
            pacer.pace(cost).await;
        }
        if let (Some(limiter), Some(scope)) = (&self.scoped, team_or_channel(path)) {
            limiter.until_key_ready(&scope.to_string()).await;
        }
    }

    /// A 429/503 for `class`: the class halves its rate and pauses for `retry_after`.
    pub(super) fn throttled(
        &self,
        class: EndpointClass,
        status: u16,
        retry_after: Option<Duration>,
    ) {
        if let Some(pacer) = self.per_class.get(&class) {
            pacer.signal(Signal::Throttled {
                status,
                retry_after,
            });
        }
    }

    /// Reads SharePoint's `RateLimit-*` headers on an answer for `class`, if it has them.
    pub(super) fn observe(&self, class: EndpointClass, headers: &HeaderMap) {
        if let (Some(pacer), Some(signal)) =
            (self.per_class.get(&class), rate_limit_headers(headers))
        {
            pacer.signal(signal);
        }
    }

    /// The current allowed rate of `class` (units per second).
    pub(super) fn rate(&self, class: EndpointClass) -> f64 {
        self.per_class
            .get(&class)
            .map(Pacer::rate)
            .unwrap_or(f64::INFINITY)
    }
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (all three, numbers) as SharePoint sends them
/// (draft-ietf-httpapi-ratelimit-headers-03: plain integers).
fn rate_limit_headers(headers: &HeaderMap) -> Option<Signal> {
    let number = |name: &str| -> Option<f64> {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    Some(Signal::Headroom {
        limit: number("ratelimit-limit")?,
        remaining: number("ratelimit-remaining")?,
        reset: Duration::from_secs_f64(number("ratelimit-reset")?.min(3600.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(
            EndpointClass::of("/chats/1/messages?$top=50"),
            EndpointClass::ChatMessages
        );
        assert_eq!(
            EndpointClass::of("/teams/1/channels/2/messages?$expand=replies"),
            EndpointClass::ChannelMessages
        );
        assert_eq!(team_or_channel("/teams/t/channels/c/tabs"), Some("c"));
        assert_eq!(team_or_channel("/teams/t/channels"), Some("t"));
        assert_eq!(team_or_channel("/teams?$top=999"), None);
        assert_eq!(team_or_channel("/chats/x/messages"), None);
        assert_eq!(
            EndpointClass::of("/users/1/events?$top=50"),
            EndpointClass::Outlook
        );
        assert_eq!(
            EndpointClass::of("/drives/d/items/root/children"),
            EndpointClass::Drives
        );
        assert_eq!(
            EndpointClass::of("/teams/1/channels/2/filesFolder"),
            EndpointClass::Drives
        );
        assert_eq!(EndpointClass::of("/users/1/drive"), EndpointClass::Drives);
        assert_eq!(
            EndpointClass::of("/chats?$expand=members"),
            EndpointClass::Teams
        );
        assert_eq!(EndpointClass::of("/teams/1/channels"), EndpointClass::Teams);
        assert_eq!(EndpointClass::of("/users?$top=999"), EndpointClass::Other);
    }

    #[test]
    fn rate_limits_parse() {
        let l = RateLimits::parse(" chat_messages=5, drives = 0, per_channel=2 ").unwrap();
        assert_eq!(l.per_class[&EndpointClass::ChatMessages], 5);
        assert_eq!(l.per_class[&EndpointClass::ChannelMessages], 20);
        assert_eq!(l.per_class[&EndpointClass::Drives], 0);
        assert_eq!(l.per_class[&EndpointClass::Teams], 30);
        assert_eq!(l.per_team_or_channel, 2);
        assert_eq!(RateLimits::parse("").unwrap(), RateLimits::default());
        assert!(RateLimits::parse("mail=3")
            .unwrap_err()
            .contains("unknown endpoint class `mail`"));
        assert!(RateLimits::parse("teams")
            .unwrap_err()
            .contains("class=requests_per_second"));
        assert!(RateLimits::parse("teams=fast")
            .unwrap_err()
            .contains("whole number"));
    }

    #[test]
    fn each_class_starts_at_its_published_rate_and_grows_only_where_that_can_help() {
        let limits = RateLimits::default().for_tenant(TenantSize::UpTo15000);
        let drives = limits.rates(EndpointClass::Drives);
        assert_eq!(drives.start, 3750.0 / 60.0);
        assert_eq!(drives.ceiling, 6250.0 / 60.0, "never past the largest tier");
        let small = RateLimits::default().rates(EndpointClass::Drives);
        assert_eq!((small.start, small.ceiling), (1250.0 / 60.0, 2500.0 / 60.0));
        let top = RateLimits::default()
            .for_tenant(TenantSize::Over50000)
            .rates(EndpointClass::Drives);
        assert_eq!(top.start, top.ceiling);
        let chats = limits.rates(EndpointClass::ChatMessages);
        assert_eq!((chats.start, chats.ceiling), (20.0, 20.0));
        let outlook = limits.rates(EndpointClass::Outlook);
        assert_eq!((outlook.start, outlook.ceiling), (16.0, 32.0));
        // Explicit classes are fixed; 0 is unpaced.
        let set = RateLimits::parse("drives=7,other=0").unwrap();
        let fixed = set.rates(EndpointClass::Drives);
        assert_eq!((fixed.start, fixed.ceiling), (7.0, 7.0));
        assert!(set.rates(EndpointClass::Other).start.is_infinite());
        assert_eq!(TenantSize::parse(""), Some(TenantSize::UpTo1000));
        assert_eq!(TenantSize::parse("over_50000"), Some(TenantSize::Over50000));
        assert_eq!(TenantSize::parse("1000"), None);
    }

    #[test]
    fn rate_limit_headers_need_all_three_numbers() {
        let mut h = HeaderMap::new();
        h.insert("RateLimit-Limit", "1250".parse().unwrap());
        h.insert("RateLimit-Remaining", "200".parse().unwrap());
        assert_eq!(rate_limit_headers(&h), None);
        h.insert("RateLimit-Reset", "31".parse().unwrap());
        assert_eq!(
            rate_limit_headers(&h),
            Some(Signal::Headroom {
                limit: 1250.0,
                remaining: 200.0,
                reset: Duration::from_secs(31),
            })
        );
        h.insert("RateLimit-Remaining", "lots".parse().unwrap());
        assert_eq!(rate_limit_headers(&h), None);
    }
}
