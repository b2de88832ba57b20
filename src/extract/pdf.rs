//! PDF → text. Owns page-tree walking, content-stream interpretation (text operators, Form XObjects), font
//! decoding (ToUnicode CMaps, standard single-byte encodings) and the PDF side of the extraction limits. Parsing and
//! stream filters are lopdf's; everything that walks the object graph lives here so that depth, loops, time and the
//! decompression budget are enforced in one place. Never panics outward: the entry point also catches unwinds.
//!
//! This file holds the entry point, the page-tree walk, stream decompression under the budget and the notes;
//! `pdf_content.rs` interprets content streams and decodes fonts; `pdf_syntax.rs` has the byte-level pre-scans
//! and the ToUnicode CMap parser.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use lopdf::{DecompressError, Dictionary, Document, LoadOptions, Object, ObjectId};

use super::{Extracted, Limits, Skip};

#[path = "pdf_content.rs"]
mod content;
#[path = "pdf_syntax.rs"]
mod syntax;

use content::FontDecoder;
#[cfg(test)]
use syntax::syntax_nesting_exceeds;
use syntax::{hide_image_data, pre_scan};

/// lopdf's parser recurses once per nested array/dictionary and has no cap; a stack overflow aborts the process
/// (`catch_unwind` cannot catch it), so nesting deeper than this is rejected before lopdf sees the bytes.
const MAX_SYNTAX_NESTING: usize = 100;
/// Operands one content operation may have (array and dictionary elements included). lopdf holds one operation's
/// operands at once, ~100 bytes each, so this bounds that memory (~6 MiB); real TJ arrays have hundreds.
pub const MAX_OPERANDS_PER_OPERATION: usize = 65_536;
/// Operations interpreted per content stream (a page's streams count as one, as the PDF spec reads them; a Form
/// XObject is its own). Operations are decoded one at a time (`Content::decode_iter`), so memory does not grow
/// with the count: this bounds *work* — a 17 KB file can inflate to megabytes of `q` operators. Dense real
/// pages (maps, plots) stay well below it.
pub const MAX_OPERATIONS_PER_STREAM: usize = 1_000_000;
/// Operations interpreted in the whole document by default (`Limits::max_operations`), forms re-run by every
/// `Do` included (nested forms that each draw the next several times would otherwise grow exponentially within
/// the depth cap).
pub const MAX_OPERATIONS_TOTAL: usize = 4_000_000;
/// Decompressed bytes of one stream, and of one page's streams together. A stream is decoded into memory whole,
/// so this (not the per-file decompression budget, which is far larger) is what one stream costs; an honest
/// page's content is a few hundred KiB.
pub const MAX_STREAM_BYTES: u64 = 16 * 1024 * 1024;

/// Extracts the text of a PDF, page by page in page order.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    guarded(|| {
        let scan = pre_scan(bytes, MAX_SYNTAX_NESTING);
        parse(bytes, scan.too_deep, limits)
    })
}

/// [`extract`] for a buffer the caller gives up (a download, or a private mapping of its spool file): image
/// stream lengths are first hidden from lopdf ([`hide_image_data`]), so image data is neither copied nor — in a
/// mapping — read from disk. The text is the same as [`extract`]'s.
pub fn extract_in_place(bytes: &mut [u8], limits: &Limits) -> Result<Extracted, Skip> {
    guarded(|| {
        let scan = pre_scan(bytes, MAX_SYNTAX_NESTING);
        hide_image_data(bytes, &scan.image_lengths);
        parse(bytes, scan.too_deep, limits)
    })
}

fn guarded(run: impl FnOnce() -> Result<Extracted, Skip>) -> Result<Extracted, Skip> {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(_) => Err(Skip("malformed PDF: parser failure".into())),
    }
}

