//! Timestamps in the several textual forms Graph uses (Teams: milliseconds; OneDrive: seconds; Outlook:
//! seven fractional digits), from epoch milliseconds.

use chrono::{DateTime, Utc};

/// 2024-01-01T00:00:00Z: generated data lies within 2024.
pub const DATA_START_MS: i64 = 1_704_067_200_000;
/// 2025-01-01T00:00:00Z: the mutation clock starts here, after all generated data.
pub const MUTATION_START_MS: i64 = 1_735_689_600_000;
pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `2024-05-01T10:20:30.123Z` (Teams).
pub fn millis(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2024-05-01T10:20:30Z` (OneDrive, Entra ID).
pub fn seconds(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2024-05-01T10:20:30.1230000Z` (Outlook's created/modified).
pub fn ticks(ms: i64) -> String {
    format!("{}0000Z", at(ms).format("%Y-%m-%dT%H:%M:%S%.3f"))
}

/// `2024-05-01T10:20:30.0000000` (Outlook's start/end, no offset: the zone is a separate field).
pub fn local_ticks(ms: i64) -> String {
    format!("{}0000", at(ms).format("%Y-%m-%dT%H:%M:%S%.3f"))
}

/// `2024-05-01`.
pub fn date(ms: i64) -> String {
    at(ms).format("%Y-%m-%d").to_string()
}

/// Whole days since the epoch, for weekday and month computations.
pub fn month_of(ms: i64) -> u32 {
    chrono::Datelike::month(&at(ms))
}

pub fn day_of_month(ms: i64) -> u32 {
    chrono::Datelike::day(&at(ms))
}

pub fn weekday(ms: i64) -> &'static str {
    match chrono::Datelike::weekday(&at(ms)) {
        chrono::Weekday::Mon => "monday",
        chrono::Weekday::Tue => "tuesday",
        chrono::Weekday::Wed => "wednesday",
        chrono::Weekday::Thu => "thursday",
        chrono::Weekday::Fri => "friday",
        chrono::Weekday::Sat => "saturday",
        chrono::Weekday::Sun => "sunday",
    }
}

/// ISO 8601 duration like `PT1M10S`.
pub fn duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ms = DATA_START_MS + 123;
        assert_eq!(millis(ms), "2024-01-01T00:00:00.123Z");
        assert_eq!(seconds(ms), "2024-01-01T00:00:00Z");
        assert_eq!(ticks(ms), "2024-01-01T00:00:00.1230000Z");
        assert_eq!(local_ticks(ms), "2024-01-01T00:00:00.1230000");
        assert_eq!(date(ms), "2024-01-01");
        assert_eq!(weekday(ms), "monday");
        assert_eq!(duration(70), "PT1M10S");
        assert_eq!(duration(0), "PT0S");
    }
}
