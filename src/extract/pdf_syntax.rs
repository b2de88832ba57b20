//! Byte-level PDF syntax that lopdf does not cover for us: a nesting pre-scan (lopdf's recursive parser has no depth
//! cap, and a stack overflow cannot be caught) and ToUnicode CMap parsing (lopdf's CMap type is not public and it only
//! consults ToUnicode for some fonts).

use std::collections::{BTreeMap, HashMap};

/// True if arrays/dictionaries nest deeper than `limit` anywhere outside strings, comments and stream data.
pub(super) fn syntax_nesting_exceeds(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b'<' => i = find(bytes, i, b">").unwrap_or(bytes.len()),
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'%' => i = find(bytes, i, b"\n").unwrap_or(bytes.len()),
            b'(' => i = skip_literal_string(bytes, i),
            b's' if is_stream_keyword(bytes, i) => {
                // Stream data is binary: skip it whole, and the object it belongs to is over.
                i = find(bytes, i, b"endstream").map_or(bytes.len(), |end| end + 8);
                depth = 0;
            }
            _ => {}
        }
        if depth > limit {
            return true;
        }
        i += 1;
    }
    false
}

/// `stream` followed by an end of line, and not the tail of `endstream`.
fn is_stream_keyword(bytes: &[u8], i: usize) -> bool {
    let after = bytes.get(i + 6).is_some_and(|c| *c == b'\r' || *c == b'\n');
    let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphabetic();
    after && before_ok && bytes[i..].starts_with(b"stream")
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let start = from + 1;
    bytes
        .get(start..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + start)
}

/// Index of the `)` closing the literal string opened at `open` (or the end of input).
fn skip_literal_string(bytes: &[u8], open: usize) -> usize {
    let mut nesting = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => nesting += 1,
            b')' => {
                nesting = nesting.saturating_sub(1);
                if nesting == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// A ToUnicode CMap: `bfchar` entries and `bfrange` ranges, keyed by code length in bytes.
#[derive(Default)]
pub(super) struct CMap {
    chars: HashMap<(usize, u32), String>,
    /// (code length, first code) → (last code, target); ordered so a lookup is a range query, not a scan.
    ranges: BTreeMap<(usize, u32), (u32, RangeTarget)>,
    /// Code lengths present, ascending; decoding tries them in this order.
    pub(super) lens: Vec<usize>,
}

enum RangeTarget {
    /// UTF-16 units of the first code's text; later codes increment the last unit.
    Start(Vec<u16>),
    List(Vec<String>),
}

#[derive(Debug, PartialEq)]
enum Token {
    Hex(Vec<u8>),
    Word(Vec<u8>),
    Open,
    Close,
}

impl CMap {
    pub(super) fn is_empty(&self) -> bool {
        self.chars.is_empty() && self.ranges.is_empty()
    }

    pub(super) fn parse(data: &[u8]) -> CMap {
        let tokens = cmap_tokens(data);
        let mut cmap = CMap::default();
        let mut i = 0;
        let mut section: &[u8] = b"";
        while i < tokens.len() {
            match (&tokens[i], section) {
                (Token::Word(w), _) if w == b"beginbfchar" || w == b"beginbfrange" => section = w,
                (Token::Word(w), _) if w.starts_with(b"end") => section = b"",
                (Token::Hex(src), b"beginbfchar") => {
                    if let (Some(code), Some(Token::Hex(dst))) = (code_of(src), tokens.get(i + 1)) {
                        cmap.chars
                            .insert((src.len(), code), utf16_text(&units(dst)));
                        i += 1;
                    }
                }
                (Token::Hex(lo), b"beginbfrange") => {
                    let (Some(lo_code), Some(Token::Hex(hi))) = (code_of(lo), tokens.get(i + 1))
                    else {
                        i += 1;
                        continue;
                    };
                    let Some(hi_code) = code_of(hi).filter(|h| *h >= lo_code) else {
                        i += 2;
                        continue;
                    };
                    match tokens.get(i + 2) {
                        Some(Token::Hex(dst)) => {
                            let target = RangeTarget::Start(units(dst));
                            cmap.ranges.insert((lo.len(), lo_code), (hi_code, target));
                            i += 2;
                        }
                        Some(Token::Open) => {
                            let mut list = Vec::new();
                            i += 3;
                            while let Some(Token::Hex(dst)) = tokens.get(i) {
                                list.push(utf16_text(&units(dst)));
                                i += 1;
                            }
                            let target = RangeTarget::List(list);
                            cmap.ranges.insert((lo.len(), lo_code), (hi_code, target));
                        }
                        _ => i += 1,
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let mut lens: Vec<usize> = cmap
            .chars
            .keys()
            .map(|k| k.0)
            .chain(cmap.ranges.keys().map(|k| k.0))
            .collect();
        lens.sort_unstable();
        lens.dedup();
        cmap.lens = lens;
        cmap
    }

    fn lookup(&self, len: usize, code: u32) -> Option<String> {
        if let Some(text) = self.chars.get(&(len, code)) {
            return Some(text.clone());
        }
        let (&(range_len, lo), (hi, target)) = self.ranges.range(..=(len, code)).next_back()?;
        if range_len != len || code > *hi {
            return None;
        }
        let offset = code - lo;
        match target {
            RangeTarget::Start(start) => {
                let mut units = start.clone();
                let last = units.last_mut()?;
                *last = last.wrapping_add(u16::try_from(offset).ok()?);
                Some(utf16_text(&units))
            }
            RangeTarget::List(list) => list.get(usize::try_from(offset).ok()?).cloned(),
        }
    }

    pub(super) fn decode(&self, bytes: &[u8]) -> String {
        let mut out = String::new();
        let step = self.lens.first().copied().unwrap_or(1);
        let mut i = 0;
        'outer: while i < bytes.len() {
            for &len in &self.lens {
                if let Some(code) = bytes.get(i..i + len).and_then(code_of) {
                    if let Some(text) = self.lookup(len, code) {
                        out.push_str(&text);
                        i += len;
                        continue 'outer;
                    }
                }
            }
            i += step;
        }
        out
    }
}

fn code_of(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

fn units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
        .collect()
}

fn utf16_text(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

fn cmap_tokens(data: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        match c {
            b'%' => i = find(data, i, b"\n").unwrap_or(data.len()),
            b'<' if data.get(i + 1) == Some(&b'<') => i += 1,
            b'>' if data.get(i + 1) == Some(&b'>') => i += 1,
            b'<' => {
                let end = find(data, i, b">").unwrap_or(data.len());
                let digits: Vec<u8> = data[i + 1..end]
                    .iter()
                    .filter_map(|d| (*d as char).to_digit(16))
                    .map(|d| d as u8)
                    .collect();
                let bytes = digits
                    .chunks(2)
                    .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0))
                    .collect();
                tokens.push(Token::Hex(bytes));
                i = end;
            }
            b'[' => tokens.push(Token::Open),
            b']' => tokens.push(Token::Close),
            b'(' => i = skip_literal_string(data, i),
            c if c.is_ascii_whitespace() => {}
            _ => {
                let start = i;
                while i + 1 < data.len() && !b" \t\r\n\x0c<>[]()/%".contains(&data[i + 1]) {
                    i += 1;
                }
                tokens.push(Token::Word(data[start..=i].to_vec()));
            }
        }
        i += 1;
    }
    tokens
}