fn parse(bytes: &[u8], too_deep: bool, limits: &Limits) -> Result<Extracted, Skip> {
    if bytes.is_empty() {
        return Err(Skip("malformed PDF: empty file".into()));
    }
    if limits.expired() {
        return Ok(Extracted {
            text: String::new(),
            notes: vec!["time budget ran out before PDF parsing".into()],
        });
    }
    if too_deep {
        return Err(Skip("malformed PDF: objects nested too deeply".into()));
    }
    let doc = load(bytes, limits, Some(drop_image_data))?;
    // A filtered load skips lopdf's page-tree repair of damaged files; such a file is loaded again unfiltered.
    let doc = if page_tree_loaded(&doc) || doc.is_encrypted() {
        doc
    } else {
        drop(doc);
        load(bytes, limits, None)?
    };
    // lopdf already tried (and applied) the empty user password; still encrypted means a password is needed.
    if doc.is_encrypted() {
        return Err(Skip("encrypted PDF".into()));
    }
    let mut walker = Walker::new(&doc, limits);
    if doc.xref_recovery == Some(lopdf::xref::XrefRecovery::Reconstructed) {
        walker
            .notes
            .push("damaged cross-reference table: objects recovered by scanning the file".into());
    }
    let pages = walker.collect_pages()?;
    let page_count = pages.len();
    for (index, page) in pages.iter().enumerate() {
        if walker.stopped() || limits.expired() {
            walker.stop_for_deadline(format!(
                "time budget ran out after {index} of {page_count} pages"
            ));
            break;
        }
        walker.pending = walker.pending.max(Gap::Newline);
        walker.page(index + 1, page);
    }
    Ok(walker.finish())
}

fn load(
    bytes: &[u8],
    limits: &Limits,
    filter: Option<lopdf::FilterFunc>,
) -> Result<Document, Skip> {
    let options = LoadOptions {
        max_decompressed_size: Some(
            usize::try_from(limits.max_decompressed_bytes).unwrap_or(usize::MAX),
        ),
        filter,
        ..LoadOptions::default()
    };
    Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { limit }) => Skip(format!(
            "PDF object stream decompresses past the {limit}-byte budget"
        )),
        e => Skip(format!("malformed PDF: {e}")),
    })
}

/// lopdf's load filter: an image XObject keeps its dictionary (the walker counts images) but not its data, which
/// text extraction never reads. lopdf copies each object out of the file as it parses it, so without this every
/// image of a scanned or photo-heavy PDF would sit in memory a second time, beside the file, until extraction
/// ends; with it, one image at a time is copied and dropped at once. No start position: lopdf would otherwise
/// re-read an empty stream's data from the file.
///
/// lopdf keeps an object read from the file as the filter left it (and ignores what the filter returns), but
/// keeps what the filter returns for a member of an object stream. A stream is never such a member (PDF 32000
/// §7.5.7), so a stream is answered with a placeholder and anything else with a copy of itself.
fn drop_image_data(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    match object {
        Object::Stream(stream) => {
            let image = stream
                .dict
                .get(b"Subtype")
                .and_then(Object::as_name)
                .is_ok_and(|s| s == b"Image");
            if image {
                stream.content = Vec::new();
                stream.start_position = None;
            }
            Some((id, Object::Null))
        }
        other => Some((id, other.clone())),
    }
}

/// Whether the catalog leads to a page-tree root with `/Kids` (what lopdf checks before repairing a file).
fn page_tree_loaded(doc: &Document) -> bool {
    doc.catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .and_then(|root| doc.get_dictionary(root))
        .and_then(|root| root.get_deref(b"Kids", doc))
        .and_then(Object::as_array)
        .is_ok()
}

/// A page leaf with the resources it inherits.
struct Page<'a> {
    id: ObjectId,
    resources: Option<&'a Dictionary>,
}

/// Separator owed before the next emitted text; emitted lazily so output never ends in whitespace.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Space,
    Newline,
}

#[derive(Clone, Copy, PartialEq)]
enum Stop {
    Deadline,
    TextCap,
    Budget,
    Operations,
}

