//! What a drive file holds: a corpus file, nothing, or a generated file with a realistic size — most between
//! 0.1 and 3 MB, a tail up to 12 MiB (some over the connector's 10 MiB download cap) — and, for a few, a listed
//! size that is wrong. Plus the edge cases every data set has once, in its first channel files. The choices are
//! drawn from a stream of their own (`Generator::files`): the main stream makes the same draws as when every
//! file was a corpus file, so ids, messages and document counts do not depend on what the files hold. `small` (what the test
//! suite syncs, many times over) keeps its ordinary generated files under 1 MB and lists them truthfully: its
//! big and lying files are the edge cases only.

use super::*;

/// The honest file just over the connector's 10 MiB download limit (skipped by its listed size); a whole
/// number of generated text lines.
pub const BIG_FILE_SIZE: u64 = 10 * 1024 * 1024 + 4140;
/// The largest generated file.
pub const MAX_FILE_SIZE: u64 = 12 * 1024 * 1024;
/// What the file listed too small says it holds.
const LIE_SMALL: u64 = 45_312;

const MB: u64 = 1_000_000;

/// Generated kinds and their weights: office files and PDFs dominate real team sites; videos are big but never
/// downloaded (not extractable).
const KINDS: &[(Synth, u64)] = &[
    (Synth::Docx, 28),
    (Synth::Pdf, 28),
    (Synth::Pptx, 18),
    (Synth::Text, 6),
    (Synth::Csv, 6),
    (Synth::Html, 5),
    (Synth::Video, 9),
];

/// A generated file of `kind` about `target` bytes long (exactly as the kind's layout allows), listed at `listed`
/// or else at its real size.
fn generated(kind: Synth, target: u64, listed: Option<u64>, seed: u64) -> Content {
    let size = kind.exact_len(target, seed);
    Content::Generated {
        kind,
        size,
        listed: listed.unwrap_or(size),
        seed,
    }
}

impl Generator {
    /// The first channel file: the honest file over the cap, made from `seed` (drawn from the main stream, as it
    /// always was). Queues the other edge cases for the next channel file slots.
    pub(super) fn big_file(&mut self, seed: u64) -> (Option<&'static str>, Content) {
        // Popped from the end: the file listed too small comes first.
        self.pending_specials = vec![
            // Listed at 9 MB, 1.5 MB of bytes: downloaded whole.
            (
                "Board deck",
                generated(Synth::Pptx, 1_500_000, Some(9 * MB), self.files.next_u64()),
            ),
            // Listed as 45 KB, 12 MiB of bytes: the download must stop at the cap.
            (
                "Site survey scan",
                generated(
                    Synth::Pdf,
                    MAX_FILE_SIZE,
                    Some(LIE_SMALL),
                    self.files.next_u64(),
                ),
            ),
        ];
        // Over the cap, and listed so: never downloaded.
        (
            Some("Transcripts export"),
            generated(Synth::Text, BIG_FILE_SIZE, None, seed),
        )
    }

    /// A channel file slot that drew `corpus` from the main stream: a pending edge case, else as
    /// [`Generator::file_content`].
    pub(super) fn channel_file_content(
        &mut self,
        corpus: Content,
    ) -> (Option<&'static str>, Content) {
        match self.pending_specials.pop() {
            Some((name, content)) => (Some(name), content),
            None => (None, self.file_content(corpus)),
        }
    }

