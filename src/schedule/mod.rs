//! The schedule: which letter may go now, or when the next one may and
//! what holds it back — the global pace, the recipient domain's pace, the
//! rolling daily cap and the recipient's sending window.
//!
//! Pure and clock-injected: every answer is for a `now` the caller gives,
//! so the run asks with the wall clock and the plan's estimate asks the
//! same questions on a simulated clock ([`estimate`]).
//!
//! The next letter is the first in file order that every limit allows now:
//! a domain that must wait never holds back a letter to another domain
//! (no head-of-line blocking), so the run never idles while a letter could
//! go.

pub mod cap;
mod estimate;
mod gcra;
pub mod window;
mod zones;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use cap::{DailyCap, DAILY_WINDOW};
pub use estimate::{estimate, Batch, Estimate, BATCH_GAP};
pub use gcra::{Gcra, Pace};
pub use window::{parse_zone, Window, WindowError};
pub use zones::Zones;

/// The limits a schedule applies.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The account's pace; `None`: unpaced.
    pub global: Option<Pace>,
    /// Each recipient domain's pace; `None`: only the global pace.
    pub per_domain: Option<Pace>,
    /// The sending window, in each letter's zone; `None`: any time.
    pub window: Option<Window>,
    /// Whether a letter held by its window is waited for (`send --wait`,
    /// the estimate). Otherwise such letters are left while any other
    /// letter can go, and then reported ([`Hold::Window`]).
    pub wait_for_window: bool,
}

/// What holds the next letter back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The global pace or the domain's pace.
    Pace,
    /// A retry's backoff.
    Backoff,
    /// The sending window of recipients in `zone` is closed.
    Window {
        /// The recipients' time zone.
        zone: Tz,
    },
    /// The daily cap is reached by messages the server accepted.
    DailyCap,
    /// The daily cap is full counting transactions in flight: their
    /// outcome decides.
    InFlight,
}

/// The schedule's answer.
#[derive(Debug)]
pub enum Next<T> {
    /// This letter may go now (its pace is taken).
    Go(T),
    /// Nothing may go before `until` (`None`: until a transaction in
    /// flight ends, or never for a daily cap of nothing sent).
    Wait {
        /// The earliest time something may go.
        until: Option<DateTime<Utc>>,
        /// Why.
        hold: Hold,
    },
    /// No letter is waiting.
    Empty,
}

/// Letters held back by a closed window, by time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The recipients' zone.
    pub zone: Tz,
    /// When their window opens.
    pub opens: DateTime<Utc>,
    /// How many letters.
    pub letters: usize,
}

/// Where a letter queues: its recipient domain (lower case) and zone.
type Slot = (String, Tz);

#[derive(Debug)]
struct Entry<T> {
    /// File order (the CSV line).
    order: u64,
    not_before: Option<DateTime<Utc>>,
    item: T,
}

/// Which queued letter was picked.
enum Pick {
    Fresh(Slot),
    Retry(usize),
}

/// The letters waiting to go and the state of every limit.
#[derive(Debug)]
pub struct Schedule<T> {
    rules: Rules,
    global: Option<Gcra>,
    domains: HashMap<String, Gcra>,
    cap: Option<DailyCap>,
    /// Letters never tried in this run, queued per slot in file order: the
    /// first of each slot is the only candidate of that slot.
    fresh: HashMap<Slot, VecDeque<Entry<T>>>,
    fresh_len: usize,
    /// Letters to try again, each after its backoff.
    retries: Vec<(Slot, Entry<T>)>,
}

impl<T> Schedule<T> {
    /// An empty schedule applying `rules` and the daily cap.
    pub fn new(rules: Rules, cap: Option<DailyCap>) -> Schedule<T> {
        Schedule {
            global: rules.global.map(Gcra::new),
            rules,
            domains: HashMap::new(),
            cap,
            fresh: HashMap::new(),
            fresh_len: 0,
            retries: Vec::new(),
        }
    }

    /// Queues a letter; `order` is its place in the file (push in file
    /// order).
    pub fn push(&mut self, order: u64, domain: &str, zone: Tz, item: T) {
        let slot = (domain.to_ascii_lowercase(), zone);
        self.fresh.entry(slot).or_default().push_back(Entry {
            order,
            not_before: None,
            item,
        });
        self.fresh_len += 1;
    }

    /// Queues a letter to try again not before `not_before`.
    pub fn push_retry(
        &mut self,
        order: u64,
        domain: &str,
        zone: Tz,
        not_before: DateTime<Utc>,
        item: T,
    ) {
        let entry = Entry {
            order,
            not_before: Some(not_before),
            item,
        };
        self.retries
            .push(((domain.to_ascii_lowercase(), zone), entry));
    }

    /// Letters never tried in this run still queued.
    pub fn fresh_len(&self) -> usize {
        self.fresh_len
    }

    /// Retries still queued.
    pub fn retry_len(&self) -> usize {
        self.retries.len()
    }

    /// The daily cap, if any.
    pub fn cap(&self) -> Option<&DailyCap> {
        self.cap.as_ref()
    }

    /// Records a message the server accepted at `at` (for the daily cap).
    pub fn record_sent(&mut self, at: DateTime<Utc>) {
        if let Some(c) = self.cap.as_mut() {
            c.record(at);
        }
    }

    /// Whether no limit ties a letter to the moment it is taken: no pace,
    /// no window, no daily cap (an unpaced run to one's own relay). Only
    /// then may a letter taken now start a little later without breaking a
    /// promise (a backoff is a minimum wait, so it cannot be broken late).
    pub fn is_unlimited(&self) -> bool {
        self.global.is_none()
            && self.rules.per_domain.is_none()
            && self.rules.window.is_none()
            && self.cap.is_none()
    }

