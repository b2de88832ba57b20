//! The content-stream side of PDF text extraction: interpreting a page's or Form XObject's operations (text
//! showing and positioning, `q`/`Q`, `Do`), turning glyph positions into spaces and line breaks, and decoding a
//! font's string bytes to text (ToUnicode CMaps, lopdf's standard encodings, a Windows-1252 guess). The walk over
//! the document, its limits and the notes live in `pdf.rs`.

use std::rc::Rc;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object};

use super::syntax::{operand_run_exceeds, syntax_nesting_exceeds, CMap};
use super::{
    Gap, Stop, Walker, MAX_OPERANDS_PER_OPERATION, MAX_OPERATIONS_PER_STREAM, MAX_SYNTAX_NESTING,
};

/// `q` nesting we remember fonts for; deeper saves are ignored (bounded memory on hostile content).
const MAX_GSTATE_STACK: usize = 256;
/// Kerning in a TJ array (thousandths of an em; negative moves right) past which we assume a word gap.
const TJ_SPACE_THRESHOLD: f32 = -180.0;
/// Vertical movement (text-space units) that counts as a new line.
const NEWLINE_DY: f32 = 1.0;
/// Deadline is checked every this many content operations.
const DEADLINE_CHECK_EVERY: usize = 256;

/// How a font's string bytes become text.
pub(super) enum FontDecoder<'a> {
    ToUnicode(CMap),
    Lopdf(Encoding<'a>),
    /// Simple font whose encoding lopdf cannot decode: Windows-1252 is the closest common guess.
    Latin,
    /// Composite font without a ToUnicode map: glyph ids carry no text.
    Unmapped,
}

impl FontDecoder<'_> {
    fn decode(&self, bytes: &[u8]) -> Option<String> {
        match self {
            FontDecoder::ToUnicode(cmap) => Some(cmap.decode(bytes)),
            FontDecoder::Lopdf(encoding) => Document::decode_text(encoding, bytes)
                .ok()
                .or_else(|| Some(FontDecoder::Latin.decode(bytes).unwrap_or_default())),
            FontDecoder::Latin => Some(
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
                    .into_owned(),
            ),
            FontDecoder::Unmapped => None,
        }
    }
}

/// Text-positioning state between BT and ET that the newline/space heuristics need.
struct TextState {
    line_matrix: [f32; 6],
    leading: f32,
    last_y: Option<f32>,
    moved: bool,
}

impl TextState {
    fn new() -> Self {
        TextState {
            line_matrix: [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            leading: 0.0,
            last_y: None,
            moved: false,
        }
    }

    fn translate(&mut self, tx: f32, ty: f32) {
        let [a, b, c, d, e, f] = self.line_matrix;
        self.line_matrix = [a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f];
        self.moved = true;
    }
}

impl<'a> Walker<'a> {
    /// Interprets one content stream; false if it could not be parsed.
    pub(super) fn run_content(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        depth: usize,
    ) -> bool {
        if syntax_nesting_exceeds(content, MAX_SYNTAX_NESTING) {
            return false;
        }
        if operand_run_exceeds(content, MAX_OPERANDS_PER_OPERATION) {
            self.operand_runs_refused += 1;
            return false;
        }
        let fonts = resources.and_then(|r| self.dict_entry(r, b"Font"));
        let xobjects = resources.and_then(|r| self.dict_entry(r, b"XObject"));
        let mut font: Option<Rc<FontDecoder<'a>>> = None;
        let mut saved: Vec<Option<Rc<FontDecoder<'a>>>> = Vec::new();
        let mut state = TextState::new();
        // One operation at a time: `Content::decode` would first build every operation of the stream (~80
        // bytes each, so an 8 MiB stream of `q` costs hundreds of MiB before the first is looked at).
        for (count, op) in Content::decode_iter(content).enumerate() {
            // A syntax error ends the stream; what came before it is kept, and the page is noted as unreadable.
            let Ok(op) = op else {
                return false;
            };
            if self.stopped() {
                break;
            }
            if count.is_multiple_of(DEADLINE_CHECK_EVERY) && self.limits.expired() {
                self.stop_for_deadline("time budget ran out; text is partial".into());
                break;
            }
            if count >= MAX_OPERATIONS_PER_STREAM {
                self.streams_cut += 1;
                break;
            }
            if self.operations >= self.limits.max_operations {
                self.stop = Some(Stop::Operations);
                self.notes.push(format!(
                    "operation cap of {} content operations per document reached; rest skipped",
                    self.limits.max_operations
                ));
                break;
            }
            self.operations += 1;
            let operands = &op.operands;
            match op.operator.as_str() {
                "BT" => {
                    state.line_matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
                    state.moved = true;
                }
                "Tf" => {
                    font = fonts
                        .zip(operands.first())
                        .and_then(|(f, name)| self.font(f, name))
                }
                "TL" => state.leading = number(operands.first()).unwrap_or(state.leading),
                "Td" | "TD" => {
                    let (tx, ty) = (
                        number(operands.first()).unwrap_or(0.0),
                        number(operands.get(1)).unwrap_or(0.0),
                    );
                    if op.operator == "TD" {
                        state.leading = -ty;
                    }
                    state.translate(tx, ty);
                }
                "Tm" => {
                    let mut m = [0.0; 6];
                    for (slot, operand) in m.iter_mut().zip(operands) {
                        *slot = number(Some(operand)).unwrap_or(0.0);
                    }
                    state.line_matrix = m;
                    state.moved = true;
                }
                "T*" => state.translate(0.0, -state.leading),
                "Tj" | "'" | "\"" => {
                    if op.operator != "Tj" {
                        state.translate(0.0, -state.leading);
                    }
                    if let Some(Object::String(bytes, _)) = operands.last() {
                        self.show(&mut state, font.as_deref(), bytes);
                    }
                }
                "TJ" => {
                    let items = operands
                        .first()
                        .and_then(|a| a.as_array().ok())
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    for item in items {
                        match item {
                            Object::String(bytes, _) => {
                                self.show(&mut state, font.as_deref(), bytes)
                            }
                            other
                                if number(Some(other)).is_some_and(|n| n < TJ_SPACE_THRESHOLD) =>
                            {
                                self.pending = self.pending.max(Gap::Space);
                            }
                            _ => {}
                        }
                    }
                }
                "q" if saved.len() < MAX_GSTATE_STACK => saved.push(font.clone()),
                "Q" => font = saved.pop().unwrap_or(font),
                "Do" => {
                    if let Some(name) = operands.first() {
                        self.xobject(xobjects, name, resources, depth);
                    }
                }
                _ => {}
            }
        }
        true
    }

