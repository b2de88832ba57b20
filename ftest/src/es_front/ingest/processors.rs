//! Running a parsed pipeline over one document, as ES's `CompoundProcessor` does: processors in order, an
//! `if` that does not hold skips one, `ignore_failure` swallows its failure, its `on_failure` list runs with
//! `_ingest.on_failure_message` / `_processor_type` / `_processor_tag` / `_pipeline` set and execution then
//! continues; a pipeline-level `on_failure` ends the pipeline but keeps the document. `drop` ends everything
//! and the document is not indexed. Failure messages follow ES's processors (`field [x] not present as part of
//! path [x]`, `field [x] already exists`, `Error parsing document in field [x]`, ...).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::attachment::attachment;
use super::config::{Kind, Pipeline, Processor, SetFrom, TextOp};
use super::document::{java_type, not_present, IngestDoc};
use super::java::java_trim;
use super::script::{render, render_value};

/// The pipelines a `pipeline` processor may call, by id.
pub(crate) type Registry = BTreeMap<String, Arc<Pipeline>>;

/// Why a document failed: the exception ES would report for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    /// Where it happened, for `_ingest.on_failure_*`: processor type, tag, pipeline.
    origin: Option<(&'static str, Option<String>, String)>,
}

impl Failure {
    pub(crate) fn illegal_argument(message: impl Into<String>) -> Failure {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            message,
        )
    }

    pub(crate) fn new(
        status: StatusCode,
        kind: &'static str,
        message: impl Into<String>,
    ) -> Failure {
        Failure {
            status,
            kind,
            message: message.into(),
            origin: None,
        }
    }
}

/// What happened to the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Drop,
}

/// Runs pipeline `id` over `doc`. `stack` holds the pipelines already running (cycle detection).
pub(crate) fn run_pipeline(
    id: &str,
    pipeline: &Pipeline,
    doc: &mut IngestDoc,
    registry: &Registry,
    stack: &mut Vec<String>,
) -> Result<Flow, Failure> {
    if stack.iter().any(|p| p == id) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "graph_structure_exception",
            format!("Cycle detected for pipeline: {id}"),
        ));
    }
    stack.push(id.to_string());
    let result = match run_list(&pipeline.processors, id, doc, registry, stack) {
        Err(failure) if !pipeline.on_failure.is_empty() => {
            with_failure_metadata(doc, &failure, |doc| {
                run_list(&pipeline.on_failure, id, doc, registry, stack)
            })
        }
        other => other,
    };
    stack.pop();
    result
}

fn run_list(
    processors: &[Processor],
    pipeline: &str,
    doc: &mut IngestDoc,
    registry: &Registry,
    stack: &mut Vec<String>,
) -> Result<Flow, Failure> {
    for processor in processors {
        if run_one(processor, pipeline, doc, registry, stack)? == Flow::Drop {
            return Ok(Flow::Drop);
        }
    }
    Ok(Flow::Continue)
}

fn run_one(
    p: &Processor,
    pipeline: &str,
    doc: &mut IngestDoc,
    registry: &Registry,
    stack: &mut Vec<String>,
) -> Result<Flow, Failure> {
    if p.condition.as_ref().is_some_and(|c| !c.holds(doc)) {
        return Ok(Flow::Continue);
    }
    let outcome = execute(&p.kind, doc, registry, stack).map_err(|mut failure| {
        failure
            .origin
            .get_or_insert_with(|| (p.type_name, p.tag.clone(), pipeline.to_string()));
        failure
    });
    match outcome {
        Err(_) if p.ignore_failure => Ok(Flow::Continue),
        Err(failure) if !p.on_failure.is_empty() => with_failure_metadata(doc, &failure, |doc| {
            run_list(&p.on_failure, pipeline, doc, registry, stack)
        }),
        other => other,
    }
}

/// Runs `handler` with ES's `_ingest.on_failure_*` fields set, then removes them.
fn with_failure_metadata(
    doc: &mut IngestDoc,
    failure: &Failure,
    handler: impl FnOnce(&mut IngestDoc) -> Result<Flow, Failure>,
) -> Result<Flow, Failure> {
    let (ty, tag, pipeline) = failure.origin.clone().unwrap_or(("", None, String::new()));
    let fields = [
        ("on_failure_message", json!(failure.message)),
        ("on_failure_processor_type", json!(ty)),
        ("on_failure_processor_tag", json!(tag)),
        ("on_failure_pipeline", json!(pipeline)),
    ];
    for (key, value) in fields.iter().cloned() {
        doc.ingest.insert(key.to_string(), value);
    }
    let result = handler(doc);
    for (key, _) in fields {
        doc.ingest.remove(key);
    }
    result
}

