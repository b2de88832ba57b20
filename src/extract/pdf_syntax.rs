//! Byte-level PDF syntax that lopdf does not cover for us: a nesting pre-scan (lopdf's recursive parser has no depth
//! cap, and a stack overflow cannot be caught) and ToUnicode CMap parsing (lopdf's CMap type is not public and it only
//! consults ToUnicode for some fonts).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// What the pre-scan found.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Scan {
    /// Arrays/dictionaries nest deeper than the limit somewhere outside strings, comments and stream data.
    pub too_deep: bool,
    /// The digits of each image XObject's direct `/Length` whose data the scan could skip by that length (the
    /// `endstream` keyword sits where the length says). See [`hide_image_data`].
    pub image_lengths: Vec<Range<usize>>,
}

/// The dictionary that opened the current object, as far as the pre-scan cares.
#[derive(Default)]
struct ObjectHead {
    image: bool,
    /// A direct `/Length`: its value and where its digits are.
    length: Option<(usize, Range<usize>)>,
}

/// One pass over a PDF's bytes: the nesting check (lopdf's recursive parser has no depth cap) and the image
/// streams whose data nothing needs to read. A stream's data is skipped by its direct `/Length` when `endstream`
/// follows there, otherwise by searching for `endstream`; skipping by length leaves binary image data unread, so
/// a file mapped from disk keeps those pages out of memory.
pub(super) fn pre_scan(bytes: &[u8], limit: usize) -> Scan {
    let mut scan = Scan::default();
    let mut depth = 0usize;
    let mut head = ObjectHead::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                if depth == 0 {
                    head = ObjectHead::default();
                }
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
            b'/' if depth == 1 => i = read_key(bytes, i, &mut head) - 1,
            b's' if is_stream_keyword(bytes, i) => {
                // Stream data is binary: skip it whole, and the object it belongs to is over.
                let data = i + 6 + eol_len(bytes, i + 6);
                let by_length = head
                    .length
                    .as_ref()
                    .and_then(|(length, _)| endstream_at(bytes, data.checked_add(*length)?));
                i = match by_length {
                    Some(end) => {
                        if let (true, Some((_, digits))) = (head.image, head.length.take()) {
                            scan.image_lengths.push(digits);
                        }
                        end + 8
                    }
                    None => find(bytes, i, b"endstream").map_or(bytes.len(), |end| end + 8),
                };
                depth = 0;
                head = ObjectHead::default();
            }
            _ => {}
        }
        if depth > limit {
            scan.too_deep = true;
            return scan;
        }
        i += 1;
    }
    scan
}

/// True if arrays/dictionaries nest deeper than `limit` anywhere outside strings, comments and stream data.
pub(super) fn syntax_nesting_exceeds(bytes: &[u8], limit: usize) -> bool {
    pre_scan(bytes, limit).too_deep
}

/// Reads the name at `at` (a key of an object's top dictionary) and, for `/Subtype /Image` and a direct
/// `/Length`, its value. Returns where scanning goes on.
fn read_key(bytes: &[u8], at: usize, head: &mut ObjectHead) -> usize {
    let end = regular_end(bytes, at + 1);
    let value = skip_white(bytes, end);
    match &bytes[at + 1..end] {
        b"Subtype" if bytes.get(value) == Some(&b'/') => {
            let value_end = regular_end(bytes, value + 1);
            head.image |= &bytes[value + 1..value_end] == b"Image";
            value_end
        }
        b"Length" => {
            let number_end = digits_end(bytes, value);
            // `12 0 R` is a reference, not a length.
            let after = skip_white(bytes, number_end);
            let reference = number_end > value && {
                let generation_end = digits_end(bytes, after);
                generation_end > after
                    && bytes.get(skip_white(bytes, generation_end)) == Some(&b'R')
            };
            let length = std::str::from_utf8(&bytes[value..number_end])
                .ok()
                .and_then(|d| d.parse::<usize>().ok());
            if let (Some(length), false) = (length, reference) {
                head.length = Some((length, value..number_end));
            }
            number_end.max(end)
        }
        _ => end,
    }
}

