//! Quartz cron expressions for connector schedules (`scheduling.<job type>.interval`, spec §5.2): parsing with
//! one-line errors, and the next fire time after an instant, evaluated in UTC. The scheduler owns *when* to ask;
//! this module only answers "when does this expression fire next".
//!
//! Semantics are Quartz's `CronExpression`, not the reference service's approximation (§5.2 REF):
//! - `sec min hour day-of-month month day-of-week [year]`, separated by any whitespace; 6 or 7 fields. Seconds
//!   are honoured. Everything is case-insensitive.
//! - `*`, `n`, `a-b`, `*/s`, `a/s` (from `a` to the field's maximum, every `s`: `0/30` is `0,30`), `a-b/s`, lists.
//!   A range whose end is below its start wraps around like Quartz (`22-2` hours, `FRI-MON`), except for years,
//!   where it is an error. Steps run from 1 to the field's maximum (Quartz's rule; 129 for years).
//! - Months `1-12`/`JAN-DEC`; days of week `1-7` = `SUN-SAT` everywhere (single values, ranges, lists, `#`, `L`).
//! - Day of month: `L`, `L-n` (n ≤ 30), `LW`, `L-nW`, `nW` (nearest weekday, never leaving the month). Day of
//!   week: `L` alone (= `7`, Saturday), `nL` (last such weekday of the month), `n#k` (k-th, 1 ≤ k ≤ 5). These
//!   forms must be the whole field, as in Quartz.
//! - Years 1970–2099 (Quartz's range); no occurrence is searched past 2099, so the search is bounded.
//! - `?` is accepted only in day-of-month and day-of-week. Quartz insists on exactly one `?` there; connector
//!   documents are written by hand too, so we use the rule users expect instead: `*` and `?` both mean "any";
//!   if exactly one of the two fields is restricted (anything but a lone `*` or `?`), that one decides; if
//!   neither is, every day matches; if both are (Quartz rejects this), a day must match both — the reference
//!   service's AND, kept for compatibility.
//!
//! Deliberate differences from Quartz: the dom/dow relaxation above; `nW` or `L-n` naming a day the month does
//! not have (`31W` in April, `L-30` in February) fires nowhere that month instead of spilling into the next
//! (Quartz's lenient calendar arithmetic); the `C` ("calendar") flag of old Quartz docs is rejected.
//!
//! Written by hand rather than wrapping a crate: `croner` (the closest) is POSIX-first and Quartz only by options
//! — `?` is a wildcard in any field, day-of-week `L`/`#` follow its own conventions (`5#L`), dom/dow are OR-ed
//! unless configured — so wrapping it would mean re-validating every field and still inheriting its edge cases;
//! `cron` has Quartz numbering and years but no `L`/`W`/`#`; `saffron` has no seconds. Here each field is a small
//! bitset, and the search walks year → month → day → hour → minute → second, jumping to the next allowed value
//! at each level, so it is bounded by months, not seconds.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};

/// Quartz's year range; also the bound of every search.
const MIN_YEAR: i32 = 1970;
const MAX_YEAR: i32 = 2099;
/// Each search step moves to a later month, day, hour or minute and a matching day resolves in a few steps,
/// so 130 years × 12 months stays far below this; it only guards against a logic error ever looping.
const MAX_SEARCH_STEPS: u32 = 20_000;
/// Error messages quote at most this many characters of the expression, so they stay one readable line.
const MAX_QUOTED_CHARS: usize = 100;

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
/// Quartz numbering: index + 1, so SUN = 1 … SAT = 7.
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const SATURDAY: u32 = 7;
const SUNDAY: u32 = 1;

/// A cron expression that could not be parsed. Displays as one line with the (quoted) expression and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {quoted}: {reason}")]
pub struct CronError {
    quoted: String,
    reason: String,
}

impl CronError {
    fn new(expr: &str, reason: String) -> Self {
        let mut shown: String = expr.chars().take(MAX_QUOTED_CHARS).collect();
        if expr.chars().nth(MAX_QUOTED_CHARS).is_some() {
            shown.push('…');
        }
        // Debug quoting escapes newlines and control characters, keeping the message on one line.
        CronError {
            quoted: format!("{shown:?}"),
            reason,
        }
    }

