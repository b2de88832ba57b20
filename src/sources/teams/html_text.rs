//! `html_to_text` (spec §10.6): a Teams message body (an HTML fragment) → the text the reference indexes.
//!
//! The reference runs BeautifulSoup over lxml and joins every text node with `"\n"`. This module reproduces that
//! output with a tolerant one-pass tokenizer instead of a parser: a text node ends at every tag, comment or
//! declaration that the lxml parser would report, so `<p>Hello <b>World</b>!</p>` gives `"Hello \nWorld\n!"`.
//! What it mirrors on purpose:
//! - blanks before the first element or text are dropped (libxml2 skips them); everywhere else a whitespace-only
//!   node is kept, collapsed by BeautifulSoup to `"\n"` if it holds a line break and `" "` otherwise (verbatim
//!   inside `<pre>`/`<textarea>`);
//! - `<script>`/`<style>` content is raw text and dropped; text anywhere inside `<template>` is dropped, and so are
//!   comments, doctypes and processing instructions;
//! - an end tag that closes nothing open is ignored (it does not split the text around it); `<x/>` closes itself;
//! - named entities are the HTML 4 set that libxml2 knows and need their `;` (unknown ones stay literal);
//!   numeric ones are decoded, an invalid code point (0, a surrogate, beyond U+10FFFF) becomes U+FFFD;
//! - a result that is empty or only whitespace (Unicode, so `&nbsp;` alone too) is `""`, which skips the message.
//!
//! The entity table and the numeric rule are `crate::html_entities`, shared with `crate::extract::html`.
//!
//! Cost is one linear pass; the open-element stack is capped at `MAX_DEPTH` (512), so hostile input cannot grow it.

use crate::html_entities;
/// The shared table, under the name this module's tests check it by.
#[cfg(test)]
use crate::html_entities::NAMED as ENTITIES;

/// Deepest open-element stack tracked; deeper start tags are treated as if they closed at once.
const MAX_DEPTH: usize = 512;
/// Longest entity name looked up (`&thetasym;` has 8 letters).
const MAX_ENTITY_NAME: usize = 10;
/// Elements that never have content in the HTML parser libxml2 implements.
const VOID: &[&str] = &[
    "area", "base", "basefont", "br", "col", "embed", "frame", "hr", "img", "input", "isindex",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
];
/// Elements whose content is raw text (never markup) and never part of the output.
const RAW: &[&str] = &["script", "style"];
/// Whitespace BeautifulSoup treats as blank when it collapses whitespace-only nodes.
const ASCII_BLANK: &[u8] = b" \n\t\x0c\r";

/// The text of `html` as the reference's `html_to_text` returns it (see the module doc).
pub fn html_to_text(html: &str) -> String {
    let mut walker = Walker {
        src: html,
        pos: 0,
        in_prolog: true,
        pending: String::new(),
        stack: Vec::new(),
        template_depth: 0,
        preserve_depth: 0,
        out: String::new(),
        nodes: 0,
    };
    walker.run();
    if walker.out.trim().is_empty() {
        String::new()
    } else {
        walker.out
    }
}

struct Walker<'a> {
    src: &'a str,
    /// Byte offset; always on a char boundary because it only moves over ASCII delimiters or whole runs.
    pos: usize,
    /// Nothing but blanks, comments and declarations seen yet: blank text is dropped here.
    in_prolog: bool,
    /// The text node being collected, entities already decoded.
    pending: String,
    stack: Vec<String>,
    template_depth: usize,
    preserve_depth: usize,
    out: String,
    nodes: usize,
}