/// Rewrites each image's `/Length` digits as a name of the same width (`/LLLL`), in place, so lopdf — which
/// copies a stream's data out of the file when its length is a direct number — records only where the data
/// starts; its load filter then drops that position for images, and the data is never read or copied. Offsets
/// do not move. A length of one digit is left alone (nothing to save, and `/` alone is a degenerate name).
pub(super) fn hide_image_data(bytes: &mut [u8], image_lengths: &[Range<usize>]) {
    for digits in image_lengths {
        if digits.len() < 2 || digits.end > bytes.len() {
            continue;
        }
        bytes[digits.start] = b'/';
        bytes[digits.start + 1..digits.end].fill(b'L');
    }
}

/// `endstream` at `at`, after an optional end of line: where the keyword starts.
fn endstream_at(bytes: &[u8], at: usize) -> Option<usize> {
    let start = at.checked_add(eol_len(bytes, at))?;
    bytes
        .get(start..)?
        .starts_with(b"endstream")
        .then_some(start)
}

/// Length of the end-of-line marker at `at` (CR LF, LF, CR or none).
fn eol_len(bytes: &[u8], at: usize) -> usize {
    match (bytes.get(at), bytes.get(at + 1)) {
        (Some(b'\r'), Some(b'\n')) => 2,
        (Some(b'\n' | b'\r'), _) => 1,
        _ => 0,
    }
}

fn skip_white(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| !is_white(b)))
        .map_or(bytes.len(), |p| p + from)
}

fn digits_end(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| !b.is_ascii_digit()))
        .map_or(bytes.len(), |p| p + from)
}

/// True if some operation of the content stream `content` has more than `limit` operand tokens (array and
/// dictionary elements included). lopdf collects one operation's operands into a `Vec<Object>` of ~100 bytes an
/// element before it sees the operator, so 8 MiB of `0 ` with no operator would cost hundreds of MiB; this
/// allocation-free scan is what lets us refuse such a stream before lopdf sees it. It follows lopdf's content
/// grammar closely enough to count (strings, hex strings, comments, names, inline image data skipped to `EI`).
pub(super) fn operand_run_exceeds(content: &[u8], limit: usize) -> bool {
    let mut run = 0usize;
    let mut i = 0;
    while i < content.len() {
        let byte = content[i];
        match byte {
            _ if is_white(byte) => {
                i += 1;
                continue;
            }
            b'%' => {
                i = find(content, i, b"\n").unwrap_or(content.len());
                continue;
            }
            b'(' => {
                i = skip_literal_string(content, i) + 1;
                run += 1;
            }
            b'<' if content.get(i + 1) == Some(&b'<') => {
                i += 2;
                run += 1;
            }
            b'>' if content.get(i + 1) == Some(&b'>') => i += 2,
            b'<' => {
                i = find(content, i, b">").map_or(content.len(), |end| end + 1);
                run += 1;
            }
            b'[' | b'{' => {
                i += 1;
                run += 1;
            }
            b']' | b'}' | b')' | b'>' => i += 1,
            b'/' => {
                i = regular_end(content, i + 1);
                run += 1;
            }
            _ => {
                let end = regular_end(content, i).max(i + 1);
                let token = &content[i..end];
                i = end;
                if is_operator(token) {
                    if token == b"ID" {
                        i = inline_image_end(content, i);
                    }
                    run = 0;
                } else {
                    run += 1;
                }
            }
        }
        if run > limit {
            return true;
        }
    }
    false
}

fn is_white(byte: u8) -> bool {
    matches!(byte, b'\0' | b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// End of the run of regular characters starting at `from`.
fn regular_end(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| is_white(b) || is_delimiter(b)))
        .map_or(bytes.len(), |p| p + from)
}

/// lopdf's operator rule (letters, digits, `*'"`, not starting with a digit), minus the keyword operands.
fn is_operator(token: &[u8]) -> bool {
    let first_ok = token
        .first()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b"*'\"".contains(&b));
    first_ok && !matches!(token, b"true" | b"false" | b"null")
}

/// Where inline image data that starts at `from` ends: after an `EI` preceded by white space and followed by
/// white space or the end (lopdf's rule when it cannot size the data).
fn inline_image_end(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| {
            rest.windows(3)
                .position(|w| is_white(w[0]) && &w[1..] == b"EI")
        })
        .map_or(bytes.len(), |p| from + p + 3)
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
