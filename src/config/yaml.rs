//! The one module that touches `serde_yaml` (deprecated upstream): YAML text → a `serde_json::Value` tree.
//! Swapping the YAML crate means changing this file only.

use serde_json::Value;

/// Where and why the YAML could not be parsed.
#[derive(Debug)]
pub struct YamlError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Parses a YAML document into a JSON value tree. An empty document is an empty mapping.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        YamlError {
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: strip_location(&e.to_string()),
        }
    })?;
    let value = match value {
        serde_yaml::Value::Null => return Ok(Value::Object(Default::default())),
        v => v,
    };
    serde_json::to_value(value).map_err(|e| YamlError {
        line: None,
        column: None,
        message: format!("unsupported YAML construct: {e}"),
    })
}

/// serde_yaml appends " at line L column C" to its messages; we print the location ourselves.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_and_scalars() {
        let v = parse("a:\n  b: 1\n  c: [x, true]\n").unwrap();
        assert_eq!(v, serde_json::json!({"a": {"b": 1, "c": ["x", true]}}));
    }

    #[test]
    fn empty_document_is_empty_mapping() {
        assert_eq!(parse("").unwrap(), serde_json::json!({}));
        assert_eq!(parse("# only a comment\n").unwrap(), serde_json::json!({}));
    }

    #[test]
    fn reports_line_and_column() {
        let e = parse("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(e.line.is_some());
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }
}
