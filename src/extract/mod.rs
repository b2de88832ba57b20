//! Bytes → text for documents whose content is extracted by the service itself (instead of by the ingest
//! pipeline's attachment processor). So far plain text only: UTF-8 (with or without a BOM) that contains no NUL
//! bytes. PDF, Office and HTML arrive with the extraction issue; until then other files give `None` and the
//! document is indexed with its metadata only.

/// The text of a file, or `None` if this build cannot read its format.
pub fn text(filename: &str, bytes: &[u8]) -> Option<String> {
    let _ = filename;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_only() {
        assert_eq!(text("a.txt", b"hello").as_deref(), Some("hello"));
        assert_eq!(text("a.txt", b"\xEF\xBB\xBFhi").as_deref(), Some("hi"));
        assert_eq!(text("a.bin", b"\x00\x01\x02"), None);
        assert_eq!(text("a.txt", b"\xff\xfe bad"), None);
    }
}