struct Walker<'a> {
    doc: &'a Document,
    limits: &'a Limits,
    text: String,
    notes: Vec<String>,
    pending: Gap,
    stop: Option<Stop>,
    budget_left: u64,
    images: usize,
    unmapped_fonts: usize,
    depth_capped: bool,
    loops: usize,
    operations: usize,
    streams_cut: usize,
    operand_runs_refused: usize,
    streams_too_large: usize,
    unreadable: Vec<usize>,
    fonts: HashMap<ObjectId, Rc<FontDecoder<'a>>>,
    form_stack: Vec<ObjectId>,
}

impl<'a> Walker<'a> {
    fn new(doc: &'a Document, limits: &'a Limits) -> Self {
        Walker {
            doc,
            limits,
            text: String::new(),
            notes: Vec::new(),
            pending: Gap::None,
            stop: None,
            budget_left: limits.max_decompressed_bytes,
            images: 0,
            unmapped_fonts: 0,
            depth_capped: false,
            loops: 0,
            operations: 0,
            streams_cut: 0,
            operand_runs_refused: 0,
            streams_too_large: 0,
            unreadable: Vec::new(),
            fonts: HashMap::new(),
            form_stack: Vec::new(),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.is_some()
    }

    fn stop_for_deadline(&mut self, note: String) {
        if self.stop.is_none() {
            self.stop = Some(Stop::Deadline);
            self.notes.push(note);
        }
    }

    fn finish(mut self) -> Extracted {
        if self.depth_capped {
            self.notes.push(format!(
                "nesting deeper than {} levels skipped",
                self.limits.max_depth
            ));
        }
        if self.loops > 0 {
            self.notes
                .push(format!("{} reference loop(s) ignored", self.loops));
        }
        if self.streams_cut > 0 {
            self.notes.push(format!(
                "{} content stream(s) cut at the cap of {MAX_OPERATIONS_PER_STREAM} operations per stream",
                self.streams_cut
            ));
        }
        if self.operand_runs_refused > 0 {
            self.notes.push(format!(
                "{} content stream(s) skipped: an operation with more than {MAX_OPERANDS_PER_OPERATION} operands",
                self.operand_runs_refused
            ));
        }
        if self.streams_too_large > 0 {
            self.notes.push(format!(
                "{} stream(s) over {MAX_STREAM_BYTES} bytes decompressed skipped",
                self.streams_too_large
            ));
        }
        if !self.unreadable.is_empty() {
            let pages: Vec<String> = self.unreadable.iter().map(usize::to_string).collect();
            self.notes.push(format!(
                "unreadable content on page(s) {}",
                pages.join(", ")
            ));
        }
        if self.unmapped_fonts > 0 {
            self.notes.push(format!(
                "{} font(s) without a Unicode map skipped",
                self.unmapped_fonts
            ));
        }
        // Content a cap skipped may have held text: "no text layer" would mislead.
        let capped = self.operand_runs_refused + self.streams_too_large + self.streams_cut > 0;
        if self.text.is_empty() && self.stop.is_none() && !capped {
            self.notes.push(format!(
                "no text layer (image-only or scanned PDF, {} image(s))",
                self.images
            ));
        } else if self.images > 0 {
            self.notes.push(format!("{} image(s) skipped", self.images));
        }
        Extracted {
            text: self.text,
            notes: self.notes,
        }
    }

    fn deref(&self, object: &'a Object) -> Option<(Option<ObjectId>, &'a Object)> {
        self.doc.dereference(object).ok()
    }

    fn dict_entry(&self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
        let object = dict.get(key).ok()?;
        self.deref(object)?.1.as_dict().ok()
    }

    /// Walks the page tree ourselves (rather than `Document::get_pages`) to carry inherited resources and to cap
    /// depth and break loops under our own limits.
    fn collect_pages(&mut self) -> Result<Vec<Page<'a>>, Skip> {
        let root = self
            .doc
            .catalog()
            .ok()
            .and_then(|catalog| catalog.get(b"Pages").ok())
            .and_then(|pages| pages.as_reference().ok())
            .ok_or_else(|| Skip("malformed PDF: no page tree".into()))?;
        let mut pages = Vec::new();
        let mut visited = HashSet::new();
        self.page_node(root, None, 0, &mut visited, &mut pages);
        if pages.is_empty() {
            return Err(Skip("malformed PDF: page tree has no pages".into()));
        }
        Ok(pages)
    }