impl<'a> Walker<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes()[self.pos..]
    }

    fn run(&mut self) {
        while self.pos < self.src.len() {
            match self.bytes()[self.pos] {
                b'<' => self.markup(),
                b'&' => self.reference(),
                _ => self.text_run(),
            }
        }
        self.flush();
    }

    /// Plain characters up to the next `<` or `&`.
    fn text_run(&mut self) {
        let rest = self.rest();
        let len = rest
            .iter()
            .position(|b| matches!(b, b'<' | b'&'))
            .unwrap_or(rest.len());
        let src = self.src;
        let mut run = &src[self.pos..self.pos + len];
        self.pos += len;
        if self.in_prolog {
            run = run.trim_start_matches([' ', '\t', '\n', '\r']);
            if run.is_empty() {
                return;
            }
            self.in_prolog = false;
        }
        self.pending.push_str(run);
    }

    fn markup(&mut self) {
        let rest = self.rest();
        if rest.starts_with(b"<!--") {
            let body = &rest[4..];
            let len = if body.starts_with(b">") {
                1
            } else if body.starts_with(b"->") {
                2
            } else {
                find(body, b"-->").map_or(body.len(), |i| i + 3)
            };
            self.flush();
            self.pos += 4 + len;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            self.bogus_comment(2);
        } else if rest.starts_with(b"</") {
            match rest.get(2) {
                Some(b) if b.is_ascii_alphabetic() => self.end_tag(),
                Some(b'>') => self.pos += 3,
                Some(_) => self.bogus_comment(2),
                // `</` at the very end is text, as in HTML5.
                None => self.literal_lt(),
            }
        } else if rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            self.start_tag();
        } else {
            self.literal_lt();
        }
    }

    fn literal_lt(&mut self) {
        self.in_prolog = false;
        self.pending.push('<');
        self.pos += 1;
    }

    /// `<!…>`, `<?…>` or `</…>` not starting with a letter: skipped up to the next `>` (or the end).
    fn bogus_comment(&mut self, skip: usize) {
        let body = &self.rest()[skip..];
        let len = body
            .iter()
            .position(|&b| b == b'>')
            .map_or(body.len(), |i| i + 1);
        self.flush();
        self.pos += skip + len;
    }

    /// Reads a tag from `self.pos` (`<name` or `</name`, then attributes up to `>`). `None` when the input ends
    /// inside the tag: like HTML5, such a tag produces nothing and the rest of the input is consumed.
    fn read_tag(&mut self, name_start: usize) -> Option<(String, bool)> {
        let bytes = self.bytes();
        let mut i = self.pos + name_start;
        let start = i;
        while i < bytes.len()
            && !matches!(
                bytes[i],
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>'
            )
        {
            i += 1;
        }
        let name = self.src[start..i].to_ascii_lowercase();
        let mut self_closing = false;
        loop {
            match bytes.get(i) {
                None => {
                    self.pos = bytes.len();
                    return None;
                }
                Some(b'>') => {
                    self.pos = i + 1;
                    return Some((name, self_closing));
                }
                Some(b'/') => {
                    self_closing = true;
                    i += 1;
                    continue;
                }
                Some(b'=') => {
                    i += 1;
                    while bytes.get(i).is_some_and(|b| ASCII_BLANK.contains(b)) {
                        i += 1;
                    }
                    if let Some(&quote @ (b'"' | b'\'')) = bytes.get(i) {
                        match bytes[i + 1..].iter().position(|&b| b == quote) {
                            Some(len) => i += len + 2,
                            None => i = bytes.len(),
                        }
                    }
                }
                Some(_) => i += 1,
            }
            self_closing = false;
        }
    }

    fn start_tag(&mut self) {
        self.flush();
        self.in_prolog = false;
        let Some((name, self_closing)) = self.read_tag(1) else {
            return;
        };
        if self_closing || VOID.contains(&name.as_str()) {
            return;
        }
        if RAW.contains(&name.as_str()) {
            self.skip_raw_text(&name);
            return;
        }
        if self.stack.len() < MAX_DEPTH {
            self.template_depth += usize::from(name == "template");
            self.preserve_depth += usize::from(preserves_whitespace(&name));
            self.stack.push(name);
        }
    }

    /// Moves past the content of a raw-text element, up to (not over) its end tag; to the end if there is none.
    fn skip_raw_text(&mut self, name: &str) {
        let bytes = self.bytes();
        let mut i = self.pos;
        while let Some(at) = find(&bytes[i..], b"</") {
            let tag = i + at + 2;
            let after = tag + name.len();
            if bytes.len() >= after
                && bytes[tag..after].eq_ignore_ascii_case(name.as_bytes())
                && bytes.get(after).is_none_or(|b| {
                    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>')
                })
            {
                self.pos = i + at;
                return;
            }
            i = tag;
        }
        self.pos = bytes.len();
    }

    fn end_tag(&mut self) {
        let Some((name, _)) = self.read_tag(2) else {
            return;
        };
        if RAW.contains(&name.as_str()) {
            // The end of a raw-text element (never pushed): the text before it was never collected.
            return;
        }
        let Some(open) = self.stack.iter().rposition(|n| *n == name) else {
            return;
        };
        self.flush();
        for closed in self.stack.drain(open..) {
            self.template_depth -= usize::from(closed == "template");
            self.preserve_depth -= usize::from(preserves_whitespace(&closed));
        }
    }

    /// `&…` in text: a character reference, an entity, or a literal `&`.
    fn reference(&mut self) {
        self.in_prolog = false;
        let rest = self.rest();
        let (decoded, len) = if rest.get(1) == Some(&b'#') {
            numeric_reference(rest)
        } else {
            named_reference(rest)
        };
        match decoded {
            Some(c) => self.pending.push(c),
            None => self.pending.push('&'),
        }
        self.pos += if decoded.is_some() { len } else { 1 };
    }

    /// Ends the text node being collected and appends it to the output.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        if self.template_depth > 0 {
            return;
        }
        let blank = text.bytes().all(|b| ASCII_BLANK.contains(&b));
        let node = if blank && self.preserve_depth == 0 {
            if text.contains('\n') {
                "\n"
            } else {
                " "
            }
        } else {
            text.as_str()
        };
        if self.nodes > 0 {
            self.out.push('\n');
        }
        self.out.push_str(node);
        self.nodes += 1;
    }
}

