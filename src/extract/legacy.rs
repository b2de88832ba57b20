//! Legacy Office binaries (.doc .xls .ppt .msg .vsd: OLE2 compound files) → best-effort text. No format is parsed:
//! the file is scanned for runs of printable UTF-16LE and ASCII characters, which is where these formats keep
//! their text, and the runs are returned in file order, de-duplicated, without the container's own stream names.
//! Good enough for search; never a faithful rendering, and a note says so.

use super::text::{cap, note_cut, note_deadline};
use super::{Extracted, Limits, Skip};
use std::collections::HashSet;

const OLE2_MAGIC: &[u8; 8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
/// Shortest run kept: shorter runs in binary data are mostly noise.
const MIN_RUN_CHARS: usize = 4;
/// Bytes scanned between deadline checks.
const DEADLINE_EVERY: usize = 64 * 1024;
pub const NOTE_BEST_EFFORT: &str = "best-effort text from a legacy binary format";

/// Stream and storage names of the container and its common formats: structure, not content.
const CONTAINER_NAMES: &[&str] = &[
    "Root Entry",
    "WordDocument",
    "1Table",
    "0Table",
    "Data",
    "CompObj",
    "SummaryInformation",
    "DocumentSummaryInformation",
    "Workbook",
    "Book",
    "PowerPoint Document",
    "Current User",
    "Pictures",
    "VisioDocument",
    "ObjectPool",
];
const CONTAINER_PREFIXES: &[&str] = &[
    "__substg1.0_",
    "__nameid_",
    "__properties_",
    "__recip_",
    "__attach_",
];

pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    if !bytes.starts_with(OLE2_MAGIC) {
        return Err(Skip("not an OLE2 compound file".to_string()));
    }
    let mut notes = vec![NOTE_BEST_EFFORT.to_string()];
    let mut runs = Vec::new();
    let mut timed_out = scan_utf16le(bytes, 0, limits, &mut runs);
    if !timed_out {
        timed_out = scan_utf16le(bytes, 1, limits, &mut runs);
    }
    if !timed_out {
        timed_out = scan_ascii(bytes, limits, &mut runs);
    }
    if timed_out {
        notes.push(note_deadline());
    }
    runs.sort_by_key(|(offset, _)| *offset);

    let mut seen = HashSet::new();
    let mut text = String::new();
    for (_, run) in runs {
        let run = run.trim();
        if is_container_name(run) || !seen.insert(run.to_string()) {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(run);
        if text.len() > limits.max_text_bytes {
            break;
        }
    }
    if cap(&mut text, limits.max_text_bytes) {
        notes.push(note_cut(limits.max_text_bytes));
    }
    Ok(Extracted { text, notes })
}

fn is_container_name(run: &str) -> bool {
    CONTAINER_NAMES.contains(&run) || CONTAINER_PREFIXES.iter().any(|p| run.starts_with(p))
}

/// Characters text in these formats is made of; wider ranges (CJK) would let random binary pairs through.
fn printable_utf16(unit: u16) -> Option<char> {
    match unit {
        0x20..=0x7E | 0xA0..=0x24F | 0x2013..=0x2026 | 0x20AC => char::from_u32(u32::from(unit)),
        0x09 => Some('\t'),
        _ => None,
    }
}

fn printable_ascii(b: u8) -> bool {
    (0x20..=0x7E).contains(&b) || b == b'\t'
}

/// Pushes (offset, run) for UTF-16LE runs starting at `start` (0 or 1: text may sit at either byte alignment).
/// Returns true if the deadline passed.
fn scan_utf16le(
    bytes: &[u8],
    start: usize,
    limits: &Limits,
    runs: &mut Vec<(usize, String)>,
) -> bool {
    let mut run = String::new();
    let (mut run_start, mut run_chars) = (start, 0usize);
    let mut i = start;
    while let Some(pair) = bytes.get(i..i + 2) {
        if i % DEADLINE_EVERY < 2 && limits.expired() {
            return true;
        }
        match printable_utf16(u16::from_le_bytes([pair[0], pair[1]])) {
            Some(c) => {
                if run_chars == 0 {
                    run_start = i;
                }
                run.push(c);
                run_chars += 1;
            }
            None => {
                flush(runs, &mut run, &mut run_chars, run_start);
            }
        }
        i += 2;
    }
    flush(runs, &mut run, &mut run_chars, run_start);
    false
}

/// Pushes (offset, run) for runs of printable ASCII. Returns true if the deadline passed.
fn scan_ascii(bytes: &[u8], limits: &Limits, runs: &mut Vec<(usize, String)>) -> bool {
    let mut run = String::new();
    let (mut run_start, mut run_chars) = (0usize, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        if i % DEADLINE_EVERY == 0 && limits.expired() {
            return true;
        }
        if printable_ascii(b) {
            if run_chars == 0 {
                run_start = i;
            }
            run.push(char::from(b));
            run_chars += 1;
        } else {
            flush(runs, &mut run, &mut run_chars, run_start);
        }
    }
    flush(runs, &mut run, &mut run_chars, run_start);
    false
}

fn flush(runs: &mut Vec<(usize, String)>, run: &mut String, run_chars: &mut usize, start: usize) {
    if *run_chars >= MIN_RUN_CHARS && run.chars().any(char::is_alphanumeric) {
        runs.push((start, std::mem::take(run)));
    } else {
        run.clear();
    }
    *run_chars = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn limits() -> Limits {
        Limits::with_budget(Duration::from_secs(30))
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A 512-byte header with the magic, a directory-like sector with stream names, then content sectors.
    fn ole2_like() -> Vec<u8> {
        let mut buf = OLE2_MAGIC.to_vec();
        buf.extend_from_slice(&[0x3E, 0x00, 0x03, 0x00, 0xFE, 0xFF, 0x09, 0x00]);
        buf.resize(512, 0xFF);
        buf.extend(utf16le("Root Entry"));
        buf.resize(576, 0);
        buf.extend(utf16le("WordDocument"));
        buf.resize(1024, 0);
        buf.extend_from_slice(&[0xEC, 0xA5, 0x07, 0x00, 0x01, 0x00]);
        buf.extend(utf16le("Quarterly café report – €1.2M"));
        buf.extend_from_slice(&[0x00, 0x00, 0x07, 0x1F]);
        buf.extend_from_slice(b"Plain ANSI paragraph\x00\x01ab\x02");
        buf.extend(utf16le("Quarterly café report – €1.2M"));
        buf.push(0);
        buf.extend(utf16le("odd alignment"));
        buf.extend_from_slice(&[0x00, 0x00, 0x13, 0x88]);
        buf
    }

    #[test]
    fn text_runs_from_ole2_buffer() {
        let got = extract(&ole2_like(), &limits()).unwrap();
        assert_eq!(
            got.text,
            "Quarterly café report – €1.2M\nPlain ANSI paragraph\nodd alignment"
        );
        assert_eq!(got.notes, vec![NOTE_BEST_EFFORT.to_string()]);
    }

    #[test]
    fn non_ole2_is_skipped() {
        assert_eq!(
            extract(b"", &limits()),
            Err(Skip("not an OLE2 compound file".to_string()))
        );
        assert!(extract(b"PK\x03\x04 a zip", &limits()).is_err());
    }

    #[test]
    fn magic_only_and_truncated() {
        let got = extract(OLE2_MAGIC, &limits()).unwrap();
        assert_eq!(got.text, "");
        let buf = ole2_like();
        for end in 8..buf.len() {
            let _ = extract(&buf[..end], &limits());
        }
    }

    #[test]
    fn cap_and_deadline() {
        let mut l = limits();
        l.max_text_bytes = 10;
        let got = extract(&ole2_like(), &l).unwrap();
        assert_eq!(got.text, "Quarterly ");
        assert!(got.notes.contains(&note_cut(10)));
        l.deadline = Instant::now();
        let got = extract(&ole2_like(), &l).unwrap();
        assert_eq!(
            got.notes,
            vec![NOTE_BEST_EFFORT.to_string(), note_deadline()]
        );
    }
}
