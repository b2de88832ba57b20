//! The rules an ECS log line must follow to be indexed by Filebeat next to the reference's lines: what
//! ecs-logging writes (`@timestamp`, `log.level`, `message`, `ecs.version`), and nothing a dotted-key expansion or
//! an ECS index template would reject (a key that is both a value and an object, a string where ECS has an
//! object, a label that is not a string).

use serde_json::{Map, Value};

/// The level names ecs-logging writes for Python's logging levels.
pub const LEVELS: &[&str] = &["debug", "info", "warning", "error", "critical"];

/// ECS field sets: objects in every ECS document, so a line must never hold a plain value under these names.
pub const ECS_OBJECTS: &[&str] = &[
    "agent",
    "client",
    "cloud",
    "container",
    "destination",
    "dns",
    "ecs",
    "error",
    "event",
    "file",
    "group",
    "host",
    "http",
    "labels",
    "log",
    "network",
    "observer",
    "organization",
    "os",
    "package",
    "process",
    "related",
    "server",
    "service",
    "source",
    "span",
    "threat",
    "tls",
    "trace",
    "transaction",
    "url",
    "user",
    "user_agent",
];

/// Checks one line; returns it with dotted keys expanded into objects.
pub fn check_line(line: &str) -> Result<Value, String> {
    let raw: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(raw) = raw else {
        return Err("not a JSON object".into());
    };
    for key in ["@timestamp", "log.level", "message", "ecs.version"] {
        if !raw.get(key).is_some_and(Value::is_string) {
            return Err(format!("no top-level string `{key}`"));
        }
    }
    let timestamp = raw["@timestamp"].as_str().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(timestamp)
        .map_err(|e| format!("@timestamp `{timestamp}` is not RFC 3339 ({e})"))?;
    let level = raw["log.level"].as_str().unwrap_or_default();
    if !LEVELS.contains(&level) {
        return Err(format!("log.level `{level}` is not one of {LEVELS:?}"));
    }
    let expanded = de_dot(&raw)?;
    for key in expanded.as_object().into_iter().flat_map(Map::keys) {
        if !ECS_OBJECTS.contains(&key.as_str())
            && !["@timestamp", "message", "tags"].contains(&key.as_str())
        {
            return Err(format!(
                "top-level `{key}` is no ECS field (custom fields belong in `labels`)"
            ));
        }
    }
    for name in ECS_OBJECTS {
        if let Some(v) = expanded.get(*name) {
            if !v.is_object() {
                return Err(format!("`{name}` is an ECS object but holds {v}"));
            }
        }
    }
    if let Some(labels) = expanded.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if !v.is_string() {
                return Err(format!("labels.{k} is not a string: {v}"));
            }
        }
    }
    for key in ["service.type", "service.version"] {
        if path(&expanded, key).and_then(Value::as_str).is_none() {
            return Err(format!("no `{key}`"));
        }
    }
    Ok(expanded)
}

/// The value at a dotted path of an expanded line.
pub fn path<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(v, |node, part| node.get(part))
}

/// Expands dotted keys (`log.level` → `{"log": {"level": …}}`) at every depth, failing where a key would be
/// both a value and an object.
fn de_dot(object: &Map<String, Value>) -> Result<Value, String> {
    let mut out = Map::new();
    for (key, value) in object {
        let value = match value {
            Value::Object(inner) => de_dot(inner)?,
            other => other.clone(),
        };
        let parts: Vec<&str> = key.split('.').collect();
        insert(&mut out, &parts, value, key)?;
    }
    Ok(Value::Object(out))
}

fn insert(
    node: &mut Map<String, Value>,
    parts: &[&str],
    value: Value,
    key: &str,
) -> Result<(), String> {
    let (first, rest) = parts.split_first().ok_or("empty key")?;
    if rest.is_empty() {
        return match (node.get_mut(*first), value) {
            (None, value) => {
                node.insert(first.to_string(), value);
                Ok(())
            }
            (Some(Value::Object(existing)), Value::Object(new)) => {
                for (k, v) in new {
                    insert(existing, &[k.as_str()], v, key)?;
                }
                Ok(())
            }
            _ => Err(format!(
                "`{key}` is both a value and an object (or given twice)"
            )),
        };
    }
    let child = node
        .entry(first.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    match child {
        Value::Object(map) => insert(map, rest, value, key),
        _ => Err(format!("`{key}` is both a value and an object")),
    }
}
