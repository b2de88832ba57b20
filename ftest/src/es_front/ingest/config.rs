//! Reading a pipeline definition (`PUT /_ingest/pipeline/{id}` body) into executable processors, with the
//! checks and error wording of ES's `Pipeline.create` and `ConfigurationUtils`: `parse_exception` with
//! `processor_type` / `processor_tag` / `property_name` fields, `[field] required property is missing`,
//! `No processor type exists with name [x]`, `processor [x] doesn't support one or more provided
//! configuration parameters [..]`. Supported processors: `append`, `attachment`, `drop`, `fail`, `gsub`,
//! `lowercase`, `pipeline`, `remove`, `rename`, `set`, `trim`, `uppercase`. Processors real ES has and the
//! stand-in does not (`script`, `grok`, `date`, ...) are refused with ES's unknown-type error plus an
//! `es_standin_note` field, never accepted and silently skipped.

use regex::Regex;
use serde_json::Value;

use super::attachment::{parse_attachment, Attachment};
use super::document::java_type;
use super::java::{java_regex, java_replacement};
use super::reader::{config_error, Reader};
use super::script::Condition;
use crate::es_front::errors::EsError;

#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) processors: Vec<Processor>,
    pub(crate) on_failure: Vec<Processor>,
}

#[derive(Debug)]
pub(crate) struct Processor {
    pub(crate) type_name: &'static str,
    pub(crate) tag: Option<String>,
    pub(crate) condition: Option<Condition>,
    pub(crate) ignore_failure: bool,
    pub(crate) on_failure: Vec<Processor>,
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Remove {
        fields: Vec<String>,
        keep: Vec<String>,
        ignore_missing: bool,
    },
    Set {
        field: String,
        value: SetFrom,
        override_existing: bool,
        ignore_empty_value: bool,
    },
    Append {
        field: String,
        value: Value,
        allow_duplicates: bool,
    },
    Rename {
        field: String,
        target: String,
        ignore_missing: bool,
        override_existing: bool,
    },
    Text {
        op: TextOp,
        field: String,
        target: String,
        ignore_missing: bool,
    },
    Gsub {
        field: String,
        target: String,
        pattern: Regex,
        replacement: String,
        ignore_missing: bool,
    },
    Attachment(Attachment),
    Drop,
    Fail {
        message: String,
    },
    Pipeline {
        name: String,
        ignore_missing_pipeline: bool,
    },
}

