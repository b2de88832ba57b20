//! Request budgets: the [`EndpointClass`] of a Graph path, the [`RateLimits`] per class (and per team or
//! channel), and the `governor` limiters that pace every request against them.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::sources::teams::defaults;

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
        }
        Ok(limits)
    }
}

/// The limiters built from [`RateLimits`]: one per endpoint class with a budget, one keyed by team or channel.
pub(super) struct Limiters {
    per_class: BTreeMap<EndpointClass, DefaultDirectRateLimiter>,
    scoped: Option<DefaultKeyedRateLimiter<String>>,
}

impl Limiters {
    pub(super) fn new(limits: &RateLimits) -> Limiters {
        let scoped = NonZeroU32::new(limits.per_team_or_channel)
            .map(|rps| RateLimiter::keyed(Quota::per_second(rps)));
        let per_class = limits
            .per_class
            .iter()
            .filter_map(|(class, rps)| {
                let rps = NonZeroU32::new(*rps)?;
                Some((*class, RateLimiter::direct(Quota::per_second(rps))))
            })
            .collect();
        Limiters { per_class, scoped }
    }

    /// Waits until a request of `class` on `path` fits every budget it counts against.
    pub(super) async fn pace(&self, class: EndpointClass, path: &str) {
        if let Some(limiter) = self.per_class.get(&class) {
            // SharePoint charges 2 resource units for listing a folder's children, 1 for other file requests.
            let cost = if class == EndpointClass::Drives && path.contains("/children") {
                2
            } else {
                1
            };
            let cost = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
            if limiter.until_n_ready(cost).await.is_err() {
                // A budget below the cost (e.g. drives=1): pace one unit at a time instead.
                limiter.until_ready().await;
            }
        }
        if let (Some(limiter), Some(scope)) = (&self.scoped, team_or_channel(path)) {
            limiter.until_key_ready(&scope.to_string()).await;
        }
    }
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
}