fn execute(
    kind: &Kind,
    doc: &mut IngestDoc,
    registry: &Registry,
    stack: &mut Vec<String>,
) -> Result<Flow, Failure> {
    let illegal = Failure::illegal_argument;
    match kind {
        Kind::Remove {
            fields,
            keep,
            ignore_missing,
        } => {
            if !keep.is_empty() {
                let kept: Map<String, Value> = doc
                    .source
                    .iter()
                    .filter(|(k, _)| {
                        keep.iter()
                            .any(|f| f == *k || f.starts_with(&format!("{k}.")))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                doc.source = kept;
            }
            for field in fields {
                if *ignore_missing && !doc.has(field) {
                    continue;
                }
                doc.remove(field).map_err(illegal)?;
            }
        }
        Kind::Set {
            field,
            value,
            override_existing,
            ignore_empty_value,
        } => {
            let value = match value {
                SetFrom::Value(v) => Some(render_value(v, doc)),
                SetFrom::CopyFrom(from) => match doc.get(from).map_err(illegal)? {
                    Some(v) => Some(v.clone()),
                    None if *ignore_empty_value => None,
                    None => return Err(illegal(not_present(from))),
                },
            };
            let empty = |v: &Value| v.is_null() || v.as_str().is_some_and(str::is_empty);
            match value {
                Some(v) if *ignore_empty_value && empty(&v) => {}
                None => {}
                Some(v) => {
                    let exists = doc
                        .get(field)
                        .ok()
                        .flatten()
                        .is_some_and(|old| !old.is_null());
                    if *override_existing || !exists {
                        doc.set(field, v).map_err(illegal)?;
                    }
                }
            }
        }
        Kind::Append {
            field,
            value,
            allow_duplicates,
        } => {
            let value = render_value(value, doc);
            doc.append(field, value, *allow_duplicates)
                .map_err(illegal)?;
        }
        Kind::Rename {
            field,
            target,
            ignore_missing,
            override_existing,
        } => {
            if !doc.has(field) {
                if *ignore_missing {
                    return Ok(Flow::Continue);
                }
                return Err(illegal(format!("field [{field}] doesn't exist")));
            }
            if doc.has(target) && !*override_existing {
                return Err(illegal(format!("field [{target}] already exists")));
            }
            let value = doc.remove(field).map_err(illegal)?;
            if let Err(e) = doc.set(target, value.clone()) {
                // Put it back, as ES does, so a failed rename leaves the document as it was.
                let _ = doc.set(field, value);
                return Err(illegal(e));
            }
        }
        Kind::Text {
            op,
            field,
            target,
            ignore_missing,
        } => {
            let Some(value) = string_input(doc, field, *ignore_missing)? else {
                return Ok(Flow::Continue);
            };
            let converted = map_strings(&value, field, |s| match op {
                TextOp::Lowercase => s.to_lowercase(),
                TextOp::Uppercase => s.to_uppercase(),
                TextOp::Trim => java_trim(s).to_string(),
            })?;
            doc.set(target, converted).map_err(illegal)?;
        }
        Kind::Gsub {
            field,
            target,
            pattern,
            replacement,
            ignore_missing,
        } => {
            let Some(value) = string_input(doc, field, *ignore_missing)? else {
                return Ok(Flow::Continue);
            };
            let converted = map_strings(&value, field, |s| {
                pattern.replace_all(s, replacement.as_str()).into_owned()
            })?;
            doc.set(target, converted).map_err(illegal)?;
        }
        Kind::Attachment(config) => attachment(config, doc)?,
        Kind::Drop => return Ok(Flow::Drop),
        Kind::Fail { message } => {
            return Err(Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "fail_processor_exception",
                render(message, doc),
            ))
        }
        Kind::Pipeline {
            name,
            ignore_missing_pipeline,
        } => match registry.get(name) {
            Some(inner) => return run_pipeline(name, inner, doc, registry, stack),
            None if *ignore_missing_pipeline => {}
            None => {
                return Err(Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "illegal_state_exception",
                    format!("Pipeline processor configured for non-existent pipeline [{name}]"),
                ))
            }
        },
    }
    Ok(Flow::Continue)
}

