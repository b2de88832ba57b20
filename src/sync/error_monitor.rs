//! The bulk error monitor (spec §6.6): decides when failed items are too many for a sync to go on. After each
//! failed item it checks, in order, consecutive errors > `max_consecutive_errors`, total errors >
//! `max_total_errors`, and — when `error_window_size` > 0 — the share of errors among the last
//! `error_window_size` outcomes (the window starts as all successes) > `max_error_rate`. Successes reset the
//! consecutive count and enter the window. It also keeps the last `error_queue_size` error messages for the
//! sync's report. Disabled (`enabled: false`), it keeps counting and remembering but never trips.

use std::collections::VecDeque;

use crate::config::ErrorMonitorConfig;

/// Which limit a sync crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    Consecutive,
    Total,
    Rate,
}

/// The sync has seen too many failed items. The message names the threshold and the last error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TooManyErrors {
    pub threshold: Threshold,
    message: String,
}

#[derive(Debug)]
pub struct ErrorMonitor {
    cfg: ErrorMonitorConfig,
    consecutive: u64,
    total: u64,
    /// Ring of the last `error_window_size` outcomes, `true` = error; `window_errors` counts the `true`s.
    window: Vec<bool>,
    window_pos: usize,
    window_errors: usize,
    last_errors: VecDeque<String>,
}

impl ErrorMonitor {
    pub fn new(cfg: &ErrorMonitorConfig) -> Self {
        ErrorMonitor {
            cfg: cfg.clone(),
            consecutive: 0,
            total: 0,
            window: vec![false; cfg.error_window_size],
            window_pos: 0,
            window_errors: 0,
            last_errors: VecDeque::with_capacity(cfg.error_queue_size.min(64)),
        }
    }

    pub fn track_success(&mut self) {
        self.consecutive = 0;
        self.enter_window(false);
    }

    /// Records a failed item; `Err` once a threshold is crossed (and for every further error while it stays so).
    pub fn track_error(&mut self, error: impl Into<String>) -> Result<(), TooManyErrors> {
        let error = error.into();
        self.consecutive += 1;
        self.total += 1;
        self.enter_window(true);
        if self.cfg.error_queue_size > 0 {
            if self.last_errors.len() == self.cfg.error_queue_size {
                self.last_errors.pop_front();
            }
            self.last_errors.push_back(error.clone());
        }
        if !self.cfg.enabled {
            return Ok(());
        }
        let (threshold, what) = if self.consecutive > self.cfg.max_consecutive_errors {
            (
                Threshold::Consecutive,
                format!(
                    "{} errors in a row (bulk.error_monitor.max_consecutive_errors is {})",
                    self.consecutive, self.cfg.max_consecutive_errors
                ),
            )
        } else if self.total > self.cfg.max_total_errors {
            (
                Threshold::Total,
                format!(
                    "{} errors in total (bulk.error_monitor.max_total_errors is {})",
                    self.total, self.cfg.max_total_errors
                ),
            )
        } else if !self.window.is_empty() && self.window_rate() > self.cfg.max_error_rate {
            (
                Threshold::Rate,
                format!(
                    "{} errors in the last {} operations (bulk.error_monitor.max_error_rate is {})",
                    self.window_errors,
                    self.window.len(),
                    self.cfg.max_error_rate
                ),
            )
        } else {
            return Ok(());
        };
        Err(TooManyErrors {
            threshold,
            message: format!("Too many errors while indexing: {what}. Last error: {error}"),
        })
    }

    pub fn total_errors(&self) -> u64 {
        self.total
    }

    /// The last `error_queue_size` error messages, oldest first.
    pub fn last_errors(&self) -> Vec<String> {
        self.last_errors.iter().cloned().collect()
    }

    fn window_rate(&self) -> f64 {
        self.window_errors as f64 / self.window.len() as f64
    }

