//! Calendars: each mailbox user's events — single, recurring with every pattern and range type,
//! cancelled, all-day and online meetings.

use super::super::time::{self, DAY_MS, MINUTE_MS};
use super::super::words::{self, escape};
use super::super::*;
use super::*;

impl Generator {
    // ---- calendars -------------------------------------------------------------------------------

    pub(super) fn events(&mut self) {
        let licensed = self.licensed();
        for &u in &licensed {
            let count = self
                .rng
                .between(self.p.events_per_user.0, self.p.events_per_user.1);
            // The delegated user's calendar holds every recurrence pattern, a cancelled and an all-day event.
            let count = if u == self.ds.me { count.max(8) } else { count };
            for n in 0..count {
                let forced = (u == self.ds.me).then_some(n);
                let event = self.event(u, &licensed, forced);
                self.ds.users[u].events.push(event);
            }
        }
    }

    fn event(&mut self, owner: usize, licensed: &[usize], forced: Option<usize>) -> Event {
        const PATTERNS: &[&str] = &[
            "daily",
            "weekly",
            "absoluteMonthly",
            "relativeMonthly",
            "absoluteYearly",
            "relativeYearly",
        ];
        const RANGES: &[&str] = &["endDate", "noEnd", "numbered"];
        let created = self.time_in_2024(30);
        let start = created + self.rng.range(1, 20) as i64 * DAY_MS;
        let start = start - start % (30 * MINUTE_MS);
        let duration = self.rng.range(1, 4) as i64 * 30 * MINUTE_MS;
        let owner_user = self.ds.users[owner].clone();
        let owner_addr = (
            owner_user.display_name.clone(),
            owner_user.mail.clone().unwrap_or_default(),
        );
        let is_organizer = self.rng.chance(0.6);
        let organizer = if is_organizer {
            owner_addr.clone()
        } else {
            let o = &self.ds.users[*self.rng.pick(licensed)];
            (o.display_name.clone(), o.mail.clone().unwrap_or_default())
        };
        let attendee_count = self.rng.between(0, 5);
        let mut attendees = Vec::new();
        for i in 0..attendee_count {
            let a = &self.ds.users[*self.rng.pick(licensed)];
            let entry = (
                a.display_name.clone(),
                a.mail.clone().unwrap_or_default(),
                if i == 0 {
                    "required"
                } else {
                    *self.rng.pick(&["required", "optional"])
                },
                *self
                    .rng
                    .pick(&["none", "accepted", "tentativelyAccepted", "declined"]),
            );
            if !attendees
                .iter()
                .any(|x: &(String, String, &str, &str)| x.1 == entry.1)
            {
                attendees.push(entry);
            }
        }
        if self.rng.chance(0.1) {
            attendees.push((
                "Conf Room Adams".into(),
                format!("confroomadams@{}", self.ds.tenant.domain),
                "resource",
                "accepted",
            ));
        }
        // The delegated user's first events cover each recurrence pattern, a cancelled and an all-day one.
        let (recurring_kind, cancelled, all_day) = match forced {
            Some(n) if n < PATTERNS.len() => (Some(n), false, false),
            Some(6) => (None, true, false),
            Some(7) => (None, false, true),
            _ => (
                self.rng.chance(0.3).then(|| self.rng.below(6) as usize),
                self.rng.chance(0.1),
                self.rng.chance(0.05),
            ),
        };
        let recurrence = recurring_kind.map(|p| {
            let range_type = RANGES[(p + self.rng.below(3) as usize) % 3];
            let weekday = time::weekday(start);
            let days = if PATTERNS[p] == "weekly" && self.rng.chance(0.5) {
                vec!["monday", "wednesday"]
            } else {
                vec![weekday]
            };
            let relative = PATTERNS[p].starts_with("relative");
            let absolute = PATTERNS[p].starts_with("absolute");
            let yearly = PATTERNS[p].ends_with("Yearly");
            Recurrence {
                pattern_type: PATTERNS[p],
                interval: if PATTERNS[p] == "daily" {
                    self.rng.range(1, 3) as u32
                } else {
                    1
                },
                month: if yearly { time::month_of(start) } else { 0 },
                day_of_month: if absolute {
                    time::day_of_month(start)
                } else {
                    0
                },
                days_of_week: if absolute || PATTERNS[p] == "daily" {
                    Vec::new()
                } else {
                    days
                },
                first_day_of_week: "sunday",
                index: if relative {
                    self.rng.pick_copy(&["first", "second", "last"])
                } else {
                    "first"
                },
                range_type,
                start_date: time::date(start),
                end_date: if range_type == "endDate" {
                    time::date(start + 180 * DAY_MS)
                } else {
                    "0001-01-01".into()
                },
                occurrences: if range_type == "numbered" { 10 } else { 0 },
            }
        });
        let online = self.rng.chance(0.4);
        let subject = self.rng.pick(words::MEETING_SUBJECTS).to_string();
        let preview = words::sentence(&mut self.rng);
        let locations: Vec<String> = if online {
            vec!["Microsoft Teams Meeting".into()]
        } else {
            (0..self.rng.between(0, 2))
                .map(|_| self.rng.pick(words::LOCATIONS).to_string())
                .collect()
        };
        let (start, end) = if all_day {
            let day = start - start % DAY_MS;
            (day, day + DAY_MS)
        } else {
            (start, start + duration)
        };
        let modified =
            created + self.rng.below(5 * DAY_MS as u64) as i64 + self.rng.below(1000) as i64;
        let id = self.event_id();
        Event {
            seq: self.ds.take_seq(),
            ical_uid: format!("040000008200E00074C5B7101A82E008{}", self.rng.hex(80).to_uppercase()),
            change_key: self.rng.chars(B64URL, 28),
            id,
            created_ms: created,
            modified_ms: modified,
            body_html: format!(
                "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n<div>{}</div>\r\n</body>\r\n</html>\r\n",
                escape(&preview)
            ),
            body_preview: preview,
            subject,
            categories: if self.rng.chance(0.2) {
                vec![self.rng.pick(words::CATEGORIES).to_string()]
            } else {
                Vec::new()
            },
            start_ms: start,
            end_ms: end,
            time_zone: self.rng.pick_copy(words::TIME_ZONES),
            is_all_day: all_day,
            is_cancelled: cancelled,
            is_organizer,
            join_url: online.then(|| {
                format!(
                    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0",
                    self.rng.chars(B64URL, 40)
                )
            }),
            reminder_on: self.rng.chance(0.8),
            reminder_minutes: *self.rng.pick(&[0, 5, 15, 30, 1080]),
            importance: self.rng.pick_copy(&["normal", "normal", "high", "low"]),
            show_as: self.rng.pick_copy(&["busy", "tentative", "free", "oof"]),
            recurrence,
            attendees,
            organizer,
            locations,
        }
    }
}
