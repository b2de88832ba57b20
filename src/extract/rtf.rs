//! Rich Text Format (.rtf) → plain text. A single pass over the bytes with an explicit group stack (no recursion):
//! control words are dropped or mapped (`\par` → newline, `\tab` → tab, `\'hh` as Windows-1252, `\uN` with its
//! fallback skipped), non-text destinations (font/colour/style tables, document info, pictures, `{\*...}`) are
//! skipped. Group nesting past `limits.max_depth` stops extraction with a note, keeping what came before.

use super::text::{cap, note_cut, note_deadline};
use super::{Extracted, Limits, Skip};
use encoding_rs::WINDOWS_1252;

/// Bytes handled between deadline checks.
const DEADLINE_EVERY: usize = 4096;
/// Control words longer than this are malformed; the spec caps them at 32 letters.
const MAX_WORD_LEN: usize = 32;
/// Numeric parameters are at most this many digits (the spec: a signed 16-bit value; some writers emit 32-bit).
const MAX_PARAM_DIGITS: usize = 10;

/// Destinations whose content is never document text.
const SKIPPED_DESTINATIONS: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "themedata",
    "colorschememapping",
    "latentstyles",
    "datastore",
    "objdata",
    "fldinst",
    "filetbl",
    "revtbl",
    "pgdsctbl",
    "mmathPr",
    "bkmkstart",
    "bkmkend",
    "nonshppict",
    "shpinst",
    "userprops",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// Fallback characters that follow each `\uN` (`\ucN`).
    uc: usize,
}

pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(Skip("not an RTF document (no {\\rtf header)".to_string()));
    }
    let mut parser = Parser {
        bytes,
        pos: 0,
        stack: Vec::new(),
        group: Group { skip: false, uc: 1 },
        out: String::new(),
        fallback_to_skip: 0,
        high_surrogate: None,
    };
    let stopped = parser.run(limits);
    let mut out = Extracted {
        text: finish(&parser.out),
        notes: stopped.into_iter().collect(),
    };
    if cap(&mut out.text, limits.max_text_bytes)
        && !out.notes.contains(&note_cut(limits.max_text_bytes))
    {
        out.notes.push(note_cut(limits.max_text_bytes));
    }
    Ok(out)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Group>,
    group: Group,
    out: String,
    /// `\uN` fallback characters still to drop.
    fallback_to_skip: usize,
    high_surrogate: Option<u16>,
}

