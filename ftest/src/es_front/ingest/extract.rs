//! Text extraction for the `attachment` processor, standing in for ES's Apache Tika. It reads what a test
//! fixture typically sends: plain text in UTF-8 (decoded lossily, so invalid bytes become U+FFFD as with a
//! mis-detected charset) or UTF-16 with a BOM, and HTML, reduced to the text of its body (tags, comments,
//! `<script>`/`<style>`/`<head>` dropped, block elements turned into line breaks, character references
//! decoded; the `<title>` is reported separately as Tika does). Anything else — PDF, Office files, images,
//! archives, or bytes that are mostly not text — is refused, which the processor reports as ES does for a
//! document Tika cannot parse.

/// What the extractor found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub(crate) content: String,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) title: Option<String>,
}

/// Signatures of binary formats Tika would parse and the stand-in cannot.
const BINARY_MAGIC: [&[u8]; 9] = [
    b"%PDF",
    b"PK\x03\x04",
    b"\xD0\xCF\x11\xE0",
    b"\x89PNG",
    b"GIF8",
    b"\xFF\xD8\xFF",
    b"\x1F\x8B",
    b"{\\rtf",
    b"7z\xBC\xAF",
];

/// HTML markers looked for (lower-cased) in the first bytes, like Tika's magic for `text/html`.
const HTML_MARKERS: [&str; 12] = [
    "<!doctype html",
    "<html",
    "<head",
    "<body",
    "<title",
    "<script",
    "<h1",
    "<p>",
    "<p ",
    "<div",
    "<br",
    "<table",
];

const SNIFF_LEN: usize = 8192;

/// Extracts text from `bytes`, keeping at most `limit` characters (`None`: no limit). `name` (the processor's
/// `resource_name`) may hint the type by extension. `Err(())` means the content is not something the
/// stand-in can read.
pub(crate) fn extract(
    bytes: &[u8],
    limit: Option<usize>,
    name: Option<&str>,
) -> Result<Extracted, ()> {
    if bytes.is_empty() {
        return Ok(Extracted {
            content: String::new(),
            content_type: None,
            title: None,
        });
    }
    if BINARY_MAGIC.iter().any(|magic| bytes.starts_with(magic)) {
        return Err(());
    }
    let text = decode(bytes)?;
    let sniff: String = text
        .chars()
        .take(SNIFF_LEN)
        .collect::<String>()
        .to_lowercase();
    let html_name = name.is_some_and(|n| {
        let n = n.to_lowercase();
        n.ends_with(".html") || n.ends_with(".htm") || n.ends_with(".xhtml")
    });
    let (content, content_type, title) =
        if html_name || HTML_MARKERS.iter().any(|m| sniff.contains(m)) {
            let (body, title) = html_to_text(&text);
            (body, "text/html; charset=UTF-8", title)
        } else {
            (text, "text/plain; charset=UTF-8", None)
        };
    let content = match limit {
        Some(max) => content.chars().take(max).collect(),
        None => content,
    };
    Ok(Extracted {
        content,
        content_type: Some(content_type),
        title,
    })
}

