//! Reading a cron expression: splitting it into fields, and each field's lists, ranges, steps, names and the
//! special forms (`?`, `L`, `W`, `#`) into value sets, with one-line reasons for what is rejected.

use super::next::{DayOfMonth, DayOfWeek};
use super::{CronSchedule, ValueSet, MAX_YEAR, MIN_YEAR};

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
/// Quartz numbering: index + 1, so SUN = 1 … SAT = 7.
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// What a wrong number of fields is told.
const FIELD_COUNT: &str =
    "expected 6 or 7 fields (sec min hour day-of-month month day-of-week [year])";

/// The fields of `expr`, or why they are invalid (without the expression: the caller quotes it).
pub(super) fn parse_fields(expr: &str) -> Result<CronSchedule, String> {
    let upper = expr.to_ascii_uppercase();
    let fields: Vec<&str> = upper.split_whitespace().collect();
    let (sec, min, hour, dom, month, dow, year) = match fields.as_slice() {
        [s, mi, h, d, mo, w] => (*s, *mi, *h, *d, *mo, *w, "*"),
        [s, mi, h, d, mo, w, y] => (*s, *mi, *h, *d, *mo, *w, *y),
        other => return Err(format!("{FIELD_COUNT}, found {}", other.len())),
    };
    Ok(CronSchedule {
        expr: expr.to_owned(),
        seconds: parse_list(Field::Second, sec)?,
        minutes: parse_list(Field::Minute, min)?,
        hours: parse_list(Field::Hour, hour)?,
        days_of_month: parse_day_of_month(dom)?,
        months: parse_list(Field::Month, month)?,
        days_of_week: parse_day_of_week(dow)?,
        years: parse_list(Field::Year, year)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
            Field::Year => "year",
        }
    }

    fn range(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (1, 7),
            Field::Year => (MIN_YEAR as u32, MAX_YEAR as u32),
        }
    }

    /// Quartz rejects increments above the field's maximum (59 for minutes, 23 for hours, 31 for days…).
    fn max_step(self) -> u32 {
        match self {
            Field::Year => (MAX_YEAR - MIN_YEAR) as u32,
            other => other.range().1,
        }
    }

    /// What the field's values are stored as (years as offsets, so they fit a [`ValueSet`]).
    fn slot(self, value: u32) -> u32 {
        match self {
            Field::Year => value - MIN_YEAR as u32,
            _ => value,
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTH_NAMES,
            Field::DayOfWeek => &DAY_NAMES,
            _ => &[],
        }
    }
}

/// A comma list of `*`, `n`, `a-b`, each optionally `/step`.
fn parse_list(field: Field, text: &str) -> Result<ValueSet, String> {
    let mut set = ValueSet::default();
    for item in text.split(',') {
        parse_item(field, item, &mut set)?;
    }
    Ok(set)
}

fn parse_item(field: Field, item: &str, set: &mut ValueSet) -> Result<(), String> {
    if item.is_empty() {
        return Err(format!("empty {} list item", field.name()));
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(parse_step(field, step)?)),
        None => (item, None),
    };
    let (min, max) = field.range();
    let (start, stop) = if base == "*" {
        (min, max)
    } else if let Some((a, b)) = base.split_once('-') {
        (parse_value(field, a)?, parse_value(field, b)?)
    } else {
        let value = parse_value(field, base)?;
        (value, if step.is_some() { max } else { value })
    };
    if stop < start && field == Field::Year {
        return Err(format!("year range {start}-{stop} is inverted"));
    }
    // Like Quartz, `22-2` (hours) or `FRI-MON` wrap around past the field's maximum.
    let span = max - min + 1;
    let end = if stop < start { stop + span } else { stop };
    let step = step.unwrap_or(1);
    let mut i = start;
    while i <= end {
        set.insert(field.slot(min + (i - min) % span));
        i += step;
    }
    Ok(())
}

fn parse_step(field: Field, text: &str) -> Result<u32, String> {
    let what = format!("{} step", field.name());
    parse_number(text, 1, field.max_step(), &what)
}

/// A number within `min..=max`, for steps, `L-n` offsets and `#k`.
fn parse_number(text: &str, min: u32, max: u32, what: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid {what} '{text}'"));
    }
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{what} {text} out of range {min}-{max}")),
    }
}

