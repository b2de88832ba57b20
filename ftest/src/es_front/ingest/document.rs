//! The document a pipeline works on, as ES's `IngestDocument` presents it: the `_source` fields, the metadata
//! fields (`_index`, `_id`, `_routing`, ...) addressable by the same names, and the `_ingest` map
//! (`timestamp`, `on_failure_*`). Field paths are dotted (`a.b.0.c`) and resolved the way ES does, with its
//! error wording (`field [x] not present as part of path [a.x]`, `cannot set [x] with parent object of type
//! [java.lang.String] as part of path [a.x]`, ...).

use serde_json::{Map, Value};

/// Metadata fields that live beside `_source`, not in it.
const META_FIELDS: [&str; 8] = [
    "_index",
    "_id",
    "_routing",
    "_version",
    "_version_type",
    "_if_seq_no",
    "_if_primary_term",
    "_dynamic_templates",
];

#[derive(Debug, Clone, Default)]
pub(crate) struct IngestDoc {
    pub(crate) source: Map<String, Value>,
    pub(crate) meta: Map<String, Value>,
    pub(crate) ingest: Map<String, Value>,
}

/// Which map a path addresses, and the path's segments inside it.
fn locate(path: &str) -> Result<(Root, Vec<&str>), String> {
    if path.is_empty() {
        return Err("path cannot be null nor empty".to_string());
    }
    let (root, rest) = if let Some(rest) = path.strip_prefix("_ingest.") {
        (Root::Ingest, rest)
    } else if let Some(rest) = path.strip_prefix("_source.") {
        (Root::Source, rest)
    } else if META_FIELDS.contains(&path) {
        (Root::Meta, path)
    } else {
        (Root::Source, path)
    };
    let segments: Vec<&str> = rest.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!("path [{path}] is not valid"));
    }
    Ok((root, segments))
}

#[derive(Clone, Copy)]
enum Root {
    Source,
    Meta,
    Ingest,
}

/// The Java class ES names in messages for a JSON value.
pub(crate) fn java_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()) => {
            "java.lang.Integer"
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => "java.lang.Long",
        Value::Number(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.HashMap",
    }
}

fn list_index(key: &str, len: usize, path: &str) -> Result<usize, String> {
    let index: usize = key.parse().map_err(|_| {
        format!("[{key}] is not an integer, cannot be used as an index as part of path [{path}]")
    })?;
    if index >= len {
        return Err(format!(
            "[{key}] is out of bounds for array with length [{len}] as part of path [{path}]"
        ));
    }
    Ok(index)
}

impl IngestDoc {
    pub(crate) fn new(source: Map<String, Value>) -> Self {
        IngestDoc {
            source,
            ..Default::default()
        }
    }

    fn root(&self, root: Root) -> &Map<String, Value> {
        match root {
            Root::Source => &self.source,
            Root::Meta => &self.meta,
            Root::Ingest => &self.ingest,
        }
    }

    fn root_mut(&mut self, root: Root) -> &mut Map<String, Value> {
        match root {
            Root::Source => &mut self.source,
            Root::Meta => &mut self.meta,
            Root::Ingest => &mut self.ingest,
        }
    }

    /// The value at `path`: `Ok(None)` when a map on the way lacks the key, `Err` when the path runs into
    /// something that is not a container (or a bad list index).
    pub(crate) fn get(&self, path: &str) -> Result<Option<&Value>, String> {
        let (root, segments) = locate(path)?;
        let Some((first, rest)) = segments.split_first() else {
            return Ok(None);
        };
        let Some(mut current) = self.root(root).get(*first) else {
            return Ok(None);
        };
        for key in rest {
            current = match current {
                Value::Object(map) => match map.get(*key) {
                    Some(v) => v,
                    None => return Ok(None),
                },
                Value::Array(items) => &items[list_index(key, items.len(), path)?],
                Value::Null => {
                    return Err(format!(
                        "cannot resolve [{key}] from null as part of path [{path}]"
                    ))
                }
                other => {
                    return Err(format!(
                        "cannot resolve [{key}] from object of type [{}] as part of path [{path}]",
                        java_type(other)
                    ))
                }
            };
        }
        Ok(Some(current))
    }

    /// ES's `hasField`: the path resolves to a value (possibly `null`).
    pub(crate) fn has(&self, path: &str) -> bool {
        matches!(self.get(path), Ok(Some(_)))
    }

    /// Sets `path` to `value`, creating missing intermediate objects.
    pub(crate) fn set(&mut self, path: &str, value: Value) -> Result<(), String> {
        self.write(path, value, false, true)
    }

    /// ES's `appendFieldValue`: a missing field becomes a list, a scalar becomes a list, lists grow.
    pub(crate) fn append(
        &mut self,
        path: &str,
        value: Value,
        duplicates: bool,
    ) -> Result<(), String> {
        self.write(path, value, true, duplicates)
    }

    fn write(&mut self, path: &str, value: Value, append: bool, dups: bool) -> Result<(), String> {
        let (root, segments) = locate(path)?;
        let Some((leaf, parents)) = segments.split_last() else {
            return Err(format!("path [{path}] is not valid"));
        };
        // Work on the root as a JSON value so objects and lists on the way are handled alike.
        let root = self.root_mut(root);
        let mut whole = Value::Object(std::mem::take(root));
        let result = container(&mut whole, parents, path).and_then(|parent| match parent {
            Value::Object(map) => {
                let merged = match (append, map.remove(*leaf)) {
                    (false, _) => value,
                    (true, Some(old)) => appended(old, value, dups),
                    (true, None) => appended(Value::Array(Vec::new()), value, dups),
                };
                map.insert(leaf.to_string(), merged);
                Ok(())
            }
            Value::Array(items) => {
                let index = list_index(leaf, items.len(), path)?;
                let slot = &mut items[index];
                *slot = if append {
                    appended(slot.take(), value, dups)
                } else {
                    value
                };
                Ok(())
            }
            Value::Null => Err(format!(
                "cannot set [{leaf}] with null parent as part of path [{path}]"
            )),
            other => Err(format!(
                "cannot set [{leaf}] with parent object of type [{}] as part of path [{path}]",
                java_type(other)
            )),
        });
        if let Value::Object(map) = whole {
            *root = map;
        }
        result
    }