    fn page_node(
        &mut self,
        id: ObjectId,
        inherited: Option<&'a Dictionary>,
        depth: usize,
        visited: &mut HashSet<ObjectId>,
        pages: &mut Vec<Page<'a>>,
    ) {
        if depth > self.limits.max_depth {
            self.depth_capped = true;
            return;
        }
        if !visited.insert(id) {
            self.loops += 1;
            return;
        }
        let Ok(node) = self.doc.get_dictionary(id) else {
            return;
        };
        let resources = self.dict_entry(node, b"Resources").or(inherited);
        let kids = node
            .get(b"Kids")
            .ok()
            .and_then(|k| self.deref(k))
            .and_then(|(_, k)| k.as_array().ok());
        match kids {
            Some(kids) if !node.has_type(b"Page") => {
                for kid in kids {
                    if let Ok(kid_id) = kid.as_reference() {
                        self.page_node(kid_id, resources, depth + 1, visited, pages);
                    }
                }
            }
            _ => pages.push(Page { id, resources }),
        }
    }

    /// Decompressed stream bytes, charged against the decompression budget.
    fn stream_bytes(&mut self, object: &'a Object) -> Option<Vec<u8>> {
        let stream = self.deref(object)?.1.as_stream().ok()?;
        let allowed = self.budget_left.min(MAX_STREAM_BYTES);
        let limit = usize::try_from(allowed).unwrap_or(usize::MAX);
        let decoded = match stream.filters() {
            Ok(filters) if !filters.is_empty() => stream.decompressed_content_with_limit(limit),
            _ => Ok(stream.content.clone()),
        };
        let over_budget = match decoded {
            Ok(bytes) if (bytes.len() as u64) <= allowed => {
                self.budget_left -= bytes.len() as u64;
                return Some(bytes);
            }
            Ok(_) | Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                true
            }
            Err(_) => false,
        };
        // The stream cap, not the file's budget, stopped it: skip this stream and go on with the others.
        if over_budget && allowed < self.budget_left {
            self.streams_too_large += 1;
            return None;
        }
        if over_budget {
            self.budget_left = 0;
            if self.stop.is_none() {
                self.stop = Some(Stop::Budget);
                self.notes.push(format!(
                    "decompression budget of {} bytes reached; rest skipped",
                    self.limits.max_decompressed_bytes
                ));
            }
        }
        None
    }

    fn page(&mut self, number: usize, page: &Page<'a>) {
        let mut content = Vec::new();
        let Ok(page_dict) = self.doc.get_dictionary(page.id) else {
            return;
        };
        let streams: Vec<&'a Object> =
            match page_dict.get(b"Contents").ok().and_then(|c| self.deref(c)) {
                Some((_, Object::Array(items))) => items.iter().collect(),
                Some((_, object @ Object::Stream(_))) => vec![object],
                _ => Vec::new(),
            };
        for stream in streams {
            let Some(bytes) = self.stream_bytes(stream) else {
                if self.stop.is_none() {
                    self.unreadable.push(number);
                }
                continue;
            };
            // A page's streams are one content stream: together they are held to the one-stream cap.
            if (content.len() + bytes.len()) as u64 > MAX_STREAM_BYTES {
                self.streams_too_large += 1;
                self.unreadable.push(number);
                break;
            }
            content.extend_from_slice(&bytes);
            content.push(b'\n');
        }
        if self.stopped() {
            return;
        }
        if !self.run_content(&content, page.resources, 0) {
            self.unreadable.push(number);
        }
    }
}

#[cfg(test)]
#[path = "pdf_tests.rs"]
mod tests;