    /// Why the expression was rejected, without the expression.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A parsed Quartz cron expression (see the module doc for the exact semantics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    expr: String,
    seconds: ValueSet,
    minutes: ValueSet,
    hours: ValueSet,
    days_of_month: DayOfMonth,
    months: ValueSet,
    days_of_week: DayOfWeek,
    /// Offsets from [`MIN_YEAR`].
    years: ValueSet,
}

impl CronSchedule {
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        Self::parse_fields(expr).map_err(|reason| CronError::new(expr, reason))
    }

    /// Earliest fire time `>= t`; a `t` with a sub-second part rounds up to the next whole second.
    pub fn next_at_or_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = t.naive_utc();
        let whole = t.with_nanosecond(0)?;
        let from = if t.nanosecond() == 0 {
            whole
        } else {
            whole.checked_add_signed(TimeDelta::seconds(1))?
        };
        self.search(from).map(|n| n.and_utc())
    }

    /// Earliest fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let whole = t.naive_utc().with_nanosecond(0)?;
        self.search(whole.checked_add_signed(TimeDelta::seconds(1))?)
            .map(|n| n.and_utc())
    }

    /// The expression as it was given.
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    fn parse_fields(expr: &str) -> Result<CronSchedule, String> {
        let upper = expr.to_ascii_uppercase();
        let fields: Vec<&str> = upper.split_whitespace().collect();
        let (sec, min, hour, dom, month, dow, year) = match fields.as_slice() {
            [s, mi, h, d, mo, w] => (*s, *mi, *h, *d, *mo, *w, "*"),
            [s, mi, h, d, mo, w, y] => (*s, *mi, *h, *d, *mo, *w, *y),
            other => {
                return Err(format!(
                    "expected 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), found {}",
                    other.len()
                ))
            }
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

    /// Earliest matching instant `>= from`, walking down from years to seconds and jumping to the next allowed
    /// value at each level; a level with no value left moves the level above forward and resets those below.
    fn search(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut c = if from.year() < MIN_YEAR {
            Cursor::start_of_year(MIN_YEAR)
        } else {
            Cursor::at(from)
        };
        for _ in 0..MAX_SEARCH_STEPS {
            let year = self.next_year(c.year)?;
            if year != c.year {
                c = Cursor::start_of_year(year);
            }
            let Some(month) = self.months.next_from(c.month) else {
                c = Cursor::start_of_year(c.year + 1);
                continue;
            };
            if month != c.month {
                c = Cursor::start_of_month(c.year, month);
            }
            let Some(day) = self
                .days_in(&MonthView::new(c.year, c.month)?)
                .next_from(c.day)
            else {
                c = Cursor::start_of_month(c.year, c.month + 1);
                continue;
            };
            if day != c.day {
                c.set_day(day);
            }
            let Some(hour) = self.hours.next_from(c.hour) else {
                c.set_day(c.day + 1);
                continue;
            };
            if hour != c.hour {
                c.set_hour(hour);
            }
            let Some(minute) = self.minutes.next_from(c.minute) else {
                c.set_hour(c.hour + 1);
                continue;
            };
            if minute != c.minute {
                c.set_minute(minute);
            }
            let Some(second) = self.seconds.next_from(c.second) else {
                c.set_minute(c.minute + 1);
                continue;
            };
            return NaiveDate::from_ymd_opt(c.year, c.month, day)?
                .and_hms_opt(hour, minute, second);
        }
        None
    }

    fn next_year(&self, year: i32) -> Option<i32> {
        if year > MAX_YEAR {
            return None;
        }
        let offset = u32::try_from(year - MIN_YEAR).ok()?;
        let next = self.years.next_from(offset)?;
        MIN_YEAR.checked_add(i32::try_from(next).ok()?)
    }

    /// The days of one month that match day-of-month and day-of-week together (see the module doc).
    fn days_in(&self, month: &MonthView) -> ValueSet {
        let all = month.all_days();
        match (
            self.days_of_month.days_in(month),
            self.days_of_week.days_in(month),
        ) {
            (None, None) => all,
            (Some(days), None) | (None, Some(days)) => days.intersect(all),
            (Some(dom), Some(dow)) => dom.intersect(dow).intersect(all),
        }
    }
}

impl FromStr for CronSchedule {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronSchedule::parse(s)
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// Day-of-month field. `Any` is `*` or `?`, i.e. "not restricted".
#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    Any,
    Days(ValueSet),
    /// `L`, `L-n`, `LW`, `L-nW`: `offset` days before the last day, optionally moved to the nearest weekday.
    Last {
        offset: u32,
        nearest_weekday: bool,
    },
    /// `nW`.
    NearestWeekday(u32),
}

impl DayOfMonth {
    /// `None` when the field does not restrict the day.
    fn days_in(&self, month: &MonthView) -> Option<ValueSet> {
        match self {
            DayOfMonth::Any => None,
            DayOfMonth::Days(days) => Some(*days),
            DayOfMonth::Last {
                offset,
                nearest_weekday,
            } => {
                let day = month.len.checked_sub(*offset).filter(|d| *d >= 1);
                let day = if *nearest_weekday {
                    day.and_then(|d| month.nearest_weekday(d))
                } else {
                    day
                };
                Some(ValueSet::of(day))
            }
            DayOfMonth::NearestWeekday(day) => Some(ValueSet::of(month.nearest_weekday(*day))),
        }
    }
}

/// Day-of-week field, Quartz numbering (1 = Sunday). `Any` is `*` or `?`, i.e. "not restricted".
#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    Any,
    Days(ValueSet),
    /// `nL`: the last such weekday of the month.
    Last(u32),
    /// `n#k`: the k-th such weekday of the month.
    Nth {
        weekday: u32,
        nth: u32,
    },
}

