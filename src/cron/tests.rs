use super::*;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};

fn utc(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .and_utc()
}

fn schedule(expr: &str) -> CronSchedule {
    CronSchedule::parse(expr).unwrap_or_else(|e| panic!("{e}"))
}

/// (expression, start, expected fire times): the first is `next_at_or_after(start)`, each following one is
/// `next_after` the previous; `"none"` means no further occurrence.
const TABLE: &[(&str, &str, &[&str])] = &[
    // Quartz's CronTrigger tutorial.
    (
        "0 0 12 * * ?",
        "2024-03-10T11:59:59",
        &["2024-03-10T12:00:00", "2024-03-11T12:00:00"],
    ),
    (
        "0 15 10 ? * *",
        "2024-03-10T10:15:00",
        &["2024-03-10T10:15:00", "2024-03-11T10:15:00"],
    ),
    (
        "0 15 10 * * ?",
        "2024-03-10T10:15:01",
        &["2024-03-11T10:15:00"],
    ),
    (
        "0 15 10 * * ? *",
        "2024-03-10T10:15:01",
        &["2024-03-11T10:15:00"],
    ),
    (
        "0 15 10 * * ? 2005",
        "2004-06-01T00:00:00",
        &["2005-01-01T10:15:00", "2005-01-02T10:15:00"],
    ),
    (
        "0 15 10 * * ? 2005",
        "2005-12-31T10:15:00",
        &["2005-12-31T10:15:00", "none"],
    ),
    (
        "0 * 14 * * ?",
        "2024-03-10T13:30:00",
        &["2024-03-10T14:00:00", "2024-03-10T14:01:00"],
    ),
    (
        "0 * 14 * * ?",
        "2024-03-10T14:59:30",
        &["2024-03-11T14:00:00"],
    ),
    (
        "0 0/5 14 * * ?",
        "2024-03-10T14:03:00",
        &["2024-03-10T14:05:00", "2024-03-10T14:10:00"],
    ),
    (
        "0 0/5 14 * * ?",
        "2024-03-10T14:55:01",
        &["2024-03-11T14:00:00"],
    ),
    (
        "0 0/5 14,18 * * ?",
        "2024-03-10T14:56:00",
        &["2024-03-10T18:00:00", "2024-03-10T18:05:00"],
    ),
    (
        "0 0-5 14 * * ?",
        "2024-03-10T14:04:30",
        &["2024-03-10T14:05:00", "2024-03-11T14:00:00"],
    ),
    (
        "0 10,44 14 ? 3 WED",
        "2024-03-01T00:00:00",
        &[
            "2024-03-06T14:10:00",
            "2024-03-06T14:44:00",
            "2024-03-13T14:10:00",
        ],
    ),
    (
        "0 10,44 14 ? 3 WED",
        "2024-03-27T14:44:01",
        &["2025-03-05T14:10:00"],
    ),
    (
        "0 15 10 ? * MON-FRI",
        "2024-03-08T10:15:01",
        &["2024-03-11T10:15:00", "2024-03-12T10:15:00"],
    ),
    (
        "0 15 10 15 * ?",
        "2024-01-15T10:15:01",
        &["2024-02-15T10:15:00"],
    ),
    (
        "0 15 10 L * ?",
        "2024-02-01T00:00:00",
        &[
            "2024-02-29T10:15:00",
            "2024-03-31T10:15:00",
            "2024-04-30T10:15:00",
        ],
    ),
    (
        "0 15 10 L-2 * ?",
        "2024-02-01T00:00:00",
        &[
            "2024-02-27T10:15:00",
            "2024-03-29T10:15:00",
            "2024-04-28T10:15:00",
        ],
    ),
    (
        "0 15 10 ? * 6L",
        "2024-03-01T00:00:00",
        &["2024-03-29T10:15:00", "2024-04-26T10:15:00"],
    ),
    ("0 15 10 ? * 6L 2024-2025", "2025-12-26T10:15:01", &["none"]),
    (
        "0 15 10 ? * 6#3",
        "2024-03-01T00:00:00",
        &["2024-03-15T10:15:00", "2024-04-19T10:15:00"],
    ),
    (
        "0 0 12 1/5 * ?",
        "2024-03-26T12:00:01",
        &[
            "2024-03-31T12:00:00",
            "2024-04-01T12:00:00",
            "2024-04-06T12:00:00",
        ],
    ),
    (
        "0 11 11 11 11 ?",
        "2024-01-01T00:00:00",
        &["2024-11-11T11:11:00", "2025-11-11T11:11:00"],
    ),
    // Every REF case of spec §5.2, with the correct behaviour.
    (
        "0 0 0 * * ?",
        "2024-12-31T23:59:59",
        &["2025-01-01T00:00:00", "2025-01-02T00:00:00"],
    ),
    (
        "1 * * * * ?",
        "2024-03-10T10:00:00",
        &["2024-03-10T10:00:01", "2024-03-10T10:01:01"],
    ),
    (
        "*/5 * * * * ?",
        "2024-03-10T10:00:03",
        &["2024-03-10T10:00:05", "2024-03-10T10:00:10"],
    ),
    (
        "0 0/30 * * * ?",
        "2024-03-10T10:00:01",
        &["2024-03-10T10:30:00", "2024-03-10T11:00:00"],
    ),
    (
        "15/20 * * * * ?",
        "2024-03-10T10:00:00",
        &[
            "2024-03-10T10:00:15",
            "2024-03-10T10:00:35",
            "2024-03-10T10:00:55",
            "2024-03-10T10:01:15",
        ],
    ),
    (
        "0 10-50/20 * * * ?",
        "2024-03-10T10:00:00",
        &[
            "2024-03-10T10:10:00",
            "2024-03-10T10:30:00",
            "2024-03-10T10:50:00",
            "2024-03-10T11:10:00",
        ],
    ),
    (
        "0 0 12 ? * 2-6",
        "2024-03-09T00:00:00",
        &["2024-03-11T12:00:00", "2024-03-12T12:00:00"],
    ),
    (
        "0 0 12 ? * 2-6",
        "2024-03-15T12:00:01",
        &["2024-03-18T12:00:00"],
    ),
    (
        "0 0 12 ? * 1,7",
        "2024-03-11T00:00:00",
        &["2024-03-16T12:00:00", "2024-03-17T12:00:00"],
    ),
    (
        "0 0 12 15W * ?",
        "2024-06-01T00:00:00",
        &["2024-06-14T12:00:00", "2024-07-15T12:00:00"],
    ),
    (
        "0 0 12 15W * ?",
        "2024-09-01T00:00:00",
        &["2024-09-16T12:00:00"],
    ),
    (
        "0 0 12 LW * ?",
        "2024-03-01T00:00:00",
        &["2024-03-29T12:00:00", "2024-04-30T12:00:00"],
    ),
    (
        "0 0 12 LW * ?",
        "2024-08-01T00:00:00",
        &["2024-08-30T12:00:00"],
    ),
    (
        "0 0 12 LW 2 ?",
        "2025-01-01T00:00:00",
        &["2025-02-28T12:00:00", "2026-02-27T12:00:00"],
    ),
    (
        "0 0 12 1W * ?",
        "2024-06-01T00:00:00",
        &["2024-06-03T12:00:00", "2024-07-01T12:00:00"],
    ),
    (
        "0 0 12 1W * ?",
        "2024-09-01T00:00:00",
        &["2024-09-02T12:00:00"],
    ),
    (
        "0 0 12 31W * ?",
        "2024-03-01T00:00:00",
        &["2024-03-29T12:00:00", "2024-05-31T12:00:00"],
    ),
    (
        "0 0 12 30W * ?",
        "2024-02-01T00:00:00",
        &["2024-03-29T12:00:00"],
    ),
    // Leap years, month ends, year ends.
    (
        "0 0 0 29 2 ?",
        "2025-01-01T00:00:00",
        &["2028-02-29T00:00:00", "2032-02-29T00:00:00"],
    ),
    (
        "0 0 0 29 2 ?",
        "2024-02-29T00:00:01",
        &["2028-02-29T00:00:00"],
    ),
    (
        "0 0 0 L 2 ?",
        "2023-01-01T00:00:00",
        &[
            "2023-02-28T00:00:00",
            "2024-02-29T00:00:00",
            "2025-02-28T00:00:00",
        ],
    ),
    (
        "* * * * * ?",
        "2024-12-31T23:59:59",
        &["2024-12-31T23:59:59", "2025-01-01T00:00:00"],
    ),
    (
        "0 30 23 * * ?",
        "2024-04-30T23:30:01",
        &["2024-05-01T23:30:00"],
    ),
    (
        "0 0 12 31 * ?",
        "2024-04-01T00:00:00",
        &["2024-05-31T12:00:00", "2024-07-31T12:00:00"],
    ),
    (
        "59 59 23 31 12 ?",
        "2024-06-01T00:00:00",
        &["2024-12-31T23:59:59", "2025-12-31T23:59:59"],
    ),
    (
        "0 0 0 ? * SUN",
        "2024-12-30T00:00:00",
        &["2025-01-05T00:00:00"],
    ),
    (
        "0 0 12 L-30 * ?",
        "2024-02-01T00:00:00",
        &["2024-03-01T12:00:00", "2024-05-01T12:00:00"],
    ),
    // Wrap-around ranges, names, day-of-week specials.
    (
        "0 0 22-2 * * ?",
        "2024-03-10T03:00:00",
        &[
            "2024-03-10T22:00:00",
            "2024-03-10T23:00:00",
            "2024-03-11T00:00:00",
            "2024-03-11T01:00:00",
            "2024-03-11T02:00:00",
            "2024-03-11T22:00:00",
        ],
    ),
    (
        "0 0 12 ? * FRI-MON",
        "2024-03-12T00:00:00",
        &[
            "2024-03-15T12:00:00",
            "2024-03-16T12:00:00",
            "2024-03-17T12:00:00",
            "2024-03-18T12:00:00",
            "2024-03-22T12:00:00",
        ],
    ),
    (
        "0 0 9 ? jan,jul mon#1",
        "2024-01-01T00:00:00",
        &[
            "2024-01-01T09:00:00",
            "2024-07-01T09:00:00",
            "2025-01-06T09:00:00",
        ],
    ),
    (
        "0 0 12 ? * 2#5",
        "2024-01-01T00:00:00",
        &[
            "2024-01-29T12:00:00",
            "2024-04-29T12:00:00",
            "2024-07-29T12:00:00",
        ],
    ),
    (
        "0 0 12 ? * L",
        "2024-03-11T00:00:00",
        &["2024-03-16T12:00:00", "2024-03-23T12:00:00"],
    ),
    (
        "0 0 12 ? * 7L",
        "2024-03-01T00:00:00",
        &["2024-03-30T12:00:00"],
    ),
    (
        "0 0 12 1-5/2,20 * ?",
        "2024-03-01T00:00:00",
        &[
            "2024-03-01T12:00:00",
            "2024-03-03T12:00:00",
            "2024-03-05T12:00:00",
            "2024-03-20T12:00:00",
        ],
    ),
    // Day of month and day of week: one restricted decides, neither restricts, both restricted AND.
    (
        "0 0 0 13 * FRI",
        "2024-06-01T00:00:00",
        &[
            "2024-09-13T00:00:00",
            "2024-12-13T00:00:00",
            "2025-06-13T00:00:00",
        ],
    ),
    (
        "0 0 6 * * MON",
        "2024-03-12T00:00:00",
        &["2024-03-18T06:00:00"],
    ),
    (
        "0 0 6 13 * *",
        "2024-03-12T00:00:00",
        &["2024-03-13T06:00:00", "2024-04-13T06:00:00"],
    ),
    (
        "0 0 6 ? * ?",
        "2024-03-12T07:00:00",
        &["2024-03-13T06:00:00"],
    ),
    (
        "0 0 6 * * *",
        "2024-03-12T07:00:00",
        &["2024-03-13T06:00:00"],
    ),
    // Whitespace and case.
    (
        "0  0\t6 *   *  ?",
        "2024-03-12T07:00:00",
        &["2024-03-13T06:00:00"],
    ),
    (
        "0 0 12 ? Feb mon-fri",
        "2024-03-01T00:00:00",
        &["2025-02-03T12:00:00"],
    ),
    // Years.
    (
        "0 0 0 1 1 ? 2030-2032",
        "2024-05-05T00:00:00",
        &[
            "2030-01-01T00:00:00",
            "2031-01-01T00:00:00",
            "2032-01-01T00:00:00",
            "none",
        ],
    ),
    (
        "0 0 0 1 1 ? 2025/5",
        "2024-05-05T00:00:00",
        &["2025-01-01T00:00:00", "2030-01-01T00:00:00"],
    ),
    ("0 0 0 1 1 ? 2020", "2024-05-05T00:00:00", &["none"]),
    ("0 0 0 1 1 ?", "2099-01-01T00:00:01", &["none"]),
    (
        "0 0 0 1 1 ? 1970",
        "1969-12-31T00:00:00",
        &["1970-01-01T00:00:00", "none"],
    ),
    ("0 0 0 30 2 ?", "2024-01-01T00:00:00", &["none"]),
    ("0 0 0 ? 2 6#5 2025", "2024-01-01T00:00:00", &["none"]),
];

