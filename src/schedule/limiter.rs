//! The paces as governor rate limiters (its GCRA and its `Quota`), on a
//! clock the schedule sets to the instant it is asked about.
//!
//! governor 0.10 answers only "take a cell now, or say when": `check` and
//! `check_key` store the new state when they pass, a refusal stores
//! nothing and says `NotUntil::earliest_possible()` (no "look without
//! taking": its issue #15 and PR #211 were open on 2026-12-05). The
//! schedule must ask that of every candidate letter and take a cell only
//! for the one that goes, so each pace is two limiters over one state,
//! through governor's public `StateStore` trait: one whose store runs
//! governor's decision and keeps nothing (the look), one whose store keeps
//! it (the take). The arithmetic stays governor's.
//!
//! The clock is an implementation of governor's `Clock` trait (its
//! instants governor's `Nanos` since the Unix epoch) that the schedule sets
//! to the `now` each question is for: the run asks with the wall clock,
//! the estimate with its simulated time, and both get the same answers for
//! the same times. (governor's own `FakeRelativeClock` only moves forward;
//! the look-ahead asks about an instant a moment ahead, then the run about
//! the wall clock again.)

use std::collections::HashMap;
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

/// A pace: `per_minute` steady, `burst` at once before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Messages per minute.
    pub per_minute: u32,
    /// Messages that may go at once (at least 1).
    pub burst: u32,
}

impl Pace {
    /// governor's quota for this pace: `per_minute` cells a minute, one at
    /// a time after a burst of `burst` (`Quota::per_minute(n)` alone would
    /// allow all n at once).
    pub fn quota(self) -> Quota {
        let per_minute = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(per_minute).allow_burst(burst)
    }
}

/// The schedule's clock (see the module's comment): nanoseconds since
/// the Unix epoch, set to the instant each question is for.
#[derive(Debug, Clone, Default)]
pub(super) struct Clock(Arc<AtomicU64>);

impl governor::clock::Clock for Clock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::new(self.0.load(Ordering::Relaxed))
    }
}

impl Clock {
    /// Sets the clock to `now` (earlier than the Unix epoch reads as it).
    pub(super) fn set(&self, now: DateTime<Utc>) {
        let at = now
            .timestamp_nanos_opt()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        self.0.store(at, Ordering::Relaxed);
    }

    /// The wall-clock time of one of the clock's instants.
    fn time(at: Nanos) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(i64::try_from(at.as_u64()).unwrap_or(i64::MAX))
    }
}

/// What the limiters of one pace share: governor's state per key (the
/// theoretical arrival time of the next cell), and the cells taken.
#[derive(Debug, Default)]
struct Cells {
    tats: HashMap<String, Nanos>,
    /// Cells taken by letters picked ahead (see [`Paced::picking`]),
    /// which start later; their real cells are taken then.
    pending: HashMap<String, Nanos>,
    picking: bool,
    taken: u64,
}

/// A governor state store over shared [`Cells`], keyed by `K`; `keep`:
/// whether a passing decision is stored (a take) or dropped (a look).
#[derive(Debug)]
pub(super) struct Store<K> {
    cells: Arc<Mutex<Cells>>,
    keep: bool,
    key: PhantomData<fn(&K)>,
}

impl<K> Store<K> {
    fn new(cells: &Arc<Mutex<Cells>>, keep: bool) -> Store<K> {
        Store {
            cells: Arc::clone(cells),
            keep,
            key: PhantomData,
        }
    }

    fn measure<T, F, E>(&self, key: &str, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // One thread uses a schedule; a poisoned lock only means a panic
        // elsewhere, and the state is a plain map.
        let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        let real = cells.tats.get(key).copied();
        let current = match cells.picking {
            // The later of what the letters picked ahead will take and
            // what the letters that started took: a letter starts no
            // sooner than foreseen at its pick (its real cell must be
            // free), so once every picked letter started the real state is
            // the later one again and the pending one may stay as it is.
            true => cells.pending.get(key).copied().max(real),
            false => real,
        };
        let (out, tat) = decide(current)?;
        if self.keep {
            if cells.picking {
                cells.pending.insert(key.to_owned(), tat);
            } else {
                cells.tats.insert(key.to_owned(), tat);
                cells.taken += 1;
            }
        }
        Ok(out)
    }
}

