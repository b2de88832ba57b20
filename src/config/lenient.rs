//! Deserializers that accept what a hand-written (or interpolated) YAML file naturally contains: a number where a
//! string is expected (`connector_id: 12345`), a non-negative number of seconds for a duration.

use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A string, or a number/bool taken as its text.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(StringVisitor)
}

/// Like [`string`], for optional values (`null` → `None`).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "string")] String);
    Option::<Wrap>::deserialize(d).map(|o| o.map(|w| w.0))
}

/// A list of strings, each lenient.
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "string")] String);
    Vec::<Wrap>::deserialize(d).map(|v| v.into_iter().map(|w| w.0).collect())
}

/// A duration written as a non-negative number of seconds (`30`, `0.5`), as the reference's config does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "f64")]
pub struct Seconds(pub Duration);

/// The longest duration a setting may name: a year.
pub const MAX_SECONDS: f64 = 31_536_000.0;

impl Seconds {
    pub const fn secs(s: u64) -> Self {
        Seconds(Duration::from_secs(s))
    }
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Seconds> for f64 {
    fn from(s: Seconds) -> f64 {
        s.0.as_secs_f64()
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d).map_err(|_| {
            de::Error::custom("expected a number of seconds (for example 30 or 0.5)")
        })?;
        // Every duration is slept on, added to an instant or multiplied by a retry count somewhere: bounded here,
        // none of that can overflow.
        if v > MAX_SECONDS {
            return Err(de::Error::custom(format!(
                "expected at most {MAX_SECONDS} seconds (a year), got {v}"
            )));
        }
        Duration::try_from_secs_f64(v).map(Seconds).map_err(|_| {
            de::Error::custom(format!(
                "expected a non-negative number of seconds, got {v}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct S {
        #[serde(deserialize_with = "string")]
        s: String,
        t: Seconds,
    }

    #[test]
    fn accepts_numbers_as_strings_and_fractional_seconds() {
        let v: S = serde_json::from_value(json!({"s": 42, "t": 0.25})).unwrap();
        assert_eq!(v.s, "42");
        assert_eq!(v.t.get(), Duration::from_millis(250));
    }

    #[test]
    fn rejects_negative_and_text_seconds() {
        assert!(serde_json::from_value::<S>(json!({"s": "x", "t": -1})).is_err());
        let e = serde_json::from_value::<S>(json!({"s": "x", "t": "soon"}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("number of seconds"), "{e}");
    }
}
