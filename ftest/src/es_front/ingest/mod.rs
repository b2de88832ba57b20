//! Ingest pipelines, which osmem lacks: the pipeline store behind `PUT`/`GET`/`DELETE /_ingest/pipeline/{id}`
//! (ES's request and response shapes; wildcards and comma lists in ids; `summary`), seeded with the built-in
//! `search-default-ingestion` / `ent-search-generic-ingestion`, and running a pipeline over one document for
//! the write path (`writes.rs`). Definitions are validated when stored (`config.rs`) and executed by a small
//! interpreter (`processors.rs`) over ES's document model (`document.rs`); `if` conditions and value templates
//! are the subsets in `script.rs`; Java behaviours (regex, trim, base64) are `java.rs`; property reading with
//! ES's error wording is `reader.rs`; the attachment processor is `attachment.rs` over `extract.rs`.

mod attachment;
mod builtin;
mod config;
mod document;
mod extract;
mod java;
mod processors;
mod reader;
mod script;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

pub(crate) use document::IngestDoc;
pub(crate) use processors::{Failure, Flow};

use super::actions::percent_decode;
use super::errors::EsError;
use config::parse_pipeline;
use processors::{run_pipeline, Registry};

/// The name that means "no pipeline" wherever a pipeline is named.
pub(crate) const NO_PIPELINE: &str = "_none";

/// The stored pipelines at one moment; requests work on a snapshot, so a concurrent `PUT` never changes a
/// pipeline halfway through a bulk request.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    configs: BTreeMap<String, Value>,
    registry: Registry,
}

impl Snapshot {
    /// Runs pipeline `id` over `doc`. An unknown id fails like ES's `IngestService`.
    pub(crate) fn run(&self, id: &str, doc: &mut IngestDoc) -> Result<Flow, Failure> {
        let Some(pipeline) = self.registry.get(id) else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                format!("pipeline with id [{id}] does not exist"),
            ));
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        doc.ingest.insert("timestamp".to_string(), json!(now));
        let result = run_pipeline(id, pipeline, doc, &self.registry, &mut Vec::new());
        doc.ingest.clear();
        result
    }
}

#[derive(Debug)]
pub(crate) struct PipelineStore {
    current: RwLock<Arc<Snapshot>>,
}

impl PipelineStore {
    /// A store holding the built-in pipelines.
    pub(crate) fn with_builtins() -> Self {
        let mut snapshot = Snapshot::default();
        for (id, config) in builtin::definitions() {
            if let Ok(pipeline) = parse_pipeline(&id, &config) {
                snapshot.registry.insert(id.clone(), Arc::new(pipeline));
                snapshot.configs.insert(id, config);
            }
        }
        PipelineStore {
            current: RwLock::new(Arc::new(snapshot)),
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        Arc::clone(&guard)
    }

    fn update(&self, change: impl FnOnce(&mut BTreeMap<String, Value>, &mut Registry)) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        let mut configs = guard.configs.clone();
        let mut registry = guard.registry.clone();
        change(&mut configs, &mut registry);
        *guard = Arc::new(Snapshot { configs, registry });
    }

