//! Turning a source document into what is indexed (spec §6.2): a string id (hashed when longer than
//! Elasticsearch's 512-byte limit), the `id` field, the pipeline flags from the job snapshot, and no `_id` in
//! the body.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::pyvalue::truthy;

/// Elasticsearch rejects `_id`s longer than this many bytes.
pub const MAX_ID_BYTES: usize = 512;

pub use crate::es::connector::DEFAULT_PIPELINE;

/// The job snapshot's `pipeline`, as the `_bulk` parameter and the flags every document carries.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// `None`: `_bulk` is sent without a `pipeline` parameter, so the index's `default_pipeline` (if any)
    /// applies.
    pub name: Option<String>,
    pub extract_binary_content: bool,
    pub reduce_whitespace: bool,
    pub run_ml_inference: bool,
    /// Why the stored name was not used as it is, for one warning per job.
    pub name_note: Option<String>,
}

impl PipelineSettings {
    /// From a snapshot `pipeline` object, the way the reference reads it: defaults *updated with* the stored
    /// object. So a key that is absent takes its default (`search-default-ingestion`, flags `true`), while a key
    /// that is present keeps its value even when it is `null`: a null name means "no pipeline parameter", a
    /// null flag is false. An empty name is treated like null (the reference sent `pipeline=`, which
    /// Elasticsearch rejects for every item); so is a name that is not a string.
    pub fn from_snapshot(pipeline: &Value) -> Self {
        let stored = pipeline.as_object();
        let flag = |key: &str| stored.and_then(|p| p.get(key)).is_none_or(truthy);
        let (name, name_note) = match stored.and_then(|p| p.get("name")) {
            None => (Some(DEFAULT_PIPELINE.to_string()), None),
            Some(Value::Null) => (None, None),
            Some(Value::String(s)) if s.is_empty() => (
                None,
                Some("the connector's pipeline name is an empty string; indexing without an ingest pipeline parameter (set pipeline.name to null to say so, or to a pipeline's name)".to_string()),
            ),
            Some(Value::String(s)) => (Some(s.clone()), None),
            Some(other) => (
                None,
                Some(format!("the connector's pipeline name {other} is not a string; indexing without an ingest pipeline parameter")),
            ),
        };
        PipelineSettings {
            name,
            extract_binary_content: flag("extract_binary_content"),
            reduce_whitespace: flag("reduce_whitespace"),
            run_ml_inference: flag("run_ml_inference"),
            name_note,
        }
    }
}

/// The document id as indexed, or `None` when the document has no usable `_id`.
pub fn document_id(doc: &Map<String, Value>) -> Option<String> {
    let raw = match doc.get("_id")? {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if raw.len() > MAX_ID_BYTES {
        return Some(format!("{:x}", Md5::digest(raw.as_bytes())));
    }
    Some(raw)
}

/// Prepares a document for indexing; `None` (log and drop) when it has no usable `_id`.
pub fn prepare(
    mut doc: Map<String, Value>,
    pipeline: &PipelineSettings,
) -> Option<(String, Map<String, Value>)> {
    let id = document_id(&doc)?;
    doc.remove("_id");
    doc.insert("id".into(), Value::String(id.clone()));
    doc.insert(
        "_extract_binary_content".into(),
        Value::Bool(pipeline.extract_binary_content),
    );
    doc.insert(
        "_reduce_whitespace".into(),
        Value::Bool(pipeline.reduce_whitespace),
    );
    doc.insert(
        "_run_ml_inference".into(),
        Value::Bool(pipeline.run_ml_inference),
    );
    Some((id, doc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn ids_are_strings_and_long_ones_hashed() {
        assert_eq!(document_id(&map(json!({"_id": "a"}))), Some("a".into()));
        assert_eq!(document_id(&map(json!({"_id": 42}))), Some("42".into()));
        assert_eq!(document_id(&map(json!({"_id": ""}))), None);
        assert_eq!(document_id(&map(json!({"_id": null}))), None);
        assert_eq!(document_id(&map(json!({"title": "x"}))), None);
        let exact = "é".repeat(256); // 512 bytes: kept
        assert_eq!(
            document_id(&map(json!({"_id": exact.clone()}))),
            Some(exact)
        );
        let long = "x".repeat(513);
        let hashed = document_id(&map(json!({"_id": long}))).unwrap();
        assert_eq!(hashed.len(), 32);
        assert!(hashed
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn prepared_body_has_id_and_flags_but_no_underscore_id() {
        let p = PipelineSettings::from_snapshot(&json!({"name": "p", "reduce_whitespace": false}));
        let (id, body) = prepare(map(json!({"_id": "d1", "title": "t"})), &p).unwrap();
        assert_eq!(id, "d1");
        assert_eq!(
            Value::Object(body),
            json!({"id": "d1", "title": "t", "_extract_binary_content": true,
                   "_reduce_whitespace": false, "_run_ml_inference": true})
        );
        assert_eq!(
            PipelineSettings::from_snapshot(&Value::Null)
                .name
                .as_deref(),
            Some(DEFAULT_PIPELINE)
        );
    }

    #[test]
    fn absent_keys_take_defaults_present_nulls_stay_null() {
        let read = |v: Value| {
            let p = PipelineSettings::from_snapshot(&v);
            (
                p.name,
                p.extract_binary_content,
                p.reduce_whitespace,
                p.run_ml_inference,
                p.name_note.is_some(),
            )
        };
        let default = Some(DEFAULT_PIPELINE.to_string());
        assert_eq!(read(json!({})), (default.clone(), true, true, true, false));
        assert_eq!(read(Value::Null), (default, true, true, true, false));
        assert_eq!(
            read(
                json!({"name": null, "extract_binary_content": null, "reduce_whitespace": null,
                        "run_ml_inference": null})
            ),
            (None, false, false, false, false)
        );
        assert_eq!(
            read(
                json!({"name": "", "extract_binary_content": 1, "reduce_whitespace": "",
                        "run_ml_inference": false})
            ),
            (None, true, false, false, true)
        );
        assert!(read(json!({"name": 7})).4);
        assert_eq!(read(json!({"name": "mine"})).0.as_deref(), Some("mine"));
    }
}