#[derive(Debug)]
pub(crate) enum SetFrom {
    Value(Value),
    CopyFrom(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOp {
    Lowercase,
    Uppercase,
    Trim,
}

/// Processor types of ES 9.x (default distribution) that the stand-in does not implement.
const UNIMPLEMENTED: [&str; 34] = [
    "bytes",
    "circle",
    "community_id",
    "convert",
    "csv",
    "date",
    "date_index_name",
    "dissect",
    "dot_expander",
    "enrich",
    "fingerprint",
    "foreach",
    "geo_grid",
    "geoip",
    "grok",
    "html_strip",
    "inference",
    "ip_location",
    "join",
    "json",
    "kv",
    "network_direction",
    "redact",
    "registered_domain",
    "reroute",
    "script",
    "set_security_user",
    "sort",
    "split",
    "terminate",
    "uri_parts",
    "urldecode",
    "user_agent",
    "normalize_for_stream",
];

/// Parses a pipeline definition. `id` only appears in messages.
pub(crate) fn parse_pipeline(id: &str, config: &Value) -> Result<Pipeline, EsError> {
    let Value::Object(map) = config else {
        return Err(config_error(
            None,
            None,
            None,
            "Failed to parse content to map",
        ));
    };
    let mut reader = Reader {
        ty: None,
        tag: None,
        map: map.clone(),
    };
    reader.opt_string("description")?;
    reader.int("version", 0)?;
    if let Some(meta) = reader.take("_meta") {
        if !meta.is_object() {
            return Err(reader.err(
                Some("_meta"),
                &format!("property isn't a map, but of type [{}]", java_type(&meta)),
            ));
        }
    }
    reader.bool("deprecated", false)?;
    let processors = reader
        .opt_list("processors")?
        .ok_or_else(|| reader.err(Some("processors"), "required property is missing"))?;
    let processors = parse_processors(processors)?;
    let on_failure = reader.opt_list("on_failure")?;
    reader.finish(&format!("pipeline [{id}]"))?;
    let on_failure = match on_failure {
        Some(list) if list.is_empty() => {
            return Err(config_error(
                None,
                None,
                None,
                &format!("pipeline [{id}] cannot have an empty on_failure option defined"),
            ))
        }
        Some(list) => parse_processors(list)?,
        None => Vec::new(),
    };
    Ok(Pipeline {
        processors,
        on_failure,
    })
}

fn parse_processors(list: Vec<Value>) -> Result<Vec<Processor>, EsError> {
    let mut out = Vec::new();
    for entry in list {
        let Value::Object(map) = entry else {
            return Err(config_error(
                None,
                None,
                None,
                &format!(
                    "processor config isn't a map, but of type [{}]",
                    java_type(&entry)
                ),
            ));
        };
        for (ty, config) in map {
            out.push(parse_processor(&ty, config)?);
        }
    }
    Ok(out)
}

fn parse_processor(ty: &str, config: Value) -> Result<Processor, EsError> {
    let map = match config {
        Value::Object(map) => map,
        Value::Null => {
            return Err(config_error(
                Some(ty),
                None,
                None,
                "processor config cannot be [null]",
            ))
        }
        other => {
            return Err(config_error(
                Some(ty),
                None,
                None,
                &format!("property isn't a map, but of type [{}]", java_type(&other)),
            ))
        }
    };
    let mut r = Reader {
        ty: None,
        tag: None,
        map,
    };
    let tag = r.opt_string("tag")?;
    r.tag = tag.clone();
    r.opt_string("description")?;
    let condition = match r.take("if") {
        None => None,
        Some(Value::String(source)) => Some(source),
        Some(Value::Object(script)) => match script.get("source") {
            Some(Value::String(source)) => Some(source.clone()),
            _ => {
                return Err(r.err(
                    Some("if"),
                    "es-standin only supports inline `source` conditions",
                ))
            }
        },
        Some(other) => {
            return Err(config_error(
                Some("conditional"),
                tag.as_deref(),
                Some("script"),
                &format!(
                    "property isn't a map or string, but of type [{}]",
                    java_type(&other)
                ),
            ))
        }
    };
    let type_name = supported_type(ty).ok_or_else(|| unknown_type(ty, tag.as_deref()))?;
    r.ty = Some(type_name);
    let condition = match condition {
        Some(source) => {
            Some(Condition::parse(&source).map_err(|reason| r.err(Some("if"), &reason))?)
        }
        None => None,
    };
    let ignore_failure = r.bool("ignore_failure", false)?;
    let on_failure = match r.opt_list("on_failure")? {
        Some(list) if list.is_empty() => {
            return Err(r.err(Some("on_failure"), "processors list cannot be empty"))
        }
        Some(list) => parse_processors(list)?,
        None => Vec::new(),
    };
    let kind = parse_kind(type_name, &mut r)?;
    r.finish(&format!("processor [{type_name}]"))?;
    Ok(Processor {
        type_name,
        tag,
        condition,
        ignore_failure,
        on_failure,
        kind,
    })
}

fn supported_type(ty: &str) -> Option<&'static str> {
    const SUPPORTED: [&str; 12] = [
        "append",
        "attachment",
        "drop",
        "fail",
        "gsub",
        "lowercase",
        "pipeline",
        "remove",
        "rename",
        "set",
        "trim",
        "uppercase",
    ];
    SUPPORTED.into_iter().find(|s| *s == ty)
}

fn unknown_type(ty: &str, tag: Option<&str>) -> EsError {
    let err = config_error(
        Some(ty),
        tag,
        None,
        &format!("No processor type exists with name [{ty}]"),
    );
    if UNIMPLEMENTED.contains(&ty) {
        err.with_field(
            "es_standin_note",
            "Elasticsearch has this processor; es-standin does not implement it",
        )
    } else {
        err
    }
}

fn parse_kind(ty: &'static str, r: &mut Reader<'_>) -> Result<Kind, EsError> {
    Ok(match ty {
        "remove" => {
            let fields = r.strings("field")?;
            let keep = r.strings("keep")?;
            if fields.is_empty() && keep.is_empty() {
                return Err(r.err(Some("keep"), "or [field] must be specified"));
            }
            if !fields.is_empty() && !keep.is_empty() {
                return Err(r.err(
                    Some("keep"),
                    "and [field] cannot both be used in the same processor",
                ));
            }
            Kind::Remove {
                fields,
                keep,
                ignore_missing: r.bool("ignore_missing", false)?,
            }
        }
        "set" => {
            let field = r.string("field")?;
            let copy_from = r.opt_string("copy_from")?;
            let value = r.template_value("value")?;
            let value = match (value, copy_from) {
                (Some(_), Some(_)) => {
                    return Err(r.err(
                        Some("copy_from"),
                        "cannot set both `copy_from` and `value` in the same processor",
                    ))
                }
                (Some(v), None) => SetFrom::Value(v),
                (None, Some(from)) => SetFrom::CopyFrom(from),
                (None, None) => return Err(r.err(Some("value"), "required property is missing")),
            };
            r.opt_string("media_type")?;
            Kind::Set {
                field,
                value,
                override_existing: r.bool("override", true)?,
                ignore_empty_value: r.bool("ignore_empty_value", false)?,
            }
        }
        "append" => {
            let field = r.string("field")?;
            let value = r
                .template_value("value")?
                .ok_or_else(|| r.err(Some("value"), "required property is missing"))?;
            r.opt_string("media_type")?;
            Kind::Append {
                field,
                value,
                allow_duplicates: r.bool("allow_duplicates", true)?,
            }
        }
        "rename" => Kind::Rename {
            field: r.string("field")?,
            target: r.string("target_field")?,
            ignore_missing: r.bool("ignore_missing", false)?,
            override_existing: r.bool("override", false)?,
        },
        "lowercase" | "uppercase" | "trim" => {
            let op = match ty {
                "lowercase" => TextOp::Lowercase,
                "uppercase" => TextOp::Uppercase,
                _ => TextOp::Trim,
            };
            let field = r.string("field")?;
            let target = r
                .opt_string("target_field")?
                .unwrap_or_else(|| field.clone());
            Kind::Text {
                op,
                field,
                target,
                ignore_missing: r.bool("ignore_missing", false)?,
            }
        }
        "gsub" => {
            let field = r.string("field")?;
            let source = r.string("pattern")?;
            let pattern = java_regex(&source)
                .map_err(|e| r.err(Some("pattern"), &format!("Invalid regex pattern. {e}")))?;
            let replacement = java_replacement(&r.string("replacement")?);
            let target = r
                .opt_string("target_field")?
                .unwrap_or_else(|| field.clone());
            Kind::Gsub {
                field,
                target,
                pattern,
                replacement,
                ignore_missing: r.bool("ignore_missing", false)?,
            }
        }
        "attachment" => Kind::Attachment(parse_attachment(r)?),
        "drop" => Kind::Drop,
        "fail" => Kind::Fail {
            message: match r.template_value("message")? {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => return Err(r.err(Some("message"), "required property is missing")),
            },
        },
        _ => Kind::Pipeline {
            name: r.string("name")?,
            ignore_missing_pipeline: r.bool("ignore_missing_pipeline", false)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(err: &EsError) -> String {
        err.body()["error"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn errors_are_worded_like_es() {
        let cases = [
            (json!({}), "[processors] required property is missing"),
            (json!({"processors": [{"nope": {}}]}), "No processor type exists with name [nope]"),
            (json!({"processors": [{"script": {"source": "x"}}]}), "No processor type exists with name [script]"),
            (json!({"processors": [{"set": {"field": "a"}}]}), "[value] required property is missing"),
            (json!({"processors": [{"set": {"field": "a", "value": 1, "x": 1}}]}),
             "processor [set] doesn't support one or more provided configuration parameters [x]"),
            (json!({"processors": [], "foo": 1}),
             "pipeline [p] doesn't support one or more provided configuration parameters [foo]"),
            (json!({"processors": [{"remove": {}}]}), "[keep] or [field] must be specified"),
            (json!({"processors": [{"rename": {"field": 1, "target_field": "b"}}]}),
             "[field] property isn't a string, but of type [java.lang.Integer]"),
            (json!({"processors": [{"set": {"field": "a", "value": 1, "if": "ctx.a.size() > 2"}}]}),
             "[if] es-standin only understands conditions of the form `ctx?.field == <literal>` (or `!=`), not [ctx.a.size() > 2]"),
            (json!({"processors": [{"gsub": {"field": "a", "pattern": "(", "replacement": ""}}]}),
             "[pattern] Invalid regex pattern."),
        ];
        for (config, expected) in cases {
            let err = parse_pipeline("p", &config).unwrap_err();
            assert!(
                reason(&err).starts_with(expected),
                "{config}: {}",
                reason(&err)
            );
            assert_eq!(err.body()["error"]["type"], "parse_exception");
        }
        let err = parse_pipeline(
            "p",
            &json!({"processors": [{"script": {"source": "x", "tag": "t"}}]}),
        )
        .unwrap_err();
        assert_eq!(err.body()["error"]["processor_type"], "script");
        assert_eq!(err.body()["error"]["processor_tag"], "t");
        assert!(err.body()["error"]["es_standin_note"].is_string());
    }
}