    /// The letter that may go at `now`, with `in_flight` transactions under
    /// way; or when the next may and why not before. A letter returned by
    /// [`Next::Go`] has its pace taken at `now`.
    pub fn next(&mut self, now: DateTime<Utc>, in_flight: usize) -> Next<T> {
        if self.fresh_len == 0 && self.retries.is_empty() {
            return Next::Empty;
        }
        if let Some(c) = self.cap.as_mut() {
            if !c.allows(now, 0) {
                return Next::Wait {
                    until: c.frees_at(),
                    hold: Hold::DailyCap,
                };
            }
            if !c.allows(now, in_flight) {
                return Next::Wait {
                    until: None,
                    hold: Hold::InFlight,
                };
            }
        }
        let global = self.global.as_ref().map_or(now, |g| g.ready_at(now));
        let mut opens: HashMap<Tz, DateTime<Utc>> = HashMap::new();
        let mut ready: Option<(u64, Pick)> = None;
        let mut soonest: Option<(DateTime<Utc>, Hold)> = None;
        let mut soonest_window: Option<(DateTime<Utc>, Hold)> = None;
        let candidates = self
            .fresh
            .iter()
            .filter_map(|(slot, q)| q.front().map(|e| (slot, e, Pick::Fresh(slot.clone()))))
            .chain(
                self.retries
                    .iter()
                    .enumerate()
                    .map(|(i, (slot, e))| (slot, e, Pick::Retry(i))),
            );
        for (slot, entry, pick) in candidates {
            let (at, hold) = self.earliest(slot, entry, global, now, &mut opens);
            let best = if at <= now {
                if ready.as_ref().is_none_or(|(o, _)| entry.order < *o) {
                    ready = Some((entry.order, pick));
                }
                continue;
            } else if matches!(hold, Hold::Window { .. }) {
                &mut soonest_window
            } else {
                &mut soonest
            };
            if best.is_none_or(|(t, _)| at < t) {
                *best = Some((at, hold));
            }
        }
        if let Some((_, pick)) = ready {
            return Next::Go(self.take(pick, now));
        }
        let (until, hold) = match (soonest, soonest_window) {
            (Some(a), Some(w)) if self.rules.wait_for_window && w.0 < a.0 => w,
            (Some(a), _) => a,
            (None, Some(w)) => w,
            (None, None) => unreachable!("a non-empty schedule has a candidate"),
        };
        Next::Wait {
            until: Some(until),
            hold,
        }
    }

    /// When the letter `entry` in `slot` may go at the earliest (at or
    /// after `now`), and the limit that decides it.
    fn earliest(
        &self,
        slot: &Slot,
        entry: &Entry<T>,
        global: DateTime<Utc>,
        now: DateTime<Utc>,
        opens: &mut HashMap<Tz, DateTime<Utc>>,
    ) -> (DateTime<Utc>, Hold) {
        let (mut at, mut hold) = (global, Hold::Pace);
        if let Some(t) = entry.not_before.filter(|t| *t > at) {
            (at, hold) = (t, Hold::Backoff);
        }
        if let Some(t) = self
            .domains
            .get(&slot.0)
            .map(|g| g.ready_at(now))
            .filter(|t| *t > at)
        {
            (at, hold) = (t, Hold::Pace);
        }
        if let Some(w) = &self.rules.window {
            let zone = slot.1;
            let t = *opens.entry(zone).or_insert_with(|| w.opens_at(zone, now));
            if t > at {
                (at, hold) = (t, Hold::Window { zone });
            }
        }
        (at, hold)
    }

    /// Removes the picked letter and takes its pace at `now`.
    fn take(&mut self, pick: Pick, now: DateTime<Utc>) -> T {
        let (domain, entry) = match pick {
            Pick::Retry(i) => {
                let ((domain, _), entry) = self.retries.remove(i);
                (domain, entry)
            }
            Pick::Fresh(slot) => {
                let q = self.fresh.get_mut(&slot);
                let entry = q.and_then(VecDeque::pop_front);
                let Some(entry) = entry else {
                    unreachable!("a picked slot has a letter")
                };
                if self.fresh.get(&slot).is_some_and(VecDeque::is_empty) {
                    self.fresh.remove(&slot);
                }
                self.fresh_len -= 1;
                (slot.0, entry)
            }
        };
        if let Some(g) = self.global.as_mut() {
            g.take(now);
        }
        if let Some(pace) = self.rules.per_domain {
            self.domains
                .entry(domain)
                .or_insert_with(|| Gcra::new(pace))
                .take(now);
        }
        entry.item
    }

    /// The letters whose window is closed at `now`, by zone, soonest
    /// opening first.
    pub fn held_by_window(&self, now: DateTime<Utc>) -> Vec<Held> {
        let Some(w) = &self.rules.window else {
            return Vec::new();
        };
        let mut by_zone: HashMap<Tz, usize> = HashMap::new();
        let sizes = self.fresh.iter().map(|(s, q)| (s.1, q.len()));
        for (zone, n) in sizes.chain(self.retries.iter().map(|(s, _)| (s.1, 1))) {
            if !w.is_open(zone, now) {
                *by_zone.entry(zone).or_default() += n;
            }
        }
        let mut held: Vec<Held> = by_zone
            .into_iter()
            .map(|(zone, letters)| Held {
                zone,
                opens: w.opens_at(zone, now),
                letters,
            })
            .collect();
        held.sort_by(|a, b| (a.opens, a.zone.name()).cmp(&(b.opens, b.zone.name())));
        held
    }
}

#[cfg(test)]
mod tests;
