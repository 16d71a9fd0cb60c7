//! Sending windows: office hours on chosen weekdays, in a time zone, as
//! `[rate] window` and `days` say (and the time zones of `[rate]
//! timezone` and `timezone_column`). A value of the campaign file, so it
//! lives in config; the schedule asks it when a letter may go.
//!
//! Hours are local wall-clock time, so a window follows daylight saving
//! time: "09:00-17:00" in New York is 13:00-21:00 UTC in summer and
//! 14:00-22:00 UTC in winter.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;

const MINUTES_PER_DAY: u32 = 24 * 60;

/// The hours of a day and the weekdays on which letters may go. The time
/// zone is the letter's (its row's zone, else `[rate] timezone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Opening, minutes after local midnight.
    open: u32,
    /// Closing, minutes after local midnight (1440 = midnight); a closing
    /// at or before the opening means the window runs past midnight.
    close: u32,
    /// The weekdays on which the window opens, bit 0 = Monday.
    days: u8,
}

/// A value of `window`, `days` or a time zone that cannot be used, with
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WindowError(pub String);

impl Window {
    /// Parses `window = "HH:MM-HH:MM"` and `days` (default: every day).
    pub fn parse(window: &str, days: Option<&str>) -> Result<Window, WindowError> {
        let bad = || {
            WindowError(format!(
                "{window:?} is not a window: write the opening and closing hours as \"HH:MM-HH:MM\", e.g. \"09:00-17:00\""
            ))
        };
        let (a, b) = window.split_once('-').ok_or_else(bad)?;
        let open = minutes(a.trim())
            .filter(|m| *m < MINUTES_PER_DAY)
            .ok_or_else(bad)?;
        let close = minutes(b.trim()).ok_or_else(bad)?;
        if open == close {
            return Err(WindowError(format!(
                "{window:?} opens and closes at the same time: for the whole day write \"00:00-24:00\""
            )));
        }
        let days = match days {
            Some(d) => parse_days(d)?,
            None => 0b111_1111,
        };
        Ok(Window { open, close, days })
    }

    fn opens_on(&self, day: Weekday) -> bool {
        self.days & (1 << day.num_days_from_monday()) != 0
    }

    /// Whether a letter to a recipient in `zone` may go at `at`.
    pub fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&zone);
        let m = local.hour() * 60 + local.minute();
        let day = local.weekday();
        if self.open < self.close {
            self.opens_on(day) && self.open <= m && m < self.close
        } else {
            // Past midnight: the evening of an opening day, or the early
            // hours after one.
            (self.opens_on(day) && m >= self.open) || (self.opens_on(day.pred()) && m < self.close)
        }
    }

    /// When the window is next open for `zone`: `now` if it is open now.
    pub fn opens_at(&self, zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_open(zone, now) {
            return now;
        }
        let today = now.with_timezone(&zone).date_naive();
        let at =
            NaiveTime::from_hms_opt(self.open / 60, self.open % 60, 0).unwrap_or(NaiveTime::MIN);
        // The window opens at least once a week; a day either side covers
        // dates that differ between the zone and UTC.
        (-1..=8)
            .filter_map(|d| today.checked_add_signed(TimeDelta::days(d)))
            .filter(|date| self.opens_on(date.weekday()))
            .map(|date| instant(zone, date, at))
            .filter(|t| *t > now)
            .min()
            .unwrap_or(now)
    }
}

/// The instant of local `date` `time` in `zone`. An hour that happens
/// twice (autumn) is the first; an hour skipped by daylight saving time
/// (spring) is the first minute after the gap.
fn instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    for step in 0..=24 * 60 {
        match zone.from_local_datetime(&(local + TimeDelta::minutes(step))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.to_utc(),
            LocalResult::None => continue,
        }
    }
    local.and_utc()
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.open), hm(self.close))?;
        if self.days != 0b111_1111 {
            let days: Vec<String> = (0..7u8)
                .filter(|d| self.days & (1 << d) != 0)
                .filter_map(|d| Weekday::try_from(d).ok())
                .map(|d| d.to_string().to_ascii_lowercase())
                .collect();
            write!(f, " on {}", days.join(","))?;
        }
        Ok(())
    }
}