    /// Answers `/_ingest/...`.
    pub(crate) fn handle(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<(StatusCode, Value), EsError> {
        let uri = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let mut segments: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .skip(1)
            .map(percent_decode)
            .collect();
        if segments.last().is_some_and(String::is_empty) {
            segments.pop();
        }
        let allowed: &[Method] = match segments.as_slice() {
            [p] if p == "pipeline" => &[Method::GET],
            [p, id] if p == "pipeline" && !id.starts_with('_') => {
                &[Method::GET, Method::PUT, Method::DELETE]
            }
            _ => {
                return Err(EsError::illegal_argument(format!(
                    "no handler found for uri [{uri}] and method [{method}] (not implemented by es-standin)"
                )))
            }
        };
        if !allowed.contains(method) {
            let names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            let reason = format!(
                "Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{}]",
                names.join(", ")
            );
            return Ok((
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": reason, "status": 405}),
            ));
        }
        let ids = segments.get(1).map(String::as_str);
        match *method {
            Method::PUT => self.put(ids.unwrap_or_default(), body),
            Method::DELETE => self.delete(ids.unwrap_or_default()),
            _ => Ok(self.get(ids, query_flag(query, "summary"))),
        }
    }

    fn put(&self, id: &str, body: &[u8]) -> Result<(StatusCode, Value), EsError> {
        let parse_error = |reason: &str| {
            EsError::new(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                reason.to_string(),
            )
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(parse_error("request body is required"));
        }
        let config: Value = serde_json::from_slice(body)
            .map_err(|_| parse_error("Failed to parse content to map"))?;
        if !config.is_object() {
            return Err(parse_error("Failed to parse content to map"));
        }
        let pipeline = parse_pipeline(id, &config)?;
        self.update(|configs, registry| {
            configs.insert(id.to_string(), config);
            registry.insert(id.to_string(), Arc::new(pipeline));
        });
        Ok((StatusCode::OK, json!({"acknowledged": true})))
    }

    /// ES answers `{}` with 404 when nothing matches, and the found pipelines otherwise.
    fn get(&self, ids: Option<&str>, summary: bool) -> (StatusCode, Value) {
        let snapshot = self.snapshot();
        let patterns: Vec<&str> = ids
            .unwrap_or("*")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        let mut out = Map::new();
        for (id, config) in &snapshot.configs {
            if patterns.iter().any(|p| simple_match(p, id)) {
                let shown = if summary { json!({}) } else { config.clone() };
                out.insert(id.clone(), shown);
            }
        }
        // `GetPipelineResponse.status()`: not found whenever the answer is empty, wildcards included.
        let status = if out.is_empty() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        (status, Value::Object(out))
    }

    fn delete(&self, ids: &str) -> Result<(StatusCode, Value), EsError> {
        let snapshot = self.snapshot();
        let patterns: Vec<&str> = ids.split(',').filter(|s| !s.is_empty()).collect();
        let doomed: Vec<String> = snapshot
            .configs
            .keys()
            .filter(|id| patterns.iter().any(|p| simple_match(p, id)))
            .cloned()
            .collect();
        if doomed.is_empty() && ids != "*" {
            return Err(EsError::new(
                StatusCode::NOT_FOUND,
                "resource_not_found_exception",
                format!("pipeline [{ids}] is missing"),
            ));
        }
        self.update(|configs, registry| {
            for id in &doomed {
                configs.remove(id);
                registry.remove(id);
            }
        });
        Ok((StatusCode::OK, json!({"acknowledged": true})))
    }
}

fn query_flag(query: Option<&str>, name: &str) -> bool {
    query
        .unwrap_or("")
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "true")))
        .any(|(k, v)| k == name && (v.is_empty() || v == "true"))
}

/// ES's `Regex.simpleMatch`: `*` matches any run of characters, nothing else is special.
fn simple_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(simple_match("*", "anything"));
        assert!(simple_match("search-*", "search-default-ingestion"));
        assert!(simple_match("*-ingestion", "search-default-ingestion"));
        assert!(simple_match("s*d*n", "search-default-ingestion"));
        assert!(!simple_match("ent-*x", "ent-search-generic-ingestion"));
        assert!(simple_match("exact", "exact"));
        assert!(!simple_match("exact", "exactly"));
        assert!(!simple_match("ab*ba", "aba"));
    }

    #[test]
    fn crud() {
        let store = PipelineStore::with_builtins();
        let (status, all) = store.get(None, false);
        assert_eq!(status, StatusCode::OK);
        assert!(all.get(builtin::SEARCH_DEFAULT).is_some());
        assert!(all.get(builtin::GENERIC).is_some());
        let body = br#"{"description":"d","processors":[{"remove":{"field":"x"}}]}"#;
        assert!(store.put("mine", body).is_ok());
        let (status, got) = store.get(Some("mine,nope"), false);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(got["mine"]["description"], "d");
        assert_eq!(
            store.get(Some("nope"), false),
            (StatusCode::NOT_FOUND, json!({}))
        );
        assert_eq!(store.get(Some("mine"), true).1, json!({"mine": {}}));
        assert!(store.delete("mine").is_ok());
        let err = store.delete("mine").unwrap_err();
        assert_eq!(err.body()["error"]["reason"], "pipeline [mine] is missing");
        assert!(store.put("bad", b"[1]").is_err());
        assert!(store.put("bad", b"").is_err());
    }

    #[test]
    fn unknown_pipelines_fail_like_es() {
        let store = PipelineStore::with_builtins();
        let mut doc = IngestDoc::default();
        let failure = store.snapshot().run("nope", &mut doc).unwrap_err();
        assert_eq!(failure.message, "pipeline with id [nope] does not exist");
        assert_eq!(failure.kind, "illegal_argument_exception");
    }
}
