//! The adaptive pacer of one endpoint class: a token bucket whose rate changes while the sync runs (AIMD).
//!
//! - It starts at the class's published rate for the declared tenant size (or the operator's `rate_limits`).
//! - After each [`defaults::PACING_WINDOW`] in which requests queued on it (so the rate, not the crawl, was the
//!   bottleneck) and the server neither throttled nor warned, it grows by [`defaults::PACING_STEP`] of the
//!   starting rate, up to its ceiling.
//! - SharePoint's draft-IETF `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` headers (sent once an
//!   app has used 80 % of its one-minute budget) stop growth for the window and cap the rate at
//!   `RateLimit-Limit` per [`Windows::headers`] (SharePoint's minute), the budget they announce; `RateLimit-Remaining: 0` pauses the class until
//!   `RateLimit-Reset`.
//! - A 429/503 halves the rate (once per throttling episode: the concurrent requests that all get a 429 do not
//!   halve it each) and pauses the whole class for `Retry-After`, so the other requests of the class wait too
//!   instead of storming the server; those already queued re-queue behind the pause.
//!
//! Why not `governor`: its quotas are fixed when a limiter is built, and rebuilding one on every rate change
//! would drop the queue position of requests already waiting and could not express a pause. A reservation-style
//! bucket is a few lines: a request takes its cost now (the balance may go negative) and sleeps until the balance
//! it left would have refilled, so waiting requests are served in arrival order at whatever the rate is.
//! Time is `tokio::time`, so tests run it with paused time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::lock::lock;
use crate::source::{ApiUsage, BudgetTotals};
use crate::sources::teams::defaults;

/// The bucket holds at most this many seconds of the current rate (a short burst after an idle spell).
const BURST_SECS: f64 = 1.0;
/// A pause when a throttling answer names no `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// Rates in units per second; `f64::INFINITY` paces nothing (the class only honours pauses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PacerRates {
    pub start: f64,
    pub ceiling: f64,
}

/// The pacer's two time scales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Windows {
    /// How often the rate is reconsidered.
    pub adapt: Duration,
    /// The window `RateLimit-Limit` counts over (SharePoint: one minute; the draft headers do not say it).
    pub headers: Duration,
}

/// What the server said about a class's budget on one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Signal {
    /// 429 or 503, with the wait it asked for.
    Throttled {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// `RateLimit-Limit` (units per window), `RateLimit-Remaining`, `RateLimit-Reset` (seconds).
    Headroom {
        limit: f64,
        remaining: f64,
        reset: Duration,
    },
}

#[derive(Debug)]
struct State {
    rate: f64,
    ceiling: f64,
    tokens: f64,
    /// The moment `tokens` refers to; in the future while the class is paused.
    at: Instant,
    paused_until: Instant,
    /// Bumped by every pause, so queued requests notice one began while they slept.
    epoch: u64,
    window_start: Instant,
    window_queued: bool,
    /// A 429/503 or a `RateLimit-*` warning in this window: no growth.
    window_hold: bool,
    last_cut: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct Pacer {
    name: &'static str,
    start: f64,
    floor: f64,
    window: Duration,
    headers_window: Duration,
    state: Mutex<State>,
    usage: Arc<ApiUsage>,
}

impl Pacer {
    pub(super) fn new(
        name: &'static str,
        rates: PacerRates,
        windows: Windows,
        usage: Arc<ApiUsage>,
    ) -> Pacer {
        let now = Instant::now();
        let ceiling = rates.ceiling.max(rates.start);
        usage.update_budget(name, |b| {
            *b = BudgetTotals {
                start_rate: rates.start,
                allowed_rate: rates.start,
                lowest_rate: rates.start,
                ceiling_rate: ceiling,
                ..BudgetTotals::default()
            }
        });
        Pacer {
            name,
            start: rates.start,
            floor: (rates.start * defaults::PACING_FLOOR_SHARE).max(0.05),
            window: windows.adapt,
            headers_window: windows.headers,
            state: Mutex::new(State {
                rate: rates.start,
                ceiling,
                tokens: burst(rates.start),
                at: now,
                paused_until: now,
                epoch: 0,
                window_start: now,
                window_queued: false,
                window_hold: false,
                last_cut: None,
            }),
            usage,
        }
    }

    /// The current allowed rate (units per second).
    pub(super) fn rate(&self) -> f64 {
        lock(&self.state).rate
    }

