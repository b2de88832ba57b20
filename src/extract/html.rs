//! Markup (.html .aspx .svg .xml, Teams chat message bodies) → visible text. A small tolerant tokenizer, not a
//! parser: no tree, no stack, no recursion, so malformed or hostile input costs one linear pass. DOCTYPE
//! declarations are skipped whole and only a fixed set of named entities (`crate::html_entities`) is known, so entity bombs
//! ("billion laughs") never expand. Block elements become line breaks, table cells tabs.

use super::text::{cap, decode, note_cut, note_deadline};
use super::{Extracted, Limits, Skip};
use crate::html_entities;

/// Tokens handled between deadline checks.
const DEADLINE_EVERY: usize = 1024;
/// Longest entity reference looked at (`&thetasym;`, `&#x10FFFF;` fit).
const MAX_ENTITY_LEN: usize = 12;

/// Elements that do not break the line; every other element (known or not, HTML or XML) does.
const INLINE: &[&str] = &[
    "a", "abbr", "at", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em",
    "emoji", "font", "i", "img", "ins", "kbd", "label", "mark", "q", "s", "samp", "small", "span",
    "strike", "strong", "sub", "sup", "time", "tspan", "tt", "u", "var", "wbr",
];
/// Elements whose content is never visible text; skipped up to their end tag.
const RAW_SKIPPED: &[&str] = &["script", "style", "template"];

pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Skip> {
    let mut out = Extracted::default();
    if limits.expired() {
        out.notes.push(note_deadline());
        return Ok(out);
    }
    let decoded = decode(bytes, limits)?;
    out.notes.extend(decoded.note);
    let mut walker = Walker {
        src: &decoded.text,
        pos: 0,
        text: Text::default(),
        in_head: false,
        in_title: false,
        pre_depth: 0,
        cells_in_row: 0,
    };
    let finished = walker.run(limits);
    out.text = walker.text.finish();
    if let Some(note) = finished {
        out.notes.push(note);
    }
    if cap(&mut out.text, limits.max_text_bytes)
        && !out
            .notes
            .iter()
            .any(|n| n == &note_cut(limits.max_text_bytes))
    {
        out.notes.push(note_cut(limits.max_text_bytes));
    }
    Ok(out)
}

struct Walker<'a> {
    src: &'a str,
    pos: usize,
    text: Text,
    in_head: bool,
    in_title: bool,
    pre_depth: usize,
    /// Cells seen in the current table row: every cell after the first starts with a tab.
    cells_in_row: usize,
}

impl Walker<'_> {
    /// Walks the whole input; returns a note when it stopped early (deadline, text cap).
    fn run(&mut self, limits: &Limits) -> Option<String> {
        let mut tokens = 0usize;
        while self.pos < self.src.len() {
            tokens += 1;
            if tokens.is_multiple_of(DEADLINE_EVERY) && limits.expired() {
                return Some(note_deadline());
            }
            if self.text.out.len() > limits.max_text_bytes {
                return Some(note_cut(limits.max_text_bytes));
            }
            let rest = &self.src[self.pos..];
            let next_lt = rest.find('<').unwrap_or(rest.len());
            if next_lt > 0 {
                self.visible_text(&rest[..next_lt]);
                self.pos += next_lt;
                continue;
            }
            self.markup(rest);
        }
        None
    }

    fn visible(&self) -> bool {
        !self.in_head || self.in_title
    }

    fn visible_text(&mut self, raw: &str) {
        if self.visible() {
            let decoded = decode_entities(raw);
            self.text.push(&decoded, self.pre_depth > 0);
        }
    }

    /// `rest` starts with '<'. Advances `pos` past one markup construct (or one literal '<').
    fn markup(&mut self, rest: &str) {
        if let Some(after) = rest.strip_prefix("<!--") {
            self.pos += 4 + after.find("-->").map_or(after.len(), |i| i + 3);
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            if self.visible() {
                self.text.push(&after[..end], self.pre_depth > 0);
            }
            self.pos += 9 + (end + 3).min(after.len());
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            self.pos += declaration_len(rest);
        } else if let Some(after) = rest.strip_prefix("</") {
            match tag_name(after) {
                Some(name) => {
                    self.pos += 2 + after.find('>').map_or(after.len(), |i| i + 1);
                    self.end_tag(&name);
                }
                None => self.literal_lt(),
            }
        } else {
            match tag_name(&rest[1..]) {
                Some(name) => {
                    let len = tag_len(rest);
                    let self_closing = rest[..len].ends_with("/>");
                    self.pos += len;
                    self.start_tag(&name, self_closing);
                }
                None => self.literal_lt(),
            }
        }
    }

    fn literal_lt(&mut self) {
        if self.visible() {
            self.text.push("<", self.pre_depth > 0);
        }
        self.pos += 1;
    }

    fn start_tag(&mut self, name: &str, self_closing: bool) {
        if RAW_SKIPPED.contains(&name) {
            if !self_closing {
                self.skip_raw(name);
            }
            return;
        }
        match name {
            "head" => self.in_head = !self_closing,
            "body" => self.in_head = false,
            "title" => self.in_title = !self_closing,
            "br" => self.text.hard_newline(),
            "tr" => self.cells_in_row = 0,
            "td" | "th" => {
                self.text.cell(self.cells_in_row > 0);
                self.cells_in_row += 1;
            }
            "pre" if !self_closing => self.pre_depth += 1,
            _ => {}
        }
        if !INLINE.contains(&name) && name != "br" && !matches!(name, "td" | "th") {
            self.text.soft_newline();
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "head" => self.in_head = false,
            "title" => self.in_title = false,
            "pre" => self.pre_depth = self.pre_depth.saturating_sub(1),
            _ => {}
        }
        if !INLINE.contains(&name) && !matches!(name, "td" | "th" | "br") {
            self.text.soft_newline();
        }
    }

    /// Skips raw content up to `</name` (any case) and its '>'; unterminated content runs to the end.
    fn skip_raw(&mut self, name: &str) {
        let rest = &self.src[self.pos..];
        let bytes = rest.as_bytes();
        let mut from = 0;
        while let Some(i) = rest[from..].find("</") {
            let start = from + i + 2;
            let candidate = bytes.get(start..start + name.len());
            if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) {
                let close = rest[start..]
                    .find('>')
                    .map_or(rest.len(), |j| start + j + 1);
                self.pos += close;
                return;
            }
            from = start;
        }
        self.pos = self.src.len();
    }
}