#[test]
fn table_of_known_schedules() {
    assert!(TABLE.len() >= 45, "{} rows", TABLE.len());
    for (expr, start, expected) in TABLE {
        let s = schedule(expr);
        let mut got = s.next_at_or_after(utc(start));
        for (i, want) in expected.iter().enumerate() {
            let want = (*want != "none").then(|| utc(want));
            assert_eq!(got, want, "{expr:?} from {start}, occurrence #{i}");
            got = got.and_then(|t| s.next_after(t));
        }
    }
}

#[test]
fn next_after_versus_next_at_or_after() {
    let noon = schedule("0 0 12 * * ?");
    let (today, tomorrow) = (utc("2024-03-10T12:00:00"), utc("2024-03-11T12:00:00"));
    assert_eq!(noon.next_at_or_after(today), Some(today));
    assert_eq!(noon.next_after(today), Some(tomorrow));
    // A sub-second part past the fire time excludes it, before it rounds up onto it.
    for t in ["2024-03-10T12:00:00.000000001", "2024-03-10T12:00:00.5"] {
        assert_eq!(noon.next_at_or_after(utc(t)), Some(tomorrow), "{t}");
        assert_eq!(noon.next_after(utc(t)), Some(tomorrow), "{t}");
    }
    for t in ["2024-03-10T11:59:59.999999999", "2024-03-10T11:59:59.1"] {
        assert_eq!(noon.next_at_or_after(utc(t)), Some(today), "{t}");
        assert_eq!(noon.next_after(utc(t)), Some(today), "{t}");
    }
    let every_second = schedule("* * * * * ?");
    let t = utc("2024-03-10T10:00:00.5");
    assert_eq!(
        every_second.next_at_or_after(t),
        Some(utc("2024-03-10T10:00:01"))
    );
    assert_eq!(every_second.next_after(t), Some(utc("2024-03-10T10:00:01")));
    assert_eq!(
        every_second.next_after(utc("2024-03-10T10:00:00")),
        Some(utc("2024-03-10T10:00:01"))
    );
    // chrono's leap-second representation (nanosecond >= 1e9) rounds up to the next second too.
    let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
        .and_then(|d| {
            d.and_time(NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000)?)
                .into()
        })
        .map(|n| n.and_utc());
    let leap = leap.unwrap_or_else(|| panic!("leap second"));
    assert_eq!(
        every_second.next_at_or_after(leap),
        Some(utc("2017-01-01T00:00:00"))
    );
    assert_eq!(
        every_second.next_after(leap),
        Some(utc("2017-01-01T00:00:00"))
    );
}

