//! Validation and normalization of the structured values the Connector API accepts, following the
//! `ent-search` parsers: configuration field schemas (`ConnectorConfiguration`: `label` required, enums for
//! `display`/`type`/validation `type`), filtering (`ConnectorFiltering`, `FilteringRules`, `FilteringRule`,
//! `FilteringAdvancedSnippet`, `FilteringValidationInfo`), the ingest `pipeline`, `scheduling` (cron checked
//! for shape only), `features`, and index names (`MetadataCreateIndexService.validateIndexOrAliasName`).
//! These parsers ignore unknown fields, as ES's lenient ones do, and write back only the fields ES keeps.

use serde_json::{json, Map, Value};

use super::body::{field_error, parse_error, Fields};
use super::documents::parse_time;
use crate::es_front::errors::EsError;

const DISPLAY_TYPES: [&str; 6] = [
    "text", "textbox", "textarea", "numeric", "toggle", "dropdown",
];
const FIELD_TYPES: [&str; 4] = ["str", "int", "list", "bool"];
const VALIDATION_TYPES: [&str; 5] = [
    "less_than",
    "greater_than",
    "list_type",
    "included_in",
    "regex",
];
const RULE_CONDITIONS: [&str; 7] = [
    "contains",
    "ends_with",
    "equals",
    ">",
    "<",
    "regex",
    "starts_with",
];

/// A scalar (string, number, boolean) or `null`, as `default_value` and `depends_on.value` allow.
fn scalar(parser: &'static str, field: &str, value: &Value) -> Result<Value, EsError> {
    match value {
        Value::Array(_) | Value::Object(_) => Err(field_error(
            parser,
            field,
            format!(
                "Unsupported token [{}]",
                if value.is_array() {
                    "START_ARRAY"
                } else {
                    "START_OBJECT"
                }
            ),
        )),
        other => Ok(other.clone()),
    }
}

fn enum_value(
    f: &Fields<'_>,
    field: &str,
    allowed: &[&str],
    type_name: &str,
    case_insensitive: bool,
) -> Result<Option<String>, EsError> {
    let Some(value) = f.string_or_null(field)?.flatten() else {
        return Ok(None);
    };
    allowed
        .iter()
        .find(|a| {
            if case_insensitive {
                a.eq_ignore_ascii_case(&value)
            } else {
                **a == value
            }
        })
        .map(|a| Some(a.to_string()))
        .ok_or_else(|| field_error(f.parser, field, format!("Unknown {type_name} [{value}].")))
}

/// One entry of `configuration`, normalized like `ConnectorConfiguration.toXContent`: `default_value`,
/// `label`, `required`, `sensitive` and `value` always, the rest only when set.
pub(crate) fn configuration_field(map: &Map<String, Value>) -> Result<Value, EsError> {
    let f = Fields::new("connector_configuration", map);
    f.require(&["label"])?;
    let mut out = Map::new();
    if let Some(category) = f.string("category")? {
        out.insert("category".into(), json!(category));
    }
    let default_value = match f.get("default_value") {
        Some(v) => scalar(f.parser, "default_value", v)?,
        None => Value::Null,
    };
    out.insert("default_value".into(), default_value);
    if let Some(deps) = f.object_array("depends_on")? {
        let deps = deps
            .into_iter()
            .map(|dep| {
                let d = Fields::new("connector_configuration_dependency", dep);
                d.require(&["field", "value"])?;
                let value = scalar(d.parser, "value", d.get("value").unwrap_or(&Value::Null))?;
                Ok(json!({"field": d.string("field")?, "value": value}))
            })
            .collect::<Result<Vec<_>, EsError>>()?;
        out.insert("depends_on".into(), json!(deps));
    }
    if let Some(display) = enum_value(
        &f,
        "display",
        &DISPLAY_TYPES,
        "ConfigurationDisplayType",
        true,
    )? {
        out.insert("display".into(), json!(display));
    }
    out.insert("label".into(), json!(f.string("label")?));
    if let Some(options) = f.object_array("options")? {
        let options = options
            .into_iter()
            .map(|option| {
                let o = Fields::new("connector_configuration_select_option", option);
                o.require(&["label", "value"])?;
                let value = scalar(o.parser, "value", o.get("value").unwrap_or(&Value::Null))?;
                Ok(json!({"label": o.string("label")?, "value": value}))
            })
            .collect::<Result<Vec<_>, EsError>>()?;
        out.insert("options".into(), json!(options));
    }
    if let Some(order) = f.int("order")? {
        out.insert("order".into(), json!(order));
    }
    if let Some(placeholder) = f.string_or_null("placeholder")?.flatten() {
        out.insert("placeholder".into(), json!(placeholder));
    }
    out.insert(
        "required".into(),
        json!(f.boolean("required")?.unwrap_or(false)),
    );
    out.insert(
        "sensitive".into(),
        json!(f.boolean("sensitive")?.unwrap_or(false)),
    );
    if let Some(tooltip) = f.string_or_null("tooltip")?.flatten() {
        out.insert("tooltip".into(), json!(tooltip));
    }
    if let Some(kind) = enum_value(&f, "type", &FIELD_TYPES, "ConfigurationFieldType", false)? {
        out.insert("type".into(), json!(kind));
    }
    if let Some(restrictions) = f.string_array("ui_restrictions")? {
        out.insert("ui_restrictions".into(), json!(restrictions));
    }
    if let Some(validations) = f.object_array("validations")? {
        let validations = validations
            .into_iter()
            .map(configuration_validation)
            .collect::<Result<Vec<_>, EsError>>()?;
        out.insert("validations".into(), json!(validations));
    }
    let value = match f.get("value") {
        Some(Value::Array(_)) => {
            return Err(field_error(
                f.parser,
                "value",
                "Unsupported token [START_ARRAY]",
            ))
        }
        Some(v) => v.clone(),
        None => Value::Null,
    };
    out.insert("value".into(), value);
    Ok(Value::Object(out))
}

