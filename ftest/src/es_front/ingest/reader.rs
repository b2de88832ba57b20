//! Reading processor and pipeline properties the way ES's `ConfigurationUtils` does: each read removes the
//! key (JSON `null` counts as absent), type mismatches and missing required properties are `parse_exception`s
//! worded like ES's (`[field] required property is missing`, `[x] property isn't a string, but of type
//! [java.lang.Integer]`) with `processor_type` / `processor_tag` / `property_name` fields, and leftovers are
//! reported as unsupported parameters.

use serde_json::{Map, Value};

use super::document::java_type;
use super::script::check_template;
use crate::es_front::errors::EsError;

/// A configuration error, rendered as ES's `parse_exception` with its metadata fields.
pub(super) fn config_error(
    ty: Option<&str>,
    tag: Option<&str>,
    property: Option<&str>,
    reason: &str,
) -> EsError {
    let reason = match property {
        Some(p) => format!("[{p}] {reason}"),
        None => reason.to_string(),
    };
    let mut err = EsError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "parse_exception",
        reason,
    );
    if let Some(ty) = ty {
        err = err.with_field("processor_type", ty);
    }
    if let Some(tag) = tag {
        err = err.with_field("processor_tag", tag);
    }
    if let Some(p) = property {
        err = err.with_field("property_name", p);
    }
    err
}

/// Reads properties out of one config object the way `ConfigurationUtils` does (each read removes the key;
/// JSON `null` counts as absent), so leftovers can be reported.
pub(super) struct Reader<'a> {
    pub(super) ty: Option<&'a str>,
    pub(super) tag: Option<String>,
    pub(super) map: Map<String, Value>,
}

impl<'a> Reader<'a> {
    pub(super) fn err(&self, property: Option<&str>, reason: &str) -> EsError {
        config_error(self.ty, self.tag.as_deref(), property, reason)
    }

    pub(super) fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    pub(super) fn opt_string(&mut self, name: &str) -> Result<Option<String>, EsError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.err(
                Some(name),
                &format!(
                    "property isn't a string, but of type [{}]",
                    java_type(&other)
                ),
            )),
        }
    }

    pub(super) fn string(&mut self, name: &str) -> Result<String, EsError> {
        self.opt_string(name)?
            .ok_or_else(|| self.err(Some(name), "required property is missing"))
    }

    pub(super) fn bool(&mut self, name: &str, default: bool) -> Result<bool, EsError> {
        match self.take(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(self.err(
                Some(name),
                &format!(
                    "property isn't a boolean, but of type [{}]",
                    java_type(&other)
                ),
            )),
        }
    }

    pub(super) fn int(&mut self, name: &str, default: i64) -> Result<i64, EsError> {
        match self.take(name) {
            None => Ok(default),
            Some(v) => {
                let text = match &v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                text.parse::<i32>().map(i64::from).map_err(|_| {
                    self.err(
                        Some(name),
                        &format!("property cannot be converted to an int [{text}]"),
                    )
                })
            }
        }
    }

    pub(super) fn opt_list(&mut self, name: &str) -> Result<Option<Vec<Value>>, EsError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(self.err(
                Some(name),
                &format!("property isn't a list, but of type [{}]", java_type(&other)),
            )),
        }
    }

    /// A string or a list of strings (`remove`'s `field`).
    pub(super) fn strings(&mut self, name: &str) -> Result<Vec<String>, EsError> {
        match self.take(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(self.err(
                        Some(name),
                        &format!(
                            "property isn't a string, but of type [{}]",
                            java_type(&other)
                        ),
                    )),
                })
                .collect(),
            Some(other) => Err(self.err(
                Some(name),
                &format!("property isn't a list, but of type [{}]", java_type(&other)),
            )),
        }
    }

    /// Values may hold `{{ }}` templates; only plain variables are supported.
    pub(super) fn template_value(&mut self, name: &str) -> Result<Option<Value>, EsError> {
        let Some(value) = self.take(name) else {
            return Ok(None);
        };
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for s in strings {
            check_template(s).map_err(|reason| self.err(Some(name), &reason))?;
        }
        Ok(Some(value))
    }

    /// Unknown leftovers are an error, as in ES.
    pub(super) fn finish(self, what: &str) -> Result<(), EsError> {
        if self.map.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = self.map.keys().map(String::as_str).collect();
        Err(config_error(
            self.ty,
            self.tag.as_deref(),
            None,
            &format!(
                "{what} doesn't support one or more provided configuration parameters [{}]",
                keys.join(", ")
            ),
        ))
    }
}

fn collect_strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}