/// Length of `<!...>` / `<?...>`, stepping over a DOCTYPE internal subset `[...]` (which holds '>' of its own).
fn declaration_len(rest: &str) -> usize {
    let mut in_subset = false;
    for (i, b) in rest.bytes().enumerate() {
        match b {
            b'[' if !rest.starts_with("<?") => in_subset = true,
            b']' => in_subset = false,
            b'>' if !in_subset => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// Lower-cased element name at the start of `s`, if `s` starts like a tag name. Namespace prefixes are dropped.
fn tag_name(s: &str) -> Option<String> {
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')))
        .unwrap_or(s.len());
    let name = &s[..end];
    let local = name.rsplit(':').next().unwrap_or(name);
    Some(local.to_ascii_lowercase())
}

/// Length of a start tag from '<' through '>', skipping quoted attribute values; unterminated runs to the end.
fn tag_len(rest: &str) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in rest.bytes().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// Decodes the HTML 4 named entities and numeric references; anything else is kept verbatim.
fn decode_entities(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains('&') {
        return raw.into();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // ';' is ASCII, so slicing at it is always on a char boundary.
        let semi = rest.bytes().take(MAX_ENTITY_LEN).position(|b| b == b';');
        let decoded = semi.and_then(|semi| entity(&rest[1..semi]).map(|c| (c, semi + 1)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// A reference's text between `&` and `;`: `#…`/`#x…` numeric, else a named entity (both as `html_entities` maps
/// them, the table Teams message bodies use too).
fn entity(name: &str) -> Option<char> {
    match name.strip_prefix('#') {
        Some(num) => match num.strip_prefix(['x', 'X']) {
            Some(hex) => html_entities::numeric(hex, 16),
            None => html_entities::numeric(num, 10),
        },
        None => html_entities::named(name),
    }
}

/// Output with HTML whitespace rules: runs of whitespace collapse to one space, line breaks come from markup.
#[derive(Default)]
struct Text {
    out: String,
    pending_space: bool,
}

impl Text {
    fn push(&mut self, s: &str, preformatted: bool) {
        for c in s.chars() {
            if preformatted {
                self.out.push(if c == '\u{A0}' { ' ' } else { c });
            } else if c.is_whitespace() && c != '\u{A0}' {
                self.pending_space = true;
            } else {
                if self.pending_space && !self.out.is_empty() && !self.out.ends_with(['\n', '\t']) {
                    self.out.push(' ');
                }
                self.pending_space = false;
                // nbsp is a space a reader (and a search analyser) should see as one.
                self.out.push(if c == '\u{A0}' { ' ' } else { c });
            }
        }
    }

    fn soft_newline(&mut self) {
        self.pending_space = false;
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn hard_newline(&mut self) {
        self.pending_space = false;
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn cell(&mut self, after_another: bool) {
        self.pending_space = false;
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        if after_another {
            self.out.push('\t');
        }
    }

    fn finish(self) -> String {
        let lines: Vec<&str> = self.out.lines().map(str::trim_end).collect();
        lines.join("\n").trim_matches('\n').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn limits() -> Limits {
        Limits::with_budget(Duration::from_secs(30))
    }

    fn text(src: &str) -> String {
        extract(src.as_bytes(), &limits()).unwrap().text
    }

    #[test]
    fn teams_chat_message() {
        let msg = r#"<div><div itemprop="copy-paste-block"><p>Hi <at id="0">Alice&nbsp;Smith</at>, the Q3 numbers
            are &lt;b&gt;in&lt;/b&gt; &amp; look good&hellip;</p><p>Rev&nbsp;&#8364;1.2M &mdash; up&#x21;</p>
            <script>alert("x")</script><style>p { color: red }</style><!-- hidden -->
            <ul><li>one</li><li>two<br>lines</li></ul></div></div>"#;
        assert_eq!(
            text(msg),
            "Hi Alice Smith, the Q3 numbers are <b>in</b> & look good…\nRev €1.2M — up!\none\ntwo\nlines"
        );
    }

    #[test]
    fn page_keeps_title_drops_head_metadata() {
        let page = "<!DOCTYPE html><html><head><meta charset=utf-8><title>Team &copy; site</title>\
            <style>body{}</style><script type=\"text/javascript\">// <![CDATA[\nvar a = '</p>';\n// ]]></script>\
            </head><body><h1>Welcome</h1><table><tr><th>Name</th><th>Role</th></tr>\
            <tr><td>Bob</td><td>Admin &reg;</td></tr></table><p>Bye &ndash; see&nbsp;you</p></body></html>";
        assert_eq!(
            text(page),
            "Team © site\nWelcome\nName\tRole\nBob\tAdmin ®\nBye – see you"
        );
    }

    #[test]
    fn empty_first_cell_keeps_its_tab() {
        assert_eq!(
            text("<table><tr><td></td><td>B</td></tr><tr><td>C</td><td></td></tr></table>"),
            "\tB\nC"
        );
    }

    #[test]
    fn svg_text() {
        let svg = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">
            <style>.t { font: 12px sans-serif; }</style><rect width="100" height="50"/>
            <text x="5" y="20" class="t">Quarterly <tspan font-weight="bold">plan</tspan></text>
            <text x="5" y="40">A &amp; B</text></svg>"#;
        assert_eq!(text(svg), "Quarterly plan\nA & B");
    }

    #[test]
    fn xml_document() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<catalog><book id=\"b1\"><title>Rust &amp; You</title>\
            <price>29.99</price><note><![CDATA[<raw> & kept]]></note></book></catalog>";
        assert_eq!(text(xml), "Rust & You\n29.99\n<raw> & kept");
    }

    #[test]
    fn billion_laughs_does_not_expand() {
        let mut xml =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            xml.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
        }
        xml.push_str("]>\n<lolz>&lol9;</lolz>");
        let got = extract(xml.as_bytes(), &limits()).unwrap();
        assert_eq!(got.text, "&lol9;");
    }

    #[test]
    fn malformed_markup_is_tolerated() {
        assert_eq!(
            text("a < b and c<d <p>x &bogus; &amp y</div></p"),
            "a < b and c\nx &bogus; &amp y"
        );
        assert_eq!(text("<p>unterminated <b attr=\"x>y"), "unterminated");
        assert_eq!(text("<p>open comment <!-- never closed"), "open comment");
        assert_eq!(text("<script>never closed"), "");
        assert_eq!(
            text("&#xFFFFFFFF; &#0; &#99999999999;"),
            "\u{FFFD} \u{FFFD} &#99999999999;"
        );
    }

    #[test]
    fn entities_are_the_shared_html4_table() {
        // The same table and numeric rule as Teams message bodies (`crate::html_entities`).
        assert_eq!(
            text("<p>caf&eacute; &Omega;&thetasym; &#65;&#x42;&#X43; &#+65; &#x; &#xD800;</p>"),
            "café Ωϑ ABC &#+65; &#x; \u{FFFD}"
        );
    }

    #[test]
    fn five_megabytes_of_lt() {
        let bytes = vec![b'<'; 5 * 1024 * 1024];
        let got = extract(&bytes, &limits()).unwrap();
        assert_eq!(got.text.len(), 1024 * 1024);
        assert_eq!(got.notes, vec![note_cut(1024 * 1024)]);
    }

    #[test]
    fn many_unclosed_tags_are_linear() {
        let src = "<a ".repeat(1_000_000);
        assert_eq!(text(&src), "");
        let src = "</".repeat(1_000_000);
        assert!(extract(src.as_bytes(), &limits()).is_ok());
    }

    #[test]
    fn latin1_html() {
        assert_eq!(text_bytes(b"<p>caf\xe9</p>"), "café");
    }

    fn text_bytes(b: &[u8]) -> String {
        extract(b, &limits()).unwrap().text
    }

    #[test]
    fn empty_and_expired() {
        assert_eq!(extract(b"", &limits()).unwrap(), Extracted::default());
        let mut l = limits();
        l.deadline = Instant::now();
        let got = extract(b"<p>hi</p>", &l).unwrap();
        assert_eq!(got.notes, vec![note_deadline()]);
    }
}
