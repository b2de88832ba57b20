//! Finding the next occurrence: what the day-of-month and day-of-week fields allow in a given month, and the
//! search that walks year → month → day → hour → minute → second from an instant.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::{CronSchedule, ValueSet, MAX_YEAR, MIN_YEAR};

/// Each search step moves to a later month, day, hour or minute and a matching day resolves in a few steps,
/// so 130 years × 12 months stays far below this; it only guards against a logic error ever looping.
const MAX_SEARCH_STEPS: u32 = 20_000;
/// Quartz weekday numbers (1 = Sunday) of the weekend, for `W`.
const SATURDAY: u32 = 7;
const SUNDAY: u32 = 1;

impl CronSchedule {
    /// Earliest matching instant `>= from`, walking down from years to seconds and jumping to the next allowed
    /// value at each level; a level with no value left moves the level above forward and resets those below.
    pub(super) fn search(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
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

/// Day-of-month field. `Any` is `*` or `?`, i.e. "not restricted".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DayOfMonth {
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
pub(super) enum DayOfWeek {
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
