//! Timestamps in connector and job documents. The service writes what the reference writes (ISO-8601 with
//! microseconds and a `+00:00` offset); it reads any ISO-8601 form Elasticsearch, Kibana or the connector APIs
//! produce (`Z`, milliseconds, no offset = UTC, or epoch milliseconds).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};

/// `2024-05-01T10:20:30.123456+00:00`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Parses a stored date; `None` for anything unreadable (a broken date must not make a document unusable).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    None
}

/// Serde helper for optional date fields: strings in any accepted form or epoch milliseconds; unreadable → `None`.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => parse(&s),
        Some(serde_json::Value::Number(n)) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn writes_the_reference_format() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 20, 30).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(format(t), "2024-05-01T10:20:30.123456+00:00");
    }

    #[test]
    fn reads_every_form_in_use() {
        let want = Utc.with_ymd_and_hms(2024, 5, 1, 10, 20, 30).unwrap();
        for s in [
            "2024-05-01T10:20:30+00:00",
            "2024-05-01T10:20:30Z",
            "2024-05-01T10:20:30.000Z",
            "2024-05-01T12:20:30+02:00",
            "2024-05-01T10:20:30",
            "2024-05-01T10:20:30.000000",
        ] {
            assert_eq!(parse(s), Some(want), "{s}");
        }
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse(""), None);
    }
}