    /// Waits until a request costing `cost` units may go out, and counts it.
    pub(super) async fn pace(&self, cost: f64) {
        let began = Instant::now();
        loop {
            let (wake, epoch) = self.reserve(cost, Instant::now());
            tokio::time::sleep_until(wake).await;
            let state = lock(&self.state);
            // A pause that began while this request slept: queue again behind it.
            if state.epoch == epoch || state.paused_until <= Instant::now() {
                break;
            }
        }
        let now = Instant::now();
        let waited = now.duration_since(began);
        self.usage.update_budget(self.name, |b| {
            b.requests += 1;
            b.units += cost;
            b.paced_wait += waited;
            b.first.get_or_insert(now);
            b.last = Some(now);
        });
    }

    fn reserve(&self, cost: f64, now: Instant) -> (Instant, u64) {
        let mut state = lock(&self.state);
        self.roll_window(&mut state, now);
        if !state.rate.is_finite() {
            return (state.paused_until.max(now), state.epoch);
        }
        if now > state.at {
            let refill = now.duration_since(state.at).as_secs_f64() * state.rate;
            state.tokens = (state.tokens + refill).min(burst(state.rate).max(cost));
            state.at = now;
        }
        state.tokens -= cost;
        let wake = if state.tokens >= 0.0 {
            state.at
        } else {
            state.at + Duration::from_secs_f64(-state.tokens / state.rate)
        };
        if wake > now {
            state.window_queued = true;
        }
        (wake, state.epoch)
    }

    /// Ends the current window if it is over: growth when requests queued (demand above the rate) and nothing
    /// warned or throttled.
    fn roll_window(&self, state: &mut State, now: Instant) {
        if now < state.window_start + self.window {
            return;
        }
        if state.window_queued && !state.window_hold && now >= state.paused_until {
            let grown = (state.rate + self.start * defaults::PACING_STEP).min(state.ceiling);
            self.set_rate(state, grown, now);
        }
        state.window_start = now;
        state.window_queued = false;
        state.window_hold = false;
    }

    fn set_rate(&self, state: &mut State, rate: f64, now: Instant) {
        if rate == state.rate {
            return;
        }
        // Settle the balance at the old rate first, so the change applies from now on.
        if now > state.at && state.rate.is_finite() {
            let refill = now.duration_since(state.at).as_secs_f64() * state.rate;
            state.tokens = (state.tokens + refill).min(burst(state.rate));
            state.at = now;
        }
        state.rate = rate;
        self.usage.update_budget(self.name, |b| {
            b.allowed_rate = rate;
            b.lowest_rate = b.lowest_rate.min(rate);
        });
    }

    /// Stops the class until `until`: the bucket starts empty then, and queued requests re-queue.
    fn pause(&self, state: &mut State, until: Instant) {
        if until <= state.paused_until {
            return;
        }
        state.paused_until = until;
        state.at = state.at.max(until);
        state.tokens = 0.0;
        state.epoch += 1;
    }

    /// Adapts to what the server said about this class's budget.
    pub(super) fn signal(&self, signal: Signal) {
        let now = Instant::now();
        let mut state = lock(&self.state);
        match signal {
            Signal::Throttled {
                status,
                retry_after,
            } => {
                self.usage.update_budget(self.name, |b| match status {
                    503 => b.unavailable_503 += 1,
                    _ => b.throttled_429 += 1,
                });
                state.window_hold = true;
                let pause = retry_after.unwrap_or(DEFAULT_PAUSE);
                // One cut per throttling episode: the answers to requests already in flight tell nothing new.
                let episode = self.window.max(pause);
                if state.last_cut.is_none_or(|cut| now >= cut + episode) {
                    let halved = (state.rate / 2.0).max(self.floor);
                    self.set_rate(&mut state, halved, now);
                    state.last_cut = Some(now);
                }
                self.pause(&mut state, now + pause);
            }
            Signal::Headroom {
                limit,
                remaining,
                reset,
            } => {
                state.window_hold = true;
                if limit > 0.0 && state.rate.is_finite() {
                    let announced = limit / self.headers_window.as_secs_f64().max(0.001);
                    if state.rate > announced {
                        let capped = announced.max(self.floor);
                        self.set_rate(&mut state, capped, now);
                    }
                }
                if remaining <= 0.0 {
                    self.pause(&mut state, now + reset.max(DEFAULT_PAUSE));
                }
            }
        }
    }
}

fn burst(rate: f64) -> f64 {
    (rate * BURST_SECS).max(1.0)
}

#[cfg(test)]
#[path = "pacer_tests.rs"]
mod tests;