/// One value of a field: a number in range, or a month / day name.
fn parse_value(field: Field, token: &str) -> Result<u32, String> {
    let (min, max) = field.range();
    if token.is_empty() {
        return Err(format!("missing {} value", field.name()));
    }
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return match token.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!("{} {token} out of range {min}-{max}", field.name())),
        };
    }
    if let Some(index) = field.names().iter().position(|name| *name == token) {
        return Ok(index as u32 + 1);
    }
    if let Some(message) = misplaced_special(field, token) {
        return Err(message);
    }
    match field {
        Field::Month if token.chars().any(|c| c.is_ascii_alphabetic()) => {
            Err(format!("unknown month name '{token}'"))
        }
        Field::DayOfWeek if token.chars().any(|c| c.is_ascii_alphabetic()) => {
            Err(format!("unknown day name '{token}'"))
        }
        _ => Err(format!("invalid {} value '{token}'", field.name())),
    }
}

/// A clear message for `?`, `#`, `L` or `W` where they cannot stand, instead of "invalid value".
fn misplaced_special(field: Field, token: &str) -> Option<String> {
    let letters: String = token.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    let specials: [(char, bool, &[Field], &str); 4] = [
        (
            '?',
            token.contains('?'),
            &[Field::DayOfMonth, Field::DayOfWeek],
            "day-of-month or day-of-week",
        ),
        ('#', token.contains('#'), &[Field::DayOfWeek], "day-of-week"),
        (
            'W',
            letters == "W" || letters == "LW",
            &[Field::DayOfMonth],
            "day-of-month",
        ),
        (
            'L',
            letters == "L" || letters == "LW",
            &[Field::DayOfMonth, Field::DayOfWeek],
            "day-of-month or day-of-week",
        ),
    ];
    let (special, _, allowed, place) = specials.into_iter().find(|(_, present, _, _)| *present)?;
    Some(if allowed.contains(&field) {
        format!(
            "'{special}' must be the whole {} field (e.g. '{}')",
            field.name(),
            example(special)
        )
    } else {
        format!("'{special}' is only allowed in {place}")
    })
}

fn example(special: char) -> &'static str {
    match special {
        '?' => "?",
        '#' => "6#3",
        'W' => "15W",
        _ => "L",
    }
}

fn parse_day_of_month(text: &str) -> Result<DayOfMonth, String> {
    if text == "?" || text == "*" {
        return Ok(DayOfMonth::Any);
    }
    if !text.contains(',') {
        if let Some(rest) = text.strip_prefix('L') {
            let (rest, nearest_weekday) = match rest.strip_suffix('W') {
                Some(rest) => (rest, true),
                None => (rest, false),
            };
            let offset = match rest.strip_prefix('-') {
                None if rest.is_empty() => 0,
                Some(offset) => {
                    parse_number(offset, 0, 30, "day-of-month offset from the last day")?
                }
                None => return Err(format!("invalid day-of-month value '{text}'")),
            };
            return Ok(DayOfMonth::Last {
                offset,
                nearest_weekday,
            });
        }
        if let Some(day) = text.strip_suffix('W') {
            if day.contains(['-', '/', '*']) {
                return Err("'W' needs a single day of month (e.g. '15W')".to_owned());
            }
            return Ok(DayOfMonth::NearestWeekday(parse_value(
                Field::DayOfMonth,
                day,
            )?));
        }
    }
    Ok(DayOfMonth::Days(parse_list(Field::DayOfMonth, text)?))
}

fn parse_day_of_week(text: &str) -> Result<DayOfWeek, String> {
    if text == "?" || text == "*" {
        return Ok(DayOfWeek::Any);
    }
    if !text.contains(',') {
        if let Some(day) = text.strip_suffix('L').filter(|d| !d.is_empty()) {
            if day.contains(['-', '/', '*']) {
                return Err("'L' in day-of-week needs a single day (e.g. '6L')".to_owned());
            }
            return Ok(DayOfWeek::Last(parse_value(Field::DayOfWeek, day)?));
        }
        if let Some((day, nth)) = text.split_once('#') {
            if day.contains(['-', '/', '*']) {
                return Err("'#' needs a single day of week (e.g. '6#3')".to_owned());
            }
            let weekday = parse_value(Field::DayOfWeek, day)?;
            let nth = parse_number(nth, 1, 5, "day-of-week occurrence after '#'")?;
            return Ok(DayOfWeek::Nth { weekday, nth });
        }
    }
    // A lone `L` is just 7 (Saturday), as in Quartz.
    let text = if text == "L" { "7" } else { text };
    Ok(DayOfWeek::Days(parse_list(Field::DayOfWeek, text)?))
}