    fn enter_window(&mut self, error: bool) {
        let Some(slot) = self.window.get_mut(self.window_pos) else {
            return;
        };
        let was = std::mem::replace(slot, error);
        self.window_errors = self.window_errors + usize::from(error) - usize::from(was);
        self.window_pos = (self.window_pos + 1) % self.window.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(consecutive: u64, total: u64, rate: f64, window: usize) -> ErrorMonitorConfig {
        ErrorMonitorConfig {
            enabled: true,
            max_total_errors: total,
            max_consecutive_errors: consecutive,
            max_error_rate: rate,
            error_window_size: window,
            error_queue_size: 3,
        }
    }

    /// Feeds `n` errors, returning the 1-based index of the one that tripped.
    fn errors_until_trip(m: &mut ErrorMonitor, n: u64) -> Option<(u64, TooManyErrors)> {
        (1..=n).find_map(|i| m.track_error(format!("e{i}")).err().map(|e| (i, e)))
    }

    #[test]
    fn consecutive_trips_one_past_the_limit() {
        let mut m = ErrorMonitor::new(&cfg(3, 1000, 1.0, 0));
        let (at, e) = errors_until_trip(&mut m, 10).unwrap();
        assert_eq!(at, 4);
        assert_eq!(e.threshold, Threshold::Consecutive);
        let text = e.to_string();
        assert!(
            text.contains("4 errors in a row") && text.contains("max_consecutive_errors is 3"),
            "{text}"
        );
        assert!(text.ends_with("Last error: e4"), "{text}");
    }

    #[test]
    fn a_success_resets_the_consecutive_count() {
        let mut m = ErrorMonitor::new(&cfg(3, 1000, 1.0, 0));
        for _ in 0..5 {
            for i in 0..3 {
                m.track_error(format!("e{i}")).unwrap();
            }
            m.track_success();
        }
        assert_eq!(m.total_errors(), 15);
    }

    #[test]
    fn total_trips_one_past_the_limit() {
        let mut m = ErrorMonitor::new(&cfg(1, 5, 1.0, 0));
        for i in 0..5 {
            m.track_error(format!("e{i}")).unwrap();
            m.track_success();
        }
        let e = m.track_error("e6").unwrap_err();
        assert_eq!(e.threshold, Threshold::Total);
        assert!(e.to_string().contains("6 errors in total"), "{e}");
    }

    #[test]
    fn rate_trips_only_above_the_limit() {
        // Window 10, rate 0.2: two errors among the last ten are allowed, a third is not.
        let mut m = ErrorMonitor::new(&cfg(100, 1000, 0.2, 10));
        m.track_error("a").unwrap();
        m.track_error("b").unwrap();
        let e = m.track_error("c").unwrap_err();
        assert_eq!(e.threshold, Threshold::Rate);
        assert!(
            e.to_string().contains("3 errors in the last 10 operations"),
            "{e}"
        );
    }

    #[test]
    fn old_errors_leave_the_window() {
        let mut m = ErrorMonitor::new(&cfg(100, 1000, 0.2, 10));
        m.track_error("a").unwrap();
        m.track_error("b").unwrap();
        for _ in 0..8 {
            m.track_success();
        }
        // The window is now [a, b, 8 × ok]; the next outcome pushes `a` out.
        m.track_error("c").unwrap();
        // [b, 8 × ok, c] + d pushes `b` out: still two.
        m.track_error("d").unwrap();
        assert!(m.track_error("e").is_err());
    }

    #[test]
    fn a_zero_window_disables_the_rate_check() {
        let mut m = ErrorMonitor::new(&cfg(100, 1000, 0.0, 0));
        assert!(errors_until_trip(&mut m, 100).is_none());
    }

    #[test]
    fn the_checks_run_in_order() {
        // All three would trip on the first error; the consecutive check is reported.
        let mut m = ErrorMonitor::new(&cfg(0, 0, 0.0, 1));
        assert_eq!(
            m.track_error("x").unwrap_err().threshold,
            Threshold::Consecutive
        );
        let mut m = ErrorMonitor::new(&cfg(5, 0, 0.0, 1));
        assert_eq!(m.track_error("x").unwrap_err().threshold, Threshold::Total);
    }

    #[test]
    fn disabled_never_trips_but_remembers() {
        let mut config = cfg(0, 0, 0.0, 1);
        config.enabled = false;
        let mut m = ErrorMonitor::new(&config);
        assert!(errors_until_trip(&mut m, 50).is_none());
        assert_eq!(m.total_errors(), 50);
        assert_eq!(m.last_errors(), ["e48", "e49", "e50"]);
    }

    #[test]
    fn defaults_trip_on_the_eleventh_consecutive_error() {
        let mut m = ErrorMonitor::new(&ErrorMonitorConfig::default());
        // 11 errors among the last 100 outcomes is 11 %, under the 15 % rate limit.
        let (at, e) = errors_until_trip(&mut m, 20).unwrap();
        assert_eq!((at, e.threshold), (11, Threshold::Consecutive));
    }

    #[test]
    fn defaults_trip_on_the_sixteenth_error_in_a_hundred() {
        let mut m = ErrorMonitor::new(&ErrorMonitorConfig::default());
        for i in 0..15 {
            m.track_error(format!("e{i}")).unwrap();
            m.track_success();
        }
        assert_eq!(m.track_error("e15").unwrap_err().threshold, Threshold::Rate);
    }
}
