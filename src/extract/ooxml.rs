//! Office Open XML (docx, pptx, xlsx/xlsm) → text. Each format walks its main part(s) with a [`Handler`]; the
//! zip budget, XML caps and paragraph/table layout live in [`package`], which the ODF extractor shares.

use quick_xml::events::BytesStart;

use super::{Extracted, Limits, Skip};

#[path = "ooxml_package.rs"]
pub(super) mod package;

use package::{attr, numbered, walk, Flow, Handler, Layout, Out, Package};
#[cfg(test)]
use package::{read_capped, PartError, MAX_PART_BYTES};

/// Text of a .docx: body paragraphs and tables, then headers, then footers (each in numeric part order).
pub fn extract_docx(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    let mut pkg = Package::open(bytes, limits)?;
    let mut out = Out::new(limits);
    let Some(body) = pkg.main_part("word/document.xml", &mut out)? else {
        return Ok(out.finish());
    };
    walk(
        &body,
        "word/document.xml",
        limits,
        &mut out,
        &mut Docx::default(),
    );
    let names = pkg.names();
    let extra = numbered(&names, "word/header", ".xml")
        .into_iter()
        .chain(numbered(&names, "word/footer", ".xml"));
    for name in extra {
        if let Some(xml) = pkg.part(&name, &mut out) {
            walk(&xml, &name, limits, &mut out, &mut Docx::default());
        }
    }
    Ok(out.finish())
}

/// Text of a .pptx: slides in slide-number order, each followed by its speaker notes.
pub fn extract_pptx(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    let mut pkg = Package::open(bytes, limits)?;
    let mut out = Out::new(limits);
    let slides = numbered(&pkg.names(), "ppt/slides/slide", ".xml");
    if slides.is_empty() {
        return Err(Skip(
            "presentation has no ppt/slides/slideN.xml part".into(),
        ));
    }
    for slide in slides {
        if out.stopped() {
            break;
        }
        let Some(xml) = pkg.part(&slide, &mut out) else {
            continue;
        };
        walk(&xml, &slide, limits, &mut out, &mut Drawing::default());
        let Some(notes) = notes_part(&mut pkg, &slide, limits, &mut out) else {
            continue;
        };
        if let Some(xml) = pkg.part(&notes, &mut out) {
            walk(
                &xml,
                &notes,
                limits,
                &mut out,
                &mut Drawing {
                    skip_fields: true,
                    ..Drawing::default()
                },
            );
        }
    }
    Ok(out.finish())
}

/// Text of a .xlsx / .xlsm: per sheet (workbook order) a heading line with its name, then a line per row with
/// tab-separated cell values (shared strings resolved, inline strings, numbers as written). Empty cells between
/// written ones are not padded.
pub fn extract_xlsx(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    let mut pkg = Package::open(bytes, limits)?;
    let mut out = Out::new(limits);
    let Some(workbook) = pkg.main_part("xl/workbook.xml", &mut out)? else {
        return Ok(out.finish());
    };
    let mut sheets = Workbook::default();
    walk(&workbook, "xl/workbook.xml", limits, &mut out, &mut sheets);
    let rels = pkg
        .part("xl/_rels/workbook.xml.rels", &mut out)
        .map(|x| relationships(&x, limits));
    let mut strings = SharedStrings::default();
    if let Some(xml) = pkg.part("xl/sharedStrings.xml", &mut out) {
        walk(&xml, "xl/sharedStrings.xml", limits, &mut out, &mut strings);
    }
    for (i, (name, rid)) in sheets.sheets.iter().enumerate() {
        if out.stopped() {
            break;
        }
        let target = rels
            .as_ref()
            .and_then(|r| r.iter().find(|rel| &rel.id == rid))
            .map(|rel| resolve("xl", &rel.target));
        let path =
            target.unwrap_or_else(|| format!("xl/worksheets/sheet{}.xml", i.saturating_add(1)));
        let Some(xml) = pkg.part(&path, &mut out) else {
            continue;
        };
        out.push(name);
        out.push("\n");
        walk(
            &xml,
            &path,
            limits,
            &mut out,
            &mut Sheet {
                strings: &strings,
                cells_in_row: 0,
                cell_type: String::new(),
                value: None,
                in_value: false,
            },
        );
    }
    Ok(out.finish())
}

/// Text runs (`t`), paragraphs and tables as WordprocessingML and DrawingML both mark them up; the two handlers
/// below add only their own skips and breaks.
#[derive(Default)]
struct Runs {
    layout: Layout,
    in_text: bool,
}

impl Runs {
    fn open(&mut self, name: &[u8], out: &mut Out) {
        match name {
            b"t" => self.in_text = true,
            b"br" => self.layout.inline_break("\n", out),
            b"tr" => self.layout.row_start(),
            b"tc" => self.layout.cell_start(out),
            _ => {}
        }
    }

