//! The content engine's memory budget: `elasticsearch.bulk.queue_max_mem_size` MiB shared by every byte that
//! travels between a source and Elasticsearch — download buffers, text extraction, base64, operations waiting in
//! the queue, batches being built and `_bulk` bodies being sent. Bytes are reserved before the memory is used and
//! given back when it is freed: a download reserves its expected size before it starts (so downloads wait while
//! the budget is spent), the reservation shrinks to the finished operation, travels with it through the queue
//! into a batch, and is released when that batch's request has finished. The budget is the engine's, so
//! concurrent syncs share it.
//!
//! Rules:
//! - a reservation never asks for more than the whole budget, so one item larger than the budget still goes
//!   through, alone, once everything else has drained;
//! - waiting holds nothing: [`MemoryBudget::reserve`] takes all of its bytes at once or none (tokio's fair
//!   semaphore), so two waiters can never each hold half of what the other needs;
//! - growing a reservation never waits ([`Reservation::grow_to`]): what is free is taken and the rest is counted
//!   as *overdraft* — memory in use beyond the budget, shown by [`MemoryBudget::in_use`] and
//!   [`MemoryBudget::peak`]. Growth happens when an estimate was low (extracted text longer than expected) and
//!   while several operations are copied into one request body. The overdraft is a debt of the whole budget,
//!   repaid first from whatever bytes are given back, before any waiting reservation is served — so memory in use
//!   returns to the budget as soon as anything is freed;
//! - a reservation gives its bytes back when dropped, so every exit path (an error, a cancelled task, a failed
//!   request) releases what it held.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{Notify, Semaphore};

/// Budgets above 4 GiB count as 4 GiB (the semaphore takes `u32` permits at a time).
const MAX_BUDGET: usize = u32::MAX as usize;

/// The budget's semaphore was closed. Nothing closes it (a sink that stops wakes its producers through the
/// queue, since other syncs share the budget), so this is tokio's error type rather than a case callers meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the memory budget is closed")]
pub struct BudgetClosed;

/// A pool of bytes; cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    /// One permit per byte.
    free: Semaphore,
    total: usize,
    /// Bytes in use beyond the budget (grown reservations that found too little free), repaid first from bytes
    /// given back.
    overdraft: AtomicUsize,
    /// The most bytes ever in use at once (overdraft included).
    peak: AtomicUsize,
    /// Signalled when a reservation has to wait, so whoever holds bytes idle (a half-built batch) lets them go.
    pressure: Notify,
    /// Reservations waiting right now.
    waiting: AtomicUsize,
}

impl std::fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("total", &self.inner.total)
            .field("in_use", &self.in_use())
            .finish()
    }
}

impl MemoryBudget {
    /// A budget of `bytes`; 0 means no bound (4 GiB).
    pub fn new(bytes: usize) -> Self {
        let total = if bytes == 0 {
            MAX_BUDGET
        } else {
            bytes.min(MAX_BUDGET)
        };
        MemoryBudget {
            inner: Arc::new(Inner {
                free: Semaphore::new(total),
                total,
                overdraft: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                pressure: Notify::new(),
                waiting: AtomicUsize::new(0),
            }),
        }
    }

    pub fn total(&self) -> usize {
        self.inner.total
    }

    /// Bytes reserved right now, overdraft included.
    pub fn in_use(&self) -> usize {
        self.inner.in_use()
    }

    /// The most bytes reserved at once so far.
    pub fn peak(&self) -> usize {
        self.inner.peak.load(Ordering::Relaxed)
    }

    /// Reserves `bytes` (at most the whole budget), waiting until they are free.
    pub async fn reserve(&self, bytes: usize) -> Result<Reservation, BudgetClosed> {
        let want = self.capped(bytes);
        if let Some(r) = self.try_reserve(want as usize) {
            return Ok(r);
        }
        // Tell holders of idle bytes (the sink's open batch) that someone is waiting, and keep saying so
        // (`has_waiters`) until this reservation is served or given up.
        let _waiting = Waiting::new(&self.inner);
        self.inner.pressure.notify_one();
        let permit = self
            .inner
            .free
            .acquire_many(want)
            .await
            .map_err(|_| BudgetClosed)?;
        permit.forget();
        Ok(self.granted(want))
    }

