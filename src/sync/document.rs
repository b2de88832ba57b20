//! Turning a source document into what is indexed (spec §6.2): a string id (hashed when longer than
//! Elasticsearch's 512-byte limit), the `id` field, the pipeline flags from the job snapshot, and no `_id` in
//! the body.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

/// Elasticsearch rejects `_id`s longer than this many bytes.
pub const MAX_ID_BYTES: usize = 512;

/// The job snapshot's `pipeline`, as flags every document carries for the ingest pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    pub name: String,
    pub extract_binary_content: bool,
    pub reduce_whitespace: bool,
    pub run_ml_inference: bool,
}

impl PipelineSettings {
    /// From a snapshot `pipeline` object; missing values take the reference's defaults.
    pub fn from_snapshot(pipeline: &Value) -> Self {
        let flag = |key: &str| pipeline[key].as_bool().unwrap_or(true);
        PipelineSettings {
            name: pipeline["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or("search-default-ingestion")
                .to_string(),
            extract_binary_content: flag("extract_binary_content"),
            reduce_whitespace: flag("reduce_whitespace"),
            run_ml_inference: flag("run_ml_inference"),
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
            PipelineSettings::from_snapshot(&Value::Null).name,
            "search-default-ingestion"
        );
    }
}