/// Applies `f` to a string, or to each string of a list; anything else is ES's cast error.
fn map_strings(value: &Value, field: &str, f: impl Fn(&str) -> String) -> Result<Value, Failure> {
    let cast_error = |v: &Value| {
        Failure::illegal_argument(format!(
            "field [{field}] of type [{}] cannot be cast to [java.lang.String]",
            java_type(v)
        ))
    };
    match value {
        Value::String(s) => Ok(Value::String(f(s))),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(Value::String(f(s))),
                other => Err(cast_error(other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Err(cast_error(other)),
    }
}

/// The input of a string processor (`lowercase`, `gsub`, ...): `None` when it is absent or null and
/// `ignore_missing` is set; an error naming the field when it is absent or null otherwise.
fn string_input(
    doc: &IngestDoc,
    field: &str,
    ignore_missing: bool,
) -> Result<Option<Value>, Failure> {
    match doc.get(field).map_err(Failure::illegal_argument)? {
        None | Some(Value::Null) if ignore_missing => Ok(None),
        None => Err(Failure::illegal_argument(not_present(field))),
        Some(Value::Null) => Err(Failure::illegal_argument(format!(
            "field [{field}] is null, cannot process it."
        ))),
        Some(v) => Ok(Some(v.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::parse_pipeline;
    use super::*;

    fn run(config: Value, source: Value) -> (Result<Flow, Failure>, Value) {
        let pipeline = parse_pipeline("p", &config).unwrap();
        let mut doc = IngestDoc::new(source.as_object().cloned().unwrap_or_default());
        let result = run_pipeline("p", &pipeline, &mut doc, &Registry::new(), &mut Vec::new());
        (result, Value::Object(doc.source))
    }

    #[test]
    fn basic_processors() {
        let (r, out) = run(
            json!({"processors": [
                {"set": {"field": "a.b", "value": "V"}},
                {"set": {"field": "keep", "value": "new", "override": false}},
                {"lowercase": {"field": "a.b"}},
                {"rename": {"field": "x", "target_field": "y"}},
                {"gsub": {"field": "t", "pattern": "\\s+", "replacement": "_"}},
                {"append": {"field": "tags", "value": ["t1", "t2"]}},
                {"remove": {"field": ["gone", "missing"], "ignore_missing": true}},
                {"uppercase": {"field": "list"}},
                {"trim": {"field": "pad"}}
            ]}),
            json!({"keep": "old", "x": 1, "t": "a  b\tc", "gone": 1, "list": ["a", "b"], "pad": "  p \u{A0}"}),
        );
        assert_eq!(r, Ok(Flow::Continue));
        assert_eq!(
            out,
            json!({"a": {"b": "v"}, "keep": "old", "y": 1, "t": "a_b_c", "tags": ["t1", "t2"],
                   "list": ["A", "B"], "pad": "p \u{A0}"})
        );
    }

    #[test]
    fn failures_and_handlers() {
        let (r, _) = run(
            json!({"processors": [{"remove": {"field": "nope"}}]}),
            json!({}),
        );
        let failure = r.unwrap_err();
        assert_eq!(failure.kind, "illegal_argument_exception");
        assert_eq!(
            failure.message,
            "field [nope] not present as part of path [nope]"
        );
        let (r, out) = run(
            json!({"processors": [
                {"rename": {"field": "nope", "target_field": "x", "tag": "t1", "on_failure": [
                    {"append": {"field": "errs", "value": "{{ _ingest.on_failure_processor_type }}/{{ _ingest.on_failure_processor_tag }} in {{ _ingest.on_failure_pipeline }}: {{{ _ingest.on_failure_message }}}"}}
                ]}},
                {"lowercase": {"field": "nope", "ignore_failure": true}},
                {"set": {"field": "after", "value": true}}
            ]}),
            json!({}),
        );
        assert_eq!(r, Ok(Flow::Continue));
        assert_eq!(
            out,
            json!({"errs": ["rename/t1 in p: field [nope] doesn't exist"], "after": true})
        );
        let (r, out) = run(
            json!({"processors": [{"fail": {"message": "boom"}}, {"set": {"field": "never", "value": 1}}],
                   "on_failure": [{"set": {"field": "handled", "value": "{{_ingest.on_failure_message}}"}}]}),
            json!({}),
        );
        assert_eq!(r, Ok(Flow::Continue));
        assert_eq!(out, json!({"handled": "boom"}));
        let (r, _) = run(
            json!({"processors": [{"drop": {"if": "ctx.d == 1"}}]}),
            json!({"d": 1}),
        );
        assert_eq!(r, Ok(Flow::Drop));
    }
}