/// UTF-16 with a BOM, else UTF-8 (lossy). Refuses bytes that are mostly not text: NUL bytes, or more than a
/// tenth of the characters being control characters or replacement characters.
fn decode(bytes: &[u8]) -> Result<String, ()> {
    let utf16 = |big_endian: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|pair| match (pair, big_endian) {
                ([a, b], true) => u16::from_be_bytes([*a, *b]),
                ([a, b], false) => u16::from_le_bytes([*a, *b]),
                _ => 0xFFFD,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    let text = if bytes.starts_with(b"\xFF\xFE") {
        utf16(false)
    } else if bytes.starts_with(b"\xFE\xFF") {
        utf16(true)
    } else {
        let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if without_bom.contains(&0) {
            return Err(());
        }
        String::from_utf8_lossy(without_bom).into_owned()
    };
    let total = text.chars().count();
    let odd = text
        .chars()
        .filter(|&c| {
            c == '\u{FFFD}'
                || c == '\0'
                || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C'))
        })
        .count();
    if odd * 10 > total {
        return Err(());
    }
    Ok(text)
}

/// Elements whose content is not part of the extracted body.
const SKIPPED: [&str; 4] = ["script", "style", "head", "noscript"];
/// Elements that end a line of text.
const BLOCKS: [&str; 26] = [
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
    "form",
    "nav",
    "main",
];

/// The body text of an HTML document and its `<title>`.
fn html_to_text(html: &str) -> (String, Option<String>) {
    let mut out = String::with_capacity(html.len() / 2);
    let mut title: Option<String> = None;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let tag_text = &rest[lt..];
        if let Some(comment) = tag_text.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(gt) = tag_text.find('>') else {
            // A lone `<` is text.
            out.push('<');
            rest = &tag_text[1..];
            continue;
        };
        let inner = &tag_text[1..gt];
        rest = &tag_text[gt + 1..];
        let closing = inner.starts_with('/');
        let name: String = inner
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue; // `<!doctype ...>`, `<?xml ...?>`
        }
        if !closing && (name == "title" || SKIPPED.contains(&name.as_str())) {
            let (content, after) = skip_element(rest, &name);
            if name == "title" && title.is_none() {
                title = Some(decode_entities(content).trim().to_string());
            } else if name == "head" {
                // A title inside <head> still counts.
                if let Some(t) = inner_title(content) {
                    title.get_or_insert(t);
                }
            }
            rest = after;
            continue;
        }
        if BLOCKS.contains(&name.as_str()) {
            out.push('\n');
        } else if matches!(name.as_str(), "td" | "th") && !closing {
            out.push('\t');
        }
    }
    out.push_str(&decode_entities(rest));
    (out, title)
}

/// The content up to `</name>` and the text after it (everything, when unclosed).
fn skip_element<'a>(text: &'a str, name: &str) -> (&'a str, &'a str) {
    let lower = text.to_ascii_lowercase();
    let close = format!("</{name}");
    match lower.find(&close) {
        Some(at) => {
            let after = &text[at..];
            let end = after.find('>').map_or(after.len(), |gt| gt + 1);
            (&text[..at], &after[end..])
        }
        None => (text, ""),
    }
}

fn inner_title(head: &str) -> Option<String> {
    let lower = head.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = head[start..].find('>')? + start + 1;
    let (content, _) = skip_element(&head[open_end..], "title");
    Some(decode_entities(content).trim().to_string())
}

/// Decodes named (common ones), decimal and hexadecimal character references; unknown ones stay as written.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &after[..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{A0}'),
                _ => entity.strip_prefix('#').and_then(|num| {
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_limits() {
        let e = extract("héllo wörld".as_bytes(), None, None).unwrap();
        assert_eq!(e.content, "héllo wörld");
        assert_eq!(e.content_type, Some("text/plain; charset=UTF-8"));
        assert_eq!(extract(b"abcdef", Some(3), None).unwrap().content, "abc");
        let lossy = extract(b"ok \xFF text here", None, None).unwrap();
        assert!(lossy.content.contains('\u{FFFD}'));
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hi".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(extract(&utf16, None, None).unwrap().content, "hi");
        assert_eq!(extract(b"", None, None).unwrap().content, "");
    }

    #[test]
    fn html_is_reduced_to_body_text() {
        let html = "<!DOCTYPE html><html><head><title>T &amp; T</title><style>p{}</style></head>\
                    <body><p>Hello&nbsp;<b>bold</b> &lt;world&gt;</p><script>x()</script><!-- c -->\
                    <div>second&#33; &#x41;</div></body></html>";
        let e = extract(html.as_bytes(), None, None).unwrap();
        assert_eq!(e.content_type, Some("text/html; charset=UTF-8"));
        assert_eq!(e.title.as_deref(), Some("T & T"));
        assert_eq!(e.content.trim(), "Hello\u{A0}bold <world>\n\nsecond! A");
        assert!(!e.content.contains("x()"));
        let named = extract(b"just <i>text</i>", None, Some("Page.HTM")).unwrap();
        assert_eq!(named.content, "just text");
    }

    #[test]
    fn binary_is_refused() {
        assert!(extract(b"%PDF-1.7 ...", None, None).is_err());
        assert!(extract(b"PK\x03\x04zipdata", None, None).is_err());
        assert!(extract(b"ab\x00cd", None, None).is_err());
        let noise: Vec<u8> = (1u8..=255).cycle().take(600).collect();
        assert!(extract(&noise, None, None).is_err());
    }
}
