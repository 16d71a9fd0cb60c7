//! A run's outlook, for whoever shows it: what the next letter waits for
//! (the limit, the domain whose pace it is, until when), and when the
//! letters still queued would go — the plan's estimate, run again from the
//! schedule's present state (issue 24, item 2: a progress bar's ETA from
//! the average rate said "5s" where the domain's pace meant 40).

use chrono::{DateTime, Utc};

use super::estimate::{simulate, Estimate};
use super::limiter::Clock;
use super::{Entry, Hold, Rules, Schedule};

/// What the schedule's last [`super::Next::Wait`] was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The limit.
    pub hold: Hold,
    /// The recipient domain (lower case) whose own pace holds the next
    /// letter; `None` when another limit does (the account's pace, a
    /// backoff, a window, the daily cap).
    pub domain: Option<String>,
    /// When the next letter may go (`None`: not foreseeable).
    pub until: Option<DateTime<Utc>>,
}

impl Waiting {
    pub(super) fn new(hold: Hold, domain: Option<String>, until: Option<DateTime<Utc>>) -> Self {
        Waiting {
            hold,
            domain,
            until,
        }
    }
}

/// The letters a run has left and the state of every limit, taken at
/// one instant, to estimate apart from the run: the estimate costs what
/// the plan's did (the schedule's `next` once per letter, ~0.16 s for
/// 10,000 letters to 50 domains in a release build, 2026-12-05), too
/// much to spend on the dispatch loop's thread, while taking a forecast
/// costs a copy of the queue.
#[derive(Debug)]
pub struct Forecast {
    schedule: Schedule<()>,
    start: DateTime<Utc>,
}

impl Forecast {
    /// When the letters would go from the forecast's instant on: the
    /// plan's simulation ([`super::estimate`]), waiting for windows.
    pub fn estimate(self) -> Estimate {
        simulate(self.schedule, self.start)
    }
}

impl<T> Schedule<T> {
    /// What the last [`Schedule::next`] waited for; `None` if it gave a
    /// letter or had none.
    pub fn waiting(&self) -> Option<&Waiting> {
        self.waiting.as_ref()
    }

    /// When the letters still queued would go from `now`: the plan's
    /// simulation from this schedule's state ([`Schedule::forecast`]).
    pub fn outlook(&self, now: DateTime<Utc>) -> Estimate {
        self.forecast(now).estimate()
    }