    fn close(&mut self, name: &[u8], out: &mut Out) {
        match name {
            b"t" => self.in_text = false,
            b"p" => self.layout.paragraph_end(out),
            b"tr" => self.layout.row_end(out),
            b"tc" => self.layout.cell_end(),
            _ => {}
        }
    }

    fn text(&mut self, text: &str, out: &mut Out) {
        if self.in_text {
            self.layout.text(text, out);
        }
    }
}

/// WordprocessingML body/header/footer.
#[derive(Default)]
struct Docx {
    runs: Runs,
}

impl Handler for Docx {
    fn open(&mut self, name: &[u8], _: &BytesStart, out: &mut Out) -> Flow {
        match name {
            // Paragraph properties hold tab *stops* (`w:tabs/w:tab`); the fallback duplicates alternate content.
            b"pPr" | b"rPr" | b"Fallback" => return Flow::SkipChildren,
            b"tab" => self.runs.layout.inline_break("\t", out),
            b"cr" => self.runs.layout.inline_break("\n", out),
            other => self.runs.open(other, out),
        }
        Flow::Enter
    }

    fn close(&mut self, name: &[u8], out: &mut Out) {
        self.runs.close(name, out);
    }

    fn text(&mut self, text: &str, out: &mut Out) {
        self.runs.text(text, out);
    }
}

/// DrawingML text in slides and notes slides.
#[derive(Default)]
struct Drawing {
    runs: Runs,
    /// Notes slides carry a slide-number field; its text is not the speaker's.
    skip_fields: bool,
}

impl Handler for Drawing {
    fn open(&mut self, name: &[u8], _: &BytesStart, out: &mut Out) -> Flow {
        match name {
            b"fld" if self.skip_fields => return Flow::SkipChildren,
            b"Fallback" => return Flow::SkipChildren,
            other => self.runs.open(other, out),
        }
        Flow::Enter
    }

    fn close(&mut self, name: &[u8], out: &mut Out) {
        self.runs.close(name, out);
    }

    fn text(&mut self, text: &str, out: &mut Out) {
        self.runs.text(text, out);
    }
}

/// The notes slide linked from a slide's relationships, else `ppt/notesSlides/notesSlideN.xml` for slideN.
fn notes_part(pkg: &mut Package, slide: &str, limits: &Limits, out: &mut Out) -> Option<String> {
    let (dir, file) = slide.rsplit_once('/')?;
    let rels_path = format!("{dir}/_rels/{file}.rels");
    if let Some(xml) = pkg.part(&rels_path, out) {
        let rels = relationships(&xml, limits);
        let notes = rels.iter().find(|r| r.kind.ends_with("/notesSlide"))?;
        return Some(resolve(dir, &notes.target));
    }
    let n = file.strip_prefix("slide")?.strip_suffix(".xml")?;
    let guess = format!("ppt/notesSlides/notesSlide{n}.xml");
    pkg.contains(&guess).then_some(guess)
}

struct Relationship {
    id: String,
    kind: String,
    target: String,
}

/// The `Relationship` elements of a `.rels` part.
fn relationships(xml: &[u8], limits: &Limits) -> Vec<Relationship> {
    struct Rels(Vec<Relationship>);
    impl Handler for Rels {
        fn open(&mut self, name: &[u8], e: &BytesStart, _: &mut Out) -> Flow {
            if name == b"Relationship" {
                let get = |key: &[u8]| attr(e, key).unwrap_or_default();
                self.0.push(Relationship {
                    id: get(b"Id"),
                    kind: get(b"Type"),
                    target: get(b"Target"),
                });
            }
            Flow::Enter
        }
        fn close(&mut self, _: &[u8], _: &mut Out) {}
        fn text(&mut self, _: &str, _: &mut Out) {}
    }
    let mut rels = Rels(Vec::new());
    walk(xml, ".rels", limits, &mut Out::new(limits), &mut rels);
    rels.0
}

/// A relationship target relative to the source part's folder (`..` allowed), or package-absolute (`/xl/...`).
fn resolve(base_dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        base_dir.split('/').collect()
    };
    for piece in target.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.retain(|p| !p.is_empty());
    parts.join("/")
}

/// `xl/workbook.xml`: sheet names and relationship ids, in workbook order.
#[derive(Default)]
struct Workbook {
    sheets: Vec<(String, String)>,
}