fn configuration_validation(map: &Map<String, Value>) -> Result<Value, EsError> {
    let v = Fields::new("connector_configuration_validation", map);
    v.require(&["constraint", "type"])?;
    let constraint = match v.get("constraint") {
        Some(c @ (Value::String(_) | Value::Number(_) | Value::Array(_))) => c.clone(),
        Some(other) => {
            return Err(field_error(
                v.parser,
                "constraint",
                format!(
                    "Unsupported token [{}]",
                    if other.is_object() {
                        "START_OBJECT"
                    } else {
                        "VALUE"
                    }
                ),
            ))
        }
        None => Value::Null,
    };
    let kind = enum_value(
        &v,
        "type",
        &VALIDATION_TYPES,
        "ConfigurationValidationType",
        true,
    )?;
    Ok(json!({"constraint": constraint, "type": kind}))
}

/// An instant field of a filtering object: given (normalized) or `now`.
fn instant_or_now(f: &Fields<'_>, field: &str, now: &str) -> Result<String, EsError> {
    match f.string(field)? {
        Some(text) => parse_time(&text).ok_or_else(|| {
            field_error(
                f.parser,
                field,
                format!("Failed to parse instant [{text}] of field [{field}]"),
            )
        }),
        None => Ok(now.to_string()),
    }
}

/// `FilteringRule`: `field`, `id`, `order`, `policy`, `rule`, `value` required; timestamps default to now.
pub(crate) fn filtering_rule(map: &Map<String, Value>, now: &str) -> Result<Value, EsError> {
    let f = Fields::new("connector_filtering_rule", map);
    f.require(&["field", "id", "order", "policy", "rule", "value"])?;
    let policy = f.string("policy")?.unwrap_or_default();
    let policy = ["exclude", "include"]
        .iter()
        .find(|p| p.eq_ignore_ascii_case(&policy))
        .ok_or_else(|| {
            field_error(
                f.parser,
                "policy",
                format!("Unknown FilteringPolicy [{policy}]."),
            )
        })?;
    let rule = f.string("rule")?.unwrap_or_default();
    if !RULE_CONDITIONS.contains(&rule.as_str()) {
        return Err(field_error(
            f.parser,
            "rule",
            format!("Unknown FilteringRuleCondition [{rule}]."),
        ));
    }
    Ok(json!({
        "created_at": instant_or_now(&f, "created_at", now)?,
        "field": f.string("field")?,
        "id": f.string("id")?,
        "order": f.int("order")?,
        "policy": policy,
        "rule": rule,
        "updated_at": instant_or_now(&f, "updated_at", now)?,
        "value": f.string("value")?,
    }))
}

/// `FilteringAdvancedSnippet`: `value` (object or array) required, timestamps default to now.
pub(crate) fn advanced_snippet(map: &Map<String, Value>, now: &str) -> Result<Value, EsError> {
    let f = Fields::new("connector_filtering_advanced_snippet", map);
    f.require(&["value"])?;
    let value = match f.get("value") {
        Some(v @ (Value::Object(_) | Value::Array(_))) => v.clone(),
        _ => {
            return Err(parse_error(
                f.parser,
                "Unsupported token for [value]. Expected an array or an object.",
            ))
        }
    };
    Ok(json!({
        "created_at": instant_or_now(&f, "created_at", now)?,
        "updated_at": instant_or_now(&f, "updated_at", now)?,
        "value": value,
    }))
}