    /// The letters still queued at `now`, with this schedule's state —
    /// the paces as the letters that started left them, the daily cap,
    /// each retry's backoff — to estimate elsewhere ([`Forecast`]).
    /// Letters in flight or picked ahead are not in it.
    pub fn forecast(&self, now: DateTime<Utc>) -> Forecast {
        let rules = Rules {
            wait_for_window: true,
            ..self.rules.clone()
        };
        let clock = Clock::default();
        let bare = |e: &Entry<T>| Entry {
            order: e.order,
            not_before: e.not_before,
            item: (),
        };
        let sim = Schedule {
            global: self
                .global
                .as_ref()
                .zip(rules.global)
                .map(|(g, pace)| g.fork(pace, &clock)),
            domains: self
                .domains
                .as_ref()
                .zip(rules.per_domain)
                .map(|(d, pace)| d.fork(pace, &clock)),
            clock,
            rules,
            cap: self.cap.clone(),
            fresh: self
                .fresh
                .iter()
                .map(|(slot, q)| (slot.clone(), q.iter().map(bare).collect()))
                .collect(),
            fresh_len: self.fresh_len,
            retries: self
                .retries
                .iter()
                .map(|(slot, e)| (slot.clone(), bare(e)))
                .collect(),
            waiting: None,
        };
        Forecast {
            schedule: sim,
            start: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use chrono_tz::Tz;

    use super::super::{estimate, DailyCap, Next, Pace};
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    const COUNCIL: &str = "Council.Example.org";

    /// A fast account and a domain that takes 6 a minute: one letter every
    /// 10 s, whatever the account's pace (issue 24, item 2).
    fn rules() -> Rules {
        Rules {
            global: Some(Pace {
                per_minute: 600,
                burst: 3,
            }),
            per_domain: Some(Pace {
                per_minute: 6,
                burst: 1,
            }),
            ..Rules::default()
        }
    }

    fn five(cap: Option<DailyCap>) -> Schedule<u64> {
        let mut s = Schedule::new(rules(), cap);
        for line in 2..7 {
            s.push(line, COUNCIL, Tz::UTC, line);
        }
        s
    }

    #[test]
    fn a_run_under_way_is_estimated_as_the_plan_was_and_says_whose_pace_it_waits_for() {
        let plan = estimate(&rules(), None, (2..7).map(|l| (l, COUNCIL, Tz::UTC)), t0());
        assert_eq!(plan.finish, t0() + TimeDelta::seconds(40));
        let mut s = five(None);
        assert!(matches!(s.next(t0(), 0), Next::Go(2)));
        assert_eq!(s.waiting(), None);
        // The next letter waits for the council's pace, not the account's.
        let at = t0() + TimeDelta::milliseconds(300);
        assert!(matches!(s.next(at, 0), Next::Wait { .. }));
        let waiting = Waiting::new(
            Hold::Pace,
            Some("council.example.org".into()),
            Some(t0() + TimeDelta::seconds(10)),
        );
        assert_eq!(s.waiting(), Some(&waiting));
        // Four letters left, 10 s apart from the first: the plan's finish,
        // not 4 letters at the account's 600 a minute (0.4 s).
        let outlook = s.outlook(at);
        assert_eq!(outlook.finish, plan.finish);
        assert_eq!(outlook.batches.iter().map(|b| b.letters).sum::<usize>(), 4);
        // The outlook is a copy: the run's own schedule is as it was.
        assert_eq!(s.fresh_len(), 4);
        assert!(matches!(s.next(at, 0), Next::Wait { .. }));
        let later = t0() + TimeDelta::seconds(10);
        assert!(matches!(s.next(later, 0), Next::Go(3)));
        assert_eq!(s.outlook(later).finish, plan.finish);
    }

    #[test]
    fn the_daily_cap_is_in_the_outlook_and_named_when_it_holds() {
        let cap = DailyCap::new(2, Vec::new());
        let mut s = five(Some(cap));
        assert!(matches!(s.next(t0(), 0), Next::Go(2)));
        s.record_sent(t0());
        let at = t0() + TimeDelta::seconds(10);
        assert!(matches!(s.next(at, 0), Next::Go(3)));
        s.record_sent(at);
        // The cap is full until the first letter is a day old.
        let Next::Wait { hold, until } = s.next(at, 0) else {
            panic!("the cap holds")
        };
        assert_eq!(hold, Hold::DailyCap);
        assert_eq!(s.waiting(), Some(&Waiting::new(hold, None, until)));
        let outlook = s.outlook(at);
        assert!(outlook.waits(), "{outlook:?}");
        assert!(outlook.finish > t0() + TimeDelta::hours(24), "{outlook:?}");
    }

    /// A window that opens before the next paced letter may go: the
    /// outlook wakes at the opening (as the plan's estimate does), even for
    /// a run without `--wait`, which would wake at the pace's time.
    #[test]
    fn the_outlook_wakes_when_a_window_opens_before_the_pace_frees() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T12:59:30Z")
            .unwrap()
            .to_utc();
        let rules = Rules {
            window: Some(crate::config::Window::parse("13:00-17:00", None).unwrap()),
            wait_for_window: false,
            global: None,
            per_domain: Some(Pace {
                per_minute: 1,
                burst: 1,
            }),
        };
        let open = Tz::Etc__GMTMinus2; // 14:59 there: open
        let mut s = Schedule::new(rules, None);
        s.push(2, "x.example.org", open, 2);
        s.push(3, "x.example.org", open, 3);
        s.push(4, "y.example.org", Tz::UTC, 4); // closed until 13:00
        assert!(matches!(s.next(t, 0), Next::Go(2)));
        let outlook = s.outlook(t);
        let opening = t + TimeDelta::seconds(30);
        assert_eq!(outlook.batches[0].start, opening, "{outlook:?}");
        assert_eq!(outlook.finish, t + TimeDelta::seconds(60), "{outlook:?}");
    }

    /// A run without `--wait` leaves letters its window holds; their
    /// forecast waits for the window all the same (when they would go).
    #[test]
    fn the_outlook_waits_for_a_closed_window_even_when_the_run_does_not() {
        let rules = Rules {
            window: Some(crate::config::Window::parse("13:00-17:00", None).unwrap()),
            wait_for_window: false,
            ..rules()
        };
        let mut s = Schedule::new(rules, None);
        s.push(2, COUNCIL, Tz::UTC, 2);
        // Noon: closed until 13:00.
        let outlook = s.outlook(t0());
        assert_eq!(outlook.batches.iter().map(|b| b.letters).sum::<usize>(), 1);
        assert_eq!(outlook.finish, t0() + TimeDelta::hours(1), "{outlook:?}");
    }
}