impl Handler for Workbook {
    fn open(&mut self, name: &[u8], e: &BytesStart, _: &mut Out) -> Flow {
        if name == b"sheet" {
            self.sheets.push((
                attr(e, b"name").unwrap_or_default(),
                attr(e, b"id").unwrap_or_default(),
            ));
        }
        Flow::Enter
    }
    fn close(&mut self, _: &[u8], _: &mut Out) {}
    fn text(&mut self, _: &str, _: &mut Out) {}
}

/// Shared strings kept per workbook. A cell can name any of them, so all are held while the sheets are read; an
/// `<si/>` costs 5 bytes of XML, so without a count cap a 200 MiB (decompressed) part would make 40 million
/// entries. Real workbooks have up to a few hundred thousand.
pub const MAX_SHARED_STRINGS: usize = 1_000_000;
/// Total bytes of shared-string text kept; the text cap alone does not bound this (cells repeat strings).
pub const MAX_SHARED_STRING_BYTES: usize = 16 * 1024 * 1024;

/// `xl/sharedStrings.xml`: one string per `si`, rich-text runs joined, phonetic guides left out. Stored as one
/// buffer plus a 4-byte start offset per string (not a `String` each: 24 bytes of header per entry), so the caps
/// above bound memory to ~20 MiB.
#[derive(Default)]
struct SharedStrings {
    text: String,
    starts: Vec<u32>,
    in_text: bool,
    capped: bool,
}

impl SharedStrings {
    fn get(&self, index: usize) -> Option<&str> {
        let start = usize::try_from(*self.starts.get(index)?).ok()?;
        let end = match self.starts.get(index.saturating_add(1)) {
            Some(&next) => usize::try_from(next).ok()?,
            None => self.text.len(),
        };
        self.text.get(start..end)
    }

    fn cap(&mut self, out: &mut Out, what: String) {
        self.capped = true;
        out.note(format!(
            "xl/sharedStrings.xml: {what}; the rest are skipped and cells naming them are left empty"
        ));
    }
}

impl Handler for SharedStrings {
    fn open(&mut self, name: &[u8], _: &BytesStart, out: &mut Out) -> Flow {
        if self.capped {
            return Flow::Stop;
        }
        match name {
            b"rPh" => return Flow::SkipChildren,
            b"si" if self.starts.len() >= MAX_SHARED_STRINGS => {
                self.cap(
                    out,
                    format!("more than {MAX_SHARED_STRINGS} shared strings"),
                );
                return Flow::Stop;
            }
            b"si" => {
                // Below MAX_SHARED_STRING_BYTES, so the offset fits.
                let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
                self.starts.push(start);
            }
            b"t" => self.in_text = true,
            _ => {}
        }
        Flow::Enter
    }
    fn close(&mut self, name: &[u8], _: &mut Out) {
        if name == b"t" {
            self.in_text = false;
        }
    }
    fn text(&mut self, text: &str, out: &mut Out) {
        if !self.in_text || self.starts.is_empty() || self.capped {
            return;
        }
        if self.text.len().saturating_add(text.len()) > MAX_SHARED_STRING_BYTES {
            self.cap(
                out,
                format!("shared strings past {MAX_SHARED_STRING_BYTES} bytes of text"),
            );
            return;
        }
        self.text.push_str(text);
    }
}

/// One worksheet: a line per `row`, tab-separated cell values.
struct Sheet<'s> {
    strings: &'s SharedStrings,
    cells_in_row: usize,
    cell_type: String,
    value: Option<String>,
    in_value: bool,
}

impl Handler for Sheet<'_> {
    fn open(&mut self, name: &[u8], e: &BytesStart, _: &mut Out) -> Flow {
        match name {
            b"row" => self.cells_in_row = 0,
            b"c" => {
                self.cell_type = attr(e, b"t").unwrap_or_default();
                self.value = None;
            }
            b"v" | b"t" => self.in_value = true,
            b"f" | b"rPh" => return Flow::SkipChildren,
            _ => {}
        }
        Flow::Enter
    }

    fn close(&mut self, name: &[u8], out: &mut Out) {
        match name {
            b"v" | b"t" => self.in_value = false,
            b"c" => {
                let Some(raw) = self.value.take() else { return };
                let value = match self.cell_type.as_str() {
                    "s" => raw
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| self.strings.get(i))
                        .map(str::to_owned)
                        .unwrap_or_default(),
                    _ => raw,
                };
                if self.cells_in_row > 0 {
                    out.push("\t");
                }
                self.cells_in_row = self.cells_in_row.saturating_add(1);
                out.push(&value);
            }
            b"row" if self.cells_in_row > 0 => out.push("\n"),
            _ => {}
        }
    }

    fn text(&mut self, text: &str, _: &mut Out) {
        if self.in_value {
            self.value.get_or_insert_with(String::new).push_str(text);
        }
    }
}

#[cfg(test)]
#[path = "ooxml_tests.rs"]
mod tests;
