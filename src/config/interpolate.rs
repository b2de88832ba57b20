//! `$NAME`, `${NAME}`, `${NAME|default}`, `$NAME|default` and `$$` in config values, resolved from the process
//! environment and a dotenv file.
//!
//! Unlike the reference (which rewrites the raw YAML text), interpolation runs on the parsed tree, one string
//! scalar at a time: comments are never interpolated, a value containing YAML syntax (`: `, `#`, quotes) cannot
//! break the document, and errors name the key path. A `$` that does not start a variable reference stays a
//! literal `$`, so passwords containing `$` work. A scalar that is exactly one reference and whose value is a
//! canonical number or boolean (`30`, `0.15`, `true`) becomes that number or boolean, as it would in the
//! reference; the typed config accepts numbers where it expects strings, so nothing is lost either way.

use std::collections::HashMap;

use serde_json::Value;

/// The variables visible to the config file.
#[derive(Debug, Default, Clone)]
pub struct Vars {
    values: HashMap<String, String>,
    /// `ENVYAML_STRICT_DISABLE` was set: an undefined variable is left as written instead of failing.
    pub lenient: bool,
}

impl Vars {
    pub fn new(values: HashMap<String, String>, lenient: bool) -> Self {
        Vars { values, lenient }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// An undefined variable, with the config key it was found under.
#[derive(Debug, PartialEq)]
pub struct Undefined {
    pub key_path: String,
    pub name: String,
}

/// Interpolates every string scalar of `tree` in place. Mapping keys are left alone.
/// Returns the names of undefined variables that were left literal (lenient mode), for warnings.
pub fn interpolate_tree(tree: &mut Value, vars: &Vars) -> Result<Vec<Undefined>, Undefined> {
    let mut left = Vec::new();
    walk(tree, vars, &mut String::new(), &mut left)?;
    Ok(left)
}

fn walk(
    value: &mut Value,
    vars: &Vars,
    path: &mut String,
    left: &mut Vec<Undefined>,
) -> Result<(), Undefined> {
    match value {
        Value::String(s) if s.contains('$') => {
            let (text, whole, missing) = interpolate_str(s, vars);
            if let Some(name) = missing {
                let undefined = Undefined {
                    key_path: path.clone(),
                    name,
                };
                if !vars.lenient {
                    return Err(undefined);
                }
                left.push(undefined);
            }
            *value = if whole {
                retype(text)
            } else {
                Value::String(text)
            };
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, vars, path, left)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(v, vars, path, left)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Interpolates one string. Returns the text, whether the input was exactly one variable reference, and the
/// first undefined variable (left as written in the text).
pub fn interpolate_str(input: &str, vars: &Vars) -> (String, bool, Option<String>) {
    let mut out = String::with_capacity(input.len());
    let mut missing = None;
    let mut references = 0;
    let mut literal_chars = false;
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        if pos > 0 {
            literal_chars = true;
        }
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match parse_reference(after) {
            Reference::Dollar => {
                out.push('$');
                literal_chars = true;
                rest = &after[1..];
            }
            Reference::Var {
                name,
                default,
                consumed,
            } => {
                references += 1;
                match (vars.get(name), default) {
                    (Some(v), _) => out.push_str(v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => {
                        missing.get_or_insert_with(|| name.to_string());
                        out.push_str(&rest[pos..pos + 1 + consumed]);
                    }
                }
                rest = &after[consumed..];
            }
            Reference::None => {
                out.push('$');
                literal_chars = true;
                rest = after;
            }
        }
    }
    if !rest.is_empty() {
        literal_chars = true;
    }
    out.push_str(rest);
    let whole = references == 1 && !literal_chars && missing.is_none();
    (out, whole, missing)
}

enum Reference<'a> {
    /// `$$`
    Dollar,
    /// A variable; `consumed` counts the bytes after the `$`.
    Var {
        name: &'a str,
        default: Option<&'a str>,
        consumed: usize,
    },
    /// Not a reference: the `$` is literal.
    None,
}

fn parse_reference(after: &str) -> Reference<'_> {
    if after.starts_with('$') {
        return Reference::Dollar;
    }
    if let Some(inner) = after.strip_prefix('{') {
        let Some(close) = inner.find('}') else {
            return Reference::None;
        };
        let body = &inner[..close];
        let (name, default) = match body.split_once('|') {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        if !is_name(name) {
            return Reference::None;
        }
        return Reference::Var {
            name,
            default,
            consumed: close + 2,
        };
    }
    let name_len = name_prefix_len(after);
    if name_len == 0 {
        return Reference::None;
    }
    let name = &after[..name_len];
    let tail = &after[name_len..];
    if let Some(d) = tail.strip_prefix('|') {
        let end = d.find(char::is_whitespace).unwrap_or(d.len());
        return Reference::Var {
            name,
            default: Some(&d[..end]),
            consumed: name_len + 1 + end,
        };
    }
    Reference::Var {
        name,
        default: None,
        consumed: name_len,
    }
}

fn name_prefix_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && name_prefix_len(s) == s.len()
}

/// A whole-reference result becomes a number or boolean only when that is lossless (`0123` stays a string).
fn retype(text: String) -> Value {
    match text.as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        if i.to_string() == text {
            return Value::from(i);
        }
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() && f.to_string() == text {
            return Value::from(f);
        }
    }
    Value::String(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            false,
        )
    }

