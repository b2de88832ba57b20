//! Applying basic sync rules to documents (spec §8): [`SyncRules`] is built once per sync from the job's filter
//! (regexes compiled there) and asked, per document, whether the document is kept. The deliberate differences
//! from the reference are listed in the [module doc](super).

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use regex::Regex;
use serde_json::{Map, Value};

use super::validate::shape_problems;

/// The id of the catch-all rule Kibana and the API create; it is never applied.
const DEFAULT_RULE_ID: &str = "DEFAULT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Include,
    Exclude,
}

impl Policy {
    fn from_name(name: &str) -> Option<Policy> {
        match name.to_ascii_lowercase().as_str() {
            "include" => Some(Policy::Include),
            "exclude" => Some(Policy::Exclude),
            _ => None,
        }
    }
}

/// A rule's operator with its value, prepared for matching.
#[derive(Debug, Clone)]
enum Condition {
    Equals(String),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    /// Compiled from the rule value as written; see [`Rule::matches`] for the anchoring.
    Regex(Regex),
    GreaterThan(String),
    LessThan(String),
}

impl Condition {
    /// `None` for a rule name Elastic does not know. Names are case-insensitive.
    fn parse(name: &str, value: &str) -> Option<Result<Condition, regex::Error>> {
        let value = value.to_string();
        let condition = match name.to_ascii_lowercase().as_str() {
            "equals" => Condition::Equals(value),
            "contains" => Condition::Contains(value),
            "starts_with" => Condition::StartsWith(value),
            "ends_with" => Condition::EndsWith(value),
            "regex" => return Some(Regex::new(&value).map(Condition::Regex)),
            ">" | "greater_than" => Condition::GreaterThan(value),
            "<" | "less_than" => Condition::LessThan(value),
            _ => return None,
        };
        Some(Ok(condition))
    }
}

#[derive(Debug, Clone)]
struct Rule {
    policy: Policy,
    field: String,
    condition: Condition,
    order: f64,
}

impl Rule {
    fn parse(raw: &Value) -> Result<Rule, String> {
        let id = raw["id"].as_str().unwrap_or("");
        let problems = shape_problems(raw);
        if !problems.is_empty() {
            return Err(format!("rule `{id}`: {}", problems.join(", ")));
        }
        // The shape check above guarantees every value below; the fallbacks only keep this panic-free.
        let policy = raw["policy"]
            .as_str()
            .and_then(Policy::from_name)
            .ok_or_else(|| format!("rule `{id}`: unknown policy"))?;
        let condition = Condition::parse(
            raw["rule"].as_str().unwrap_or(""),
            raw["value"].as_str().unwrap_or(""),
        )
        .ok_or_else(|| format!("rule `{id}`: unknown rule"))?
        .map_err(|e| {
            format!(
                "rule `{id}`: invalid regex: {}",
                e.to_string().lines().last().unwrap_or("")
            )
        })?;
        Ok(Rule {
            policy,
            field: raw["field"].as_str().unwrap_or("").to_string(),
            condition,
            order: raw["order"].as_f64().unwrap_or(0.0),
        })
    }

    /// Whether the rule applies to the document. Only top-level fields are looked up (no dotted paths, as in the
    /// reference); an absent field never matches.
    fn matches(&self, doc: &Map<String, Value>) -> bool {
        let Some(value) = doc.get(&self.field) else {
            return false;
        };
        match &self.condition {
            Condition::Contains(s) => string_form(value).contains(s.as_str()),
            Condition::StartsWith(s) => string_form(value).starts_with(s.as_str()),
            Condition::EndsWith(s) => string_form(value).ends_with(s.as_str()),
            // Python `re.match`: a match must start at position 0 but need not reach the end. The leftmost match
            // starts at 0 exactly when some match starts there, so this is the same set of documents without
            // rewriting the user's pattern (wrapping it in `\A(?:…)` breaks on `(?x)` comments).
            Condition::Regex(re) => re.find(&string_form(value)).is_some_and(|m| m.start() == 0),
            Condition::Equals(s) => compare(value, s) == Some(Ordering::Equal),
            Condition::GreaterThan(s) => compare(value, s) == Some(Ordering::Greater),
            Condition::LessThan(s) => compare(value, s) == Some(Ordering::Less),
        }
    }
}

