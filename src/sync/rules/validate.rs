//! Validating a filter's basic rules (spec §8): each rule's shape, catch-all regexes, duplicates. The result is
//! what the scheduler writes on a draft and what the runner checks before a sync.

use std::collections::HashMap;

use serde_json::Value;

use crate::es::protocol::{FilteringValidation, ValidationError, ValidationState};

/// Rule names Elastic accepts, lower-cased. `greater_than`/`less_than` are accepted too: Kibana offers them
/// and the reference rejecting them is a known bug (REF §12.12).
pub(super) const RULES: &[&str] = &[
    "equals",
    "contains",
    "starts_with",
    "ends_with",
    "regex",
    ">",
    "<",
    "greater_than",
    "less_than",
];
const POLICIES: &[&str] = &["include", "exclude"];

fn non_empty_str(rule: &Value, key: &str) -> bool {
    rule[key].as_str().is_some_and(|s| !s.is_empty())
}

/// Problems with one rule's shape, as sentences.
pub(super) fn shape_problems(rule: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for key in ["id", "field", "value"] {
        if !non_empty_str(rule, key) {
            problems.push(format!("`{key}` must be a non-empty string"));
        }
    }
    let policy = rule["policy"].as_str().map(str::to_lowercase);
    if !policy.as_deref().is_some_and(|p| POLICIES.contains(&p)) {
        problems.push(format!("`policy` must be one of {}", POLICIES.join(", ")));
    }
    let kind = rule["rule"].as_str().map(str::to_lowercase);
    if !kind.as_deref().is_some_and(|r| RULES.contains(&r)) {
        problems.push(format!("`rule` must be one of {}", RULES.join(", ")));
    }
    if !rule["order"].is_number() {
        problems.push("`order` must be a number".into());
    }
    problems
}

/// Validates the rules of a filter object (`{rules: [...], advanced_snippet: ...}`).
pub fn validate(filter: &Value) -> FilteringValidation {
    let empty = Vec::new();
    let rules = filter["rules"].as_array().unwrap_or(&empty);
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, String, String), Vec<String>> = HashMap::new();
    for rule in rules {
        let id = rule["id"].as_str().unwrap_or("").to_string();
        if id == "DEFAULT" {
            continue;
        }
        let problems = shape_problems(rule);
        if !problems.is_empty() {
            errors.push(ValidationError {
                ids: vec![id],
                messages: problems,
            });
            continue;
        }
        let kind = rule["rule"].as_str().unwrap_or("").to_lowercase();
        let value = rule["value"].as_str().unwrap_or("");
        if kind == "regex" && matches!(value, ".*" | "(.*)") {
            errors.push(ValidationError {
                ids: vec![id.clone()],
                messages: vec![format!(
                    "regex value `{value}` matches everything; it is reserved for the default rule"
                )],
            });
        } else if kind == "regex" {
            if let Err(e) = regex::Regex::new(value) {
                errors.push(ValidationError {
                    ids: vec![id.clone()],
                    messages: vec![format!(
                        "invalid regex: {}",
                        e.to_string().lines().last().unwrap_or("")
                    )],
                });
            }
        }
        let field = rule["field"].as_str().unwrap_or("").to_string();
        seen.entry((field, kind, value.to_string()))
            .or_default()
            .push(id);
    }
    let mut duplicates: Vec<_> = seen.into_iter().filter(|(_, ids)| ids.len() > 1).collect();
    duplicates.sort();
    for ((field, kind, value), ids) in duplicates {
        errors.push(ValidationError {
            ids,
            messages: vec![format!(
                "duplicate rules: field `{field}`, rule `{kind}`, value `{value}`"
            )],
        });
    }
    let state = if errors.is_empty() {
        ValidationState::Valid
    } else {
        ValidationState::Invalid
    };
    FilteringValidation { state, errors }
}

/// One line for a job error: `ids: messages; ...`.
pub fn describe(result: &FilteringValidation) -> String {
    result
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.ids.join(", "), e.messages.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(id: &str, rule: &str, value: &str) -> Value {
        json!({"id": id, "policy": "exclude", "field": "title", "rule": rule, "value": value, "order": 1,
               "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
    }

    fn default_rule() -> Value {
        json!({"id": "DEFAULT", "field": "_", "rule": "regex", "value": ".*", "policy": "include", "order": 0})
    }

    #[test]
    fn default_filter_is_valid() {
        let r = validate(&json!({"rules": [default_rule()], "advanced_snippet": {"value": {}}}));
        assert_eq!(r.state, ValidationState::Valid);
        assert!(validate(&json!({})).errors.is_empty());
    }

    #[test]
    fn rejects_bad_shapes_catch_alls_and_duplicates() {
        let r = validate(&json!({"rules": [
            default_rule(),
            rule("a", "contains", "x"),
            rule("b", "contains", "x"),
            rule("c", "regex", ".*"),
            rule("d", "sounds_like", "x"),
            json!({"id": "e", "policy": "include", "field": "", "rule": "equals", "value": "v", "order": "1"}),
            rule("f", "regex", "(unclosed"),
            rule("g", "greater_than", "3"),
        ]}));
        assert_eq!(r.state, ValidationState::Invalid);
        let text = describe(&r);
        assert!(text.contains("a, b: duplicate rules"), "{text}");
        assert!(text.contains("c: regex value `.*`"), "{text}");
        assert!(text.contains("d: `rule` must be one of"), "{text}");
        assert!(
            text.contains("e: `field` must be a non-empty string, `order` must be a number"),
            "{text}"
        );
        assert!(text.contains("f: invalid regex"), "{text}");
        assert!(!text.contains("g:"), "{text}");
    }
}
