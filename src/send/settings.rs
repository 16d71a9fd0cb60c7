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

/// Letters prepared ahead per slot while every slot is busy: some being
/// synced while others are ready, so that one fsync covers several
/// letters. A crash may leave that many per slot `unknown` that never went
/// out. Measured 2026-12-05 (2-core VM, concurrency 4, a relay's pace,
/// `cargo bench --bench throughput`, 2,000 letters, medians of 5 rounds):
/// with 2, 0.47–0.49x the baseline client and 0.20 fsyncs a letter; with
/// 3, 0.48–0.50x and 0.12; with 4, 0.50–0.57x and 0.08 (four runs each).
pub const AHEAD_PER_SLOT: usize = 4;

/// The letters prepared ahead are synced once fewer than this many per
/// slot are ready on disk: a sync covers the others, while the slots that
/// free meanwhile still find letters ready. Measured 2026-12-05 (as
/// above, two bench runs each): with 1, 0.49x and 0.54x at concurrency 4,
/// 1.40x and 1.41x at 1 (0.08 and 0.25 fsyncs a letter); with 2, 0.51x
/// and 0.55x, 1.52x and 1.67x (0.12 and 0.34); syncing whenever a letter
/// waits for the disk, 0.50x and 0.51x (0.22 and 0.64).
pub const READY_PER_SLOT: usize = 2;

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