    fn one(input: &str, v: &Vars) -> Value {
        let mut tree = json!({ "k": input });
        interpolate_tree(&mut tree, v).unwrap();
        tree["k"].clone()
    }

    #[test]
    fn all_reference_forms() {
        let v = vars(&[("HOST", "es.local"), ("PORT", "9201")]);
        assert_eq!(one("http://$HOST:$PORT", &v), json!("http://es.local:9201"));
        assert_eq!(
            one("http://${HOST}:${PORT}", &v),
            json!("http://es.local:9201")
        );
        assert_eq!(one("${MISSING|fallback}", &v), json!("fallback"));
        assert_eq!(one("$MISSING|fallback", &v), json!("fallback"));
        assert_eq!(one("${MISSING|}", &v), json!(""));
        assert_eq!(one("${HOST|ignored}", &v), json!("es.local"));
        assert_eq!(one("cost: $$5", &v), json!("cost: $5"));
    }

    #[test]
    fn lone_dollars_stay_literal() {
        let v = vars(&[]);
        assert_eq!(one("pa$", &v), json!("pa$"));
        assert_eq!(one("p$1ss", &v), json!("p$1ss"));
        assert_eq!(one("a $ b", &v), json!("a $ b"));
        assert_eq!(one("${not closed", &v), json!("${not closed"));
        assert_eq!(one("${1BAD}", &v), json!("${1BAD}"));
        assert_eq!(one("$-x", &v), json!("$-x"));
    }

    #[test]
    fn whole_references_are_retyped_losslessly() {
        let v = vars(&[
            ("N", "30"),
            ("F", "0.15"),
            ("B", "true"),
            ("Z", "0123"),
            ("E", "1e3"),
        ]);
        assert_eq!(one("${N}", &v), json!(30));
        assert_eq!(one("$F", &v), json!(0.15));
        assert_eq!(one("${B}", &v), json!(true));
        assert_eq!(one("${Z}", &v), json!("0123"));
        assert_eq!(one("${E}", &v), json!("1e3"));
        assert_eq!(one("x${N}", &v), json!("x30"));
        assert_eq!(one("$${N}", &v), json!("${N}"));
    }

    #[test]
    fn values_are_not_reinterpolated_or_parsed_as_yaml() {
        let v = vars(&[("PW", "a: b # $HOME ${X}")]);
        assert_eq!(one("${PW}", &v), json!("a: b # $HOME ${X}"));
    }

    #[test]
    fn undefined_variable_names_the_key_path() {
        let mut tree = json!({"elasticsearch": {"hosts": ["ok", "${NOPE}"]}});
        let err = interpolate_tree(&mut tree, &vars(&[])).unwrap_err();
        assert_eq!(
            err,
            Undefined {
                key_path: "elasticsearch.hosts[1]".into(),
                name: "NOPE".into()
            }
        );
    }

    #[test]
    fn lenient_mode_leaves_undefined_references() {
        let mut v = vars(&[]);
        v.lenient = true;
        let mut tree = json!({"a": "x-${NOPE}-y"});
        let left = interpolate_tree(&mut tree, &v).unwrap();
        assert_eq!(tree, json!({"a": "x-${NOPE}-y"}));
        assert_eq!(left.len(), 1);
    }

    /// Every string up to 5 characters over the syntax characters (and a multi-byte one): no panic, and text
    /// without a `$` comes back unchanged.
    #[test]
    fn exhaustive_small_inputs_never_panic() {
        let alphabet = ['$', '{', '}', '|', 'A', '1', ' ', 'é'];
        let v = vars(&[("A", "x")]);
        let mut lenient = v.clone();
        lenient.lenient = true;
        let mut stack = vec![String::new()];
        while let Some(s) = stack.pop() {
            let (out, _, _) = interpolate_str(&s, &v);
            if !s.contains('$') {
                assert_eq!(out, s);
            }
            let _ = interpolate_tree(&mut json!({ "k": s.clone() }), &lenient).unwrap();
            if s.chars().count() < 5 {
                for c in alphabet {
                    stack.push(format!("{s}{c}"));
                }
            }
        }
    }

    #[test]
    fn keys_and_non_strings_untouched() {
        let mut tree = json!({"$KEY": 1, "b": null, "c": 2.5});
        let before = tree.clone();
        interpolate_tree(&mut tree, &vars(&[("KEY", "x")])).unwrap();
        assert_eq!(tree, before);
    }
}