    /// Reserves `bytes` (at most the whole budget) if they are free now.
    pub fn try_reserve(&self, bytes: usize) -> Option<Reservation> {
        let want = self.capped(bytes);
        let permit = self.inner.free.try_acquire_many(want).ok()?;
        permit.forget();
        Some(self.granted(want))
    }

    /// A reservation of nothing, to merge others into.
    pub fn none(&self) -> Reservation {
        Reservation {
            budget: Arc::clone(&self.inner),
            bytes: 0,
        }
    }

    /// Completes once a reservation has had to wait since the last call.
    pub async fn pressure(&self) {
        self.inner.pressure.notified().await;
    }

    /// Whether a reservation is waiting for bytes now: whoever holds bytes it could let go should.
    pub fn has_waiters(&self) -> bool {
        self.inner.waiting.load(Ordering::Relaxed) > 0
    }

    fn capped(&self, bytes: usize) -> u32 {
        u32::try_from(bytes.min(self.inner.total)).unwrap_or(u32::MAX)
    }

    fn granted(&self, bytes: u32) -> Reservation {
        self.inner.note_peak();
        Reservation {
            budget: Arc::clone(&self.inner),
            bytes: bytes as usize,
        }
    }
}

impl Inner {
    fn in_use(&self) -> usize {
        self.total - self.free.available_permits().min(self.total)
            + self.overdraft.load(Ordering::Relaxed)
    }

    fn note_peak(&self) {
        self.peak.fetch_max(self.in_use(), Ordering::Relaxed);
    }

    /// Gives back `bytes`: they repay the overdraft first, the rest returns to the pool (and so to waiters).
    fn release(&self, bytes: usize) {
        let mut repaid = 0;
        let _ = self
            .overdraft
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |debt| {
                repaid = debt.min(bytes);
                Some(debt - repaid)
            });
        self.free.add_permits(bytes - repaid);
    }
}

/// Counts one waiting reservation while alive (also when the waiting future is dropped).
struct Waiting<'a>(&'a Inner);

impl<'a> Waiting<'a> {
    fn new(inner: &'a Inner) -> Self {
        inner.waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(inner)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Bytes taken from a [`MemoryBudget`], given back when dropped.
pub struct Reservation {
    budget: Arc<Inner>,
    /// Bytes counted for this holder: taken from the pool, or (when the pool was empty) added to its overdraft.
    bytes: usize,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reservation({} bytes)", self.bytes())
    }
}

impl Reservation {
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes over `other`'s bytes (both must come from the same budget).
    pub fn merge(&mut self, mut other: Reservation) {
        debug_assert!(Arc::ptr_eq(&self.budget, &other.budget));
        self.bytes += std::mem::take(&mut other.bytes);
    }

    /// Moves all of this reservation's bytes into a new one, leaving this one empty.
    pub fn take(&mut self) -> Reservation {
        Reservation {
            budget: Arc::clone(&self.budget),
            bytes: std::mem::take(&mut self.bytes),
        }
    }

    /// Gives back everything above `bytes` (repaying the budget's overdraft first).
    pub fn shrink_to(&mut self, bytes: usize) {
        let excess = self.bytes.saturating_sub(bytes);
        self.bytes -= excess;
        self.budget.release(excess);
    }

    /// Grows to `bytes` without waiting: free bytes are taken, the rest is overdraft (see the module notes).
    pub fn grow_to(&mut self, bytes: usize) {
        let mut missing = bytes.saturating_sub(self.bytes);
        while missing > 0 {
            let step = u32::try_from(missing).unwrap_or(u32::MAX);
            let available = u32::try_from(self.budget.free.available_permits()).unwrap_or(u32::MAX);
            let take = step.min(available);
            match self.budget.free.try_acquire_many(take) {
                Ok(permit) if take > 0 => {
                    permit.forget();
                    self.bytes += take as usize;
                    missing -= take as usize;
                }
                // Nothing free (or a race took it): the rest is overdraft.
                _ => {
                    self.bytes += missing;
                    self.budget.overdraft.fetch_add(missing, Ordering::Relaxed);
                    missing = 0;
                }
            }
        }
        self.budget.note_peak();
    }