/// The text `contains`/`starts_with`/`ends_with`/`regex` look at: a string as it is, anything else as compact JSON.
fn string_form(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// Orders the document value against the rule value, read by the document value's type. `None` means the two
/// can't be compared, and the rule does not match.
fn compare(doc: &Value, rule: &str) -> Option<Ordering> {
    match doc {
        Value::String(s) => match (parse_instant(s), parse_instant(rule)) {
            (Some(d), Some(r)) => Some(d.cmp(&r)),
            _ => Some(s.as_str().cmp(rule)),
        },
        // Python's `float()` ignores surrounding whitespace; `partial_cmp` is `None` for NaN.
        Value::Number(n) => n.as_f64()?.partial_cmp(&rule.trim().parse::<f64>().ok()?),
        Value::Bool(b) => Some(b.cmp(&parse_bool(rule)?)),
        other => Some(string_form(other).as_ref().cmp(rule)),
    }
}

fn parse_bool(rule: &str) -> Option<bool> {
    let rule = rule.trim();
    if rule.eq_ignore_ascii_case("true") {
        Some(true)
    } else if rule.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An ISO-8601 instant: RFC 3339 with an offset; a date-time without one, taken as UTC; or a bare date, taken as
/// midnight UTC. Anything else is not a date, so plain strings keep comparing as strings.
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// The basic rules of one filter, ready to apply: the `DEFAULT` catch-all dropped, the rest sorted by `order`
/// (stable, so equal orders keep their list order), regexes compiled.
#[derive(Debug, Clone, Default)]
pub struct SyncRules {
    rules: Vec<Rule>,
}

impl SyncRules {
    /// From a filter object `{rules: [...], advanced_snippet: ...}` (the job snapshot's `connector.filtering`).
    /// A missing or non-array `rules` means no rules. A rule that doesn't parse (bad shape, unknown rule or policy,
    /// a regex that doesn't compile) is an error naming the rule; the runner validates first, so this is defensive.
    pub fn from_filter(filter: &Value) -> Result<SyncRules, String> {
        let empty = Vec::new();
        let raw_rules = filter["rules"].as_array().unwrap_or(&empty);
        let mut rules = raw_rules
            .iter()
            .filter(|raw| raw["id"].as_str() != Some(DEFAULT_RULE_ID))
            .map(Rule::parse)
            .collect::<Result<Vec<_>, _>>()?;
        rules.sort_by(|a, b| a.order.total_cmp(&b.order));
        Ok(SyncRules { rules })
    }

    /// No rule to apply: every document is kept.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether the document (a JSON object, after `id` is set) is kept: the first matching rule decides
    /// (include keeps, exclude skips); a document no rule matches is kept.
    pub fn keeps(&self, doc: &Map<String, Value>) -> bool {
        self.rules
            .iter()
            .find(|rule| rule.matches(doc))
            .is_none_or(|rule| rule.policy == Policy::Include)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(id: &str, policy: &str, field: &str, kind: &str, value: &str, order: i64) -> Value {
        json!({"id": id, "policy": policy, "field": field, "rule": kind, "value": value, "order": order,
               "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
    }

    fn default_rule() -> Value {
        json!({"id": "DEFAULT", "field": "_", "rule": "regex", "value": ".*", "policy": "include", "order": 0})
    }

    fn rules(list: Vec<Value>) -> SyncRules {
        SyncRules::from_filter(&json!({"rules": list, "advanced_snippet": {"value": {}}}))
            .unwrap_or_else(|e| panic!("rules should parse: {e}"))
    }

    fn doc(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("test doc must be an object, got {other}"),
        }
    }

    /// Whether a single exclude rule `field <kind> value` skips a doc whose `field` is `doc_value`.
    fn excludes(kind: &str, value: &str, doc_value: Value) -> bool {
        let r = rules(vec![rule("r", "exclude", "f", kind, value, 1)]);
        !r.keeps(&doc(json!({"id": "1", "f": doc_value})))
    }

    #[test]
    fn string_operators() {
        let title = || json!("Quarterly report");
        assert!(excludes("equals", "Quarterly report", title()));
        assert!(!excludes("equals", "quarterly report", title()));
        assert!(excludes("contains", "ly rep", title()));
        assert!(!excludes("contains", "monthly", title()));
        assert!(excludes("starts_with", "Quarter", title()));
        assert!(!excludes("starts_with", "report", title()));
        assert!(excludes("ends_with", "report", title()));
        assert!(!excludes("ends_with", "Quarter", title()));
        assert!(excludes(">", "Annual", title()));
        assert!(!excludes(">", "Zebra", title()));
        assert!(excludes("<", "Zebra", title()));
        assert!(!excludes("<", "Annual", title()));
        assert!(excludes("greater_than", "Annual", title()));
        assert!(excludes("less_than", "Zebra", title()));
    }

    #[test]
    fn regex_is_anchored_at_start_only() {
        assert!(excludes("regex", "ab", json!("abc")));
        assert!(!excludes("regex", "bc", json!("abc")));
        assert!(excludes("regex", "a.c", json!("abcdef")));
        assert!(excludes("regex", "[0-9]+", json!("42 apples")));
        assert!(!excludes("regex", "[0-9]+", json!("apples 42")));
        // Alternation must not escape the anchoring, nor a multi-line `^` find a later line.
        assert!(!excludes("regex", "x|bc", json!("abc")));
        assert!(!excludes("regex", "(?m)^b", json!("a\nb")));
        // An empty match at the start is a match, as in `re.match`.
        assert!(excludes("regex", "z*", json!("abc")));
        // Verbose-mode comments in the pattern are fine (no rewriting of the pattern).
        assert!(excludes("regex", "(?x) a b # letters", json!("abc")));
        // Non-strings are matched on their JSON text.
        assert!(excludes("regex", "[0-9]{3}", json!(12345)));
    }

    #[test]
    fn string_forms_of_non_strings() {
        assert!(excludes("contains", "2.5", json!(12.5)));
        assert!(excludes("starts_with", "tr", json!(true)));
        assert!(excludes("contains", "\"b\"", json!(["a", "b"])));
        assert!(excludes("starts_with", "{\"k\":", json!({"k": 1})));
        assert!(excludes("equals", "null", Value::Null));
        assert!(excludes("equals", "[1,2]", json!([1, 2])));
    }

    #[test]
    fn numbers_compare_numerically() {
        assert!(excludes(">", "10", json!(10.5)));
        assert!(!excludes(">", "10", json!(9.5)));
        assert!(excludes("<", "10", json!(9.5)));
        assert!(!excludes("<", "10", json!(10)));
        assert!(!excludes("equals", "10", json!(9.5)));
        assert!(excludes("equals", "10", json!(10)));
        assert!(excludes("equals", "10.0", json!(10)));
        assert!(excludes("equals", " 1e1 ", json!(10)));
        // Numerically, not as text: "9" > "10" as strings, but 9 < 10.
        assert!(excludes("<", "10", json!(9)));
        assert!(excludes(">", "-3", json!(-2)));
    }

    #[test]
    fn unparsable_number_rule_value_does_not_match() {
        // REF: `>`/`<` crashed the sync here.
        for kind in ["equals", ">", "<"] {
            assert!(!excludes(kind, "abc", json!(5)), "{kind}");
            assert!(!excludes(kind, " ", json!(5)), "{kind}");
            assert!(!excludes(kind, "nan", json!(5)), "{kind}");
        }
    }

    #[test]
    fn bools_compare_as_bools() {
        // REF: compared with the string "True", never equal.
        assert!(excludes("equals", "true", json!(true)));
        assert!(excludes("equals", "True", json!(true)));
        assert!(excludes("equals", " FALSE ", json!(false)));
        assert!(!excludes("equals", "false", json!(true)));
        assert!(!excludes("equals", "1", json!(true)));
        assert!(!excludes("equals", "yes", json!(true)));
        assert!(excludes(">", "false", json!(true)));
        assert!(!excludes(">", "true", json!(true)));
        assert!(excludes("<", "true", json!(false)));
        assert!(!excludes("<", "maybe", json!(false)));
    }

    #[test]
    fn dates_compare_as_instants() {
        let t = || json!("2024-05-01T10:00:00Z");
        assert!(excludes("equals", "2024-05-01T12:00:00+02:00", t()));
        assert!(excludes(">", "2024-05-01", t()));
        assert!(excludes("<", "2024-05-02", t()));
        assert!(excludes("<", "2024-05-01T10:00:01", t()));
        assert!(!excludes(">", "2024-05-01T11:00:00+00:00", t()));
        // Graph's seven fractional digits.
        assert!(excludes(
            ">",
            "2024-05-01T09:59:59Z",
            json!("2024-05-01T10:00:00.1234567Z")
        ));
        // As text, "…T10:00:00+02:00" > "…T09:00:00Z"; as instants 08:00 UTC < 09:00 UTC.
        assert!(excludes(
            "<",
            "2024-05-01T09:00:00Z",
            json!("2024-05-01T10:00:00+02:00")
        ));
        // Only one side a date: plain string comparison.
        assert!(excludes(">", "2024", t()));
        assert!(!excludes("equals", "yesterday", t()));
    }

    #[test]
    fn other_types_compare_as_text() {
        assert!(excludes("<", "o", Value::Null));
        assert!(excludes(">", "[", json!([1])));
        assert!(!excludes("equals", "nul", Value::Null));
    }

    #[test]
    fn first_matching_rule_decides() {
        let r = rules(vec![
            rule("ex", "exclude", "type", "equals", "file", 2),
            rule("in", "include", "title", "starts_with", "keep", 1),
        ]);
        // The include comes first by order, so it wins for docs it matches.
        assert!(r.keeps(&doc(json!({"type": "file", "title": "keep me"}))));
        assert!(!r.keeps(&doc(json!({"type": "file", "title": "drop me"}))));
        // No rule matches: kept.
        assert!(r.keeps(&doc(json!({"type": "message", "title": "drop me"}))));

        let reversed = rules(vec![
            rule("ex", "exclude", "type", "equals", "file", 1),
            rule("in", "include", "title", "starts_with", "keep", 2),
        ]);
        assert!(!reversed.keeps(&doc(json!({"type": "file", "title": "keep me"}))));
    }

    #[test]
    fn order_ties_keep_list_order() {
        let exclude_first = rules(vec![
            rule("a", "exclude", "f", "equals", "x", 5),
            rule("b", "include", "f", "contains", "x", 5),
        ]);
        let include_first = rules(vec![
            rule("b", "include", "f", "contains", "x", 5),
            rule("a", "exclude", "f", "equals", "x", 5),
        ]);
        let d = doc(json!({"f": "x"}));
        assert!(!exclude_first.keeps(&d));
        assert!(include_first.keeps(&d));
    }

    #[test]
    fn fractional_and_negative_orders_sort() {
        let r = SyncRules::from_filter(&json!({"rules": [
            {"id": "a", "policy": "exclude", "field": "f", "rule": "equals", "value": "x", "order": 1.5},
            {"id": "b", "policy": "include", "field": "f", "rule": "equals", "value": "x", "order": -1},
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.keeps(&doc(json!({"f": "x"}))));
    }

    #[test]
    fn default_rule_is_dropped() {
        let r = rules(vec![default_rule()]);
        assert!(r.is_empty());
        assert!(r.keeps(&doc(json!({"id": "1"}))));
        // Even an exclude-everything rule with the DEFAULT id is ignored.
        let r = rules(vec![rule("DEFAULT", "exclude", "id", "regex", "x*", 0)]);
        assert!(r.is_empty());
        let r = rules(vec![
            default_rule(),
            rule("x", "exclude", "id", "equals", "1", 1),
        ]);
        assert!(!r.is_empty());
        assert!(!r.keeps(&doc(json!({"id": "1"}))));
    }

    #[test]
    fn absent_field_never_matches() {
        let r = rules(vec![
            rule("a", "exclude", "missing", "regex", "x*", 1),
            rule("b", "exclude", "missing", "equals", "null", 2),
        ]);
        assert!(r.keeps(&doc(json!({"id": "1", "other": "x"}))));
        // Only top-level fields: no dotted paths.
        let r = rules(vec![rule("a", "exclude", "a.b", "equals", "1", 1)]);
        assert!(r.keeps(&doc(json!({"a": {"b": "1"}}))));
    }

    #[test]
    fn rule_and_policy_names_are_case_insensitive() {
        let r = rules(vec![
            rule("a", "EXCLUDE", "f", "Starts_With", "x", 1),
            rule("b", "Exclude", "f", "REGEX", "y", 2),
            rule("c", "exclude", "g", "Greater_Than", "1", 3),
        ]);
        assert!(!r.keeps(&doc(json!({"f": "xa"}))));
        assert!(!r.keeps(&doc(json!({"f": "ya"}))));
        assert!(!r.keeps(&doc(json!({"g": 2}))));
        assert!(r.keeps(&doc(json!({"f": "za", "g": 1}))));
    }

    #[test]
    fn every_accepted_rule_name_parses() {
        for name in super::super::validate::RULES {
            assert!(Condition::parse(name, "x").is_some(), "{name}");
        }
    }

    #[test]
    fn bad_rules_are_errors() {
        let err = |v: Value| SyncRules::from_filter(&json!({ "rules": [v] })).err();
        let e = err(rule("r1", "exclude", "f", "regex", "(unclosed", 1));
        assert!(
            e.as_deref()
                .is_some_and(|e| e.starts_with("rule `r1`: invalid regex")),
            "{e:?}"
        );
        let e = err(rule("r2", "exclude", "f", "sounds_like", "x", 1));
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("r2") && e.contains("`rule`")),
            "{e:?}"
        );
        let e = err(rule("r3", "maybe", "f", "equals", "x", 1));
        assert!(
            e.as_deref().is_some_and(|e| e.contains("`policy`")),
            "{e:?}"
        );
        assert!(err(
            json!({"id": "r4", "policy": "exclude", "field": "f", "rule": "equals", "value": "x"})
        )
        .is_some());
        assert!(err(json!("not a rule")).is_some());
        assert!(err(Value::Null).is_some());
    }

    #[test]
    fn missing_rules_mean_no_rules() {
        for filter in [json!({}), Value::Null, json!({"rules": "nope"}), json!([])] {
            let r = SyncRules::from_filter(&filter).unwrap_or_else(|e| panic!("{e}"));
            assert!(r.is_empty());
            assert!(r.keeps(&Map::new()));
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        let kinds = [
            "equals",
            "contains",
            "starts_with",
            "ends_with",
            "regex",
            ">",
            "<",
        ];
        let values = [
            " ",
            "0",
            "-0",
            "1e308",
            "1e999",
            "-inf",
            "NaN",
            "true",
            "2024-13-45",
            "2024-02-30T25:61:61Z",
            "[",
            "\u{0}",
            "é😀",
            "9999999999999999999999999",
        ];
        let doc_values = [
            Value::Null,
            json!(""),
            json!(" "),
            json!(true),
            json!(0),
            json!(-0.0),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(f64::MAX),
            json!(1e-300),
            json!([]),
            json!([null, {"a": [1, {"b": null}]}]),
            json!({"nested": {"deep": {"deeper": [true, "x"]}}}),
            json!("é😀\u{0}"),
            json!("2024-05-01T10:00:00Z"),
            json!("x".repeat(10_000)),
        ];
        for kind in kinds {
            for value in values {
                let regex_value = if kind == "regex" {
                    regex::escape(value)
                } else {
                    value.to_string()
                };
                let r = rules(vec![
                    rule("a", "exclude", "f", kind, &regex_value, 1),
                    rule("b", "include", " ", kind, &regex_value, 2),
                ]);
                for doc_value in &doc_values {
                    let _ = r.keeps(&doc(json!({"f": doc_value, " ": doc_value})));
                }
                let _ = r.keeps(&Map::new());
            }
        }
        // Huge numbers from JSON text.
        let big: Value = serde_json::from_str(r#"{"f": 123456789012345678901234567890}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = rules(vec![rule("a", "exclude", "f", ">", "1", 1)]);
        let _ = r.keeps(&doc(big));
    }
}
