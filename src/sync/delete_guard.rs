//! The delete guard: the last check before a full sync's deletions are queued.

use crate::source::ACCEPT_LARGE_DELETION;

/// The last line of defence against a listing that looked complete but was not (an empty page Graph should not
/// have sent, a proxy answering for Graph): a full sync whose deletions would exceed `share` of the documents found
/// in the index, and number at least `min_documents`, deletes nothing unless the operator `accepted` it. (Incremental
/// syncs that re-list everything delete the same way and are guarded the same way; delta listings delete only
/// what the source reports.)
#[derive(Debug, Clone, Copy)]
pub struct DeleteGuard {
    pub share: f64,
    pub min_documents: u64,
    /// The connector's `accept_large_deletion` value: let this one sync delete past the guard.
    pub accepted: bool,
}

/// Deletions the guard held back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldBack {
    pub would_delete: u64,
    pub found: u64,
}

impl DeleteGuard {
    /// Whether deleting `would_delete` of `found` documents trips the guard.
    pub fn trips(&self, would_delete: u64, found: u64) -> bool {
        would_delete >= self.min_documents.max(1)
            && (would_delete as f64) > self.share * found as f64
    }

    pub fn describe(&self, held: HeldBack) -> String {
        format!(
            "Deleted nothing: this sync would have deleted {} of the {} documents in the index ({:.0} %), more than service.delete_guard_share ({:.0} %) allows. If that many documents are really gone, set the connector's `{}` to true for one sync.",
            held.would_delete,
            held.found,
            100.0 * held.would_delete as f64 / held.found.max(1) as f64,
            100.0 * self.share,
            ACCEPT_LARGE_DELETION,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_trips_past_the_share_and_the_minimum() {
        let guard = DeleteGuard {
            share: 0.5,
            min_documents: 100,
            accepted: false,
        };
        assert!(guard.trips(501, 1000));
        assert!(!guard.trips(500, 1000), "exactly half is allowed");
        assert!(!guard.trips(99, 100), "fewer than the minimum: allowed");
        assert!(guard.trips(100, 100));
        let off = DeleteGuard {
            share: 1.0,
            ..guard
        };
        assert!(!off.trips(1000, 1000), "a share of 1 never trips");
        let message = guard.describe(HeldBack {
            would_delete: 900,
            found: 1000,
        });
        assert!(
            message.contains("900 of the 1000") && message.contains("90 %"),
            "{message}"
        );
        assert!(
            message.contains("service.delete_guard_share")
                && message.contains("accept_large_deletion")
        );
    }
}
