//! Dotted keys (`elasticsearch.bulk.chunk_size: 500`) become nested mappings, merged with nested ones
//! (`elasticsearch: {bulk: {...}}`) into one tree. Mappings merge key by key; a later scalar or list replaces.

use serde_json::{Map, Value};

/// Rewrites every mapping in `value` so that no key contains a `.`: `a.b: 1` becomes `a: {b: 1}`.
/// Keys under `elasticsearch.headers` are HTTP header names and are kept as written.
pub fn expand_dotted(value: Value) -> Value {
    expand(value, &mut Vec::new())
}

fn expand(value: Value, path: &mut Vec<String>) -> Value {
    let Value::Object(map) = value else {
        return match value {
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| expand(v, path)).collect())
            }
            other => other,
        };
    };
    let verbatim_keys = path.len() == 2 && path[0] == "elasticsearch" && path[1] == "headers";
    let mut out = Map::new();
    for (key, child) in map {
        let parts: Vec<&str> = if verbatim_keys {
            vec![key.as_str()]
        } else {
            key.split('.').collect()
        };
        let depth = path.len();
        path.extend(parts.iter().map(|p| p.to_string()));
        let mut nested = expand(child, path);
        path.truncate(depth);
        for part in parts[1..].iter().rev() {
            let mut m = Map::new();
            m.insert(part.to_string(), nested);
            nested = Value::Object(m);
        }
        let first = parts[0].to_string();
        match out.get_mut(&first) {
            Some(existing) => merge(existing, nested),
            None => {
                out.insert(first, nested);
            }
        }
    }
    Value::Object(out)
}

/// Deep-merges `overlay` into `base`: mappings merge recursively, anything else replaces.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_and_nested_merge() {
        let v = json!({
            "elasticsearch.bulk.chunk_size": 100,
            "elasticsearch": {"host": "h", "bulk": {"max_concurrency": 2}},
            "service.idling": 5
        });
        assert_eq!(
            expand_dotted(v),
            json!({
                "elasticsearch": {"host": "h", "bulk": {"chunk_size": 100, "max_concurrency": 2}},
                "service": {"idling": 5}
            })
        );
    }

    #[test]
    fn dotted_keys_inside_nested_and_lists() {
        let v = json!({"elasticsearch": {"bulk.chunk_size": 7}, "connectors": [{"a.b": 1}]});
        assert_eq!(
            expand_dotted(v),
            json!({"elasticsearch": {"bulk": {"chunk_size": 7}}, "connectors": [{"a": {"b": 1}}]})
        );
    }

    #[test]
    fn header_names_are_kept() {
        let v = json!({"elasticsearch.headers": {"X-Team.Id": "1"}});
        assert_eq!(
            expand_dotted(v),
            json!({"elasticsearch": {"headers": {"X-Team.Id": "1"}}})
        );
    }

    #[test]
    fn lists_and_scalars_replace() {
        let mut base = json!({"a": [1, 2], "b": {"c": 1, "d": 2}});
        merge(&mut base, json!({"a": [3], "b": {"c": 9}}));
        assert_eq!(base, json!({"a": [3], "b": {"c": 9, "d": 2}}));
    }
}