impl DayOfWeek {
    /// `None` when the field does not restrict the day.
    fn days_in(&self, month: &MonthView) -> Option<ValueSet> {
        match self {
            DayOfWeek::Any => None,
            DayOfWeek::Days(weekdays) => {
                let mut days = ValueSet::default();
                for day in (1..=month.len).filter(|d| weekdays.contains(month.weekday(*d))) {
                    days.insert(day);
                }
                Some(days)
            }
            DayOfWeek::Last(weekday) => {
                let back = (month.weekday(month.len) + 7 - weekday) % 7;
                Some(ValueSet::of(month.len.checked_sub(back)))
            }
            DayOfWeek::Nth { weekday, nth } => {
                let first = 1 + (weekday + 7 - month.weekday(1)) % 7;
                Some(ValueSet::of(
                    Some(first + 7 * (nth - 1)).filter(|d| *d <= month.len),
                ))
            }
        }
    }
}

/// Length and weekdays of one calendar month.
struct MonthView {
    len: u32,
    /// Quartz weekday (1 = Sunday) of the 1st.
    first_weekday: u32,
}

impl MonthView {
    fn new(year: i32, month: u32) -> Option<MonthView> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            first.with_month(month + 1)?
        };
        let len = u32::try_from(next.signed_duration_since(first).num_days()).ok()?;
        Some(MonthView {
            len,
            first_weekday: first.weekday().number_from_sunday(),
        })
    }

    fn weekday(&self, day: u32) -> u32 {
        (self.first_weekday - 1 + day - 1) % 7 + 1
    }

    fn all_days(&self) -> ValueSet {
        let mut days = ValueSet::default();
        for day in 1..=self.len {
            days.insert(day);
        }
        days
    }

    /// Quartz's `W`: a Saturday moves to Friday, a Sunday to Monday, never out of the month (the 1st on a
    /// Saturday moves to Monday the 3rd; the last day on a Sunday moves to Friday). A day the month does not
    /// have has no nearest weekday.
    fn nearest_weekday(&self, day: u32) -> Option<u32> {
        if day == 0 || day > self.len {
            return None;
        }
        Some(match self.weekday(day) {
            SATURDAY if day == 1 => 3,
            SATURDAY => day - 1,
            SUNDAY if day == self.len => day - 2,
            SUNDAY => day + 1,
            _ => day,
        })
    }
}

/// Position of the search; fields past their range (hour 24, day 32, month 13) are resolved by the next step.
struct Cursor {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Cursor {
    fn at(t: NaiveDateTime) -> Cursor {
        Cursor {
            year: t.year(),
            month: t.month(),
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
            second: t.second(),
        }
    }

    fn start_of_year(year: i32) -> Cursor {
        Cursor::start_of_month(year, 1)
    }

    fn start_of_month(year: i32, month: u32) -> Cursor {
        Cursor {
            year,
            month,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }

    fn set_day(&mut self, day: u32) {
        (self.day, self.hour, self.minute, self.second) = (day, 0, 0, 0);
    }

    fn set_hour(&mut self, hour: u32) {
        (self.hour, self.minute, self.second) = (hour, 0, 0);
    }

    fn set_minute(&mut self, minute: u32) {
        (self.minute, self.second) = (minute, 0);
    }
}

/// A set of small values (0..192): field values, day numbers, or year offsets from [`MIN_YEAR`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ValueSet([u64; 3]);

impl ValueSet {
    const CAPACITY: u32 = 192;

