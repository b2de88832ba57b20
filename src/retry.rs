//! Backoff schedules, behind one small module because the `backoff` crate is unmaintained: swapping it touches
//! this file only. Deadlines are measured by the caller with `tokio::time::Instant`, so tests can pause time.

use std::time::Duration;

use backoff::backoff::Backoff as _;

/// Successive delays: `initial`, `initial × multiplier`, … capped at `max_interval`, optionally with jitter.
pub struct Backoff {
    inner: backoff::ExponentialBackoff,
}

impl Backoff {
    /// A deterministic schedule (no jitter), as the reference's start-up wait uses.
    pub fn exponential(initial: Duration, multiplier: f64, max_interval: Duration) -> Self {
        Self::with_jitter(initial, multiplier, max_interval, 0.0)
    }

    /// `jitter` is the randomization factor: each delay is drawn from `[d × (1 − j), d × (1 + j)]`.
    pub fn with_jitter(
        initial: Duration,
        multiplier: f64,
        max_interval: Duration,
        jitter: f64,
    ) -> Self {
        let inner = backoff::ExponentialBackoffBuilder::new()
            .with_initial_interval(initial)
            .with_multiplier(multiplier)
            .with_max_interval(max_interval)
            .with_randomization_factor(jitter)
            .with_max_elapsed_time(None)
            .build();
        Backoff { inner }
    }

    /// The next delay. Never `None`: callers bound the total wait themselves.
    pub fn next_delay(&mut self) -> Duration {
        self.inner.next_backoff().unwrap_or(self.inner.max_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_without_jitter_and_caps() {
        let mut b = Backoff::exponential(Duration::from_secs(1), 2.0, Duration::from_secs(10));
        let got: Vec<u64> = (0..6).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn jitter_stays_in_range() {
        let mut b = Backoff::with_jitter(Duration::from_secs(4), 1.0, Duration::from_secs(4), 0.5);
        for _ in 0..50 {
            let d = b.next_delay();
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(6),
                "{d:?}"
            );
        }
    }
}