/// `FilteringValidationInfo`: `errors` (`[{ids, messages}]`) and `state` (`edited`/`invalid`/`valid`).
pub(crate) fn validation_info(map: &Map<String, Value>) -> Result<Value, EsError> {
    let f = Fields::new("filtering_validation_info", map);
    f.require(&["errors", "state"])?;
    let errors = f
        .object_array("errors")?
        .unwrap_or_default()
        .into_iter()
        .map(|error| {
            let e = Fields::new("connector_filtering_validation", error);
            e.require(&["ids", "messages"])?;
            Ok(json!({"ids": e.string_array("ids")?, "messages": e.string_array("messages")?}))
        })
        .collect::<Result<Vec<_>, EsError>>()?;
    let state = enum_value(
        &f,
        "state",
        &["edited", "invalid", "valid"],
        "FilteringValidationState",
        true,
    )?;
    Ok(json!({"errors": errors, "state": state}))
}

/// `FilteringRules` (`active` or `draft`): all three parts required.
fn filtering_rules(map: &Map<String, Value>, now: &str) -> Result<Value, EsError> {
    let f = Fields::new("connector_filtering_rules", map);
    f.require(&["advanced_snippet", "rules", "validation"])?;
    let snippet = advanced_snippet(f.object("advanced_snippet")?.unwrap_or(&Map::new()), now)?;
    let rules = f
        .object_array("rules")?
        .unwrap_or_default()
        .into_iter()
        .map(|rule| filtering_rule(rule, now))
        .collect::<Result<Vec<_>, EsError>>()?;
    let validation = validation_info(f.object("validation")?.unwrap_or(&Map::new()))?;
    Ok(json!({"advanced_snippet": snippet, "rules": rules, "validation": validation}))
}

/// One `filtering` entry; the domain is always written as `DEFAULT` (ES ignores the one sent).
pub(crate) fn filtering_entry(map: &Map<String, Value>, now: &str) -> Result<Value, EsError> {
    let f = Fields::new("connector_filtering", map);
    f.require(&["active", "draft"])?;
    let active = filtering_rules(f.object("active")?.unwrap_or(&Map::new()), now)?;
    let draft = filtering_rules(f.object("draft")?.unwrap_or(&Map::new()), now)?;
    Ok(json!({"active": active, "domain": "DEFAULT", "draft": draft}))
}

/// `ConnectorIngestPipeline`: all four fields required.
pub(crate) fn pipeline(map: &Map<String, Value>) -> Result<Value, EsError> {
    let f = Fields::new("connector_ingest_pipeline", map);
    f.require(&[
        "extract_binary_content",
        "name",
        "reduce_whitespace",
        "run_ml_inference",
    ])?;
    Ok(json!({
        "extract_binary_content": f.boolean("extract_binary_content")?,
        "name": f.string("name")?,
        "reduce_whitespace": f.boolean("reduce_whitespace")?,
        "run_ml_inference": f.boolean("run_ml_inference")?,
    }))
}

/// A quartz-style cron (`sec min hour day-of-month month day-of-week [year]`), checked for shape only.
fn cron_ok(expression: &str) -> bool {
    let parts: Vec<&str> = expression.split_whitespace().collect();
    (6..=7).contains(&parts.len())
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || ",-*/?#LW".contains(c))
        })
}

/// `ConnectorScheduling`: any of `access_control`, `full`, `incremental`, each `{enabled, interval}`.
pub(crate) fn scheduling(map: &Map<String, Value>) -> Result<Value, EsError> {
    let f = Fields::new("connector_scheduling", map);
    let mut out = Map::new();
    for kind in ["access_control", "full", "incremental"] {
        let Some(config) = f.object(kind)? else {
            continue;
        };
        let c = Fields::new("schedule_config", config);
        c.require(&["enabled", "interval"])?;
        let interval = c.string("interval")?.unwrap_or_default();
        if !cron_ok(&interval) {
            return Err(
                parse_error(c.parser, "failed to parse field [interval]").with_caused_by(
                    "parse_exception",
                    format!("invalid cron expression [{interval}]"),
                ),
            );
        }
        out.insert(
            kind.into(),
            json!({"enabled": c.boolean("enabled")?, "interval": interval}),
        );
    }
    Ok(Value::Object(out))
}