    fn of(value: Option<u32>) -> ValueSet {
        let mut set = ValueSet::default();
        if let Some(v) = value {
            set.insert(v);
        }
        set
    }

    /// Values past the capacity are ignored; the parser never produces them.
    fn insert(&mut self, value: u32) {
        if value < Self::CAPACITY {
            self.0[(value / 64) as usize] |= 1 << (value % 64);
        }
    }

    fn contains(&self, value: u32) -> bool {
        value < Self::CAPACITY && self.0[(value / 64) as usize] & (1 << (value % 64)) != 0
    }

    fn intersect(self, other: ValueSet) -> ValueSet {
        ValueSet([
            self.0[0] & other.0[0],
            self.0[1] & other.0[1],
            self.0[2] & other.0[2],
        ])
    }

    /// The smallest member `>= value`.
    fn next_from(&self, value: u32) -> Option<u32> {
        let mut word = (value / 64) as usize;
        let mut bits = *self.0.get(word)? & (u64::MAX << (value % 64));
        loop {
            if bits != 0 {
                return Some(word as u32 * 64 + bits.trailing_zeros());
            }
            word += 1;
            bits = *self.0.get(word)?;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone, Weekday};

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
            ("", "expected 6 or 7 fields (sec min hour day-of-month month day-of-week [year]), found 0"),
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
            ("0 99999999999999999999 * * * ?", "minute 99999999999999999999 out of range 0-59"),
            ("0 0 0 * foo ?", "unknown month name 'FOO'"),
            ("0 0 0 * JULY ?", "unknown month name 'JULY'"),
            ("0 0 0 ? * FUN", "unknown day name 'FUN'"),
            ("0 0 0 ? * MON-FUN", "unknown day name 'FUN'"),
            ("0 0 x * * ?", "invalid hour value 'X'"),
            ("0 ? * * * ?", "'?' is only allowed in day-of-month or day-of-week"),
            ("0 0 0 ? ? ?", "'?' is only allowed in day-of-month or day-of-week"),
            ("0 0 0 1#2 * ?", "'#' is only allowed in day-of-week"),
            ("0 0 0 * 1#2 ?", "'#' is only allowed in day-of-week"),
            ("0 0 0 ? * 2W", "'W' is only allowed in day-of-month"),
            ("0 0 L * * ?", "'L' is only allowed in day-of-month or day-of-week"),
            ("0 0 0 * L ?", "'L' is only allowed in day-of-month or day-of-week"),
            ("0 */0 * * * ?", "minute step 0 out of range 1-59"),
            ("0 0/60 * * * ?", "minute step 60 out of range 1-59"),
            ("0 0 0/24 * * ?", "hour step 24 out of range 1-23"),
            ("0 0 0 1 1 ? 2030-2020", "year range 2030-2020 is inverted"),
            ("0 0 0 ? * 6#6", "day-of-week occurrence after '#' 6 out of range 1-5"),
            ("0 0 0 ? * 6#0", "day-of-week occurrence after '#' 0 out of range 1-5"),
            ("0 0 0 ? * 6#", "invalid day-of-week occurrence after '#' ''"),
            ("0 0 0 L-31 * ?", "day-of-month offset from the last day 31 out of range 0-30"),
            ("0 0 0 L2 * ?", "invalid day-of-month value 'L2'"),
            ("0 0 0 1-15W * ?", "'W' needs a single day of month (e.g. '15W')"),
            ("0 0 0 1,15W * ?", "'W' must be the whole day-of-month field (e.g. '15W')"),
            ("0 0 0 1,L * ?", "'L' must be the whole day-of-month field (e.g. 'L')"),
            ("0 0 0 ? * 6L,2", "'L' must be the whole day-of-week field (e.g. 'L')"),
            ("0 0 0 ? * 2-6L", "'L' in day-of-week needs a single day (e.g. '6L')"),
            ("0 0 0 ? * 2-6#1", "'#' needs a single day of week (e.g. '6#3')"),
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
                t.second() % 15 == 0
                    && (10..=20).contains(&t.minute())
                    && (t.minute() - 10) % 3 == 0
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
                let mut candidate =
                    first + (oracle.step - first.rem_euclid(oracle.step)) % oracle.step;
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
}