    /// Removes `path`; absent is an error (`field [x] not present as part of path [..]`).
    pub(crate) fn remove(&mut self, path: &str) -> Result<Value, String> {
        let (root, segments) = locate(path)?;
        let Some((leaf, parents)) = segments.split_last() else {
            return Err(not_present(path));
        };
        let mut current = self.root_mut(root);
        for key in parents {
            current = match current.get_mut(*key) {
                Some(Value::Object(inner)) => inner,
                Some(Value::Array(items)) => {
                    return Err(format!(
                        "cannot remove [{leaf}] from a list element of length [{}] as part of path [{path}]",
                        items.len()
                    ))
                }
                Some(Value::Null) | None => return Err(not_present(path)),
                Some(other) => {
                    return Err(format!(
                        "cannot remove [{leaf}] from object of type [{}] as part of path [{path}]",
                        java_type(other)
                    ))
                }
            };
        }
        current.remove(*leaf).ok_or_else(|| not_present(path))
    }
}

/// Walks (creating missing objects) to the container that holds a path's leaf, ES's `setFieldValue` way.
fn container<'v>(
    current: &'v mut Value,
    parents: &[&str],
    path: &str,
) -> Result<&'v mut Value, String> {
    let Some((key, rest)) = parents.split_first() else {
        return Ok(current);
    };
    let next = match current {
        Value::Object(map) => map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new())),
        Value::Array(items) => {
            let index = list_index(key, items.len(), path)?;
            &mut items[index]
        }
        Value::Null => {
            return Err(format!(
                "cannot resolve [{key}] from null as part of path [{path}]"
            ))
        }
        other => {
            return Err(format!(
                "cannot resolve [{key}] from object of type [{}] as part of path [{path}]",
                java_type(other)
            ))
        }
    };
    container(next, rest, path)
}

pub(crate) fn not_present(path: &str) -> String {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    format!("field [{leaf}] not present as part of path [{path}]")
}

/// ES's `appendValues`: lists are extended, scalars become lists; without duplicates, known values are skipped.
fn appended(existing: Value, value: Value, duplicates: bool) -> Value {
    let mut list = match existing {
        Value::Array(items) => items,
        scalar => vec![scalar],
    };
    let new_values = match value {
        Value::Array(items) => items,
        scalar => vec![scalar],
    };
    for v in new_values {
        if duplicates || !list.contains(&v) {
            list.push(v);
        }
    }
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> IngestDoc {
        match v {
            Value::Object(map) => IngestDoc::new(map),
            _ => IngestDoc::default(),
        }
    }

    #[test]
    fn dotted_paths_resolve_like_es() {
        let d = doc(json!({"a": {"b": [1, {"c": "x"}]}, "s": "str"}));
        assert_eq!(d.get("a.b.1.c").unwrap(), Some(&json!("x")));
        assert_eq!(d.get("a.z").unwrap(), None);
        assert_eq!(
            d.get("s.x").unwrap_err(),
            "cannot resolve [x] from object of type [java.lang.String] as part of path [s.x]"
        );
        assert_eq!(
            d.get("a.b.5").unwrap_err(),
            "[5] is out of bounds for array with length [2] as part of path [a.b.5]"
        );
        assert_eq!(
            not_present("a.q"),
            "field [q] not present as part of path [a.q]"
        );
        assert!(d.has("_source.s"));
    }

    #[test]
    fn set_append_remove() {
        let mut d = doc(json!({"s": "str"}));
        d.set("x.y", json!(1)).unwrap();
        assert_eq!(d.source["x"], json!({"y": 1}));
        assert_eq!(
            d.set("s.t", json!(1)).unwrap_err(),
            "cannot set [t] with parent object of type [java.lang.String] as part of path [s.t]"
        );
        assert!(d
            .set("s.t.u", json!(1))
            .unwrap_err()
            .starts_with("cannot resolve [t]"));
        d.set("list", json!([{"a": 1}])).unwrap();
        d.set("list.0.b", json!(2)).unwrap();
        assert_eq!(d.source["list"], json!([{"a": 1, "b": 2}]));
        d.append("errs", json!("e1"), true).unwrap();
        d.append("errs", json!(["e2", "e1"]), false).unwrap();
        assert_eq!(d.source["errs"], json!(["e1", "e2"]));
        d.append("s", json!("more"), true).unwrap();
        assert_eq!(d.source["s"], json!(["str", "more"]));
        assert_eq!(d.remove("x.y").unwrap(), json!(1));
        assert_eq!(
            d.remove("x.y").unwrap_err(),
            "field [y] not present as part of path [x.y]"
        );
        d.set("_id", json!("new-id")).unwrap();
        assert_eq!(d.meta["_id"], "new-id");
        assert!(!d.source.contains_key("_id"));
        d.set("_ingest.on_failure_message", json!("m")).unwrap();
        assert_eq!(d.ingest["on_failure_message"], "m");
    }
}
