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
//! Written by hand rather than wrapping a crate. `croner` 4.0.3, tried against this module's test vectors in
//! its Quartz setup (`seconds(Required)`, `year(Optional)`, `alternative_weekdays` for 1 = Sunday,
//! `sloppy_ranges` for `0/30`, `dom_and_dow`), failed 5 of the 71 `TABLE` rows, 1 of the 11 brute-force
//! oracles and 4 of the 14 equivalent spellings, and accepted 9 of the 53 expressions we reject:
//! - it rejects `L-n` (`L-2`, `L-30`: "Invalid start of range");
//! - it rejects wrapping ranges (`22-2` hours, `FRI-MON`, `SAT-MON`, `50-10/10`, `NOV-FEB/2`: "out of bounds");
//! - a lone day-of-week `L` never fires, where Quartz reads it as `7` (Saturday);
//! - it accepts years outside 1970–2099 (`1969`, `2100`), steps above the field's maximum (`0/60` minutes,
//!   `0/24` hours), `L`/`W`/`#` mixed into lists or ranges (`1,15W`, `1,L`, `6L,2`, `2-6#1`) and an empty list
//!   item (`1,,2`);
//! - an expression with no occurrence searches up to year 5000 (0.3 s for `0 0 0 31 4,6,9,11 ?` in a debug
//!   build) unless capped by the caller.
//!
//! Wrapping it would mean validating and rewriting every field first, which is most of this code anyway.
//! `cron` has Quartz numbering and years but no `L`/`W`/`#`; `saffron` has no seconds. Here each field is a
//! small bitset, and the search walks year → month → day → hour → minute → second, jumping to the next allowed
//! value at each level, so it is bounded by months, not seconds.
//!
//! Files: this one holds the public types ([`CronSchedule`], [`CronError`]) and the value bitset; `parse.rs`
//! reads the fields; `next.rs` evaluates the day fields per month and searches the next occurrence; tests are
//! in `tests.rs`.

mod next;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Timelike, Utc};

use next::{DayOfMonth, DayOfWeek};

/// Quartz's year range; also the bound of every search.
const MIN_YEAR: i32 = 1970;
const MAX_YEAR: i32 = 2099;
/// Error messages quote at most this many characters of the expression, so they stay one readable line.
const MAX_QUOTED_CHARS: usize = 100;

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
        parse::parse_fields(expr).map_err(|reason| CronError::new(expr, reason))
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
