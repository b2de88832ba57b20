//! The zip-and-XML plumbing shared by the OOXML and ODF extractors: [`Package`] reads archive members under one
//! decompression budget (through the counting reader [`read_capped`]), [`walk`] streams one XML part into a
//! [`Handler`] with depth, deadline and text caps, [`Out`] accumulates text and notes, [`Layout`] turns
//! paragraph/table structure into lines and tab-separated cells.
//!
//! Hostile input is expected: the entry count is capped ([`MAX_ENTRIES`]), every member is read through a counting
//! adapter against `Limits::max_decompressed_bytes` shared by all members of one file, DOCTYPEs are ignored and
//! custom entities are never expanded (billion laughs stays a few bytes), and nothing here panics on input.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use zip::ZipArchive;

use crate::extract::{Extracted, Limits, Skip};

/// Archives with more members than this are refused before any member is read.
pub const MAX_ENTRIES: usize = 10_000;
/// Bytes of one member kept for parsing; the rest is not decompressed. Parts are parsed from memory, so this is
/// what one part costs (the decompression budget is per file and far larger). A part this big holds several
/// times the default 1 MiB text cap, so honest files lose nothing at default settings.
pub const MAX_PART_BYTES: u64 = 24 * 1024 * 1024;
/// XML events between two deadline checks.
const EVENTS_PER_DEADLINE_CHECK: u32 = 1024;

/// A zip archive whose members are read under one shared decompression budget.
pub(in crate::extract) struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    budget_left: u64,
    limits: &'a Limits,
}

impl<'a> Package<'a> {
    pub(in crate::extract) fn open(bytes: &'a [u8], limits: &'a Limits) -> Result<Self, Skip> {
        let zip = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| Skip(format!("not a readable zip archive: {e}")))?;
        if zip.len() > MAX_ENTRIES {
            return Err(Skip(format!(
                "archive has {} entries, more than the {MAX_ENTRIES} allowed",
                zip.len()
            )));
        }
        Ok(Package {
            zip,
            budget_left: limits.max_decompressed_bytes,
            limits,
        })
    }

    pub(in crate::extract) fn contains(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    pub(in crate::extract) fn names(&self) -> Vec<String> {
        self.zip.file_names().map(str::to_string).collect()
    }

    /// The part a format cannot do without: missing, corrupt or over budget is a skip; a deadline that has
    /// passed gives `Ok(None)` with a note in `out`.
    pub(in crate::extract) fn main_part(
        &mut self,
        name: &str,
        out: &mut Out,
    ) -> Result<Option<Vec<u8>>, Skip> {
        match self.read(name, out) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(PartError::Deadline) => {
                out.deadline_hit();
                Ok(None)
            }
            Err(e) => Err(Skip(format!("{name}: {}", e.describe(self.limits)))),
        }
    }

    /// An optional part: missing gives `None` silently, other failures give `None` with a note.
    pub(in crate::extract) fn part(&mut self, name: &str, out: &mut Out) -> Option<Vec<u8>> {
        match self.read(name, out) {
            Ok(bytes) => Some(bytes),
            Err(PartError::Missing) => None,
            Err(PartError::Deadline) => {
                out.deadline_hit();
                None
            }
            Err(e) => {
                out.note(format!("{name} skipped: {}", e.describe(self.limits)));
                None
            }
        }
    }

    fn read(&mut self, name: &str, out: &mut Out) -> Result<Vec<u8>, PartError> {
        if self.limits.expired() {
            return Err(PartError::Deadline);
        }
        let member = match self.zip.by_name(name) {
            Ok(member) => member,
            Err(zip::result::ZipError::FileNotFound) => return Err(PartError::Missing),
            Err(e) => return Err(PartError::Corrupt(e.to_string())),
        };
        // The declared size is only a fast path for honest archives; the counting read below is the real bound.
        if member.size().min(MAX_PART_BYTES + 1) > self.budget_left {
            return Err(PartError::Budget);
        }
        // One byte past the cap tells a part cut short from one that fits exactly.
        let (bytes, used) = read_capped(
            member.take(MAX_PART_BYTES + 1),
            self.budget_left,
            self.limits,
        );
        self.budget_left = self.budget_left.saturating_sub(used);
        let mut bytes = bytes?;
        if bytes.len() as u64 > MAX_PART_BYTES {
            bytes.truncate(usize::try_from(MAX_PART_BYTES).unwrap_or(usize::MAX));
            out.note(format!(
                "{name}: only the first {MAX_PART_BYTES} bytes read; rest skipped"
            ));
        }
        Ok(bytes)
    }
}

