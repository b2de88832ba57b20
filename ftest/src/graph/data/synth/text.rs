//! Generated text files: `.txt` (prose), `.csv` (a header and rows) and `.html` (a page of paragraphs). Every line
//! is [`LINE`] bytes, made from its number and the seed alone, so any line can be written without the others and
//! a file's length is known in advance.

use super::super::super::rng::{mix, Rng};
use super::super::words;
use super::{Part, Synth};
use axum::body::Bytes;

/// Bytes per line, newline included.
pub const LINE: usize = 100;

const HTML_HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Meeting notes export</title></head>\n<body>\n<h1>Meeting notes export</h1>\n";
const HTML_TAIL: &str = "</body>\n</html>\n";

fn fixed_len(kind: Synth) -> u64 {
    match kind {
        Synth::Html => (HTML_HEAD.len() + HTML_TAIL.len()) as u64,
        _ => 0,
    }
}

pub fn exact_len(kind: Synth, target: u64) -> u64 {
    let fixed = fixed_len(kind);
    let lines = (target.saturating_sub(fixed) / LINE as u64).max(1);
    fixed + lines * LINE as u64
}

pub(super) fn parts(kind: Synth, len: u64, _seed: u64) -> Vec<Part> {
    let count = (len - fixed_len(kind)) / LINE as u64;
    let lines = Part::Lines { first: 0, count };
    match kind {
        Synth::Html => vec![
            Part::Fixed(Bytes::from_static(HTML_HEAD.as_bytes())),
            lines,
            Part::Fixed(Bytes::from_static(HTML_TAIL.as_bytes())),
        ],
        _ => vec![lines],
    }
}

/// Appends line `n` of a file of `kind` made from `seed`: exactly [`LINE`] bytes.
pub fn line(kind: Synth, seed: u64, n: u64, out: &mut Vec<u8>) {
    let mut rng = Rng::new(seed ^ mix(n.wrapping_add(1)));
    let start = out.len();
    let (open, close) = match kind {
        Synth::Csv if n == 0 => {
            out.extend_from_slice(b"row,date,owner,amount,status,comment");
            ("", "")
        }
        Synth::Csv => {
            let owner = rng.pick(words::FIRST_NAMES);
            let status = rng.pick(&["open", "closed", "pending", "review"]);
            let line = format!(
                "{n},2024-{:02}-{:02},{owner},{}.{:02},{status},",
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(100_000),
                rng.below(100)
            );
            out.extend_from_slice(line.as_bytes());
            ("\"", "\"")
        }
        Synth::Html => ("<p>", "</p>"),
        _ => ("", ""),
    };
    if !(kind == Synth::Csv && n == 0) {
        out.extend_from_slice(open.as_bytes());
        let room = LINE - 1 - close.len() - (out.len() - start);
        let mut prose = String::new();
        while prose.len() < room {
            if !prose.is_empty() {
                prose.push(' ');
            }
            prose.push_str(&words::sentence(&mut rng));
        }
        let mut cut = room;
        while !prose.is_char_boundary(cut) {
            cut -= 1;
        }
        // End on a word, not half of one.
        let cut = prose[..cut].rfind(' ').unwrap_or(cut);
        out.extend_from_slice(&prose.as_bytes()[..cut]);
        out.extend_from_slice(close.as_bytes());
    }
    out.resize(start + LINE - 1, b' ');
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_fixed_width_text() {
        for kind in [Synth::Text, Synth::Csv, Synth::Html] {
            for n in 0..200 {
                let mut out = Vec::new();
                line(kind, 9, n, &mut out);
                assert_eq!(out.len(), LINE, "{kind:?} {n}");
                let text = String::from_utf8(out).unwrap();
                assert!(text.ends_with('\n') && text.trim().len() > 20, "{text}");
            }
        }
    }
}
