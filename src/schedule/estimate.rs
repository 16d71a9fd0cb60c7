//! The plan's duration estimate: the schedule itself, run on a simulated
//! clock with transactions that take no time, so the estimate sees every
//! limit the run sees (per-domain pace, daily cap, windows).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::{DailyCap, Hold, Next, Rules, Schedule};

/// A wait for a window or the daily cap longer than this starts a new
/// [`Batch`]; a shorter one (a rolling cap freeing one place at a time)
/// is part of the batch.
pub const BATCH_GAP: TimeDelta = TimeDelta::minutes(10);

/// Letters that go one after the other, between two long holds (a closed
/// window or the daily cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// When the first letter goes.
    pub start: DateTime<Utc>,
    /// When the last letter goes.
    pub end: DateTime<Utc>,
    /// How many letters.
    pub letters: usize,
    /// What the batch waited for, if it did not start at once.
    pub after: Option<Hold>,
}

/// When the letters would go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// When the simulation started.
    pub start: DateTime<Utc>,
    /// When the last letter would go.
    pub finish: DateTime<Utc>,
    /// The letters in batches, in time order.
    pub batches: Vec<Batch>,
}

impl Estimate {
    /// From the start to the last letter.
    pub fn duration(&self) -> Duration {
        (self.finish - self.start).to_std().unwrap_or_default()
    }

    /// Whether some batch waits for a window or the daily cap.
    pub fn waits(&self) -> bool {
        self.batches.iter().any(|b| b.after.is_some())
    }
}

/// Simulates sending `letters` (file order, recipient domain, zone) from
/// `start` under `rules` and the daily cap, waiting for windows.
pub fn estimate<'a>(
    rules: &Rules,
    cap: Option<DailyCap>,
    letters: impl IntoIterator<Item = (u64, &'a str, Tz)>,
    start: DateTime<Utc>,
) -> Estimate {
    let rules = Rules {
        wait_for_window: true,
        ..rules.clone()
    };
    let mut schedule = Schedule::new(rules, cap);
    for (order, domain, zone) in letters {
        schedule.push(order, domain, zone, ());
    }
    simulate(schedule, start)
}

/// Runs `schedule` (waiting for windows) on a simulated clock from
/// `start`, transactions taking no time: the estimate of the plan, and of
/// a run under way ([`Schedule::outlook`]).
pub(super) fn simulate(mut schedule: Schedule<()>, start: DateTime<Utc>) -> Estimate {
    let mut clock = start;
    let mut batches: Vec<Batch> = Vec::new();
    let mut waited: Option<Hold> = None;
    loop {
        match schedule.next(clock, 0) {
            Next::Go(()) => {
                schedule.record_sent(clock);
                match batches.last_mut() {
                    Some(b) if waited.is_none() => {
                        b.end = clock;
                        b.letters += 1;
                    }
                    _ => batches.push(Batch {
                        start: clock,
                        end: clock,
                        letters: 1,
                        after: waited.take(),
                    }),
                }
            }
            // `t > clock` always holds (the schedule waits only for a
            // later time; the schedule's tests assert it on every wait):
            // the guard keeps a bug there from looping the plan forever.
            Next::Wait {
                until: Some(t),
                hold,
            } if t > clock => {
                if matches!(hold, Hold::Window { .. } | Hold::DailyCap) && t - clock > BATCH_GAP {
                    waited = Some(hold);
                }
                clock = t;
            }
            // Nothing left, or nothing that could ever go.
            Next::Wait { .. } | Next::Empty => break,
        }
    }
    let finish = batches.last().map_or(start, |b| b.end);
    Estimate {
        start,
        finish,
        batches,
    }
}