pub(in crate::extract) enum PartError {
    Missing,
    Budget,
    Deadline,
    Corrupt(String),
}

impl PartError {
    fn describe(&self, limits: &Limits) -> String {
        match self {
            PartError::Missing => "missing from the archive".into(),
            PartError::Budget => format!(
                "decompressed size exceeds {} bytes",
                limits.max_decompressed_bytes
            ),
            PartError::Deadline => "time budget ran out".into(),
            PartError::Corrupt(e) => format!("corrupt member: {e}"),
        }
    }
}

/// Reads `reader` to the end unless it yields more than `budget` bytes or the deadline passes; returns the
/// bytes (or why not) and how many bytes were consumed from the budget.
pub(in crate::extract) fn read_capped(
    mut reader: impl Read,
    budget: u64,
    limits: &Limits,
) -> (Result<Vec<u8>, PartError>, u64) {
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut used: u64 = 0;
    loop {
        if limits.expired() {
            return (Err(PartError::Deadline), used);
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => return (Ok(data), used),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (Err(PartError::Corrupt(e.to_string())), used),
        };
        used = used.saturating_add(n as u64);
        if used > budget {
            return (Err(PartError::Budget), used);
        }
        data.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// Part names `{prefix}N{suffix}` sorted by N as a number (slide2 before slide10).
pub(in crate::extract) fn numbered(names: &[String], prefix: &str, suffix: &str) -> Vec<String> {
    let mut found: Vec<(u64, &String)> = names
        .iter()
        .filter_map(|name| {
            let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
            let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            all_digits.then(|| digits.parse().ok().map(|n| (n, name)))?
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, name)| name.clone()).collect()
}

/// Accumulated text with the text cap applied, plus notes for humans.
pub(in crate::extract) struct Out {
    text: String,
    notes: Vec<String>,
    max_text_bytes: usize,
    full: bool,
    timed_out: bool,
}

impl Out {
    pub(in crate::extract) fn new(limits: &Limits) -> Self {
        Out {
            text: String::new(),
            notes: Vec::new(),
            max_text_bytes: limits.max_text_bytes,
            full: false,
            timed_out: false,
        }
    }

    pub(in crate::extract) fn push(&mut self, s: &str) {
        if self.full {
            return;
        }
        let room = self.max_text_bytes.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return;
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        self.text.push_str(s.get(..cut).unwrap_or_default());
        self.full = true;
        self.note(format!("text cut at {} bytes", self.max_text_bytes));
    }

    pub(in crate::extract) fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub(in crate::extract) fn deadline_hit(&mut self) {
        if !self.timed_out {
            self.timed_out = true;
            self.note("time budget ran out; text is partial".into());
        }
    }

    pub(in crate::extract) fn stopped(&self) -> bool {
        self.full || self.timed_out
    }

    pub(in crate::extract) fn finish(self) -> Extracted {
        Extracted {
            text: self.text,
            notes: self.notes,
        }
    }
}

/// What a handler wants done with the children of an element it has just seen open.
#[derive(PartialEq)]
pub(in crate::extract) enum Flow {
    Enter,
    SkipChildren,
    /// The handler has all it will take (a cap reached): the rest of the part is not read.
    Stop,
}

/// Receives one XML part's elements by local name (prefixes vary between producers).
pub(in crate::extract) trait Handler {
    fn open(&mut self, name: &[u8], element: &BytesStart, out: &mut Out) -> Flow;
    fn close(&mut self, name: &[u8], out: &mut Out);
    fn text(&mut self, text: &str, out: &mut Out);
}

/// Streams `xml` into `handler`. Stops (keeping what was produced, with a note) at malformed XML, nesting deeper
/// than `limits.max_depth`, the deadline, or a full text buffer. DOCTYPE declarations are ignored and only the
/// five predefined entities and character references are resolved, so entity bombs never expand.
pub(in crate::extract) fn walk(
    xml: &[u8],
    part: &str,
    limits: &Limits,
    out: &mut Out,
    handler: &mut impl Handler,
) {
    let mut reader = Reader::from_reader(xml);
    let mut depth: usize = 0;
    let mut skip_until: Option<usize> = None;
    let mut events: u32 = 0;
    loop {
        if out.stopped() {
            return;
        }
        events = events.wrapping_add(1);
        if events.is_multiple_of(EVENTS_PER_DEADLINE_CHECK) && limits.expired() {
            out.deadline_hit();
            return;
        }
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                out.note(format!(
                    "{part}: malformed XML at byte {}: {e}",
                    reader.buffer_position()
                ));
                return;
            }
        };
        match event {
            Event::Start(e) => {
                depth = depth.saturating_add(1);
                if depth > limits.max_depth {
                    out.note(format!(
                        "{part}: XML nested deeper than {}; rest skipped",
                        limits.max_depth
                    ));
                    return;
                }
                if skip_until.is_none() {
                    match handler.open(e.local_name().as_ref(), &e, out) {
                        Flow::Enter => {}
                        Flow::SkipChildren => skip_until = Some(depth),
                        Flow::Stop => return,
                    }
                }
            }
            // An empty element is an open immediately followed by its close, unless the handler skips it.
            Event::Empty(e) if skip_until.is_none() => {
                match handler.open(e.local_name().as_ref(), &e, out) {
                    Flow::Enter => handler.close(e.local_name().as_ref(), out),
                    Flow::SkipChildren => {}
                    Flow::Stop => return,
                }
            }
            Event::End(e) => {
                match skip_until {
                    Some(d) if d == depth => skip_until = None,
                    Some(_) => {}
                    None => handler.close(e.local_name().as_ref(), out),
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(e) if skip_until.is_none() => {
                let raw = String::from_utf8_lossy(&e);
                handler.text(&unescape(&raw), out);
            }
            Event::CData(e) if skip_until.is_none() => {
                handler.text(&String::from_utf8_lossy(&e), out)
            }
            Event::Eof => return,
            _ => {}
        }
    }
}

/// Predefined entities and character references; anything else (custom entities) becomes nothing.
fn unescape(raw: &str) -> Cow<'_, str> {
    let predefined = |name: &str| {
        Some(match name {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            _ => "",
        })
    };
    quick_xml::escape::unescape_with(raw, predefined).unwrap_or(Cow::Borrowed(raw))
}

/// The value of the attribute with this local name, unescaped.
pub(in crate::extract) fn attr(element: &BytesStart, local: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| {
            a.unescape_value()
                .map(Cow::into_owned)
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned())
        })
}