/// "HH:MM" → minutes after midnight; "24:00" is allowed (a closing).
fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// "mon-fri", "mon,wed,fri", "sat-sun", "fri-mon" (wraps), full names too.
fn parse_days(s: &str) -> Result<u8, WindowError> {
    let bad = |part: &str| {
        WindowError(format!(
            "{part:?} in {s:?} is not a weekday: write days as \"mon-fri\" or \"mon,wed,fri\""
        ))
    };
    let day = |part: &str| -> Result<Weekday, WindowError> {
        let p = part.trim().to_ascii_lowercase();
        let d: Weekday = p.parse().map_err(|_| bad(part))?;
        Ok(d)
    };
    let mut mask = 0u8;
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (mut d, end) = (day(a)?, day(b)?);
                loop {
                    mask |= 1 << d.num_days_from_monday();
                    if d == end {
                        break;
                    }
                    d = d.succ();
                }
            }
            None => mask |= 1 << day(part)?.num_days_from_monday(),
        }
    }
    Ok(mask)
}

/// An IANA time zone name ("America/New_York"); the error says what was
/// meant when only the case is wrong.
pub fn parse_zone(s: &str) -> Result<Tz, WindowError> {
    let s = s.trim();
    s.parse::<Tz>().map_err(|_| {
        let hint = chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(s))
            .map(|z| format!(" (did you mean {}?)", z.name()))
            .unwrap_or_default();
        WindowError(format!(
            "{s:?} is not an IANA time zone{hint}: write a name like \"America/New_York\", \"Europe/Berlin\" or \"UTC\""
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn parses_and_refuses() {
        let w = Window::parse("09:00-17:00", Some("mon-fri")).unwrap();
        assert_eq!((w.open, w.close, w.days), (540, 1020, 0b001_1111));
        assert_eq!(
            Window::parse("9:30-24:00", Some("Mon,WED, friday"))
                .unwrap()
                .days,
            0b001_0101
        );
        assert_eq!(
            Window::parse("22:00-06:00", Some("fri-mon")).unwrap().days,
            0b111_0001
        );
        for bad in [
            "9-17",
            "09:00",
            "25:00-26:00",
            "09:00-17:60",
            "24:00-05:00",
            "09:00-09:00",
        ] {
            assert!(Window::parse(bad, None).is_err(), "{bad}");
        }
        let e = Window::parse("09:00-17:00", Some("mon-fry")).unwrap_err();
        assert!(e.0.contains("\"fry\""), "{e}");
        assert!(parse_zone("America/New_York").is_ok());
        let e = parse_zone("america/new_york").unwrap_err();
        assert!(e.0.contains("did you mean America/New_York?"), "{e}");
        assert!(parse_zone("Mars/Olympus").is_err());
        assert_eq!(w.to_string(), "09:00-17:00 on mon,tue,wed,thu,fri");
    }

    #[test]
    fn open_hours_and_weekdays_in_the_zone() {
        let w = Window::parse("09:00-17:00", Some("mon-fri")).unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // Tue 2026-12-01 13:59Z is 08:59 in New York (EST, UTC-5).
        assert!(!w.is_open(ny, utc("2026-12-01T13:59:00Z")));
        assert!(w.is_open(ny, utc("2026-12-01T14:00:00Z")));
        assert!(w.is_open(ny, utc("2026-12-01T21:59:59Z")));
        assert!(!w.is_open(ny, utc("2026-12-01T22:00:00Z")));
        assert_eq!(
            w.opens_at(ny, utc("2026-12-01T22:00:00Z")),
            utc("2026-12-02T14:00:00Z")
        );
        // Friday evening → Monday morning.
        assert_eq!(
            w.opens_at(ny, utc("2026-12-04T23:00:00Z")),
            utc("2026-12-07T14:00:00Z")
        );
        // Open now: now.
        let now = utc("2026-12-01T15:00:00Z");
        assert_eq!(w.opens_at(ny, now), now);
        // The same instant is outside Tokyo's hours (00:00 on Wednesday).
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert!(!w.is_open(tokyo, now));
        assert_eq!(w.opens_at(tokyo, now), utc("2026-12-02T00:00:00Z"));
    }

    #[test]
    fn past_midnight() {
        let w = Window::parse("22:00-02:00", Some("fri")).unwrap();
        let z = Tz::UTC;
        assert!(w.is_open(z, utc("2026-12-04T23:00:00Z"))); // Fri 23:00
        assert!(w.is_open(z, utc("2026-12-05T01:59:00Z"))); // Sat 01:59
        assert!(!w.is_open(z, utc("2026-12-05T02:00:00Z")));
        assert!(!w.is_open(z, utc("2026-12-05T23:00:00Z"))); // Sat 23:00
        assert_eq!(
            w.opens_at(z, utc("2026-12-05T02:00:00Z")),
            utc("2026-12-11T22:00:00Z")
        );
    }

    #[test]
    fn hours_and_minutes_are_read_strictly() {
        // Each refused (cargo-mutants, 2026-12-05: the closing's hour and
        // the digits' count were not checked by a test).
        for bad in [
            "09:00-24:30",
            "09:00-25:00",
            "9:5-17:00",
            "09:005-17:00",
            "0009:00-17:00",
            ":30-17:00",
        ] {
            assert!(Window::parse(bad, None).is_err(), "{bad}");
        }
        assert_eq!(minutes("9:05"), Some(545));
        assert_eq!(minutes("24:00"), Some(1440));
    }

    #[test]
    fn the_minutes_of_the_hour_count() {
        // 09:30 opens at half past, not on the hour.
        let w = Window::parse("09:30-17:00", None).unwrap();
        let z = Tz::UTC;
        assert!(!w.is_open(z, utc("2026-12-01T09:15:00Z")));
        assert!(w.is_open(z, utc("2026-12-01T09:45:00Z")));
        assert!(w.is_open(z, utc("2026-12-01T16:59:00Z")));
    }

    #[test]
    fn a_window_inside_the_spring_gap_opens_the_next_day() {
        // Berlin skips 02:00-03:00 on 2026-03-29: a window of 02:30-03:00
        // has no minute that day. Its opening, moved to the first minute
        // after the gap (03:00 CEST, 01:00Z), is already closed; the next
        // opening is Monday's 02:30 CEST, never that instant itself (which
        // would make the schedule wait for the present).
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let w = Window::parse("02:30-03:00", None).unwrap();
        let at = utc("2026-03-29T01:00:00Z");
        assert!(!w.is_open(berlin, at));
        assert_eq!(w.opens_at(berlin, at), utc("2026-03-30T00:30:00Z"));
    }

    #[test]
    fn a_day_that_never_happened_opens_after_its_gap() {
        // Samoa skipped Friday 2011-12-30 entirely (from UTC-10 to UTC+14):
        // that day's opening moves to the first minute after the gap,
        // Saturday 00:00 local (2011-12-30T10:00Z), found by looking up to
        // a day ahead, not only an hour.
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        let w = Window::parse("09:00-17:00", None).unwrap();
        // Thursday 18:00 local (UTC-10), closed.
        let now = utc("2011-12-30T04:00:00Z");
        assert!(!w.is_open(apia, now));
        assert_eq!(w.opens_at(apia, now), utc("2011-12-30T10:00:00Z"));
    }

    #[test]
    fn follows_daylight_saving_time() {
        let w = Window::parse("09:00-17:00", None).unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // Sat 2026-10-31 is EDT (UTC-4): 09:00 is 13:00Z. DST ends on Sun
        // 2026-11-01 at 02:00, so Sunday's 09:00 is EST, 14:00Z.
        assert!(w.is_open(ny, utc("2026-10-31T13:00:00Z")));
        assert_eq!(
            w.opens_at(ny, utc("2026-10-31T22:00:00Z")),
            utc("2026-11-01T14:00:00Z")
        );
        assert!(!w.is_open(ny, utc("2026-11-01T13:30:00Z")));
        // Spring: Berlin skips 02:00-03:00 on 2026-03-29; a window opening
        // at 02:30 opens at the first minute after the gap, 03:00 CEST.
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let early = Window::parse("02:30-04:00", None).unwrap();
        assert_eq!(
            early.opens_at(berlin, utc("2026-03-28T23:00:00Z")),
            utc("2026-03-29T01:00:00Z")
        );
        assert!(early.is_open(berlin, utc("2026-03-29T01:00:00Z")));
    }
}