fn preserves_whitespace(name: &str) -> bool {
    name == "pre" || name == "textarea"
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `&#123;` / `&#x1F600;` (the `;` is optional): the character and the length consumed, or `None` without digits.
fn numeric_reference(rest: &[u8]) -> (Option<char>, usize) {
    let hex = matches!(rest.get(2), Some(b'x' | b'X'));
    let digits_start = if hex { 3 } else { 2 };
    let radix = if hex { 16 } else { 10 };
    // `rest` starts with `&#` (and `&#x` when hex), so `digits_start` is in bounds.
    let after = &rest[digits_start..];
    let digits_len = after
        .iter()
        .position(|&b| char::from(b).to_digit(radix).is_none())
        .unwrap_or(after.len());
    let mut end = digits_start + digits_len;
    // ASCII digits only, so always UTF-8.
    let digits = std::str::from_utf8(&after[..digits_len]).unwrap_or("");
    let Some(c) = html_entities::numeric(digits, radix) else {
        return (None, 0);
    };
    if rest.get(end) == Some(&b';') {
        end += 1;
    }
    (Some(c), end)
}

/// `&name;` for a known HTML 4 entity: the character and the length consumed.
fn named_reference(rest: &[u8]) -> (Option<char>, usize) {
    let name_len = rest[1..]
        .iter()
        .take(MAX_ENTITY_NAME + 1)
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(rest.len() - 1);
    if name_len == 0 || name_len > MAX_ENTITY_NAME || rest.get(1 + name_len) != Some(&b';') {
        return (None, 0);
    }
    let Ok(name) = std::str::from_utf8(&rest[1..1 + name_len]) else {
        return (None, 0);
    };
    match html_entities::named(name) {
        Some(c) => (Some(c), name_len + 2),
        None => (None, 0),
    }
}

#[cfg(test)]
#[path = "html_text_tests.rs"]
mod tests;
