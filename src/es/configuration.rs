//! A connector's `configuration` map (spec §3.1): the schema each field carries, repairing a stored schema against
//! the source's defaults, casting stored values by their `type`, and validating values before a sync. The values
//! are the user's; the schema around them belongs to the source definition.

use serde_json::{json, Map, Value};

/// The schema keys every field carries, with the defaults the generator fills in (`label` is derived).
fn schema_defaults(field: &str) -> Map<String, Value> {
    let v = json!({
        "label": field.to_uppercase(),
        "order": 1,
        "type": "str",
        "sensitive": false,
        "display": "text",
        "required": true,
        "default_value": null,
        "depends_on": [],
        "validations": [],
        "tooltip": null,
        "ui_restrictions": [],
        "options": [],
        "value": "",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A deliberate change of one schema property of a field both this service and the reference define (for
/// example `secret_value.required`: `true` there, `false` here because certificate sign-in needs no secret).
/// It is applied only while the stored property still holds the reference's value, so a connector created by
/// the Python service gets it once, and nothing a user or Kibana set is overwritten.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaMigration {
    pub field: String,
    pub key: String,
    pub from: Value,
    pub to: Value,
}

/// The stored configuration brought in line with the source's `defaults`, or `None` if nothing changes:
/// missing fields are added with their default entry, schema keys absent from a field are filled in (from the
/// field's default entry, else the generic schema), and `migrations` whose `from` value is still stored are
/// applied. Nothing present is reset: labels, order, tooltips and values stay as the user or Kibana left them
/// (the reference reset every differing property to the default, on every poll that found a missing field).
pub fn repair(
    current: &Map<String, Value>,
    defaults: &Map<String, Value>,
    migrations: &[SchemaMigration],
) -> Option<Map<String, Value>> {
    let mut out = current.clone();
    for (name, default) in defaults {
        if !out.get(name).is_some_and(Value::is_object) {
            out.insert(name.clone(), default.clone());
        }
    }
    for (name, entry) in out.iter_mut() {
        let Some(entry) = entry.as_object_mut() else {
            continue;
        };
        if let Some(default) = defaults.get(name).and_then(Value::as_object) {
            for (key, value) in default {
                if !entry.contains_key(key) {
                    entry.insert(key.clone(), value.clone());
                }
            }
        }
        for (key, value) in schema_defaults(name) {
            entry.entry(key).or_insert(value);
        }
    }
    for m in migrations {
        if let Some(entry) = out.get_mut(&m.field).and_then(Value::as_object_mut) {
            if entry.get(&m.key) == Some(&m.from) {
                entry.insert(m.key.clone(), m.to.clone());
            }
        }
    }
    (&out != current).then_some(out)
}

/// Default fields absent from the stored configuration.
pub fn missing_fields(current: &Map<String, Value>, defaults: &Map<String, Value>) -> Vec<String> {
    defaults
        .keys()
        .filter(|k| !current.contains_key(*k))
        .cloned()
        .collect()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Casts a raw stored value by the field's `type` (`list` from a comma-separated string, trimmed, empties
/// dropped). A value that does not cast is kept as stored; validation reports it.
pub fn cast(raw: &Value, ty: &str) -> Value {
    match (ty, raw) {
        ("str", Value::Number(n)) => Value::String(n.to_string()),
        ("str", Value::Bool(b)) => Value::String(b.to_string()),
        ("int", Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(raw.clone()),
        ("float", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or(raw.clone()),
        ("bool", Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::Bool(true),
            "false" | "0" | "no" | "off" => Value::Bool(false),
            _ => raw.clone(),
        },
        ("list", Value::String(s)) => Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        _ => raw.clone(),
    }
}

/// The effective value of one field: required fields use the stored value; optional fields with an empty
/// value fall back to `default_value`.
pub fn field_value(entry: &Value) -> Value {
    let ty = entry["type"].as_str().unwrap_or("str");
    let raw = &entry["value"];
    let required = entry["required"].as_bool().unwrap_or(true);
    if !required && is_empty(raw) {
        return cast(&entry["default_value"], ty);
    }
    cast(raw, ty)
}

/// Effective values of all fields, by name.
pub fn values(config: &Map<String, Value>) -> Map<String, Value> {
    config
        .iter()
        .map(|(k, entry)| (k.clone(), field_value(entry)))
        .collect()
}

fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn label<'a>(name: &'a str, entry: &'a Value) -> &'a str {
    entry["label"]
        .as_str()
        .filter(|l| !l.is_empty())
        .unwrap_or(name)
}

/// A field applies only when every `depends_on` entry matches the other field's effective value.
fn applies(entry: &Value, values: &Map<String, Value>) -> bool {
    entry["depends_on"].as_array().is_none_or(|deps| {
        deps.iter().all(|dep| {
            let other = dep["field"].as_str().and_then(|f| values.get(f));
            let want = &dep["value"];
            // Kibana stores dependency values as typed JSON or as strings; compare both ways.
            other.is_some_and(|v| v == want || plain(v) == plain(want))
        })
    })
}

/// Checks every applicable field: required fields are non-empty, and `validations` hold. Returns all problems,
/// one sentence each, in field order.
pub fn validate(config: &Map<String, Value>) -> Result<(), Vec<String>> {
    let values = values(config);
    let mut fields: Vec<(&String, &Value)> = config.iter().collect();
    fields.sort_by_key(|(name, entry)| (entry["order"].as_i64().unwrap_or(1), name.to_string()));
    let mut errors = Vec::new();
    for (name, entry) in fields {
        if !applies(entry, &values) {
            continue;
        }
        let label = label(name, entry);
        let value = &values[name.as_str()];
        if is_empty(value) {
            if entry["required"].as_bool().unwrap_or(true) {
                errors.push(format!("'{label}' cannot be empty."));
            }
            continue;
        }
        for rule in entry["validations"].as_array().into_iter().flatten() {
            if let Some(problem) = check_rule(label, value, rule) {
                errors.push(problem);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check_rule(label: &str, value: &Value, rule: &Value) -> Option<String> {
    let constraint = &rule["constraint"];
    let number = value
        .as_f64()
        .or_else(|| value.as_array().map(|a| a.len() as f64));
    match rule["type"].as_str()? {
        "less_than" => {
            let (v, c) = (number?, constraint.as_f64()?);
            (v >= c).then(|| format!("'{label}' value '{value}' should be less than {c}."))
        }
        "greater_than" => {
            let (v, c) = (number?, constraint.as_f64()?);
            (v <= c).then(|| format!("'{label}' value '{value}' should be greater than {c}."))
        }
        "included_in" => {
            let allowed = constraint.as_array()?;
            let items: Vec<&Value> = match value.as_array() {
                Some(list) => list.iter().collect(),
                None => vec![value],
            };
            let bad: Vec<String> = items
                .into_iter()
                .filter(|v| !allowed.contains(v))
                .map(Value::to_string)
                .collect();
            (!bad.is_empty()).then(|| {
                format!(
                    "'{label}' has values {} that are not allowed; allowed: {constraint}.",
                    bad.join(", ")
                )
            })
        }
        "list_type" => {
            let want = constraint.as_str()?;
            let ok = value.as_array()?.iter().all(|v| match want {
                "int" => v.is_i64() || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok()),
                "str" => v.is_string(),
                _ => true,
            });
            (!ok).then(|| format!("'{label}' must be a list of {want}."))
        }
        "regex" => {
            let pattern = constraint.as_str()?;
            let text = value.as_str()?;
            let matched = match regex::Regex::new(&format!("^(?:{pattern})$")) {
                Ok(re) => re.is_match(text),
                Err(_) => return Some(format!("'{label}' has an invalid pattern '{pattern}'.")),
            };
            (!matched).then(|| {
                format!("'{label}' value '{text}' does not match the pattern '{pattern}'.")
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn teams_defaults() -> Map<String, Value> {
        map(crate::sources::teams::default_configuration())
    }

    #[test]
    fn repair_adds_missing_fields_and_keys_but_resets_nothing() {
        let defaults = teams_defaults();
        let mut stored = defaults.clone();
        stored.remove("password");
        stored["tenant_id"]["value"] = json!("t-1");
        stored["tenant_id"]["label"] = json!("Tenant");
        stored["tenant_id"]["order"] = json!(9);
        stored["client_id"]["tooltip"] = json!("Our app's id");
        stored["client_id"]
            .as_object_mut()
            .unwrap()
            .remove("ui_restrictions");
        let repaired = repair(&stored, &defaults, &[]).expect("changes");
        assert_eq!(repaired["password"], defaults["password"]);
        assert_eq!(repaired["tenant_id"]["value"], "t-1");
        assert_eq!(repaired["tenant_id"]["label"], "Tenant", "kept");
        assert_eq!(repaired["tenant_id"]["order"], 9, "kept");
        assert_eq!(repaired["client_id"]["tooltip"], "Our app's id", "kept");
        assert_eq!(repaired["client_id"]["ui_restrictions"], json!([]));
        assert_eq!(repair(&repaired, &defaults, &[]), None, "idempotent");

        // A complete configuration with a user's changes is left alone.
        let mut edited = defaults.clone();
        edited["username"]["label"] = json!("Service account");
        assert_eq!(repair(&edited, &defaults, &[]), None);
    }

    #[test]
    fn migrations_apply_only_over_the_reference_value() {
        let defaults = teams_defaults();
        let to_false = SchemaMigration {
            field: "secret_value".into(),
            key: "required".into(),
            from: json!(true),
            to: json!(false),
        };
        let mut stored = defaults.clone();
        stored["secret_value"]["required"] = json!(true);
        let repaired = repair(&stored, &defaults, std::slice::from_ref(&to_false)).unwrap();
        assert_eq!(repaired["secret_value"]["required"], false);
        assert_eq!(
            repair(&repaired, &defaults, std::slice::from_ref(&to_false)),
            None
        );
        let mut other = defaults.clone();
        other["secret_value"]["required"] = json!("yes");
        assert_eq!(repair(&other, &defaults, &[to_false]), None);
    }

    #[test]
    fn repair_fills_schema_of_unknown_fields() {
        let stored = map(json!({"extra": {"value": "x"}}));
        let repaired = repair(&stored, &Map::new(), &[]).unwrap();
        assert_eq!(repaired["extra"]["label"], "EXTRA");
        assert_eq!(repaired["extra"]["value"], "x");
        assert_eq!(repaired["extra"]["type"], "str");
    }

    #[test]
    fn casting() {
        assert_eq!(cast(&json!(" a, b,,c "), "list"), json!(["a", "b", "c"]));
        assert_eq!(cast(&json!("42"), "int"), json!(42));
        assert_eq!(cast(&json!("4.5"), "float"), json!(4.5));
        assert_eq!(cast(&json!("TRUE"), "bool"), json!(true));
        assert_eq!(cast(&json!(7), "str"), json!("7"));
        assert_eq!(cast(&json!("x"), "int"), json!("x"));
        let optional = json!({"type": "int", "required": false, "value": "", "default_value": 10});
        assert_eq!(field_value(&optional), json!(10));
    }

    #[test]
    fn validation_messages() {
        let mut c = teams_defaults();
        let errors = validate(&c).unwrap_err();
        assert_eq!(errors[0], "'Tenant ID' cannot be empty.");
        // The reference's five fields, except the secret, which the certificate sign-in does not need (the
        // source checks it per sign-in method).
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(!errors.iter().any(|e| e.contains("Secret")));
        for k in ["tenant_id", "client_id", "username", "password"] {
            c[k]["value"] = json!("v");
        }
        assert_eq!(validate(&c), Ok(()));
        let ranged = map(json!({
            "n": {"label": "N", "type": "int", "value": "12",
                  "validations": [{"type": "less_than", "constraint": 10}]},
            "mode": {"label": "Mode", "value": "b",
                     "validations": [{"type": "included_in", "constraint": ["a"]}]},
            "opt": {"label": "Opt", "required": false, "value": ""},
            "url": {"label": "URL", "value": "https://x", "validations": [{"type": "regex", "constraint": "https?://.*"}]},
            "code": {"label": "Code", "value": "abc1", "validations": [{"type": "regex", "constraint": "[a-z]+"}]},
            "dep": {"label": "Dep", "value": "", "depends_on": [{"field": "mode", "value": "a"}]}
        }));
        let errors = validate(&ranged).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors
            .iter()
            .any(|e| e.contains("'Code'") && e.contains("does not match")));
        assert!(errors.iter().any(|e| e.contains("less than 10")));
        assert!(errors.iter().any(|e| e.contains("'Mode'")));
    }
}