    /// Adjusts to exactly `bytes`: shrinks, or grows without waiting.
    pub fn fit(&mut self, bytes: usize) {
        if bytes < self.bytes() {
            self.shrink_to(bytes);
        } else {
            self.grow_to(bytes);
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.shrink_to(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[tokio::test]
    async fn freed_bytes_repay_the_overdraft_before_a_waiter_is_served() {
        let budget = MemoryBudget::new(100);
        let a = budget.reserve(100).await.unwrap();
        let mut b = budget.none();
        b.grow_to(30);
        assert_eq!(budget.in_use(), 130);
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(90).await.map(|r| r.bytes()) }
        });
        tokio::task::yield_now().await;
        drop(a);
        tokio::task::yield_now().await;
        // 30 of a's 100 bytes repaid b's overdraft; the other 70 are set aside for the waiter, too few for it.
        assert!(!waiting.is_finished());
        assert_eq!(budget.in_use(), 100);
        drop(b);
        assert_eq!(waiting.await.unwrap(), Ok(90));
        assert_eq!(budget.in_use(), 0);
    }

    #[tokio::test]
    async fn reservations_wait_for_freed_bytes_and_release_on_drop() {
        let budget = MemoryBudget::new(100);
        let a = budget.reserve(60).await.unwrap();
        assert_eq!((budget.in_use(), a.bytes()), (60, 60));
        assert!(budget.try_reserve(50).is_none());
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(50).await.map(|r| r.bytes()) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        // A waiter signals pressure, and is seen waiting until served.
        assert!(budget.pressure().now_or_never().is_some());
        assert!(budget.has_waiters());
        drop(a);
        assert_eq!(waiting.await.unwrap(), Ok(50));
        assert!(!budget.has_waiters());
        assert_eq!(
            budget.in_use(),
            0,
            "the waiter's reservation was dropped too"
        );
        assert_eq!(budget.peak(), 60);
    }

    #[tokio::test]
    async fn more_than_the_whole_budget_is_capped_and_goes_alone() {
        let budget = MemoryBudget::new(100);
        let small = budget.reserve(1).await.unwrap();
        assert!(budget.reserve(1000).now_or_never().is_none());
        drop(small);
        let huge = budget.reserve(1000).await.unwrap();
        assert_eq!(huge.bytes(), 100);
        assert!(budget.try_reserve(1).is_none());
    }

    #[tokio::test]
    async fn shrink_grow_and_merge_keep_the_count() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.reserve(40).await.unwrap();
        a.shrink_to(10);
        assert_eq!((a.bytes(), budget.in_use()), (10, 10));
        let b = budget.reserve(50).await.unwrap();
        a.merge(b);
        assert_eq!((a.bytes(), budget.in_use()), (60, 60));
        // Growing past what is free never waits: the rest is overdraft, visible in use and peak.
        a.grow_to(130);
        assert_eq!((a.bytes(), budget.in_use(), budget.peak()), (130, 130, 130));
        assert!(budget.try_reserve(1).is_none());
        // Shrinking pays the overdraft back first.
        a.shrink_to(90);
        assert_eq!(budget.in_use(), 90);
        assert!(budget.try_reserve(10).is_some());
        a.fit(20);
        assert_eq!(budget.in_use(), 20);
        drop(a);
        assert_eq!(budget.in_use(), 0);
        let mut none = budget.none();
        none.fit(30);
        assert_eq!(budget.in_use(), 30);
    }

    #[test]
    fn zero_means_unbounded() {
        assert_eq!(MemoryBudget::new(0).total(), u32::MAX as usize);
        assert_eq!(MemoryBudget::new(usize::MAX).total(), u32::MAX as usize);
    }
}
