//! Realistic files made on the fly: what a drive item with `Content::Generated` serves. Each file is fully
//! determined by its kind, its exact length and a seed, and is produced chunk by chunk ([`Writer`]), so a tenant
//! of thousands of multi-megabyte files costs the fixture a few bytes per file, never the files themselves.
//!
//! The formats are valid for the service's extractors and hold what makes real files big: a `.docx` / `.pptx` is
//! a zip with a small XML part of text and a large stored (incompressible) image; a `.pdf` has a few pages of text
//! and a large image XObject of random bytes; `.txt` / `.csv` / `.html` are generated text, so extraction has real
//! work; `.mp4` is random bytes (not extractable: the service never downloads it). Layouts: `text.rs`, `zip.rs`,
//! `pdf.rs`.

mod pdf;
mod text;
mod zip;

use std::collections::VecDeque;

use axum::body::Bytes;

use super::super::rng::mix;

/// Bytes per chunk of a generated download.
pub const CHUNK: usize = 64 * 1024;

/// The kind of a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synth {
    Text,
    Csv,
    Html,
    Docx,
    Pptx,
    Pdf,
    Video,
}

impl Synth {
    pub fn extension(self) -> &'static str {
        match self {
            Synth::Text => "txt",
            Synth::Csv => "csv",
            Synth::Html => "html",
            Synth::Docx => "docx",
            Synth::Pptx => "pptx",
            Synth::Pdf => "pdf",
            Synth::Video => "mp4",
        }
    }

    pub fn mime(self) -> &'static str {
        super::corpus::mime_for(self.extension())
    }

    /// The exact length of the file of this kind (and seed) whose size is closest to `target` (at least a small minimum:
    /// the fixed parts of the format).
    pub fn exact_len(self, target: u64, seed: u64) -> u64 {
        match self {
            Synth::Text | Synth::Csv | Synth::Html => text::exact_len(self, target),
            Synth::Docx | Synth::Pptx => zip::exact_len(self, target, seed),
            Synth::Pdf => pdf::exact_len(target, seed),
            Synth::Video => target.max(1024),
        }
    }
}

/// A piece of a file being written.
enum Part {
    /// Small bytes known in advance (headers, XML parts, page content).
    Fixed(Bytes),
    /// `len` random bytes starting at `offset` of the random stream (a zip's CRC-32 follows them).
    Random { offset: u64, len: u64 },
    /// Text lines `first..first + count` of `text::line`.
    Lines { first: u64, count: u64 },
    /// Bytes that depend on the CRC-32 of the random bytes written so far (a zip's data descriptor and
    /// central directory).
    AfterCrc(Box<dyn FnOnce(u32) -> Vec<u8> + Send>),
}

/// Writes one generated file chunk by chunk.
pub struct Writer {
    kind: Synth,
    seed: u64,
    parts: VecDeque<Part>,
    crc: zip::Crc32,
}

impl Writer {
    /// The file of `kind`, exactly `len` bytes long (`len` from [`Synth::exact_len`]), made from `seed`.
    pub fn new(kind: Synth, len: u64, seed: u64) -> Writer {
        let parts = match kind {
            Synth::Text | Synth::Csv | Synth::Html => text::parts(kind, len, seed),
            Synth::Docx | Synth::Pptx => zip::parts(kind, len, seed),
            Synth::Pdf => pdf::parts(len, seed),
            Synth::Video => vec![Part::Random { offset: 0, len }],
        };
        Writer {
            kind,
            seed,
            parts: parts.into(),
            crc: zip::Crc32::new(),
        }
    }

    /// The next chunk (at most [`CHUNK`] bytes of generated content, or one fixed part), `None` at the end.
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            match self.parts.pop_front()? {
                Part::Fixed(bytes) if bytes.is_empty() => continue,
                Part::Fixed(bytes) => return Some(bytes),
                Part::Random { offset, len } => {
                    if len == 0 {
                        continue;
                    }
                    let n = len.min(CHUNK as u64);
                    let bytes = random_bytes(self.seed, offset, n as usize);
                    self.crc.update(&bytes);
                    if len > n {
                        self.parts.push_front(Part::Random {
                            offset: offset + n,
                            len: len - n,
                        });
                    }
                    return Some(Bytes::from(bytes));
                }
                Part::Lines { first, count } => {
                    if count == 0 {
                        continue;
                    }
                    let n = count.min((CHUNK / text::LINE) as u64);
                    let mut out = Vec::with_capacity(n as usize * text::LINE);
                    for i in first..first + n {
                        text::line(self.kind, self.seed, i, &mut out);
                    }
                    if count > n {
                        self.parts.push_front(Part::Lines {
                            first: first + n,
                            count: count - n,
                        });
                    }
                    return Some(Bytes::from(out));
                }
                Part::AfterCrc(tail) => return Some(Bytes::from(tail(self.crc.value()))),
            }
        }
    }

    /// The whole file in memory: for tests and small checks only.
    pub fn to_vec(mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk() {
            out.extend_from_slice(&chunk);
        }
        out
    }
}

/// Bytes `offset..offset + len` of the random stream of `seed`: every 8-byte word is a hash of its position, so
/// any range can be produced without the ones before it. Incompressible, like image or video data.
fn random_bytes(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut word = offset / 8;
    let skip = (offset % 8) as usize;
    while out.len() < len + skip {
        out.extend_from_slice(&mix(seed ^ word.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
        word += 1;
    }
    out.drain(..skip);
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [Synth; 7] = [
        Synth::Text,
        Synth::Csv,
        Synth::Html,
        Synth::Docx,
        Synth::Pptx,
        Synth::Pdf,
        Synth::Video,
    ];

    #[test]
    fn files_have_their_exact_length_and_are_deterministic() {
        for kind in KINDS {
            for target in [0, 1000, 200_000, 1_234_567] {
                let len = kind.exact_len(target, 7);
                if target >= 16_384 {
                    assert!(len.abs_diff(target) < 8192, "{kind:?} {target} → {len}");
                }
                let a = Writer::new(kind, len, 7).to_vec();
                assert_eq!(a.len() as u64, len, "{kind:?} {target}");
                assert_eq!(a, Writer::new(kind, len, 7).to_vec(), "{kind:?}");
                if len > 1000 && kind.exact_len(target, 8) == len {
                    assert_ne!(a, Writer::new(kind, len, 8).to_vec(), "{kind:?}");
                }
            }
        }
    }

    #[test]
    fn chunks_are_bounded() {
        let mut w = Writer::new(Synth::Docx, Synth::Docx.exact_len(3_000_000, 1), 1);
        while let Some(chunk) = w.next_chunk() {
            assert!(chunk.len() <= CHUNK + 8192, "{}", chunk.len());
        }
    }

    #[test]
    fn random_ranges_join_seamlessly() {
        let whole = random_bytes(3, 0, 301);
        let joined = [random_bytes(3, 0, 13), random_bytes(3, 13, 288)].concat();
        assert_eq!(whole, joined);
    }
}
