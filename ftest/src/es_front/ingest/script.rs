//! The two small script subsets pipelines need without a Painless or Mustache engine. Conditions (`if`):
//! `ctx?.a?.b == <literal>` or `!=`, or a bare `ctx?.flag` (true when it is `true`), where the literal is
//! `true`, `false`, `null`, a number or a quoted string — enough for ES's own `search-default-ingestion`
//! (`ctx?._extract_binary_content == true`). Path steps are null-safe whether or not `?.` is written.
//! Templates in `set`/`append` values: `{{ path }}` (HTML-escaped, as ES's Mustache does) and `{{{ path }}}`
//! (raw), where the path is a document field or `_ingest.*` (`on_failure_message`, `on_failure_pipeline`, ...).
//! Anything else is refused when the pipeline is stored, so a test never runs a script the stand-in ignored.

use serde_json::Value;

use super::document::IngestDoc;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    path: String,
    equal: bool,
    literal: Value,
}

impl Condition {
    /// Parses the `if` source; `Err` carries a reason for the configuration error.
    pub(crate) fn parse(source: &str) -> Result<Condition, String> {
        let unsupported = || {
            format!(
                "es-standin only understands conditions of the form `ctx?.field == <literal>` (or `!=`), not [{source}]"
            )
        };
        let text = source.trim().trim_end_matches(';').trim();
        let (lhs, equal, rhs) = if let Some((l, r)) = text.split_once("==") {
            (l, true, Some(r))
        } else if let Some((l, r)) = text.split_once("!=") {
            (l, false, Some(r))
        } else {
            (text, true, None)
        };
        let path = parse_ctx_path(lhs.trim()).ok_or_else(unsupported)?;
        let literal = match rhs {
            Some(r) => parse_literal(r.trim()).ok_or_else(unsupported)?,
            None => Value::Bool(true),
        };
        Ok(Condition {
            path,
            equal,
            literal,
        })
    }

    pub(crate) fn holds(&self, doc: &IngestDoc) -> bool {
        let value = doc.get(&self.path).ok().flatten().unwrap_or(&Value::Null);
        let same = match (value, &self.literal) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        same == self.equal
    }
}

/// `ctx?.a?.b` / `ctx.a.b` → `a.b`.
fn parse_ctx_path(text: &str) -> Option<String> {
    let rest = text.strip_prefix("ctx")?;
    let mut segments = Vec::new();
    for part in rest.split('.').skip(1) {
        let name = part.strip_suffix('?').unwrap_or(part);
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '-');
        if !valid {
            return None;
        }
        segments.push(name);
    }
    // `ctx.` or `ctx?.` must lead into at least one field; `ctx` alone is not a condition.
    let lead_ok = rest.starts_with('.') || rest.starts_with("?.");
    (lead_ok && !segments.is_empty()).then(|| segments.join("."))
}

fn parse_literal(text: &str) -> Option<Value> {
    match text {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        "null" => return Some(Value::Null),
        _ => {}
    }
    for quote in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            if !inner.contains(quote) && !inner.contains('\\') {
                return Some(Value::String(inner.to_string()));
            }
            return None;
        }
    }
    serde_json::from_str::<serde_json::Number>(text)
        .ok()
        .map(Value::Number)
}

/// Checks that every `{{` in a template string is a plain variable; sections, partials and comments are not
/// supported.
pub(crate) fn check_template(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start..];
        let Some((_, len, _)) = variable_at(after) else {
            return Err(format!(
                "es-standin supports only plain `{{{{field}}}}` / `{{{{{{field}}}}}}` template variables, not [{text}]"
            ));
        };
        rest = &after[len..];
    }
    Ok(())
}

/// At a `{{`: (variable name, length of the tag, escaped?).
fn variable_at(text: &str) -> Option<(&str, usize, bool)> {
    let (open, close, escaped) = if text.starts_with("{{{") {
        ("{{{", "}}}", false)
    } else {
        ("{{", "}}", true)
    };
    let inner_start = open.len();
    let end = text[inner_start..].find(close)? + inner_start;
    let name = text[inner_start..end].trim();
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'));
    plain.then_some((name, end + close.len(), escaped))
}

/// Renders a string template against the document (unknown variables render empty, as in Mustache).
pub(crate) fn render(text: &str, doc: &IngestDoc) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        match variable_at(after) {
            Some((name, len, escaped)) => {
                let value = match doc.get(name) {
                    Ok(Some(Value::String(s))) => s.clone(),
                    Ok(Some(Value::Null)) | Ok(None) | Err(_) => String::new(),
                    Ok(Some(other)) => other.to_string(),
                };
                if escaped {
                    out.push_str(&html_escape(&value));
                } else {
                    out.push_str(&value);
                }
                rest = &after[len..];
            }
            None => {
                out.push_str("{{");
                rest = &after[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Renders every string inside a JSON value.
pub(crate) fn render_value(value: &Value, doc: &IngestDoc) -> Value {
    match value {
        Value::String(s) if s.contains("{{") => Value::String(render(s, doc)),
        Value::Array(items) => Value::Array(items.iter().map(|v| render_value(v, doc)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_value(v, doc)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Mustache's default escaping of `{{ }}` output.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> IngestDoc {
        match v {
            Value::Object(map) => IngestDoc::new(map),
            _ => IngestDoc::default(),
        }
    }

    #[test]
    fn conditions() {
        let c = Condition::parse("ctx?._extract_binary_content == true").unwrap();
        assert!(c.holds(&doc(json!({"_extract_binary_content": true}))));
        assert!(!c.holds(&doc(json!({"_extract_binary_content": "true"}))));
        assert!(!c.holds(&doc(json!({}))));
        let c = Condition::parse("ctx.a?.b != 'x'").unwrap();
        assert!(c.holds(&doc(json!({"a": {"b": "y"}}))));
        assert!(!c.holds(&doc(json!({"a": {"b": "x"}}))));
        assert!(Condition::parse("ctx?.n == 2")
            .unwrap()
            .holds(&doc(json!({"n": 2.0}))));
        assert!(Condition::parse("ctx?.flag")
            .unwrap()
            .holds(&doc(json!({"flag": true}))));
        for bad in [
            "ctx.a.size() > 1",
            "doc['a'] == 1",
            "ctx == 1",
            "ctx.a == foo",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates() {
        let mut d = doc(json!({"name": "a<b", "n": 3}));
        d.ingest
            .insert("on_failure_message".into(), json!("it's bad"));
        assert_eq!(
            render(
                "m='{{ _ingest.on_failure_message }}' {{{name}}} {{name}} {{n}} {{missing}}",
                &d
            ),
            "m='it&#39;s bad' a<b a&lt;b 3 "
        );
        assert!(check_template("x {{a.b}} {{{c}}}").is_ok());
        assert!(check_template("{{#list}}x{{/list}}").is_err());
        assert!(check_template("{{ unterminated").is_err());
        assert_eq!(
            render_value(&json!(["{{n}}", {"k": "{{name}}"}, 1]), &d),
            json!(["3", {"k": "a&lt;b"}, 1])
        );
    }
}
