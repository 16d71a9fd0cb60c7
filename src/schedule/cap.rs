//! The rolling daily cap, counted from the ledger's `sent` rows so that it
//! holds across runs.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ledger::Ledger;

/// The window `daily_cap` counts over.
pub const DAILY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The rolling daily cap, counted from the ledger's `sent` rows so that it
/// holds across runs.
#[derive(Debug, Clone)]
pub struct DailyCap {
    cap: u32,
    /// `sent` times within the window, oldest first.
    sent: Vec<DateTime<Utc>>,
}

impl DailyCap {
    /// `sent` are the times of `sent` rows within the last 24 h.
    pub fn new(cap: u32, mut sent: Vec<DateTime<Utc>>) -> DailyCap {
        sent.sort();
        DailyCap { cap, sent }
    }

    /// The cap primed with the `sent` rows of the last 24 h in `ledgers`
    /// (the campaign's log and its test log: both go through the account).
    pub fn from_ledgers(cap: u32, ledgers: &[&Ledger], now: DateTime<Utc>) -> DailyCap {
        let since = Self::window_start(now);
        DailyCap::new(
            cap,
            ledgers.iter().flat_map(|l| l.sent_since(since)).collect(),
        )
    }

    /// Messages counted in the window.
    pub fn used(&self) -> usize {
        self.sent.len()
    }

    fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(DAILY_WINDOW).unwrap_or_default()
    }

    /// Whether one more message (with `in_flight` already under way) stays
    /// within the cap at `now`.
    pub fn allows(&mut self, now: DateTime<Utc>, in_flight: usize) -> bool {
        let start = Self::window_start(now);
        self.sent.retain(|t| *t > start);
        self.sent.len() + in_flight < self.cap as usize
    }

    /// Records a message the server accepted.
    pub fn record(&mut self, at: DateTime<Utc>) {
        self.sent.push(at);
    }

    /// When the next message will be allowed: when the oldest counted send
    /// leaves the window.
    pub fn frees_at(&self) -> Option<DateTime<Utc>> {
        self.sent
            .first()
            .map(|t| *t + chrono::Duration::from_std(DAILY_WINDOW).unwrap_or_default())
    }

    /// The cap itself.
    pub fn cap(&self) -> u32 {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_cap_counts_the_window() {
        let now = Utc::now();
        let old = now - chrono::Duration::hours(25);
        let recent = now - chrono::Duration::hours(1);
        let mut cap = DailyCap::new(2, vec![old, recent]);
        assert!(cap.allows(now, 0));
        assert!(!cap.allows(now, 1));
        cap.record(now);
        assert!(!cap.allows(now, 0));
        assert_eq!(cap.frees_at(), Some(recent + chrono::Duration::hours(24)));
    }

    /// What the plan shows as "(N used)": the sends within the window.
    #[test]
    fn used_counts_the_sends_in_the_window() {
        let now = Utc::now();
        let old = now - chrono::Duration::hours(25);
        let recent = now - chrono::Duration::hours(1);
        let mut cap = DailyCap::new(5, vec![old, recent, recent]);
        assert_eq!(cap.used(), 3);
        assert!(cap.allows(now, 0));
        assert_eq!(cap.used(), 2);
        cap.record(now);
        assert_eq!(cap.used(), 3);
    }
}