    /// The content of an ordinary drive file that drew `corpus` from the main stream: that corpus file (a
    /// profile's `corpus_share` of files), else a generated file — kind, size, seed and listed size drawn from
    /// the files stream.
    pub fn file_content(&mut self, corpus: Content) -> Content {
        if self.files.chance(self.p.corpus_share) {
            return corpus;
        }
        let total: u64 = KINDS.iter().map(|(_, w)| w).sum();
        let mut roll = self.files.below(total);
        let kind = KINDS
            .iter()
            .find(|(_, w)| {
                let hit = roll < *w;
                roll = roll.saturating_sub(*w);
                hit
            })
            .map_or(Synth::Docx, |(k, _)| *k);
        let target = match kind {
            // Text files are rarely large.
            Synth::Text | Synth::Csv | Synth::Html => self.log_uniform(5_000, 600_000),
            Synth::Video => self.log_uniform(3 * MB, MAX_FILE_SIZE),
            _ => match self.files.below(100) {
                0..=7 => self.log_uniform(20_000, 100_000),
                8..=79 => self.log_uniform(100_000, 3 * MB),
                80..=92 => self.log_uniform(3 * MB, 8 * MB),
                _ => self.log_uniform(8 * MB, MAX_FILE_SIZE),
            },
        };
        let target = if target > self.p.largest_generated {
            self.log_uniform(100_000, self.p.largest_generated)
        } else {
            target
        };
        let seed = self.files.next_u64();
        let lie = kind != Synth::Video && self.files.chance(self.p.lying_share);
        let (target, listed) = if lie && self.files.chance(0.5) {
            // Listed small, really past the cap.
            let real = self.log_uniform(10 * MB + MB / 2, MAX_FILE_SIZE);
            (real, Some(self.log_uniform(20_000, 90_000)))
        } else if lie {
            // Listed larger than it is (up to 4×, at most 12 MiB).
            let listed = (target * self.files.range(2, 4)).min(MAX_FILE_SIZE);
            (target, Some(listed))
        } else {
            (target, None)
        };
        generated(kind, target, listed, seed)
    }

    /// Uniform on a log scale between `lo` and `hi` (files stream): as many files of 100–200 KB as of 1–2 MB.
    fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = ((lo.max(1)) as f64, (hi.max(lo + 1)) as f64);
        (lo * (hi / lo).powf(self.files.unit())) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::identity;
    use super::*;

    /// (real size, listed size) of every generated file.
    fn generated(ds: &Dataset) -> Vec<(u64, u64)> {
        ds.drives
            .items
            .values()
            .filter_map(|i| match i.kind {
                ItemKind::File {
                    content: Content::Generated { size, listed, .. },
                    ..
                } => {
                    assert_eq!(i.size, listed, "{}", i.name);
                    Some((size, listed))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_data_set_has_realistic_sizes_and_the_edge_cases() {
        for size in [DataSize::Small, DataSize::Medium, DataSize::Large] {
            let ds = generate(1, size, &identity(), &Corpus::builtin());
            let files = generated(&ds);
            let cap = 10 * 1024 * 1024;
            assert!(
                files.iter().all(|(real, _)| *real <= MAX_FILE_SIZE),
                "{size}"
            );
            assert!(files
                .iter()
                .any(|&(real, listed)| real == BIG_FILE_SIZE && listed == real));
            assert!(files
                .iter()
                .any(|&(real, listed)| real > cap && listed < 100_000));
            assert!(files.iter().any(|&(real, listed)| listed > real));
            if size != DataSize::Small {
                let most = files
                    .iter()
                    .filter(|(real, _)| (100_000..=3 * MB).contains(real))
                    .count();
                assert!(most * 2 > files.len(), "{size}: {most} of {}", files.len());
                assert!(
                    files.iter().filter(|(real, _)| *real > cap).count() > 5,
                    "{size}"
                );
            }
        }
    }

    #[test]
    fn heavy_files_give_small_large_files_under_the_same_ids() {
        let light = generate(1, DataSize::Small, &identity(), &Corpus::builtin());
        let heavy = generate_with(1, DataSize::Small, true, &identity(), &Corpus::builtin());
        let ids = |ds: &Dataset| {
            let mut ids: Vec<String> = ds.drives.items.keys().cloned().collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&light), ids(&heavy));
        let messages = |ds: &Dataset| ds.chats.iter().map(|c| c.messages.len()).sum::<usize>();
        assert_eq!(messages(&light), messages(&heavy));
        let ordinary_over_1mb = |ds: &Dataset| {
            generated(ds)
                .iter()
                .filter(|&&(real, listed)| real == listed && (MB..10 * MB).contains(&real))
                .count()
        };
        assert_eq!(ordinary_over_1mb(&light), 0);
        assert!(
            ordinary_over_1mb(&heavy) >= 3,
            "{}",
            ordinary_over_1mb(&heavy)
        );
    }
}