/// Paragraph and table structure → text: a paragraph ends in a newline; table cells are tab-separated and rows end
/// in a newline; paragraphs inside one cell are joined by a space so a row stays on one line.
#[derive(Default)]
pub(in crate::extract) struct Layout {
    frames: Vec<Frame>,
}

enum Frame {
    Row { cells: usize },
    Cell { has_text: bool, pending_space: bool },
}

impl Layout {
    pub(in crate::extract) fn text(&mut self, s: &str, out: &mut Out) {
        if s.is_empty() {
            return;
        }
        if let Some(Frame::Cell {
            has_text,
            pending_space,
        }) = self.frames.last_mut()
        {
            if *has_text && *pending_space {
                out.push(" ");
            }
            *pending_space = false;
            *has_text = true;
        }
        out.push(s);
    }

    /// A break inside a paragraph (tab, line break): kept as is outside tables, a space inside a cell.
    pub(in crate::extract) fn inline_break(&mut self, s: &str, out: &mut Out) {
        match self.frames.last_mut() {
            Some(Frame::Cell { pending_space, .. }) => *pending_space = true,
            _ => out.push(s),
        }
    }

    pub(in crate::extract) fn paragraph_end(&mut self, out: &mut Out) {
        self.inline_break("\n", out);
    }

    pub(in crate::extract) fn row_start(&mut self) {
        self.frames.push(Frame::Row { cells: 0 });
    }

    pub(in crate::extract) fn row_end(&mut self, out: &mut Out) {
        if let Some(Frame::Row { .. }) = self.frames.last() {
            self.frames.pop();
        }
        self.paragraph_end(out);
    }

    pub(in crate::extract) fn cell_start(&mut self, out: &mut Out) {
        if let Some(Frame::Row { cells }) = self.frames.last_mut() {
            if *cells > 0 {
                out.push("\t");
            }
            *cells = cells.saturating_add(1);
        }
        self.frames.push(Frame::Cell {
            has_text: false,
            pending_space: false,
        });
    }

    pub(in crate::extract) fn cell_end(&mut self) {
        if let Some(Frame::Cell { .. }) = self.frames.last() {
            self.frames.pop();
        }
    }
}