#[test]
fn extreme_instants_give_none_or_an_answer_without_panicking() {
    let daily = schedule("0 0 0 * * ?");
    assert_eq!(daily.next_after(DateTime::<Utc>::MAX_UTC), None);
    assert_eq!(daily.next_at_or_after(DateTime::<Utc>::MAX_UTC), None);
    assert_eq!(
        daily.next_after(DateTime::<Utc>::MIN_UTC),
        Some(utc("1970-01-01T00:00:00"))
    );
    assert_eq!(daily.next_after(utc("2099-12-31T00:00:00")), None);
    assert_eq!(
        daily.next_at_or_after(utc("2099-12-31T00:00:00")),
        Some(utc("2099-12-31T00:00:00"))
    );
}

/// The parsed meaning only, so differently written expressions can be compared.
fn meaning(expr: &str) -> CronSchedule {
    CronSchedule {
        expr: String::new(),
        ..schedule(expr)
    }
}

#[test]
fn display_from_str_and_equivalent_spellings() {
    let expr = "0 15 10 ? * mon-FRI";
    let s: CronSchedule = expr.parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.to_string(), expr);
    assert_eq!(s.as_str(), expr);
    let same = [
        ("0 15 10 ? * mon-FRI", "0 15 10 ? * 2-6"),
        ("0 0 0 ? JAN-MAR *", "0 0 0 ? 1-3 *"),
        ("0 0 0 ? * SUN,sat", "0 0 0 ? * 1,7"),
        ("0 0 0 ? * L", "0 0 0 ? * 7"),
        ("0 0 0 ? * 6l", "0 0 0 ? * FRIL"),
        ("0 0 0 ? * 6#3", "0 0 0 ? * fri#3"),
        ("0 0/30 * * * ?", "0 0,30 * * * ?"),
        ("*/20 * * * * ?", "0,20,40 * * * * ?"),
        ("0 0 0 * * ? *", "0 0 0 * * ?"),
        ("0 0 0 * * ? 2024-2026", "0 0 0 * * ? 2024,2025,2026"),
        ("0 0 0 1/10 * ?", "0 0 0 1,11,21,31 * ?"),
        ("0 0 0 ? * SAT-MON", "0 0 0 ? * 7,1,2"),
        ("0 50-10/10 * * * ?", "0 0,10,50 * * * ?"),
        ("0 0 0 ? NOV-FEB/2 *", "0 0 0 ? 11,1 *"),
    ];
    for (a, b) in same {
        assert_eq!(meaning(a), meaning(b), "{a:?} vs {b:?}");
    }
}