    fn show(&mut self, state: &mut TextState, font: Option<&FontDecoder<'a>>, bytes: &[u8]) {
        let y = state.line_matrix[5];
        match state.last_y {
            Some(last) if (y - last).abs() > NEWLINE_DY => {
                self.pending = self.pending.max(Gap::Newline)
            }
            Some(_) if state.moved => self.pending = self.pending.max(Gap::Space),
            _ => {}
        }
        state.last_y = Some(y);
        state.moved = false;
        let decoded = match font {
            Some(font) => font.decode(bytes),
            None => FontDecoder::Latin.decode(bytes),
        };
        if let Some(text) = decoded {
            self.emit(&text);
        }
    }

    fn emit(&mut self, piece: &str) {
        let piece = piece.trim_end_matches('\0');
        if piece.is_empty() || self.stopped() {
            return;
        }
        if !self.text.is_empty() {
            let last_ws = self.text.ends_with(char::is_whitespace);
            match self.pending {
                Gap::Newline if !self.text.ends_with('\n') => self.text.push('\n'),
                Gap::Space if !last_ws && !piece.starts_with(char::is_whitespace) => {
                    self.text.push(' ')
                }
                _ => {}
            }
        }
        self.pending = Gap::None;
        self.text.push_str(piece);
        let cap = self.limits.max_text_bytes;
        if self.text.len() > cap {
            let mut cut = cap;
            while !self.text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.text.truncate(cut);
            self.stop = Some(Stop::TextCap);
            self.notes.push(format!("text cut at {cap} bytes"));
        }
    }

    fn font(&mut self, fonts: &'a Dictionary, name: &Object) -> Option<Rc<FontDecoder<'a>>> {
        let (id, object) = self.deref(fonts.get(name.as_name().ok()?).ok()?)?;
        if let Some(cached) = id.and_then(|id| self.fonts.get(&id)) {
            return Some(cached.clone());
        }
        let dict = object.as_dict().ok()?;
        let decoder = Rc::new(self.font_decoder(dict));
        if matches!(*decoder, FontDecoder::Unmapped) {
            self.unmapped_fonts += 1;
        }
        if let Some(id) = id {
            self.fonts.insert(id, decoder.clone());
        }
        Some(decoder)
    }

    fn font_decoder(&mut self, font: &'a Dictionary) -> FontDecoder<'a> {
        if let Ok(to_unicode) = font.get(b"ToUnicode") {
            if let Some(cmap) = self.stream_bytes(to_unicode).map(|b| CMap::parse(&b)) {
                if !cmap.is_empty() {
                    return FontDecoder::ToUnicode(cmap);
                }
            }
        }
        let composite = font
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|s| s == b"Type0");
        if composite {
            return FontDecoder::Unmapped;
        }
        match font.get_font_encoding(self.doc) {
            Ok(encoding) => FontDecoder::Lopdf(encoding),
            Err(_) => FontDecoder::Latin,
        }
    }

    fn xobject(
        &mut self,
        xobjects: Option<&'a Dictionary>,
        name: &Object,
        parent_resources: Option<&'a Dictionary>,
        depth: usize,
    ) {
        let Some(entry) = xobjects
            .zip(name.as_name().ok())
            .and_then(|(x, n)| x.get(n).ok())
        else {
            return;
        };
        let Some((id, object)) = self.deref(entry) else {
            return;
        };
        let Ok(stream) = object.as_stream() else {
            return;
        };
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => self.images += 1,
            Ok(b"Form") => {
                if depth + 1 > self.limits.max_depth {
                    self.depth_capped = true;
                    return;
                }
                if id.is_some_and(|id| self.form_stack.contains(&id)) {
                    self.loops += 1;
                    return;
                }
                let Some(bytes) = self.stream_bytes(object) else {
                    return;
                };
                let resources = self
                    .dict_entry(&stream.dict, b"Resources")
                    .or(parent_resources);
                if let Some(id) = id {
                    self.form_stack.push(id);
                }
                // A form is its own block of text: keep it off the lines around it.
                self.pending = self.pending.max(Gap::Newline);
                let before = self.text.len();
                self.run_content(&bytes, resources, depth + 1);
                if self.text.len() > before {
                    self.pending = self.pending.max(Gap::Newline);
                }
                if id.is_some() {
                    self.form_stack.pop();
                }
            }
            _ => {}
        }
    }
}

fn number(object: Option<&Object>) -> Option<f32> {
    object
        .and_then(|o| o.as_float().ok())
        .filter(|n| n.is_finite())
}
