//! The crawl's progress for a person reading the log: how many users (calendars), teams, channels and chats are
//! done and how many are known but not done yet, how many files were downloaded, and what Graph cost so far
//! (requests, throttling answers, seconds waited). The crawl counts into [`CrawlProgress`]; [`report`] logs it
//! every `every` while the crawl runs, and the crawl logs it once more when its listing ends.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use crate::source::ApiUsage;

/// How often a running crawl logs its progress (the sink's progress lines use the same period).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Things of one kind the crawl has found, and how many of them it has finished.
#[derive(Debug, Default)]
pub struct Tally {
    found: AtomicU64,
    done: AtomicU64,
}

impl Tally {
    pub fn found(&self, n: usize) {
        self.found.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn finished_one(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// (done, pending).
    fn counts(&self) -> (u64, u64) {
        let done = self.done.load(Ordering::Relaxed);
        let found = self.found.load(Ordering::Relaxed);
        (done, found.saturating_sub(done))
    }
}

/// The crawl's counters. Users count once their calendar is listed; a team once all its channels are.
#[derive(Debug, Default)]
pub struct CrawlProgress {
    pub users: Tally,
    pub teams: Tally,
    pub channels: Tally,
    pub chats: Tally,
    downloads: AtomicU64,
}

/// Which line [`CrawlProgress::log`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Running,
    ListingDone,
}

impl CrawlProgress {
    pub fn downloaded_one(&self) {
        self.downloads.fetch_add(1, Ordering::Relaxed);
    }

    pub fn log(&self, moment: Moment, usage: &ApiUsage) {
        let (users_done, users_pending) = self.users.counts();
        let (teams_done, teams_pending) = self.teams.counts();
        let (channels_done, channels_pending) = self.channels.counts();
        let (chats_done, chats_pending) = self.chats.counts();
        let downloads = self.downloads.load(Ordering::Relaxed);
        let api = usage.totals();
        let what = match moment {
            Moment::Running => "Teams crawl progress",
            Moment::ListingDone => "Teams listing finished (downloads may still run)",
        };
        tracing::info!(
            users_done,
            users_pending,
            teams_done,
            teams_pending,
            channels_done,
            channels_pending,
            chats_done,
            chats_pending,
            downloads,
            api_requests = api.requests,
            api_throttled = api.throttled,
            api_throttle_wait_s = api.throttle_wait_secs(),
            "{what}"
        );
    }
}

/// Logs `progress` every `every`, first after one period (a crawl shorter than that logs no progress line). Never
/// returns: the crawl's supervisor drops it when the listing ends.
pub async fn report(progress: &CrawlProgress, usage: &ApiUsage, every: Duration) -> Infallible {
    let mut ticker = tokio::time::interval_at(Instant::now() + every, every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        progress.log(Moment::Running, usage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            crate::lock::lock(&self.0).extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_line_per_period_with_done_and_pending() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = crate::logging::subscriber(
            tracing_subscriber::EnvFilter::new("info"),
            crate::logging::LogFormat::Ecs,
            move || writer.clone(),
        );
        let _default = tracing::subscriber::set_default(subscriber);
        let progress = CrawlProgress::default();
        let usage = ApiUsage::default();
        progress.users.found(3);
        progress.users.finished_one();
        progress.channels.found(2);
        progress.downloaded_one();
        usage.add_request();
        usage.add_throttled(Duration::from_millis(1500));
        let reporting = report(&progress, &usage, PROGRESS_EVERY);
        // 25 s of (paused, auto-advancing) time: ticks at 10 s and 20 s.
        let _ = tokio::time::timeout(Duration::from_secs(25), reporting).await;
        let text = String::from_utf8(crate::lock::lock(&lines.0).clone()).unwrap();
        let parsed: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 2, "{text}");
        let labels = &parsed[0]["labels"];
        assert_eq!(parsed[0]["message"], "Teams crawl progress");
        assert_eq!(labels["users_done"], "1");
        assert_eq!(labels["users_pending"], "2");
        assert_eq!(labels["channels_pending"], "2");
        assert_eq!(labels["downloads"], "1");
        assert_eq!(labels["api_requests"], "1");
        assert_eq!(labels["api_throttled"], "1");
        assert_eq!(labels["api_throttle_wait_s"], "1.5");
    }
}
