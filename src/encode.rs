//! Percent-encoding for the crate, one place on the `percent-encoding` crate: a URL path segment (Elasticsearch
//! ids and names, connector and job ids), a Graph path segment (Graph ids hold `:` `@` `=` and the like), and a
//! Graph `$filter` string literal. Hex digits are upper case; non-ASCII is encoded as its UTF-8 bytes.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Everything but what `application/x-www-form-urlencoded` leaves alone (`A-Z a-z 0-9 * - . _`), the set the
/// Graph paths have always been built with (so `~` is encoded, `*` is not).
const GRAPH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// [`PATH_SEGMENT`] with `'` left for [`filter_literal`] to double.
const FILTER_LITERAL: &AsciiSet = &PATH_SEGMENT.remove(b'\'');

/// A URL path segment: every byte but the unreserved characters percent-encoded (document ids, index names,
/// connector and sync-job ids).
pub fn path_segment(text: &str) -> String {
    utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// A Graph path segment (a chat, team, channel, user, drive or item id).
pub fn graph_segment(text: &str) -> String {
    utf8_percent_encode(text, GRAPH_SEGMENT).to_string()
}

/// A Graph `$filter` string literal (spec §10.3): percent-encoded except `'` and unreserved characters, then
/// every `'` doubled (OData's quote escape).
pub fn filter_literal(text: &str) -> String {
    utf8_percent_encode(text, FILTER_LITERAL)
        .to_string()
        .replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_path_safe() {
        assert_eq!(path_segment("abc-DEF_1.2~"), "abc-DEF_1.2~");
        assert_eq!(path_segment("a/b c?#"), "a%2Fb%20c%3F%23");
        assert_eq!(path_segment("é"), "%C3%A9");
    }

    #[test]
    fn filter_literals() {
        assert_eq!(filter_literal("plan.docx"), "plan.docx");
        assert_eq!(filter_literal("O'Brien notes.txt"), "O''Brien%20notes.txt");
        assert_eq!(filter_literal("a/b&c.pdf"), "a%2Fb%26c.pdf");
        assert_eq!(filter_literal("é.txt"), "%C3%A9.txt");
    }

    #[test]
    fn graph_path_segments() {
        assert_eq!(graph_segment("19:abc@thread.v2"), "19%3Aabc%40thread.v2");
        assert_eq!(graph_segment("a b"), "a%20b");
    }

    /// The hand-rolled encoders these functions replaced, kept here to prove the bytes did not change.
    mod before {
        pub fn es_store_encode(id: &str) -> String {
            let mut out = String::with_capacity(id.len());
            for b in id.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }

        pub fn crawl_encode(segment: &str) -> String {
            url::form_urlencoded::byte_serialize(segment.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        }

        pub fn crawl_filter_literal(name: &str) -> String {
            let mut out = String::new();
            for byte in name.bytes() {
                match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        out.push(byte as char)
                    }
                    b'\'' => out.push_str("''"),
                    other => out.push_str(&format!("%{other:02X}")),
                }
            }
            out
        }
    }

    #[test]
    fn same_bytes_as_the_encoders_they_replaced() {
        let mut inputs: Vec<String> = [
            "",
            "plain",
            "a b",
            "a  b ",
            "a/b",
            "/leading/and/trailing/",
            "#frag",
            "q?x=1&y=2",
            "100%",
            "%2F already encoded",
            "O'Brien's 'file'.txt",
            "a+b=c",
            "~tilde*star!(paren)",
            "19:abc@thread.v2",
            "é",
            "naïve café.docx",
            "日本語 ファイル.pdf",
            "emoji 😀",
            "tab\tnew\nline\r",
            "\u{0}nul\u{7f}",
            "back\\slash \"quote\" <angle> [sq] {curly} |pipe| ^caret^ `tick`",
            ";,:@$",
        ]
        .map(str::to_string)
        .to_vec();
        // Every ASCII character alone, and every one between letters.
        inputs.extend((0u8..=127).map(|b| (b as char).to_string()));
        inputs.extend((0u8..=127).map(|b| format!("x{}y", b as char)));
        for input in &inputs {
            assert_eq!(
                path_segment(input),
                before::es_store_encode(input),
                "{input:?}"
            );
            assert_eq!(
                graph_segment(input),
                before::crawl_encode(input),
                "{input:?}"
            );
            assert_eq!(
                filter_literal(input),
                before::crawl_filter_literal(input),
                "{input:?}"
            );
        }
    }
}
