//! A steady pace with a burst, as the generic cell rate algorithm (GCRA,
//! the algorithm governor implements), on an injected clock.
//!
//! The schedule must ask "when may this domain send?" of every candidate
//! without taking a token, and answer with a time on the wall clock for a
//! simulated run too; governor offers neither a non-consuming check nor a
//! clock that a simulation can drive (see docs/design.md, issue 13).

use chrono::{DateTime, TimeDelta, Utc};

/// A pace: `per_minute` steady, `burst` at once before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Messages per minute.
    pub per_minute: u32,
    /// Messages that may go at once (at least 1).
    pub burst: u32,
}

impl Pace {
    /// The time between two messages at the steady pace.
    pub fn interval(self) -> TimeDelta {
        TimeDelta::nanoseconds(60_000_000_000 / i64::from(self.per_minute.max(1)))
    }
}

/// The state of one pace: the theoretical arrival time of the next
/// message (`tat`); a message conforms when `tat - tolerance <= now`.
#[derive(Debug, Clone)]
pub struct Gcra {
    interval: TimeDelta,
    tolerance: TimeDelta,
    tat: Option<DateTime<Utc>>,
}

impl Gcra {
    /// A fresh pace: the whole burst is available.
    pub fn new(pace: Pace) -> Gcra {
        let interval = pace.interval();
        Gcra {
            interval,
            tolerance: interval * (pace.burst.max(1) as i32 - 1),
            tat: None,
        }
    }

    /// The earliest time at or after `now` when one message may go;
    /// takes nothing.
    pub fn ready_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.tat {
            Some(tat) => (tat - self.tolerance).max(now),
            None => now,
        }
    }

    /// Records a message sent at `at`.
    pub fn take(&mut self, at: DateTime<Utc>) {
        let from = self.tat.map_or(at, |t| t.max(at));
        self.tat = Some(from + self.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn steady_pace_after_a_burst() {
        // 20 a minute = one every 3 s, a burst of 3.
        let mut g = Gcra::new(Pace {
            per_minute: 20,
            burst: 3,
        });
        let now = t0();
        for _ in 0..3 {
            assert_eq!(g.ready_at(now), now);
            g.take(now);
        }
        assert_eq!(g.ready_at(now), now + TimeDelta::seconds(3));
        g.take(now + TimeDelta::seconds(3));
        assert_eq!(g.ready_at(now), now + TimeDelta::seconds(6));
        // Idle for a minute refills the burst, no more.
        let later = now + TimeDelta::seconds(60);
        for _ in 0..3 {
            assert_eq!(g.ready_at(later), later);
            g.take(later);
        }
        assert!(g.ready_at(later) > later);
    }

    #[test]
    fn asking_takes_nothing() {
        let g = Gcra::new(Pace {
            per_minute: 1,
            burst: 1,
        });
        for _ in 0..5 {
            assert_eq!(g.ready_at(t0()), t0());
        }
    }
}
