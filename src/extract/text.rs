//! Plain-text formats (.txt .md .rst .csv .tsv .json, source code): bytes → `String`. Owns charset detection
//! (UTF-8 with or without BOM, UTF-16 LE/BE with BOM, Windows-1252 fallback), the binary-content check, and the
//! char-boundary cut the other extractors in this folder share.

use super::{Extracted, Limits, Skip};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How much of the file the binary check looks at.
const SNIFF_BYTES: usize = 8 * 1024;
/// More NULs than 1 in this many sniffed bytes (without a UTF-16 BOM) means "not text".
const NUL_RATIO: usize = 100;
/// The UTF-8 scan checks the deadline once per this many invalid sequences.
const DEADLINE_EVERY: usize = 1024;

pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    let mut out = Extracted::default();
    if limits.expired() {
        out.notes.push(note_deadline());
        return Ok(out);
    }
    let decoded = decode(bytes, limits)?;
    out.text = decoded.text;
    out.notes.extend(decoded.note);
    if cap(&mut out.text, limits.max_text_bytes) {
        out.notes.push(note_cut(limits.max_text_bytes));
    }
    Ok(out)
}

/// Decoded text and, when the charset was a guess or the input was damaged, a note saying so.
pub(crate) struct Decoded {
    pub text: String,
    pub note: Option<String>,
}

/// Decodes `bytes` following BOMs first, then UTF-8, then Windows-1252. Skips NUL-heavy (binary) input.
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, Skip> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(utf8_or_fallback(rest, limits));
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Ok(with_encoding(UTF_16LE, bytes));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Ok(with_encoding(UTF_16BE, bytes));
    }
    let sniff = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let nuls = sniff.iter().filter(|&&b| b == 0).count();
    if nuls * NUL_RATIO > sniff.len() {
        return Err(Skip("binary content".to_string()));
    }
    Ok(utf8_or_fallback(bytes, limits))
}

fn with_encoding(encoding: &'static Encoding, bytes: &[u8]) -> Decoded {
    let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
    Decoded {
        text: text.into_owned(),
        note: had_errors.then(|| format!("invalid {} sequences replaced", encoding.name())),
    }
}

/// Valid UTF-8 is taken as is. Otherwise: if the file has at least as many well-formed multi-byte sequences as broken ones it
/// is UTF-8 with damage (broken bytes become U+FFFD); if not, it is most likely a legacy 8-bit file (Windows-1252,
/// a superset of Latin-1 in practice) and is decoded as such.
fn utf8_or_fallback(bytes: &[u8], limits: &Limits) -> Decoded {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_string(),
            note: None,
        };
    }
    let (mut multibyte, mut invalid, mut rest) = (0usize, 0usize, bytes);
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                multibyte += count_multibyte(valid);
                break;
            }
            Err(e) => {
                let good = &rest[..e.valid_up_to()];
                multibyte += std::str::from_utf8(good).map(count_multibyte).unwrap_or(0);
                invalid += 1;
                let skip = e.valid_up_to() + e.error_len().unwrap_or(rest.len() - e.valid_up_to());
                rest = rest.get(skip..).unwrap_or_default();
                // Undecided when time runs out: the 8-bit reading below never fails, so it is the safe guess.
                if invalid % DEADLINE_EVERY == 0 && limits.expired() {
                    break;
                }
            }
        }
    }
    if multibyte >= invalid {
        Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            note: Some("invalid UTF-8 sequences replaced".to_string()),
        }
    } else {
        let (text, _, _) = WINDOWS_1252.decode(bytes);
        Decoded {
            text: text.into_owned(),
            note: Some("not UTF-8; decoded as Windows-1252".to_string()),
        }
    }
}

fn count_multibyte(s: &str) -> usize {
    s.chars().filter(|c| !c.is_ascii()).count()
}

/// Cuts `text` to at most `max` bytes at a char boundary. Returns whether anything was cut.
pub(crate) fn cap(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

pub(crate) fn note_cut(max: usize) -> String {
    format!("text cut at {max} bytes")
}

pub(crate) fn note_deadline() -> String {
    "time budget ran out; text is partial".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn limits() -> Limits {
        Limits::with_budget(Duration::from_secs(30))
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let b = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            out.extend_from_slice(&b);
        }
        out
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let got = extract("# Notes\nnaïve café ☕\n".as_bytes(), &limits()).unwrap();
        assert_eq!(got.text, "# Notes\nnaïve café ☕\n");
        assert!(got.notes.is_empty());
        let got = extract(b"\xEF\xBB\xBFhello", &limits()).unwrap();
        assert_eq!(got.text, "hello");
    }

    #[test]
    fn utf16_le_and_be_with_bom() {
        let got = extract(&utf16("Hello, Wörld € 🎉", false), &limits()).unwrap();
        assert_eq!(got.text, "Hello, Wörld € 🎉");
        let got = extract(&utf16("Hello, Wörld € 🎉", true), &limits()).unwrap();
        assert_eq!(got.text, "Hello, Wörld € 🎉");
        assert!(got.notes.is_empty());
    }

    #[test]
    fn latin1_falls_back_to_windows_1252() {
        let got = extract(b"caf\xe9 \x80 5", &limits()).unwrap();
        assert_eq!(got.text, "café € 5");
        assert_eq!(
            got.notes,
            vec!["not UTF-8; decoded as Windows-1252".to_string()]
        );
    }

    #[test]
    fn invalid_utf8_mid_stream_keeps_the_utf8_reading() {
        let got = extract(
            "héllo wörld "
                .as_bytes()
                .iter()
                .chain(b"\xff\xfe tail")
                .copied()
                .collect::<Vec<_>>()
                .as_slice(),
            &limits(),
        )
        .unwrap();
        assert_eq!(got.text, "héllo wörld \u{FFFD}\u{FFFD} tail");
        assert_eq!(
            got.notes,
            vec!["invalid UTF-8 sequences replaced".to_string()]
        );
    }

    #[test]
    fn csv_is_kept_verbatim() {
        let csv = "name,role\r\n\"Doe, Jane\",admin\r\nBob,user\r\n";
        assert_eq!(extract(csv.as_bytes(), &limits()).unwrap().text, csv);
    }

    #[test]
    fn nul_heavy_input_is_binary() {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 200));
        bytes.extend_from_slice(b"some text after");
        assert_eq!(
            extract(&bytes, &limits()),
            Err(Skip("binary content".to_string()))
        );
        // One stray NUL in a long text file is tolerated.
        let mut text = "a".repeat(1000).into_bytes();
        text.push(0);
        assert!(extract(&text, &limits()).is_ok());
    }

    #[test]
    fn empty_input() {
        assert_eq!(extract(b"", &limits()).unwrap(), Extracted::default());
    }

    #[test]
    fn cut_at_char_boundary() {
        let mut l = limits();
        l.max_text_bytes = 4;
        let got = extract("abcé".as_bytes(), &l).unwrap();
        assert_eq!(got.text, "abc");
        assert_eq!(got.notes, vec![note_cut(4)]);
    }

    #[test]
    fn expired_deadline() {
        let mut l = limits();
        l.deadline = Instant::now();
        let got = extract(b"hello", &l).unwrap();
        assert_eq!(got.text, "");
        assert_eq!(got.notes, vec![note_deadline()]);
    }

    #[test]
    fn many_invalid_bytes_are_bounded() {
        let bytes = vec![0xFFu8; 2 * 1024 * 1024];
        let got = extract(&bytes, &limits()).unwrap();
        assert!(got.text.len() <= 1024 * 1024);
        assert!(got.text.starts_with('ÿ'));
    }
}
