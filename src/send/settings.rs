//! The settings of a run and the limits it keeps: tries and their backoff,
//! the failure streak that stops it, how far it prepares ahead.

use std::time::Duration;

use crate::config::Retry;

/// Consecutive failed transactions (of any recipients) that stop the run:
/// a provider that throttles or blocks the account fails everything.
pub const FAILURE_STREAK_LIMIT: u32 = 10;

/// Settings of one dispatch run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Tries and backoff.
    pub retry: Retry,
}

/// Letters prepared ahead per slot while every slot is busy: one being
/// synced while one is ready. A crash may leave that many per slot
/// `unknown` that never went out.
pub const AHEAD_PER_SLOT: usize = 2;

/// How far ahead of the wall clock a letter may be picked while every
/// slot is busy ([`Schedule::pick`](crate::schedule::Schedule::pick)): at
/// a relay's pace several letters fall due within a transaction's time.
/// Its pace is taken when it starts; if that is sooner than foreseen, the
/// letters prepared ahead wait at most about this long for it.
pub const AHEAD_HORIZON: chrono::TimeDelta = chrono::TimeDelta::milliseconds(1);

/// `base`, doubling after each try: 30 s, 60 s, 120 s…
pub fn backoff(base_secs: u64, tries: u32) -> Duration {
    Duration::from_secs(base_secs.saturating_mul(1u64 << tries.saturating_sub(1).min(16)))
}
