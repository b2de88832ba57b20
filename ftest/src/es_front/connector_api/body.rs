//! Reading Connector API request bodies the way Elasticsearch's object parsers do, and the error shapes that
//! go with them: strict parsers reject unknown fields (`[parser] unknown field [x]`), a value of the wrong
//! JSON type is `[parser] field doesn't support values of type: VALUE_NUMBER`, missing required fields are
//! `Required [a, b]`, and request validation failures are `Validation Failed: 1: ...;`. Token positions
//! (`[1:15]`) that ES puts in front of parse errors are left out.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::es_front::errors::EsError;

/// `x_content_parse_exception` for a body that does not fit the parser.
pub(crate) fn parse_error(parser: &str, message: impl AsRef<str>) -> EsError {
    EsError::new(
        StatusCode::BAD_REQUEST,
        "x_content_parse_exception",
        format!("[{parser}] {}", message.as_ref()),
    )
}

/// A field whose value the parser understood as JSON but could not accept (unknown enum value, bad date, ...):
/// ES wraps the cause in `[parser] failed to parse field [f]`.
pub(crate) fn field_error(parser: &str, field: &str, cause: impl Into<String>) -> EsError {
    parse_error(parser, format!("failed to parse field [{field}]"))
        .with_caused_by("illegal_argument_exception", cause)
}

/// `ActionRequestValidationException`: every message numbered, each followed by `;`.
pub(crate) fn validation(messages: &[String]) -> EsError {
    let mut reason = String::from("Validation Failed: ");
    for (i, message) in messages.iter().enumerate() {
        reason.push_str(&format!("{}: {message};", i + 1));
    }
    EsError::new(
        StatusCode::BAD_REQUEST,
        "action_request_validation_exception",
        reason,
    )
}

/// `ElasticsearchStatusException` with 400, the type the connector services use for rule violations.
pub(crate) fn status_exception(reason: impl Into<String>) -> EsError {
    EsError::new(StatusCode::BAD_REQUEST, "status_exception", reason)
}

pub(crate) fn not_found(reason: impl Into<String>) -> EsError {
    EsError::new(
        StatusCode::NOT_FOUND,
        "resource_not_found_exception",
        reason,
    )
}

/// The JSON token name ES reports for a value.
fn token(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// Parses a request body that must be a JSON object. `None` when the body is empty and `required` is false.
pub(crate) fn parse_body(
    parser: &'static str,
    bytes: &[u8],
    required: bool,
) -> Result<Option<Map<String, Value>>, EsError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if required {
            Err(EsError::new(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                "request body is required",
            ))
        } else {
            Ok(None)
        };
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        EsError::new(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            format!("Failed to parse request body: {e}"),
        )
    })?;
    match value {
        Value::Object(map) => Ok(Some(map)),
        other => Err(parse_error(
            parser,
            format!("Expected START_OBJECT but was: {}", token(&other)),
        )),
    }
}

