//! The pipelines a fresh cluster has before anyone stores one. ES 9.x's ent-search plugin installs
//! `search-default-ingestion` (`ConnectorTemplateRegistry`, resource `entsearch/search_default_pipeline.json`,
//! registry version 3); ES 8.x installed the same processors as `ent-search-generic-ingestion`, which the
//! stand-in also provides so older connector configurations keep working. The definitions in `pipelines/` are
//! ES's, with the version variable filled in, and they run through the same interpreter as user pipelines —
//! only the attachment processor's text extraction differs from ES (see `extract.rs`).

use serde_json::Value;

pub(crate) const SEARCH_DEFAULT: &str = "search-default-ingestion";
pub(crate) const GENERIC: &str = "ent-search-generic-ingestion";

const DEFINITIONS: [(&str, &str); 2] = [
    (
        SEARCH_DEFAULT,
        include_str!("pipelines/search-default-ingestion.json"),
    ),
    (
        GENERIC,
        include_str!("pipelines/ent-search-generic-ingestion.json"),
    ),
];

/// `(id, definition)` of every built-in pipeline. A definition that does not parse is a build defect the
/// unit tests catch; at run time it is skipped rather than taking the stand-in down.
pub(crate) fn definitions() -> Vec<(String, Value)> {
    DEFINITIONS
        .iter()
        .filter_map(|(id, text)| {
            serde_json::from_str(text)
                .ok()
                .map(|value| (id.to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::config::parse_pipeline;
    use super::super::document::IngestDoc;
    use super::super::processors::{run_pipeline, Flow, Registry};
    use super::*;
    use base64::Engine;
    use serde_json::json;

    fn run(source: Value) -> Value {
        let defs = definitions();
        assert_eq!(defs.len(), 2, "both built-in definitions parse as JSON");
        let (id, config) = &defs[0];
        let pipeline = parse_pipeline(id, config).expect("ES's definition is accepted");
        let mut doc = IngestDoc::new(source.as_object().cloned().unwrap_or_default());
        let flow = run_pipeline(id, &pipeline, &mut doc, &Registry::new(), &mut Vec::new());
        assert_eq!(flow, Ok(Flow::Continue));
        Value::Object(doc.source)
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn every_definition_parses() {
        for (id, config) in definitions() {
            parse_pipeline(&id, &config).unwrap_or_else(|e| panic!("{id}: {:?}", e.body()));
        }
    }

    #[test]
    fn extracts_reduces_and_cleans_up() {
        let out = run(json!({
            "id": "1",
            "_attachment": b64(b"<html><body><p>Hello \xFF  <b>team</b></p>\n\n<div>bye</div></body></html>"),
            "_extract_binary_content": true,
            "_reduce_whitespace": true,
            "_run_ml_inference": false,
            "_attachment_indexed_chars": -1
        }));
        assert_eq!(out, json!({"id": "1", "body": "Hello team bye"}));
    }

    #[test]
    fn without_the_flags_only_meta_fields_go() {
        let out = run(
            json!({"_attachment": b64(b"text"), "body": "  keep  \n me ", "_reduce_whitespace": false}),
        );
        assert_eq!(out, json!({"body": "  keep  \n me "}));
    }

    #[test]
    fn unreadable_binary_records_an_ingestion_error() {
        let out = run(
            json!({"_attachment": b64(b"%PDF-1.7 \x00\x01"), "_extract_binary_content": true, "_reduce_whitespace": true}),
        );
        assert_eq!(
            out,
            json!({"_ingestion_errors": [
                "Processor 'attachment' in pipeline 'search-default-ingestion' failed with message 'Error parsing document in field [_attachment]'"
            ]})
        );
    }
}
