//! What the crawl has already seen in this sync — chats (app-only lists a chat once per member), shared files
//! (a file shared in several messages), folders of a files walk — kept as 128-bit keyed hashes instead of the ids,
//! so the sets cost the same per entry whatever the ids' length (a chat id is ~50 bytes, a sender and file name
//! more; kept as `String`s that was ~100–150 bytes per entry, here at most 39, about 25 once the table settles).
//!
//! Why 128 bits, not the 64 of the existing-documents map (`es::content::ExistingDocs`): there a collision only
//! makes the sync reindex a document or keep a stale one. Here it would make the crawl take an entry it never saw
//! for seen and skip it — a chat's messages, tabs and files, a shared file, or a folder's whole subtree would
//! silently not be listed, and a full sync deletes what it did not list. That is data loss, so the odds must be
//! negligible, not merely small: with n entries a collision has probability about n² / 2¹²⁹ — 1.5 × 10⁻²⁷ for a
//! million chats, 1.5 × 10⁻²¹ for a billion (64 bits would give 2.7 × 10⁻⁸ and 2.7 × 10⁻²). The two 64-bit
//! halves are SipHash under two random keys drawn per set (`RandomState`), so nobody can pick file names that
//! collide on purpose: names are user-chosen, and with known keys 64 bits would fall to a birthday search.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// A set of keys (`&str`, or a tuple of them) held as 128-bit hashes.
#[derive(Debug, Default)]
pub(super) struct Seen {
    keys: [RandomState; 2],
    hashes: HashSet<u128, BuildHasherDefault<LowBits>>,
}

impl Seen {
    /// Adds `key`; `true` if it was not there yet (as `HashSet::insert`).
    pub(super) fn insert(&mut self, key: impl Hash) -> bool {
        let high = self.keys[0].hash_one(&key);
        let low = self.keys[1].hash_one(&key);
        self.hashes
            .insert((u128::from(high) << 64) | u128::from(low))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Heap bytes of the table (for tests): a 16-byte hash and a control byte per bucket, buckets the power of
    /// two that keeps the load at most 7/8.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        let buckets = (self.hashes.capacity() * 8 / 7).next_power_of_two();
        buckets * (std::mem::size_of::<u128>() + 1)
    }
}

/// The table's own hash of an entry: its low 64 bits, already uniform (and keyed), so not hashed again.
#[derive(Debug, Default)]
struct LowBits(u64);

impl Hasher for LowBits {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used (the table holds `u128`s); any other input is folded in byte by byte.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, hash: u128) {
        // Truncation on purpose: the low half of the 128-bit hash.
        self.0 = hash as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_per_key_and_tells_tuples_apart() {
        let mut seen = Seen::default();
        assert!(seen.insert("19:chat@thread.v2"));
        assert!(!seen.insert("19:chat@thread.v2"));
        assert!(seen.insert("19:other@thread.v2"));
        // A pair is hashed field by field with a terminator, so moving the split point is another key.
        assert!(seen.insert(("user-1", "notes.docx")));
        assert!(!seen.insert(("user-1", "notes.docx")));
        assert!(seen.insert(("user-1n", "otes.docx")));
        assert!(seen.insert(("user-2", "notes.docx")));
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn two_sets_hash_with_their_own_keys_and_agree_on_membership() {
        let (mut a, mut b) = (Seen::default(), Seen::default());
        for i in 0..10_000 {
            let id = format!("folder-{i}");
            assert!(a.insert(&id) && b.insert(&id));
        }
        assert!((0..10_000).all(|i| !a.insert(format!("folder-{i}"))));
        assert_eq!((a.len(), b.len()), (10_000, 10_000));
    }

    #[test]
    fn at_most_39_bytes_per_entry_whatever_the_id_length() {
        let mut seen = Seen::default();
        let n = 100_000;
        for i in 0..n {
            seen.insert((
                format!("a-sender-id-{i:08}-0000-0000-0000-000000000000"),
                format!("Quarterly report draft {i} (final, reviewed by legal).docx"),
            ));
        }
        assert_eq!(seen.len(), n);
        let per_entry = seen.heap_bytes() / n;
        // Worst case just after the table doubled: 17 bytes per bucket at a load of 7/16.
        assert!(per_entry <= 39, "{per_entry} bytes per entry");
        // The same pairs as owned strings: two 24-byte `String`s plus ~100 bytes of text, before the table.
        let as_strings = 2 * std::mem::size_of::<String>() + 100;
        assert!(per_entry * 3 < as_strings, "{per_entry} vs {as_strings}");
    }
}
