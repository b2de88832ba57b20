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
//! Cost is one linear pass; the open-element stack is capped at `MAX_DEPTH` (512), so hostile input cannot grow it.

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
    let mut value: u32 = 0;
    let mut i = digits_start;
    while let Some(d) = rest.get(i).and_then(|&b| char::from(b).to_digit(radix)) {
        // Saturate: anything past U+10FFFF is invalid anyway.
        value = value.saturating_mul(radix).saturating_add(d);
        i += 1;
    }
    if i == digits_start {
        return (None, 0);
    }
    if rest.get(i) == Some(&b';') {
        i += 1;
    }
    let c = match value {
        0 => '\u{FFFD}',
        v => char::from_u32(v).unwrap_or('\u{FFFD}'),
    };
    (Some(c), i)
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
    match ENTITIES.binary_search_by(|(n, _)| (*n).cmp(name)) {
        Ok(at) => (char::from_u32(ENTITIES[at].1), name_len + 2),
        Err(_) => (None, 0),
    }
}

/// The HTML 4 named entities (the set libxml2's HTML parser decodes), sorted by name for binary search.
#[rustfmt::skip]
const ENTITIES: &[(&str, u32)] = &[
    ("AElig", 198), ("Aacute", 193), ("Acirc", 194), ("Agrave", 192), ("Alpha", 913), ("Aring", 197),
    ("Atilde", 195), ("Auml", 196), ("Beta", 914), ("Ccedil", 199), ("Chi", 935), ("Dagger", 8225), ("Delta", 916),
    ("ETH", 208), ("Eacute", 201), ("Ecirc", 202), ("Egrave", 200), ("Epsilon", 917), ("Eta", 919), ("Euml", 203),
    ("Gamma", 915), ("Iacute", 205), ("Icirc", 206), ("Igrave", 204), ("Iota", 921), ("Iuml", 207), ("Kappa", 922),
    ("Lambda", 923), ("Mu", 924), ("Ntilde", 209), ("Nu", 925), ("OElig", 338), ("Oacute", 211), ("Ocirc", 212),
    ("Ograve", 210), ("Omega", 937), ("Omicron", 927), ("Oslash", 216), ("Otilde", 213), ("Ouml", 214),
    ("Phi", 934), ("Pi", 928), ("Prime", 8243), ("Psi", 936), ("Rho", 929), ("Scaron", 352), ("Sigma", 931),
    ("THORN", 222), ("Tau", 932), ("Theta", 920), ("Uacute", 218), ("Ucirc", 219), ("Ugrave", 217),
    ("Upsilon", 933), ("Uuml", 220), ("Xi", 926), ("Yacute", 221), ("Yuml", 376), ("Zeta", 918), ("aacute", 225),
    ("acirc", 226), ("acute", 180), ("aelig", 230), ("agrave", 224), ("alefsym", 8501), ("alpha", 945),
    ("amp", 38), ("and", 8743), ("ang", 8736), ("apos", 39), ("aring", 229), ("asymp", 8776), ("atilde", 227),
    ("auml", 228), ("bdquo", 8222), ("beta", 946), ("brvbar", 166), ("bull", 8226), ("cap", 8745), ("ccedil", 231),
    ("cedil", 184), ("cent", 162), ("chi", 967), ("circ", 710), ("clubs", 9827), ("cong", 8773), ("copy", 169),
    ("crarr", 8629), ("cup", 8746), ("curren", 164), ("dArr", 8659), ("dagger", 8224), ("darr", 8595),
    ("deg", 176), ("delta", 948), ("diams", 9830), ("divide", 247), ("eacute", 233), ("ecirc", 234),
    ("egrave", 232), ("empty", 8709), ("emsp", 8195), ("ensp", 8194), ("epsilon", 949), ("equiv", 8801),
    ("eta", 951), ("eth", 240), ("euml", 235), ("euro", 8364), ("exist", 8707), ("fnof", 402), ("forall", 8704),
    ("frac12", 189), ("frac14", 188), ("frac34", 190), ("frasl", 8260), ("gamma", 947), ("ge", 8805), ("gt", 62),
    ("hArr", 8660), ("harr", 8596), ("hearts", 9829), ("hellip", 8230), ("iacute", 237), ("icirc", 238),
    ("iexcl", 161), ("igrave", 236), ("image", 8465), ("infin", 8734), ("int", 8747), ("iota", 953),
    ("iquest", 191), ("isin", 8712), ("iuml", 239), ("kappa", 954), ("lArr", 8656), ("lambda", 955),
    ("lang", 9001), ("laquo", 171), ("larr", 8592), ("lceil", 8968), ("ldquo", 8220), ("le", 8804),
    ("lfloor", 8970), ("lowast", 8727), ("loz", 9674), ("lrm", 8206), ("lsaquo", 8249), ("lsquo", 8216),
    ("lt", 60), ("macr", 175), ("mdash", 8212), ("micro", 181), ("middot", 183), ("minus", 8722), ("mu", 956),
    ("nabla", 8711), ("nbsp", 160), ("ndash", 8211), ("ne", 8800), ("ni", 8715), ("not", 172), ("notin", 8713),
    ("nsub", 8836), ("ntilde", 241), ("nu", 957), ("oacute", 243), ("ocirc", 244), ("oelig", 339), ("ograve", 242),
    ("oline", 8254), ("omega", 969), ("omicron", 959), ("oplus", 8853), ("or", 8744), ("ordf", 170), ("ordm", 186),
    ("oslash", 248), ("otilde", 245), ("otimes", 8855), ("ouml", 246), ("para", 182), ("part", 8706),
    ("permil", 8240), ("perp", 8869), ("phi", 966), ("pi", 960), ("piv", 982), ("plusmn", 177), ("pound", 163),
    ("prime", 8242), ("prod", 8719), ("prop", 8733), ("psi", 968), ("quot", 34), ("rArr", 8658), ("radic", 8730),
    ("rang", 9002), ("raquo", 187), ("rarr", 8594), ("rceil", 8969), ("rdquo", 8221), ("real", 8476), ("reg", 174),
    ("rfloor", 8971), ("rho", 961), ("rlm", 8207), ("rsaquo", 8250), ("rsquo", 8217), ("sbquo", 8218),
    ("scaron", 353), ("sdot", 8901), ("sect", 167), ("shy", 173), ("sigma", 963), ("sigmaf", 962), ("sim", 8764),
    ("spades", 9824), ("sub", 8834), ("sube", 8838), ("sum", 8721), ("sup", 8835), ("sup1", 185), ("sup2", 178),
    ("sup3", 179), ("supe", 8839), ("szlig", 223), ("tau", 964), ("there4", 8756), ("theta", 952),
    ("thetasym", 977), ("thinsp", 8201), ("thorn", 254), ("tilde", 732), ("times", 215), ("trade", 8482),
    ("uArr", 8657), ("uacute", 250), ("uarr", 8593), ("ucirc", 251), ("ugrave", 249), ("uml", 168), ("upsih", 978),
    ("upsilon", 965), ("uuml", 252), ("weierp", 8472), ("xi", 958), ("yacute", 253), ("yen", 165), ("yuml", 255),
    ("zeta", 950), ("zwj", 8205), ("zwnj", 8204),
];

#[cfg(test)]
#[path = "html_text_tests.rs"]
mod tests;
