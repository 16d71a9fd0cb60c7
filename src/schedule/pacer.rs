//! How a run is paced: the schedule's rules from `[rate]`, the
//! concurrency cap, each recipient's zone, and whether holds by the window
//! or the daily cap are waited for (`send --wait`) or end the run, and in
//! what steps a wait sleeps.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Rate;
use crate::contacts::Recipient;
use crate::schedule::{self, DailyCap, Estimate, Hold, Pace, Rules, Zones};

/// The longest single sleep of a wait for a window or the daily cap: the
/// wait is re-checked against the wall clock this often, so a machine that
/// slept (a closed laptop) carries on as soon as it wakes.
pub const WAIT_STEP: Duration = Duration::from_secs(1);

/// What a run does about a hold ([`Pacer::on_hold`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Sleep this long, then ask the schedule again (`None`: until a
    /// transaction in flight ends).
    Sleep(Option<Duration>),
    /// `--wait` for a window or the daily cap: tell the user (once per
    /// new wait), sleep this long, ask again.
    Told(Duration),
    /// A window or the daily cap holds the letters and the run does not
    /// wait: it ends.
    Stop,
}

/// The pacing of one run; the dispatch loop builds its schedule from it.
#[derive(Debug, Clone)]
pub struct Pacer {
    rules: Rules,
    concurrency: usize,
    zones: Zones,
    wait: bool,
}

impl Pacer {
    /// A pacer for `rate`.
    pub fn new(rate: &Rate) -> Pacer {
        let rules = Rules {
            global: Some(Pace {
                per_minute: rate.per_minute,
                burst: rate.burst,
            }),
            // One at a time per domain: a provider's per-domain limit is a
            // steady pace, not a quota to spend at once.
            per_domain: rate.per_domain_per_minute.map(|per_minute| Pace {
                per_minute,
                burst: 1,
            }),
            window: rate.window,
            wait_for_window: false,
        };
        Pacer {
            rules,
            concurrency: rate.concurrency.max(1) as usize,
            zones: Zones::fixed(rate.timezone),
            wait: false,
        }
    }

    /// Recipients' zones from their rows (`[contacts] timezone_column`).
    pub fn with_zones(mut self, zones: Zones) -> Pacer {
        self.zones = zones;
        self
    }

    /// `send --wait`: wait when the window or the daily cap holds letters
    /// back, instead of ending the run.
    pub fn with_wait(mut self, wait: bool) -> Pacer {
        self.wait = wait;
        self.rules.wait_for_window = wait;
        self
    }

    /// Whether the run waits for windows and the daily cap.
    pub fn waits(&self) -> bool {
        self.wait
    }

    /// Transactions in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The schedule's rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The recipient's zone (the default for a value `check` refuses).
    pub fn zone_of(&self, r: &Recipient) -> chrono_tz::Tz {
        self.zones.of_or_default(r)
    }

    /// When `recipients` would go from `start`: the run's own schedule on
    /// a simulated clock, waiting for windows and the daily cap.
    pub fn estimate(
        &self,
        cap: Option<DailyCap>,
        recipients: &[Recipient],
        start: DateTime<Utc>,
    ) -> Estimate {
        let letters = recipients
            .iter()
            .map(|r| (r.line, r.email.domain(), self.zone_of(r)));
        schedule::estimate(&self.rules, cap, letters, start)
    }

    /// What a hold means at `now`: the pace, a backoff and a full set of
    /// slots are waited for; a window or the daily cap ends the run unless
    /// it waits (`--wait`), in steps of at most [`WAIT_STEP`] on the wall
    /// clock (tokio's timer does not count time the machine spent asleep).
    pub fn on_hold(&self, hold: Hold, until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Wait {
        let left = until.map(|t| (t - now).to_std().unwrap_or_default());
        match hold {
            Hold::InFlight => Wait::Sleep(None),
            Hold::Pace | Hold::Backoff => Wait::Sleep(left),
            Hold::Window { .. } | Hold::DailyCap if !self.wait => Wait::Stop,
            Hold::Window { .. } | Hold::DailyCap => {
                Wait::Told(left.map_or(WAIT_STEP, |l| l.min(WAIT_STEP)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use chrono_tz::Tz;

    use super::*;

    fn rate() -> Rate {
        Rate {
            per_minute: 20,
            burst: 3,
            per_domain_per_minute: Some(6),
            daily_cap: None,
            concurrency: 0,
            window: None,
            timezone: Tz::UTC,
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn the_rules_come_from_the_rate() {
        let p = Pacer::new(&rate());
        let rules = p.rules();
        assert_eq!(
            rules.global,
            Some(Pace {
                per_minute: 20,
                burst: 3
            })
        );
        // A domain's pace is steady: no burst.
        assert_eq!(
            rules.per_domain,
            Some(Pace {
                per_minute: 6,
                burst: 1
            })
        );
        assert!(!rules.wait_for_window && !p.waits());
        // A concurrency of 0 still sends, one at a time.
        assert_eq!(p.concurrency(), 1);
        let p = Pacer::new(&Rate {
            concurrency: 4,
            per_domain_per_minute: None,
            ..rate()
        });
        assert_eq!((p.concurrency(), p.rules().per_domain), (4, None));
        let p = p.with_wait(true);
        assert!(p.waits() && p.rules().wait_for_window);
    }

    #[test]
    fn what_a_hold_means() {
        let now = t0();
        let soon = Some(now + TimeDelta::milliseconds(300));
        let later = Some(now + TimeDelta::hours(2));
        let zone = Hold::Window { zone: Tz::UTC };
        let p = Pacer::new(&rate());
        let ms = Duration::from_millis;
        assert_eq!(p.on_hold(Hold::InFlight, None, now), Wait::Sleep(None));
        assert_eq!(p.on_hold(Hold::Pace, soon, now), Wait::Sleep(Some(ms(300))));
        assert_eq!(
            p.on_hold(Hold::Backoff, soon, now),
            Wait::Sleep(Some(ms(300)))
        );
        // A time already past: no sleep at all.
        let past = Some(now - TimeDelta::seconds(1));
        assert_eq!(p.on_hold(Hold::Pace, past, now), Wait::Sleep(Some(ms(0))));
        // Without --wait a window or the cap ends the run.
        assert_eq!(p.on_hold(zone, later, now), Wait::Stop);
        assert_eq!(p.on_hold(Hold::DailyCap, later, now), Wait::Stop);
        // With it: steps of WAIT_STEP at most, the last one shorter.
        let p = p.with_wait(true);
        assert_eq!(p.on_hold(zone, later, now), Wait::Told(WAIT_STEP));
        assert_eq!(p.on_hold(Hold::DailyCap, None, now), Wait::Told(WAIT_STEP));
        assert_eq!(p.on_hold(zone, soon, now), Wait::Told(ms(300)));
        // The pace is not a reason to tell anyone, even with --wait.
        assert_eq!(p.on_hold(Hold::Pace, soon, now), Wait::Sleep(Some(ms(300))));
    }
}