#[test]
fn errors_name_the_problem_on_one_line() {
    let cases: &[(&str, &str)] = &[
        (
            "",
            "expected 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), found 0",
        ),
        ("   ", "found 0"),
        ("0 0 12 * *", "found 5"),
        ("0 0 12 * * ? 2024 1", "found 8"),
        ("0 60 * * * ?", "minute 60 out of range 0-59"),
        ("60 * * * * ?", "second 60 out of range 0-59"),
        ("0 0 24 * * ?", "hour 24 out of range 0-23"),
        ("0 0 0 32 * ?", "day-of-month 32 out of range 1-31"),
        ("0 0 0 0 * ?", "day-of-month 0 out of range 1-31"),
        ("0 0 0 * 13 ?", "month 13 out of range 1-12"),
        ("0 0 0 ? * 8", "day-of-week 8 out of range 1-7"),
        ("0 0 0 ? * 0", "day-of-week 0 out of range 1-7"),
        ("0 0 0 ? * 0-4", "day-of-week 0 out of range 1-7"),
        ("0 0 0 1 1 ? 1969", "year 1969 out of range 1970-2099"),
        ("0 0 0 1 1 ? 2100", "year 2100 out of range 1970-2099"),
        (
            "0 99999999999999999999 * * * ?",
            "minute 99999999999999999999 out of range 0-59",
        ),
        ("0 0 0 * foo ?", "unknown month name 'FOO'"),
        ("0 0 0 * JULY ?", "unknown month name 'JULY'"),
        ("0 0 0 ? * FUN", "unknown day name 'FUN'"),
        ("0 0 0 ? * MON-FUN", "unknown day name 'FUN'"),
        ("0 0 x * * ?", "invalid hour value 'X'"),
        (
            "0 ? * * * ?",
            "'?' is only allowed in day-of-month or day-of-week",
        ),
        (
            "0 0 0 ? ? ?",
            "'?' is only allowed in day-of-month or day-of-week",
        ),
        ("0 0 0 1#2 * ?", "'#' is only allowed in day-of-week"),
        ("0 0 0 * 1#2 ?", "'#' is only allowed in day-of-week"),
        ("0 0 0 ? * 2W", "'W' is only allowed in day-of-month"),
        (
            "0 0 L * * ?",
            "'L' is only allowed in day-of-month or day-of-week",
        ),
        (
            "0 0 0 * L ?",
            "'L' is only allowed in day-of-month or day-of-week",
        ),
        ("0 */0 * * * ?", "minute step 0 out of range 1-59"),
        ("0 0/60 * * * ?", "minute step 60 out of range 1-59"),
        ("0 0 0/24 * * ?", "hour step 24 out of range 1-23"),
        ("0 0 0 1 1 ? 2030-2020", "year range 2030-2020 is inverted"),
        (
            "0 0 0 ? * 6#6",
            "day-of-week occurrence after '#' 6 out of range 1-5",
        ),
        (
            "0 0 0 ? * 6#0",
            "day-of-week occurrence after '#' 0 out of range 1-5",
        ),
        (
            "0 0 0 ? * 6#",
            "invalid day-of-week occurrence after '#' ''",
        ),
        (
            "0 0 0 L-31 * ?",
            "day-of-month offset from the last day 31 out of range 0-30",
        ),
        ("0 0 0 L2 * ?", "invalid day-of-month value 'L2'"),
        (
            "0 0 0 1-15W * ?",
            "'W' needs a single day of month (e.g. '15W')",
        ),
        (
            "0 0 0 1,15W * ?",
            "'W' must be the whole day-of-month field (e.g. '15W')",
        ),
        (
            "0 0 0 1,L * ?",
            "'L' must be the whole day-of-month field (e.g. 'L')",
        ),
        (
            "0 0 0 ? * 6L,2",
            "'L' must be the whole day-of-week field (e.g. 'L')",
        ),
        (
            "0 0 0 ? * 2-6L",
            "'L' in day-of-week needs a single day (e.g. '6L')",
        ),
        (
            "0 0 0 ? * 2-6#1",
            "'#' needs a single day of week (e.g. '6#3')",
        ),
        ("0 0 0 32W * ?", "day-of-month 32 out of range 1-31"),
        ("0 0 0 1,,2 * ?", "empty day-of-month list item"),
        ("0 0 5- * * ?", "missing hour value"),
        ("0 0 -5 * * ?", "missing hour value"),
        ("0 0 1/ * * ?", "invalid hour step ''"),
        ("0 0 1/2/3 * * ?", "invalid hour step '2/3'"),
        ("０ 0 0 * * ?", "invalid second value '０'"),
        ("0 0 0 * * ？", "invalid day-of-week value '？'"),
        ("😀 * * * * ?", "invalid second value '😀'"),
        ("0 0 0 ١ * ?", "invalid day-of-month value '١'"),
    ];
    assert!(cases.len() >= 15);
    for (expr, reason) in cases {
        let err = match CronSchedule::parse(expr) {
            Ok(s) => panic!("{expr:?} parsed as {s:?}"),
            Err(e) => e,
        };
        assert!(
            err.reason().contains(reason),
            "{expr:?}: got {:?}, want {reason:?}",
            err.reason()
        );
        let line = err.to_string();
        assert!(
            line.starts_with(&format!("invalid cron expression {expr:?}: ")),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }
    // Control characters and huge inputs still give one short line.
    let err = CronSchedule::parse("0 0\n0 * * ? 1 2 3")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains(r#""0 0\n0 * * ? 1 2 3""#) && !err.contains('\n'),
        "{err}"
    );
    let err = CronSchedule::parse(&"1 ".repeat(10_000))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("…\"") && err.len() < 300 && err.ends_with("found 10000"),
        "{err}"
    );
}

