//! The one way this crate takes a `std::sync::Mutex`: [`lock`], which recovers a poisoned lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, recovering it if a previous holder panicked.
///
/// Recovery is right for every mutex in this crate: each guards a counter, a cache or a set (jobs running,
/// connectors checked in, chats seen, a trust-store cache, captured test output) whose every single update is
/// one call that leaves it valid, so a holder that panicked cannot have left it half-changed. Refusing the lock
/// instead would turn one panic into a panic or a silently skipped step at every later use.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_recovered_with_its_data() {
        let mutex = Mutex::new(vec![1]);
        let panicked = std::panic::catch_unwind(|| {
            let mut guard = lock(&mutex);
            guard.push(2);
            panic!("holder panics");
        });
        assert!(panicked.is_err());
        assert!(mutex.is_poisoned());
        lock(&mutex).push(3);
        assert_eq!(*lock(&mutex), vec![1, 2, 3]);
    }
}
