//! The `attachment` processor, configuration and execution: ES's `AttachmentProcessor` (base64 input, `indexed_chars` /
//! `indexed_chars_field` limits, `properties`, `remove_binary`, `ignore_missing`, its error messages) over the
//! stand-in's text extractor (`extract.rs`) instead of Apache Tika.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::document::{java_type, not_present, IngestDoc};
use super::extract;
use super::java::{base64_message, java_trim, JAVA_BASE64};
use super::processors::Failure;
use super::reader::Reader;
use crate::es_front::errors::EsError;

#[derive(Debug)]
pub(crate) struct Attachment {
    pub(crate) field: String,
    pub(crate) target: String,
    /// Characters kept; -1 for all.
    pub(crate) indexed_chars: i64,
    pub(crate) indexed_chars_field: Option<String>,
    /// Lower-case property names to report; `None` for all.
    pub(crate) properties: Option<Vec<String>>,
    pub(crate) ignore_missing: bool,
    pub(crate) remove_binary: bool,
    pub(crate) resource_name: Option<String>,
}

/// Attachment properties ES accepts in `properties`.
const ATTACHMENT_PROPERTIES: [&str; 28] = [
    "content",
    "title",
    "author",
    "keywords",
    "date",
    "content_type",
    "content_length",
    "language",
    "modified",
    "format",
    "identifier",
    "contributor",
    "coverage",
    "modifier",
    "creator_tool",
    "publisher",
    "relation",
    "rights",
    "source",
    "type",
    "description",
    "print_date",
    "metadata_date",
    "latitude",
    "longitude",
    "altitude",
    "rating",
    "comments",
];

pub(super) fn parse_attachment(r: &mut Reader<'_>) -> Result<Attachment, EsError> {
    let field = r.string("field")?;
    let resource_name = r.opt_string("resource_name")?;
    let target = r
        .opt_string("target_field")?
        .unwrap_or_else(|| "attachment".to_string());
    let properties = match r.opt_list("properties")? {
        None => None,
        Some(list) => {
            let mut names = Vec::new();
            for item in list {
                let name = item.as_str().map(str::to_lowercase).unwrap_or_default();
                if !ATTACHMENT_PROPERTIES.contains(&name.as_str()) {
                    let valid: Vec<String> = ATTACHMENT_PROPERTIES
                        .iter()
                        .map(|p| p.to_uppercase())
                        .collect();
                    return Err(r.err(
                        Some("properties"),
                        &format!(
                            "illegal field option [{}]. valid values are [{}]",
                            item.as_str().unwrap_or_default(),
                            valid.join(", ")
                        ),
                    ));
                }
                names.push(name);
            }
            Some(names)
        }
    };
    Ok(Attachment {
        field,
        target,
        indexed_chars: r.int("indexed_chars", 100_000)?,
        ignore_missing: r.bool("ignore_missing", false)?,
        indexed_chars_field: r.opt_string("indexed_chars_field")?,
        // ES 8.x/9.x default; the built-in pipelines set it explicitly.
        remove_binary: r.bool("remove_binary", false)?,
        properties,
        resource_name,
    })
}

/// ES's `AttachmentProcessor` over the stand-in's extractor: base64 in `field`;
/// a, a `target` object with `content` (trimmed), `content_type`, `content_length`, `title`.
pub(super) fn attachment(config: &Attachment, doc: &mut IngestDoc) -> Result<(), Failure> {
    let illegal = Failure::illegal_argument;
    let field = &config.field;
    let input = match doc.get(field).map_err(illegal)? {
        None | Some(Value::Null) if config.ignore_missing => return Ok(()),
        None => return Err(illegal(not_present(field))),
        Some(Value::Null) => {
            return Err(illegal(format!("field [{field}] is null, cannot parse.")))
        }
        Some(Value::String(s)) => JAVA_BASE64
            .decode(s.as_bytes())
            .map_err(|e| illegal(base64_message(&e)))?,
        Some(other) => {
            return Err(illegal(format!(
                "Content field [{field}] of unknown type [{}], must be string or byte array",
                java_type(other)
            )))
        }
    };
    let mut limit = config.indexed_chars;
    if let Some(limit_field) = &config.indexed_chars_field {
        match doc.get(limit_field).ok().flatten() {
            Some(Value::Number(n)) => limit = n.as_i64().unwrap_or(limit),
            Some(Value::Null) | None => {}
            Some(other) => {
                return Err(illegal(format!(
                    "field [{limit_field}] of type [{}] cannot be cast to [java.lang.Integer]",
                    java_type(other)
                )))
            }
        }
    }
    let limit = usize::try_from(limit).ok();
    let name = match &config.resource_name {
        Some(path) => doc
            .get(path)
            .ok()
            .flatten()
            .and_then(Value::as_str)
            .map(str::to_string),
        None => None,
    };
    let extracted = extract::extract(&input, limit, name.as_deref()).map_err(|()| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            format!("Error parsing document in field [{field}]"),
        )
    })?;
    let wanted = |p: &str| {
        config
            .properties
            .as_ref()
            .is_none_or(|list| list.iter().any(|x| x == p))
    };
    let mut target = Map::new();
    let content = java_trim(&extracted.content);
    if wanted("content") && !content.is_empty() {
        target.insert("content".into(), json!(content));
    }
    if let (true, Some(title)) = (wanted("title"), extracted.title.filter(|t| !t.is_empty())) {
        target.insert("title".into(), json!(title));
    }
    if let (true, Some(ct)) = (wanted("content_type"), extracted.content_type) {
        target.insert("content_type".into(), json!(ct));
    }
    if wanted("content_length") {
        target.insert(
            "content_length".into(),
            json!(extracted.content.chars().count()),
        );
    }
    doc.set(&config.target, Value::Object(target))
        .map_err(illegal)?;
    if config.remove_binary {
        doc.remove(field).map_err(illegal)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::config::parse_pipeline;
    use super::super::processors::{run_pipeline, Flow, Registry};
    use super::*;

    fn run(config: Value, source: Value) -> (Result<Flow, Failure>, Value) {
        let pipeline = parse_pipeline("p", &config).unwrap();
        let mut doc = IngestDoc::new(source.as_object().cloned().unwrap_or_default());
        let result = run_pipeline("p", &pipeline, &mut doc, &Registry::new(), &mut Vec::new());
        (result, Value::Object(doc.source))
    }

    #[test]
    fn attachment_extracts_text() {
        let html = JAVA_BASE64.encode("<html><body><p>Hi  there</p></body></html>");
        let (r, out) = run(
            json!({"processors": [{"attachment": {"field": "data", "indexed_chars": 5, "remove_binary": true}}]}),
            json!({"data": html}),
        );
        assert_eq!(r, Ok(Flow::Continue));
        assert_eq!(out["attachment"]["content"], "Hi");
        assert_eq!(
            out["attachment"]["content_type"],
            "text/html; charset=UTF-8"
        );
        assert!(out.get("data").is_none());
        let (r, _) = run(
            json!({"processors": [{"attachment": {"field": "data"}}]}),
            json!({"data": "!!"}),
        );
        assert_eq!(r.unwrap_err().message, "Illegal base64 character 21");
        let pdf = JAVA_BASE64.encode("%PDF-1.4 binary");
        let (r, _) = run(
            json!({"processors": [{"attachment": {"field": "data"}}]}),
            json!({"data": pdf}),
        );
        let failure = r.unwrap_err();
        assert_eq!(
            (failure.kind, failure.message.as_str()),
            ("parse_exception", "Error parsing document in field [data]")
        );
    }
}