/// An independent definition of a schedule: a predicate on instants, checked every `step` seconds.
struct Oracle {
    expr: &'static str,
    step: i64,
    window_days: i64,
    matches: fn(NaiveDateTime) -> bool,
}

fn days_in_month(t: NaiveDateTime) -> u32 {
    (28..=31)
        .rev()
        .find(|d| t.date().with_day(*d).is_some())
        .unwrap_or(28)
}

fn hms(t: NaiveDateTime, h: u32, m: u32, s: u32) -> bool {
    (t.hour(), t.minute(), t.second()) == (h, m, s)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

const ORACLES: &[Oracle] = &[
    Oracle {
        expr: "*/15 10-20/3 * * * ?",
        step: 1,
        window_days: 1,
        matches: |t| {
            t.second() % 15 == 0 && (10..=20).contains(&t.minute()) && (t.minute() - 10) % 3 == 0
        },
    },
    Oracle {
        expr: "*/7 * * * * ?",
        step: 1,
        window_days: 1,
        matches: |t| t.second() % 7 == 0,
    },
    Oracle {
        expr: "0 0/30 9-17 ? * MON-FRI",
        step: 60,
        window_days: 5,
        matches: |t| {
            t.second() == 0
                && t.minute() % 30 == 0
                && (9..=17).contains(&t.hour())
                && !is_weekend(t.date())
        },
    },
    Oracle {
        expr: "0 15 10 L * ?",
        step: 60,
        window_days: 32,
        matches: |t| hms(t, 10, 15, 0) && t.day() == days_in_month(t),
    },
    Oracle {
        expr: "0 0 12 ? * 6L",
        step: 3600,
        window_days: 40,
        matches: |t| {
            hms(t, 12, 0, 0) && t.weekday() == Weekday::Fri && t.day() + 7 > days_in_month(t)
        },
    },
    Oracle {
        expr: "0 0 12 ? * 2#2",
        step: 3600,
        window_days: 40,
        matches: |t| hms(t, 12, 0, 0) && t.weekday() == Weekday::Mon && (t.day() - 1) / 7 == 1,
    },
    Oracle {
        expr: "0 0 12 15W * ?",
        step: 3600,
        window_days: 40,
        matches: |t| {
            let target = match t.date().with_day(15).map(|d| d.weekday()) {
                Some(Weekday::Sat) => 14,
                Some(Weekday::Sun) => 16,
                _ => 15,
            };
            hms(t, 12, 0, 0) && t.day() == target
        },
    },
    Oracle {
        expr: "0 0 0 LW * ?",
        step: 3600,
        window_days: 40,
        // The last weekday found by walking back from the month's end, not by the nearest-weekday rule.
        matches: |t| {
            let len = days_in_month(t);
            let last = (1..=len)
                .rev()
                .find(|d| t.date().with_day(*d).is_some_and(|d| !is_weekend(d)));
            hms(t, 0, 0, 0) && Some(t.day()) == last
        },
    },
    Oracle {
        expr: "0 0 22-2 * * ?",
        step: 3600,
        window_days: 2,
        matches: |t| t.minute() == 0 && t.second() == 0 && (t.hour() >= 22 || t.hour() <= 2),
    },
    Oracle {
        expr: "0 0 0 13 * FRI",
        step: 3600,
        window_days: 450,
        matches: |t| hms(t, 0, 0, 0) && t.day() == 13 && t.weekday() == Weekday::Fri,
    },
    Oracle {
        expr: "30 45 6 ? * 1,7",
        step: 1,
        window_days: 1,
        matches: |t| hms(t, 6, 45, 30) && is_weekend(t.date()),
    },
];

/// Deterministic pseudo-random numbers (no dependency needed for a test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn results_agree_with_independent_brute_force() {
    let mut rng = Lcg(42);
    let base = utc("2024-01-01T00:00:00").timestamp();
    for oracle in ORACLES {
        let s = schedule(oracle.expr);
        for _ in 0..30 {
            // Starts over six years, half with a sub-second part, some exactly on a step boundary.
            let mut secs = base + (rng.next() % (6 * 366 * 86_400)) as i64;
            if rng.next().is_multiple_of(4) {
                secs -= secs.rem_euclid(oracle.step);
            }
            let nanos = if rng.next().is_multiple_of(2) {
                0
            } else {
                (rng.next() % 1_000_000_000) as u32
            };
            let t = Utc
                .timestamp_opt(secs, nanos)
                .single()
                .unwrap_or_else(|| panic!("timestamp {secs}"));
            let got = s.next_at_or_after(t);
            // Brute force: from t rounded up to a whole step, the first instant the predicate accepts.
            let first = if nanos == 0 { secs } else { secs + 1 };
            let mut candidate = first + (oracle.step - first.rem_euclid(oracle.step)) % oracle.step;
            let limit = first + oracle.window_days * 86_400;
            let mut want = None;
            while candidate <= limit {
                let at = Utc
                    .timestamp_opt(candidate, 0)
                    .single()
                    .unwrap_or_else(|| panic!("{candidate}"));
                if (oracle.matches)(at.naive_utc()) {
                    want = Some(at);
                    break;
                }
                candidate += oracle.step;
            }
            match (got, want) {
                (Some(r), _) => {
                    assert!(r >= t, "{}: {r} before {t}", oracle.expr);
                    assert!(
                        (oracle.matches)(r.naive_utc()),
                        "{}: {r} does not match",
                        oracle.expr
                    );
                    assert_eq!(Some(r), want.or(Some(r)), "{}: from {t}", oracle.expr);
                    if want.is_none() {
                        assert!(
                            r.timestamp() > limit,
                            "{}: brute force missed {r} from {t}",
                            oracle.expr
                        );
                    }
                }
                (None, want) => panic!(
                    "{}: nothing from {t}, brute force found {want:?}",
                    oracle.expr
                ),
            }
            // Strictly after a match is the next match, never the same instant.
            if let Some(r) = got {
                let after = s.next_after(r);
                assert!(
                    after.is_some_and(|a| a > r && (oracle.matches)(a.naive_utc())),
                    "{}",
                    oracle.expr
                );
            }
        }
    }
}

