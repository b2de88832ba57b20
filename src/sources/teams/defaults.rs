//! The Teams source's defaults, next to its configuration schema ([`super::default_configuration`]): Graph
//! client timeouts, retries and caps, the request budgets per endpoint class, the crawl's concurrency, and the
//! download cap the service's `service.max_file_download_size` replaces.

use std::time::Duration;

/// How long connecting to Graph, the sign-in endpoint or a download host may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one Graph request may take (downloads get five times as long).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts for a failing request (5xx, timeouts, ...), the first included.
pub const MAX_ATTEMPTS: usize = 4;
/// Retries after 429/503 (each waits the server's `Retry-After`).
pub const MAX_THROTTLE_RETRIES: usize = 12;
/// First backoff delay after a failure; doubles per attempt.
pub const RETRY_DELAY: Duration = Duration::from_secs(2);
/// A `Retry-After` longer than this is cut to it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// Largest JSON answer read: Graph's largest pages (999 users, 50 messages with their replies) are a few MiB.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Pages one listing may have: 100 000 pages of 50 messages is five million messages in one channel.
pub const MAX_PAGES: usize = 100_000;

/// Chat message reads per second (Teams: 20 per app per tenant).
pub const CHAT_MESSAGES_RPS: u32 = 20;
/// Channel message reads per second (Teams: 20 per app per tenant).
pub const CHANNEL_MESSAGES_RPS: u32 = 20;
/// Other Teams GETs per second (teams, channels, tabs, chats: 30 per app per tenant).
pub const TEAMS_RPS: u32 = 30;
/// Calendar reads per second (Outlook: 10 000 per 10 minutes ≈ 16 per second).
pub const OUTLOOK_RPS: u32 = 16;
/// SharePoint resource units per second for the smallest tenant size (1 250 per minute ≈ 20.8; a children
/// listing costs 2). What `drives=` in `rate_limits` is compared with; the pacer starts at the declared tenant
/// size's exact budget (see `graph/limits.rs`, `TenantSize`).
pub const DRIVES_RPS: u32 = 20;
/// SharePoint resource units per app per minute, by the tenant's license count (0–1 000, 1 001–5 000,
/// 5 001–15 000, 15 001–50 000, over 50 000). Microsoft Learn, "Avoid getting throttled or blocked in SharePoint
/// Online", application throttling table (current English page; earlier revisions, still in some translations,
/// said 1 200 / 2 400 / 3 600 / 4 800 / 6 000).
pub const SHAREPOINT_RU_PER_MINUTE: [u32; 5] = [1_250, 2_500, 3_750, 5_000, 6_250];
/// Requests per second for users and everything else.
pub const OTHER_RPS: u32 = 30;
/// Requests per second on any one team or channel (Teams: 4).
pub const PER_TEAM_OR_CHANNEL_RPS: u32 = 4;

/// How often the pacer of an endpoint class reconsiders its rate: it grows by [`PACING_STEP`] of its starting rate
/// after a window in which requests queued for it and the server neither throttled nor warned.
pub const PACING_WINDOW: Duration = Duration::from_secs(1);
/// The window SharePoint's `RateLimit-Limit` header counts resource units over (its per-app budget is per minute).
pub const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);
/// Growth per unthrottled window, as a share of the class's starting rate (additive increase).
pub const PACING_STEP: f64 = 0.1;
/// How far a class that adapts may grow: this many times its starting rate (and for SharePoint never past the
/// largest tenant size's budget, Microsoft's documented ceiling).
pub const PACING_CEILING_FACTOR: f64 = 2.0;
/// The lowest a class's rate falls after repeated 429/503s, as a share of its starting rate.
pub const PACING_FLOOR_SHARE: f64 = 1.0 / 64.0;

/// Chats crawled at once (app-only: users whose chats are listed at once is half of this).
pub const CHATS_CONCURRENCY: usize = 8;
/// Users whose calendars are crawled at once.
pub const CALENDARS_CONCURRENCY: usize = 4;
/// Teams crawled at once.
pub const TEAMS_CONCURRENCY: usize = 2;
/// Channels crawled at once within one team.
pub const CHANNELS_PER_TEAM_CONCURRENCY: usize = 4;
/// Chat attachments resolved at once within one chat.
pub const ATTACHMENTS_CONCURRENCY: usize = 4;

/// Files larger than this are indexed without content (spec §10.7); the service passes its
/// `service.max_file_download_size` instead (the same 10 MiB by default).
pub const MAX_DOWNLOAD_BYTES: u64 = 10 * 1024 * 1024;
