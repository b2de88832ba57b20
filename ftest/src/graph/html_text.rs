//! Whether a message body has any text once HTML is stripped — the connector's `html_to_text(body)` is
//! non-empty (spec §10.6). Only emptiness matters for the expected-document count, so this is a small
//! tag stripper: tags, comments and `<script>`/`<style>`/`<template>` content carry no text, character
//! references count as the characters they stand for, and whitespace-only text is empty.

pub fn has_text(html: &str) -> bool {
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                // An unterminated `<` is text to an HTML parser.
                return true;
            };
            let tag = rest[1..end].trim().to_ascii_lowercase();
            rest = &rest[end + 1..];
            for raw in ["script", "style", "template"] {
                if tag == raw || tag.starts_with(&format!("{raw} ")) {
                    let close = format!("</{raw}");
                    let lower = rest.to_ascii_lowercase();
                    rest = lower.find(&close).map_or("", |at| &rest[at..]);
                }
            }
            continue;
        }
        let next = rest.find('<').unwrap_or(rest.len());
        if !decode(&rest[..next]).trim().is_empty() {
            return true;
        }
        rest = &rest[next..];
    }
    false
}

/// Decodes the character references generated bodies use. `&nbsp;` becomes U+00A0, which `trim` treats
/// as whitespace (as Python's `strip` does); generated bodies never consist of `&nbsp;` alone.
fn decode(text: &str) -> String {
    text.replace("&nbsp;", "\u{a0}")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::has_text;

    #[test]
    fn empty_bodies() {
        for body in [
            "",
            "<systemEventMessage/>",
            "<attachment id=\"1\"></attachment>",
            "<div> </div>\n<p>\n</p>",
            "<p><emoji id=\"like\" alt=\"👍\" title=\"Like\"></emoji></p>",
            "<!-- note --><p>&nbsp;</p>",
            "<script>var x = 1;</script>",
        ] {
            assert!(!has_text(body), "{body:?}");
        }
    }

    #[test]
    fn bodies_with_text() {
        for body in [
            "Hello",
            "<p>Hello <b>World</b></p>",
            "<p>x</p><attachment id=\"1\"></attachment>",
            "<p>&amp;</p>",
            "<style>p{}</style>ok",
        ] {
            assert!(has_text(body), "{body:?}");
        }
    }
}
