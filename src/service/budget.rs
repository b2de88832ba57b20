//! The poll-loop error budget (spec §5.6): a loop survives occasional failed iterations, but more than
//! `max_errors` within `max_errors_span` means something is persistently wrong and the service stops.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct ErrorBudget {
    max_errors: u32,
    span: Duration,
    count: u32,
    first_at: Option<Instant>,
}

impl ErrorBudget {
    pub fn new(max_errors: u32, span: Duration) -> Self {
        ErrorBudget {
            max_errors,
            span,
            count: 0,
            first_at: None,
        }
    }

    /// Counts one failed iteration at `now`; `false` once the budget is exhausted.
    pub fn spend(&mut self, now: Instant) -> bool {
        match self.first_at {
            Some(first) if now.duration_since(first) <= self.span => {}
            _ => {
                self.count = 0;
                self.first_at = Some(now);
            }
        }
        self.count += 1;
        self.count <= self.max_errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhausts_within_the_span_and_recovers_after_it() {
        let start = Instant::now();
        let mut b = ErrorBudget::new(3, Duration::from_secs(600));
        assert!(b.spend(start));
        assert!(b.spend(start + Duration::from_secs(1)));
        assert!(b.spend(start + Duration::from_secs(2)));
        assert!(
            !b.spend(start + Duration::from_secs(3)),
            "fourth error within the span"
        );
        let later = start + Duration::from_secs(601);
        assert!(
            b.spend(later),
            "the window restarts once the first error is older than the span"
        );
        assert!(b.spend(later) && b.spend(later) && !b.spend(later));
    }
}