impl Parser<'_> {
    /// Walks the document; returns a note when it stopped early.
    fn run(&mut self, limits: &Limits) -> Option<String> {
        let mut steps = 0usize;
        while let Some(&b) = self.bytes.get(self.pos) {
            steps += 1;
            if steps.is_multiple_of(DEADLINE_EVERY) && limits.expired() {
                return Some(note_deadline());
            }
            if self.out.len() > limits.max_text_bytes {
                return Some(note_cut(limits.max_text_bytes));
            }
            self.pos += 1;
            match b {
                b'{' => {
                    if self.stack.len() >= limits.max_depth {
                        return Some(format!(
                            "groups nested deeper than {}; text after that point cut",
                            limits.max_depth
                        ));
                    }
                    self.stack.push(self.group);
                    self.fallback_to_skip = 0;
                }
                b'}' => {
                    // An unbalanced '}' at the top level is ignored rather than fatal.
                    if let Some(g) = self.stack.pop() {
                        self.group = g;
                    }
                    self.fallback_to_skip = 0;
                }
                b'\\' => self.control(),
                b'\r' | b'\n' => {}
                _ => self.byte_char(b),
            }
        }
        None
    }

    fn emit(&mut self, c: char) {
        if self.fallback_to_skip > 0 {
            self.fallback_to_skip -= 1;
            return;
        }
        if !self.group.skip {
            self.out.push(c);
        }
    }

    /// A literal byte or `\'hh` escape, read as Windows-1252.
    fn byte_char(&mut self, b: u8) {
        let c = if b.is_ascii() {
            char::from(b)
        } else {
            let (s, _, _) = WINDOWS_1252.decode(std::slice::from_ref(&b));
            s.chars().next().unwrap_or('\u{FFFD}')
        };
        self.emit(c);
    }

    /// Called just past a backslash.
    fn control(&mut self) {
        let Some(&b) = self.bytes.get(self.pos) else {
            return;
        };
        self.pos += 1;
        match b {
            b'\'' => {
                let hex = self
                    .bytes
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    self.pos += 2;
                    self.byte_char(v);
                }
            }
            b'*' => self.group.skip = true,
            b'\\' | b'{' | b'}' => self.emit(char::from(b)),
            b'~' => self.emit('\u{A0}'),
            b'_' => self.emit('-'),
            b'\r' | b'\n' => self.emit('\n'),
            b if b.is_ascii_alphabetic() => {
                self.pos -= 1;
                self.control_word();
            }
            // `\-` (optional hyphen), `\|`, `\:` and unknown symbols carry no text.
            _ => {}
        }
    }

    fn control_word(&mut self) {
        let start = self.pos;
        while self.pos - start < MAX_WORD_LEN
            && self
                .bytes
                .get(self.pos)
                .is_some_and(u8::is_ascii_alphabetic)
        {
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.bytes[start..self.pos])
            .unwrap_or_default()
            .to_string();
        let param = self.parameter();
        if self.bytes.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        if SKIPPED_DESTINATIONS.contains(&word.as_str()) {
            self.group.skip = true;
            return;
        }
        match word.as_str() {
            "par" | "line" | "sect" | "page" | "row" => self.push_raw('\n'),
            "tab" | "cell" => self.push_raw('\t'),
            "emdash" => self.emit('—'),
            "endash" => self.emit('–'),
            "bullet" => self.emit('•'),
            "lquote" => self.emit('‘'),
            "rquote" => self.emit('’'),
            "ldblquote" => self.emit('“'),
            "rdblquote" => self.emit('”'),
            "uc" => {
                self.group.uc = param
                    .and_then(|p| usize::try_from(p).ok())
                    .unwrap_or(1)
                    .min(8)
            }
            "u" => {
                if let Some(p) = param {
                    self.unicode(p);
                }
            }
            "bin" => {
                let n = param.and_then(|p| usize::try_from(p).ok()).unwrap_or(0);
                self.pos = self.pos.saturating_add(n).min(self.bytes.len());
            }
            _ => {}
        }
    }

    /// Control-word structure, not text: never eaten as a `\uN` fallback.
    fn push_raw(&mut self, c: char) {
        if !self.group.skip {
            self.out.push(c);
        }
    }

    fn parameter(&mut self) -> Option<i64> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while self.pos - digits_start < MAX_PARAM_DIGITS
            && self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit)
        {
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return None;
        }
        std::str::from_utf8(&self.bytes[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    /// `\uN`: N is a signed 16-bit UTF-16 unit; surrogate pairs come as two escapes.
    fn unicode(&mut self, param: i64) {
        let unit = (param.rem_euclid(65_536)) as u16;
        let c = match (self.high_surrogate.take(), unit) {
            (_, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(unit);
                None
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                char::decode_utf16([high, unit]).next().and_then(Result::ok)
            }
            (_, _) => Some(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}')),
        };
        if let Some(c) = c {
            if !self.group.skip {
                self.out.push(c);
            }
        }
        self.fallback_to_skip = self.group.uc;
    }
}

/// Trims trailing spaces on each line and surrounding blank lines.
fn finish(raw: &str) -> String {
    let lines: Vec<&str> = raw.lines().map(|l| l.trim_end_matches(' ')).collect();
    lines.join("\n").trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn limits() -> Limits {
        Limits::with_budget(Duration::from_secs(30))
    }

    const WORDPAD: &str = r#"{\rtf1\ansi\ansicpg1252\deff0\nouicompat\deflang1033{\fonttbl{\f0\fnil\fcharset0 Calibri;}{\f1\fnil\fcharset2 Symbol;}}
{\colortbl ;\red255\green0\blue0;\red0\green77\blue187;}
{\*\generator Riched20 10.0.19041}{\info{\author Jane}{\title Minutes}}\viewkind4\uc1 
\pard\sa200\sl276\slmult1\cf1\b\f0\fs22\lang9 Meeting notes\cf0\b0\par
Caf\'e9 budget: \u8364?1,200\tab approved\line next line\par
{\pict\wmetafile8\picw100 0100090000035a}Quote: \ldblquote ok\rdblquote  \{braces\} \\ done\par
}
"#;

    #[test]
    fn wordpad_document() {
        let got = extract(WORDPAD.as_bytes(), &limits()).unwrap();
        assert_eq!(
            got.text,
            "Meeting notes\nCafé budget: €1,200\tapproved\nnext line\nQuote: “ok” {braces} \\ done"
        );
        assert!(got.notes.is_empty());
    }

    #[test]
    fn unicode_fallbacks_and_surrogates() {
        let rtf = br"{\rtf1\uc2 \u-10179\'3f\'3f\u-8704\'3f\'3f and \uc0\u233 t\u233}";
        assert_eq!(extract(rtf, &limits()).unwrap().text, "😀 and été");
    }

    #[test]
    fn ignorable_destinations_are_skipped() {
        let rtf = br"{\rtf1 before{\*\unknowndest secret {\nested more}}{\field{\*\fldinst HYPERLINK x}{\fldrslt link}} after}";
        assert_eq!(extract(rtf, &limits()).unwrap().text, "beforelink after");
    }

    #[test]
    fn deep_nesting_is_cut_with_note() {
        let mut rtf = b"{\\rtf1 top ".to_vec();
        rtf.extend(std::iter::repeat_n(b'{', 100_000));
        rtf.extend_from_slice(b"deep");
        rtf.extend(std::iter::repeat_n(b'}', 100_000));
        let got = extract(&rtf, &limits()).unwrap();
        assert_eq!(got.text, "top");
        assert_eq!(
            got.notes,
            vec!["groups nested deeper than 64; text after that point cut".to_string()]
        );
    }

    #[test]
    fn not_rtf_and_empty() {
        assert!(extract(b"", &limits()).is_err());
        assert!(extract(b"hello", &limits()).is_err());
    }

    #[test]
    fn truncated_and_malformed_input_does_not_panic() {
        for end in 0..WORDPAD.len() {
            let _ = extract(&WORDPAD.as_bytes()[..end], &limits());
        }
        let junk = br"{\rtf1 \'zz \'4 \u \u99999999999999 \bin999999 x}}}}\";
        assert!(extract(junk, &limits()).is_ok());
    }

    #[test]
    fn cap_and_deadline() {
        let mut l = limits();
        l.max_text_bytes = 5;
        let got = extract(br"{\rtf1 caf\'e9 au lait}", &l).unwrap();
        assert_eq!(got.text, "café");
        assert_eq!(got.notes, vec![note_cut(5)]);
        let mut l = limits();
        l.deadline = Instant::now();
        let long = format!("{{\\rtf1 {}}}", "x".repeat(100_000));
        let got = extract(long.as_bytes(), &l).unwrap();
        assert_eq!(got.notes, vec![note_deadline()]);
    }
}
