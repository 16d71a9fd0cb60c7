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
mod hold;
mod limiter;
mod outlook;
mod pacer;
mod rules;
mod zones;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use governor::state::NotKeyed;

use limiter::{Clock, Paced};

pub use crate::config::{parse_zone, Window, WindowError};
pub use cap::{DailyCap, DAILY_WINDOW};
pub use estimate::{estimate, Batch, Estimate, BATCH_GAP};
pub use hold::{Held, Hold, Next};
pub use limiter::Pace;
pub use outlook::{Forecast, Waiting};
pub use pacer::{Pacer, Wait, WAIT_STEP};
pub use rules::Rules;
pub use zones::Zones;

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
    /// The clock the paces read, set to each question's `now`.
    clock: Clock,
    global: Option<Paced<NotKeyed>>,
    /// One keyed limiter: a state per recipient domain.
    domains: Option<Paced<String>>,
    cap: Option<DailyCap>,
    /// Letters never tried in this run, queued per slot in file order: the
    /// first of each slot is the only candidate of that slot.
    fresh: HashMap<Slot, VecDeque<Entry<T>>>,
    fresh_len: usize,
    /// Letters to try again, each after its backoff.
    retries: Vec<(Slot, Entry<T>)>,
    /// What the last [`Next::Wait`] was for, to show it.
    waiting: Option<Waiting>,
}