// governor's direct key `NotKeyed` is not `Hash`, so the direct store is
// its own impl over the same cells, under an empty key.
impl StateStore for Store<NotKeyed> {
    type Key = NotKeyed;

    fn measure_and_replace<T, F, E>(&self, _key: &NotKeyed, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.measure("", f)
    }
}

impl StateStore for Store<String> {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.measure(key, f)
    }
}

type Limiter<K> = RateLimiter<K, Store<K>, Clock, NoOpMiddleware<Nanos>>;

/// One pace for the whole account (`K` = governor's `NotKeyed`) or per
/// recipient domain (`K` = the domain): a look and a take over one state.
#[derive(Debug)]
pub(super) struct Paced<K>
where
    Store<K>: StateStore<Key = K>,
{
    look: Limiter<K>,
    take: Limiter<K>,
    cells: Arc<Mutex<Cells>>,
}

impl<K> Paced<K>
where
    Store<K>: StateStore<Key = K>,
{
    pub(super) fn new(pace: Pace, clock: &Clock) -> Paced<K> {
        let cells = Arc::new(Mutex::new(Cells::default()));
        Paced {
            look: RateLimiter::new(pace.quota(), Store::new(&cells, false), clock.clone()),
            take: RateLimiter::new(pace.quota(), Store::new(&cells, true), clock.clone()),
            cells,
        }
    }

    fn cells(&self) -> std::sync::MutexGuard<'_, Cells> {
        self.cells.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A pace with this one's state on `clock` (for [`super::Schedule::
    /// outlook`]): the cells taken by letters that started, not those of
    /// letters picked ahead, which have not gone yet.
    pub(super) fn fork(&self, pace: Pace, clock: &Clock) -> Paced<K> {
        let tats = self.cells().tats.clone();
        let forked = Paced::new(pace, clock);
        forked.cells().tats = tats;
        forked
    }

    /// Cells taken so far (each a letter that started).
    #[cfg(test)]
    pub(super) fn taken(&self) -> u64 {
        self.cells().taken
    }

    /// While `on`, looks and takes are for letters picked ahead of their
    /// start: they see and take cells on top of the real state, kept
    /// apart; the real state changes only when a letter starts.
    pub(super) fn picking(&self, on: bool) {
        self.cells().picking = on;
    }
}

/// governor's answer as a time: `None` when a cell is free at the clock's
/// time, else the earliest time one is.
fn refused<T>(answer: Result<T, governor::NotUntil<Nanos>>) -> Option<DateTime<Utc>> {
    answer
        .err()
        .map(|not_until| Clock::time(not_until.earliest_possible()))
}

impl Paced<NotKeyed> {
    /// When a cell is free, at or after `now` (the clock's time); takes
    /// nothing.
    pub(super) fn ready_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        refused(self.look.check()).map_or(now, |t| t.max(now))
    }

    /// Takes a cell at the clock's time; `false` (nothing taken) if none
    /// is free.
    pub(super) fn take(&self) -> bool {
        self.take.check().is_ok()
    }
}

impl Paced<String> {
    /// When `domain` has a cell free, at or after `now` (the clock's
    /// time); takes nothing.
    pub(super) fn ready_at(&self, domain: &String, now: DateTime<Utc>) -> DateTime<Utc> {
        refused(self.look.check_key(domain)).map_or(now, |t| t.max(now))
    }

    /// Takes a cell of `domain` at the clock's time; `false` (nothing
    /// taken) if none is free.
    pub(super) fn take(&self, domain: &String) -> bool {
        self.take.check_key(domain).is_ok()
    }
}