/// `ConnectorFeatures`: the known feature flags, each `{enabled: bool}`; unknown keys are dropped.
pub(crate) fn features(map: &Map<String, Value>) -> Result<Value, EsError> {
    fn flag(map: &Map<String, Value>, key: &str) -> Result<Option<Value>, EsError> {
        let Some(inner) = Fields::new("connector_features", map).object(key)? else {
            return Ok(None);
        };
        let f = Fields::new("connector_feature", inner);
        f.require(&["enabled"])?;
        Ok(Some(json!({"enabled": f.boolean("enabled")?})))
    }
    let mut out = Map::new();
    for key in [
        "document_level_security",
        "incremental_sync",
        "native_connector_api_keys",
    ] {
        if let Some(value) = flag(map, key)? {
            out.insert(key.into(), value);
        }
    }
    if let Some(rules) = Fields::new("connector_features", map).object("sync_rules")? {
        let mut sync_rules = Map::new();
        for key in ["advanced", "basic"] {
            if let Some(value) = flag(rules, key)? {
                sync_rules.insert(key.into(), value);
            }
        }
        out.insert("sync_rules".into(), Value::Object(sync_rules));
    }
    Ok(Value::Object(out))
}

/// `validateIndexOrAliasName`, worded like `InvalidIndexNameException.toString()`.
pub(crate) fn index_name_problem(name: &str) -> Option<String> {
    const INVALID: [char; 10] = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ','];
    let reason = if name.contains(INVALID) {
        "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]".to_string()
    } else if name.is_empty() {
        "must not be empty".to_string()
    } else if name.contains('#') {
        "must not contain '#'".to_string()
    } else if name.contains(':') {
        "must not contain ':'".to_string()
    } else if name.starts_with(['_', '-', '+']) {
        "must not start with '_', '-', or '+'".to_string()
    } else if name.len() > 255 {
        format!("index name is too long, ({} > 255)", name.len())
    } else if name == "." || name == ".." {
        "must not be '.' or '..'".to_string()
    } else {
        return None;
    };
    Some(format!(
        "[{name}] org.elasticsearch.indices.InvalidIndexNameException: Invalid index name [{name}], {reason}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn configuration_field_is_normalized() {
        let out = configuration_field(&obj(json!({
            "label": "Tenant", "display": "TEXT", "type": "str", "order": 1, "unknown": 1, "value": "x"
        })))
        .unwrap();
        assert_eq!(out["display"], "text");
        assert_eq!(out["required"], false);
        assert_eq!(out["default_value"], Value::Null);
        assert!(out.get("unknown").is_none());
        assert!(configuration_field(&obj(json!({"display": "text"}))).is_err());
        assert!(configuration_field(&obj(json!({"label": "x", "type": "float"}))).is_err());
        assert!(configuration_field(&obj(json!({"label": "x", "value": [1]}))).is_err());
        assert!(configuration_field(&obj(
            json!({"label": "x", "validations": [{"type": "unknown_constraint", "constraint": 0}]})
        ))
        .is_err());
    }

    #[test]
    fn filtering_rules_are_checked() {
        let now = "2024-01-01T00:00:00.000Z";
        let ok = json!({"id": "r", "field": "f", "order": 1, "policy": "include", "rule": "equals", "value": "v"});
        let rule = filtering_rule(&obj(ok.clone()), now).unwrap();
        assert_eq!(rule["created_at"], now);
        let mut bad = ok.clone();
        bad["rule"] = json!("like");
        assert!(filtering_rule(&obj(bad), now).is_err());
        assert!(filtering_rule(&obj(json!({"id": "r"})), now).is_err());
    }

    #[test]
    fn scheduling_and_pipeline() {
        let s = scheduling(&obj(
            json!({"full": {"enabled": true, "interval": "0 */5 * * * ?"}}),
        ))
        .unwrap();
        assert_eq!(s["full"]["enabled"], true);
        assert!(s.get("incremental").is_none());
        assert!(scheduling(&obj(
            json!({"full": {"enabled": true, "interval": "daily"}})
        ))
        .is_err());
        assert!(pipeline(&obj(json!({"name": "p"}))).is_err());
    }

    #[test]
    fn index_names() {
        assert!(index_name_problem("search-ok").is_none());
        assert!(index_name_problem("_bad").is_some());
        assert!(index_name_problem("a b").is_some());
        assert!(index_name_problem("a:b").is_some());
    }
}