impl<T> Schedule<T> {
    /// An empty schedule applying `rules` and the daily cap.
    pub fn new(rules: Rules, cap: Option<DailyCap>) -> Schedule<T> {
        let clock = Clock::default();
        Schedule {
            global: rules.global.map(|p| Paced::new(p, &clock)),
            domains: rules.per_domain.map(|p| Paced::new(p, &clock)),
            clock,
            rules,
            cap,
            fresh: HashMap::new(),
            fresh_len: 0,
            retries: Vec::new(),
            waiting: None,
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

    /// The letter that may go at `now`, with `in_flight` transactions under
    /// way; or when the next may and why not before. A letter returned by
    /// [`Next::Go`] has its pace taken at `now`.
    pub fn next(&mut self, now: DateTime<Utc>, in_flight: usize) -> Next<T> {
        self.waiting = None;
        if self.fresh_len == 0 && self.retries.is_empty() {
            return Next::Empty;
        }
        if let Some(c) = self.cap.as_mut() {
            let hold = if !c.allows(now, 0) {
                Some((c.frees_at(), Hold::DailyCap))
            } else if !c.allows(now, in_flight) {
                Some((None, Hold::InFlight))
            } else {
                None
            };
            if let Some((until, hold)) = hold {
                self.waiting = Some(Waiting::new(hold, None, until));
                return Next::Wait { until, hold };
            }
        }
        self.clock.set(now);
        let global = self.global.as_ref().map_or(now, |g| g.ready_at(now));
        let mut opens: HashMap<Tz, DateTime<Utc>> = HashMap::new();
        let mut ready: Option<(u64, Pick)> = None;
        // Each with the domain whose own pace decides it, if that is what
        // does (to say so: "waiting: council.example.org, 6 a minute").
        let mut soonest: Option<(DateTime<Utc>, Hold, Option<&Slot>)> = None;
        let mut soonest_window: Option<(DateTime<Utc>, Hold, Option<&Slot>)> = None;
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
            let (at, hold, by_domain) = self.earliest(slot, entry, global, now, &mut opens);
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
            if best.is_none_or(|(t, _, _)| at < t) {
                *best = Some((at, hold, by_domain.then_some(slot)));
            }
        }
        if let Some((_, pick)) = ready {
            return Next::Go(self.take(pick));
        }
        let (until, hold, domain) = match (soonest, soonest_window) {
            (Some(a), Some(w)) if self.rules.wait_for_window && w.0 < a.0 => w,
            (Some(a), _) => a,
            (None, Some(w)) => w,
            (None, None) => unreachable!("a non-empty schedule has a candidate"),
        };
        let domain = domain.map(|slot| slot.0.clone());
        self.waiting = Some(Waiting::new(hold, domain, Some(until)));
        Next::Wait {
            until: Some(until),
            hold,
        }
    }

    /// When the letter `entry` in `slot` may go at the earliest (at or
    /// after `now`), the limit that decides it, and whether that is the
    /// pace of the slot's domain.
    fn earliest(
        &self,
        slot: &Slot,
        entry: &Entry<T>,
        global: DateTime<Utc>,
        now: DateTime<Utc>,
        opens: &mut HashMap<Tz, DateTime<Utc>>,
    ) -> (DateTime<Utc>, Hold, bool) {
        let (mut at, mut hold, mut by_domain) = (global, Hold::Pace, false);
        if let Some(t) = entry.not_before.filter(|t| *t > at) {
            (at, hold) = (t, Hold::Backoff);
        }
        if let Some(t) = self
            .domains
            .as_ref()
            .map(|d| d.ready_at(&slot.0, now))
            .filter(|t| *t > at)
        {
            (at, hold, by_domain) = (t, Hold::Pace, true);
        }
        if let Some(w) = &self.rules.window {
            let zone = slot.1;
            let t = *opens.entry(zone).or_insert_with(|| w.opens_at(zone, now));
            if t > at {
                (at, hold, by_domain) = (t, Hold::Window { zone }, false);
            }
        }
        (at, hold, by_domain)
    }

    /// Removes the picked letter and takes its pace (at the clock's time).
    fn take(&mut self, pick: Pick) -> T {
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
        self.take_cells(&domain);
        entry.item
    }

    /// Takes the global cell and `domain`'s at the clock's time. Both were
    /// looked at first and found free at this instant or before it (a cell
    /// free at an instant is free at any later one), so neither take can
    /// fail: a cell is never taken from one pace while the other refuses
    /// (lost) nor twice.
    fn take_cells(&self, domain: &String) {
        let global = self.global.as_ref().is_none_or(|g| g.take());
        let domain = self.domains.as_ref().is_none_or(|d| d.take(domain));
        debug_assert!(global && domain, "a cell looked at is free");
    }

    /// Picks the next letter ahead of its start, for a run whose
    /// transaction slots are all busy: the letter [`Schedule::next`] would
    /// give, at `now` or, if only the pace holds it, within `horizon`. Its
    /// cells are not taken: [`Schedule::start`] takes them when it is
    /// launched, at the instant its pace allows, so the pace is kept at
    /// the moment letters go out, however long they waited for a slot.
    /// Letters picked ahead count as taken for the next pick, and as in
    /// flight for the daily cap (`busy`).
    pub fn pick(&mut self, now: DateTime<Utc>, busy: usize, horizon: TimeDelta) -> Option<T> {
        self.picking(true);
        let mut at = now;
        let picked = loop {
            match self.next(at, busy) {
                Next::Go(item) => break Some(item),
                Next::Wait {
                    until: Some(t),
                    hold: Hold::Pace,
                } if t <= now + horizon => at = t,
                _ => break None,
            }
        };
        self.picking(false);
        picked
    }

    /// Starts a letter of `domain` picked by [`Schedule::pick`]: takes its
    /// cells at the first instant its pace allows, if that is at most
    /// `within` after `now`, and returns that instant (the letter's
    /// transaction must not begin before it); otherwise says when they are
    /// free (a pace taken since the pick, or a start sooner than foreseen;
    /// the letter goes first then). Cells taken at an instant still to
    /// come hold the pace from that instant, as if the caller had waited.
    pub fn start(
        &mut self,
        domain: &str,
        now: DateTime<Utc>,
        within: TimeDelta,
    ) -> Result<DateTime<Utc>, DateTime<Utc>> {
        let domain = domain.to_ascii_lowercase();
        self.clock.set(now);
        let global = self.global.as_ref().map_or(now, |g| g.ready_at(now));
        let until = self
            .domains
            .as_ref()
            .map_or(global, |d| d.ready_at(&domain, now).max(global));
        // `until` is `now` or later (`ready_at`).
        if until > now + within {
            return Err(until);
        }
        self.clock.set(until);
        self.take_cells(&domain);
        Ok(until)
    }

    fn picking(&self, on: bool) {
        if let Some(g) = &self.global {
            g.picking(on);
        }
        if let Some(d) = &self.domains {
            d.picking(on);
        }
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
