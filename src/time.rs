//! Times and durations as repmail writes and reads them: `--since` read
//! from the user, times shown to people (the log's table and page, the
//! plan's "finishes at"), times carried in CSV and JSON, and a duration
//! at the scale a coordinator plans by. Every format lives here once.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Parses `--since`: an RFC 3339 time (`2024-05-01T14:00:00Z`, any offset)
/// or a date (`2024-05-01`, meaning its start in UTC, as the log is in UTC).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "`{s}` is neither a date (2024-05-01) nor an RFC 3339 time (2024-05-01T14:00:00Z)"
    ))
}

/// A time as the table and the HTML page show it: UTC to the second.
pub fn human_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A time as CSV and JSON carry it: RFC 3339, UTC, milliseconds, exactly
/// as the ledger stores it.
pub fn machine_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A time on this machine's clock and in UTC: "Wed 2026-12-02 09:00
/// (14:00 UTC)"; once when the machine's clock is UTC.
pub fn local_and_utc(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&chrono::Local);
    let same = local.offset().local_minus_utc() == 0;
    and_utc(local.format("%a %Y-%m-%d %H:%M").to_string(), same, t)
}

/// A time in the recipients' zone and in UTC: "Wed 2026-12-02 09:00
/// America/New_York (14:00 UTC)".
pub fn zone_and_utc(t: DateTime<Utc>, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    let same = matches!(
        zone,
        Tz::UTC | Tz::Etc__UTC | Tz::Etc__UCT | Tz::UCT | Tz::Zulu
    );
    if same {
        return and_utc(local.format("%a %Y-%m-%d %H:%M").to_string(), true, t);
    }
    and_utc(
        format!("{} {zone}", local.format("%a %Y-%m-%d %H:%M")),
        false,
        t,
    )
}

/// `shown (HH:MM UTC)`; `shown UTC` when the time shown is UTC already
/// (on a machine set to UTC, "10:40 (10:40 UTC)" says it twice).
fn and_utc(shown: String, is_utc: bool, t: DateTime<Utc>) -> String {
    if is_utc {
        format!("{shown} UTC")
    } else {
        format!("{shown} ({} UTC)", t.format("%H:%M"))
    }
}

/// `3725 s` → `1h 2m`: the scale a coordinator plans by.
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_time_already_in_utc_is_said_once() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        assert_eq!(zone_and_utc(t, Tz::UTC), "Tue 2026-12-01 12:00 UTC");
        assert_eq!(
            zone_and_utc(t, Tz::America__New_York),
            "Tue 2026-12-01 07:00 America/New_York (12:00 UTC)"
        );
        assert_eq!(and_utc("Tue 12:00".into(), true, t), "Tue 12:00 UTC");
        assert_eq!(
            and_utc("Tue 13:00".into(), false, t),
            "Tue 13:00 (12:00 UTC)"
        );
    }

    #[test]
    fn since_accepts_dates_and_rfc3339() {
        let day = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        assert_eq!(parse_time("2024-05-01"), Ok(day));
        assert_eq!(parse_time("2024-05-01T00:00:00Z"), Ok(day));
        assert_eq!(
            parse_time("2024-05-01T02:30:00+02:30"),
            Ok(day),
            "offsets convert to UTC"
        );
        assert!(parse_time("yesterday").unwrap_err().contains("2024-05-01"));
        assert!(parse_time("2024-13-01").is_err());
    }

    #[test]
    fn time_formats() {
        let t = Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        assert_eq!(human_time(t), "2023-11-14 22:13:20 UTC");
        assert_eq!(machine_time(t), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn humanizes() {
        assert_eq!(humanize(Duration::from_secs(5)), "5s");
        assert_eq!(humanize(Duration::from_secs(125)), "2m 5s");
        assert_eq!(humanize(Duration::from_secs(3725)), "1h 2m");
    }
}
