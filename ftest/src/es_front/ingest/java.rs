//! Java semantics the pipeline processors inherit from ES: regex syntax (`gsub`), `Matcher.replaceAll`
//! replacement syntax, `String.trim()`, and the basic `Base64` decoder with its error messages (`attachment`).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use regex::Regex;

/// Java's basic Base64 decoder: standard alphabet, padding optional, no line breaks.
pub(super) const JAVA_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Java's `Base64.Decoder` messages for the common failures.
pub(super) fn base64_message(error: &base64::DecodeError) -> String {
    match error {
        base64::DecodeError::InvalidByte(_, byte) => format!("Illegal base64 character {byte:x}"),
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidLastSymbol(_, _) => {
            "Last unit does not have enough valid bits".to_string()
        }
        base64::DecodeError::InvalidPadding => {
            "Input byte array has incorrect ending byte".to_string()
        }
    }
}

/// Compiles a Java regex. The syntax is close to Rust's; the character classes `\s`, `\d`, `\w` (and their
/// negations outside brackets) are rewritten to Java's ASCII meaning, since Rust's are Unicode-aware.
pub(crate) fn java_regex(pattern: &str) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut class_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let (outside, inside) = match next {
                    's' => ("[\\t\\n\\x0B\\x0C\\r ]", Some("\\t\\n\\x0B\\x0C\\r ")),
                    'S' => ("[^\\t\\n\\x0B\\x0C\\r ]", None),
                    'd' => ("[0-9]", Some("0-9")),
                    'D' => ("[^0-9]", None),
                    'w' => ("[a-zA-Z_0-9]", Some("a-zA-Z_0-9")),
                    'W' => ("[^a-zA-Z_0-9]", None),
                    _ => {
                        out.push('\\');
                        out.push(next);
                        continue;
                    }
                };
                match (class_depth, inside) {
                    (0, _) => out.push_str(outside),
                    (_, Some(inner)) => out.push_str(inner),
                    (_, None) => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                class_depth += 1;
                out.push(c);
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Regex::new(&out).map_err(|e| e.to_string().replace('\n', " "))
}

/// Java's `Matcher.replaceAll` replacement syntax (`$1`, `${name}`, `\$`) in Rust's (`${1}`, `${name}`, `$$`).
pub(super) fn java_replacement(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                out.push_str(&format!("${{{digits}}}"));
            }
            '$' if chars.peek() == Some(&'{') => out.push('$'),
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// Java's `String.trim()`: strips characters up to U+0020, not Unicode spaces.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_regex_and_replacement() {
        let re = java_regex("\\s+").unwrap();
        assert_eq!(re.replace_all("a \t\n b\u{A0}c", " "), "a b\u{A0}c");
        assert!(java_regex("[\\s,]+").unwrap().is_match(","));
        let re = java_regex("(\\w+)@(\\w+)").unwrap();
        assert_eq!(
            re.replace_all("joe@host", java_replacement("$2 at $1 \\$").as_str()),
            "host at joe $"
        );
    }
}