#[test]
fn garbage_never_panics_or_hangs() {
    const PIECES: &[&str] = &[
        "*",
        "?",
        "L",
        "W",
        "LW",
        "#",
        "-",
        "/",
        ",",
        "0",
        "1",
        "2",
        "5",
        "6",
        "7",
        "12",
        "15",
        "29",
        "30",
        "31",
        "59",
        "60",
        "1970",
        "2099",
        "2100",
        "99999999999",
        "MON",
        "fri",
        "JAN",
        "dec",
        "L-3",
        "6L",
        "6#3",
        "2#5",
        "15W",
        "é",
        "😀",
        "\u{0}",
        "٣",
        "０",
        "\t",
        "  ",
    ];
    let instants = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        utc("1969-12-31T23:59:59.5"),
        utc("2024-02-29T23:59:59"),
        utc("2099-12-31T23:59:59"),
    ];
    // Plausible values per field position, so that many generated expressions parse and get evaluated.
    const BY_FIELD: [&[&str]; 7] = [
        &["0", "*", "*/5", "15/20", "59", "1-3"],
        &["0", "*", "0/30", "10-50/20", "5,7"],
        &["0", "*", "22-2", "12", "*/6"],
        &[
            "?", "*", "L", "LW", "L-3", "15W", "1W", "31", "29", "1/5", "30",
        ],
        &["*", "2", "FEB", "nov-feb", "4,6,9,11", "1/3"],
        &["?", "*", "6L", "2#5", "MON-FRI", "L", "1,7", "fri-mon"],
        &["*", "2024", "2099", "2030-2032", "1970/50", "2020"],
    ];
    let mut rng = Lcg(7);
    let mut parsed = 0;
    for round in 0..10_000 {
        let plausible = round % 2 == 0;
        let fields = if plausible {
            6 + (rng.next() % 2) as usize
        } else {
            (rng.next() % 9) as usize
        };
        let mut expr = String::new();
        for f in 0..fields {
            if f > 0 {
                expr.push(' ');
            }
            match BY_FIELD.get(f) {
                Some(choices) if plausible && !rng.next().is_multiple_of(8) => {
                    expr.push_str(choices[(rng.next() % choices.len() as u64) as usize]);
                }
                _ => {
                    for _ in 0..=(rng.next() % 4) {
                        expr.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
                    }
                }
            }
        }
        let Ok(s) = CronSchedule::parse(&expr) else {
            continue;
        };
        parsed += 1;
        for t in instants {
            for n in [s.next_after(t), s.next_at_or_after(t)]
                .into_iter()
                .flatten()
            {
                assert!(n >= t && n.year() <= MAX_YEAR, "{expr:?} from {t}: {n}");
            }
        }
    }
    assert!(
        parsed > 1_000,
        "only {parsed} generated expressions parsed; the generator is too rough"
    );
}

#[test]
fn schedules_without_occurrences_answer_none_quickly() {
    for expr in [
        "0 0 0 30 2 ?",
        "0 0 0 31 4,6,9,11 ?",
        "0 0 0 ? 2 2#5 2027",
        "0 0 0 31W 2 ?",
        "0 0 0 L-30 2 ?",
    ] {
        assert_eq!(
            schedule(expr).next_after(utc("1970-01-01T00:00:00")),
            None,
            "{expr}"
        );
    }
}
