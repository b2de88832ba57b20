//! OpenDocument text (.odt) → text. Reads `content.xml` through the shared zip/XML plumbing in
//! [`super::ooxml::package`] (same entry cap, decompression budget, entity and depth rules): `text:p` / `text:h`
//! paragraphs end in a newline, `text:s` gives spaces, `text:tab` a tab, `text:line-break` a newline, and table
//! rows become lines of tab-separated cells. Whitespace in element text is collapsed as ODF requires.

use quick_xml::events::BytesStart;

use super::ooxml::package::{attr, walk, Flow, Handler, Layout, Out, Package};
use super::{Extracted, Limits, Skip};

/// `text:s` may ask for any count; more spaces than this in one run carry no extra meaning.
const MAX_SPACES_PER_RUN: usize = 1024;

/// Text of an .odt file's body (`content.xml`).
pub fn extract_odt(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    let mut pkg = Package::open(bytes, limits)?;
    let mut out = Out::new(limits);
    if let Some(xml) = pkg.main_part("content.xml", &mut out)? {
        walk(&xml, "content.xml", limits, &mut out, &mut Odt::default());
    }
    Ok(out.finish())
}

#[derive(Default)]
struct Odt {
    layout: Layout,
    /// Open `text:p` / `text:h` elements; text outside them is formatting whitespace.
    paragraphs: usize,
    /// The last character written in the current paragraph was collapsed whitespace (or nothing yet).
    after_space: bool,
}

impl Handler for Odt {
    fn open(&mut self, name: &[u8], element: &BytesStart, out: &mut Out) -> Flow {
        match name {
            // Deleted text kept for change tracking is not part of the document.
            b"tracked-changes" => return Flow::SkipChildren,
            b"p" | b"h" => {
                self.paragraphs = self.paragraphs.saturating_add(1);
                self.after_space = true;
            }
            b"s" if self.paragraphs > 0 => {
                let count = attr(element, b"c")
                    .and_then(|c| c.trim().parse::<usize>().ok())
                    .unwrap_or(1);
                self.layout
                    .text(&" ".repeat(count.clamp(1, MAX_SPACES_PER_RUN)), out);
                self.after_space = true;
            }
            b"tab" if self.paragraphs > 0 => self.layout.inline_break("\t", out),
            b"line-break" if self.paragraphs > 0 => self.layout.inline_break("\n", out),
            b"table-row" => self.layout.row_start(),
            b"table-cell" => self.layout.cell_start(out),
            _ => {}
        }
        Flow::Enter
    }

    fn close(&mut self, name: &[u8], out: &mut Out) {
        match name {
            b"p" | b"h" => {
                self.paragraphs = self.paragraphs.saturating_sub(1);
                self.layout.paragraph_end(out);
            }
            b"table-row" => self.layout.row_end(out),
            b"table-cell" => self.layout.cell_end(),
            _ => {}
        }
    }

    fn text(&mut self, text: &str, out: &mut Out) {
        if self.paragraphs == 0 {
            return;
        }
        let mut collapsed = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_whitespace() {
                if !self.after_space {
                    collapsed.push(' ');
                }
                self.after_space = true;
            } else {
                collapsed.push(c);
                self.after_space = false;
            }
        }
        self.layout.text(&collapsed, out);
    }
}

#[cfg(test)]
#[path = "odf_tests.rs"]
mod tests;