/// Typed access to the fields of one JSON object, with the parser's name for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) parser: &'static str,
    pub(crate) map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(parser: &'static str, map: &'a Map<String, Value>) -> Self {
        Fields { parser, map }
    }

    /// Strict parsers: any field outside `known` is an error.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), EsError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => Err(parse_error(
                self.parser,
                format!("unknown field [{unknown}]"),
            )),
            None => Ok(()),
        }
    }

    /// Constructor arguments that must be present (explicit `null` does not count as missing).
    pub(crate) fn require(&self, fields: &[&str]) -> Result<(), EsError> {
        let missing: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !self.map.contains_key(*f))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(EsError::illegal_argument(format!(
                "Required [{}]",
                missing.join(", ")
            )))
        }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    fn unsupported(&self, field: &str, value: &Value) -> EsError {
        parse_error(
            self.parser,
            format!("{field} doesn't support values of type: {}", token(value)),
        )
    }

    /// A string field; `null` is refused like ES's `declareString`.
    pub(crate) fn string(&self, field: &str) -> Result<Option<String>, EsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.unsupported(field, other)),
        }
    }

    /// `declareStringOrNull`: absent → `None`, `null` → `Some(None)`.
    pub(crate) fn string_or_null(&self, field: &str) -> Result<Option<Option<String>>, EsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(other) => Err(self.unsupported(field, other)),
        }
    }

    /// Booleans, also as the strings `"true"`/`"false"` (XContent coercion).
    pub(crate) fn boolean(&self, field: &str) -> Result<Option<bool>, EsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(Value::String(s)) => Err(field_error(
                self.parser,
                field,
                format!("Failed to parse value [{s}] as only [true] or [false] are allowed."),
            )),
            Some(other) => Err(self.unsupported(field, other)),
        }
    }

    /// Whole numbers, also as numeric strings (XContent coercion).
    pub(crate) fn long(&self, field: &str) -> Result<Option<i64>, EsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                field_error(self.parser, field, format!("Value [{n}] is not a long"))
            }),
            Some(Value::String(s)) => {
                s.trim().parse::<i64>().map(Some).map_err(|_| {
                    field_error(self.parser, field, format!("For input string: \"{s}\""))
                })
            }
            Some(other) => Err(self.unsupported(field, other)),
        }
    }

    pub(crate) fn int(&self, field: &str) -> Result<Option<i64>, EsError> {
        let value = self.long(field)?;
        match value {
            Some(v) if i32::try_from(v).is_err() => Err(field_error(
                self.parser,
                field,
                format!("Value [{v}] is out of range for an integer"),
            )),
            other => Ok(other),
        }
    }

    pub(crate) fn object(&self, field: &str) -> Result<Option<&'a Map<String, Value>>, EsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.unsupported(field, other)),
        }
    }

    /// `declareObjectOrNull`: absent → `None`, `null` → `Some(None)`.
    pub(crate) fn object_or_null(
        &self,
        field: &str,
    ) -> Result<Option<Option<&'a Map<String, Value>>>, EsError> {
        match self.map.get(field) {
            Some(Value::Null) => Ok(Some(None)),
            _ => Ok(self.object(field)?.map(Some)),
        }
    }

    pub(crate) fn array(&self, field: &str) -> Result<Option<&'a Vec<Value>>, EsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.unsupported(field, other)),
        }
    }

    /// An array whose items must all be objects (`declareObjectArray`).
    pub(crate) fn object_array(
        &self,
        field: &str,
    ) -> Result<Option<Vec<&'a Map<String, Value>>>, EsError> {
        let Some(items) = self.array(field)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                other => Err(self.unsupported(field, other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// An array of strings (`declareStringArray`).
    pub(crate) fn string_array(&self, field: &str) -> Result<Option<Vec<String>>, EsError> {
        let Some(items) = self.array(field)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.unsupported(field, other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(err: EsError) -> String {
        err.body()["error"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn validation_messages_are_numbered() {
        let err = validation(&["a".into(), "b".into()]);
        assert_eq!(reason(err), "Validation Failed: 1: a;2: b;");
    }

    #[test]
    fn strict_fields_and_types() {
        let map = json!({"name": 5, "extra": true})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let f = Fields::new("p", &map);
        assert_eq!(
            reason(f.only(&["name"]).unwrap_err()),
            "[p] unknown field [extra]"
        );
        assert_eq!(
            reason(f.string("name").unwrap_err()),
            "[p] name doesn't support values of type: VALUE_NUMBER"
        );
        assert_eq!(
            reason(f.require(&["a", "name", "b"]).unwrap_err()),
            "Required [a, b]"
        );
        assert_eq!(f.boolean("extra").ok().flatten(), Some(true));
    }

    #[test]
    fn bodies() {
        assert!(parse_body("p", b"  ", false).unwrap().is_none());
        assert_eq!(
            reason(parse_body("p", b"", true).unwrap_err()),
            "request body is required"
        );
        assert!(parse_body("p", b"[1]", true).is_err());
        assert!(parse_body("p", b"{bad", true).is_err());
    }
}
