//! What a run did, and why it ended early when it did.

use chrono::{DateTime, Utc};

use crate::diagnose::Fault;
use crate::ledger::LedgerError;
use crate::schedule::Held;

/// Why a run ended before every recipient had an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C.
    Interrupted,
    /// `daily_cap` reached; more may go at `frees_at`.
    DailyCap {
        /// The cap.
        cap: u32,
        /// When the oldest counted send leaves the 24 h window.
        frees_at: Option<DateTime<Utc>>,
    },
    /// The sending window holds the remaining letters back (a run
    /// without `--wait`).
    Window {
        /// The letters held, by zone, soonest opening first.
        held: Vec<Held>,
    },
    /// A run-level fault.
    Fault {
        /// Which.
        fault: Fault,
        /// The server's reply or the error.
        detail: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Recipients the server accepted.
    pub sent: usize,
    /// Recipients with a permanent failure.
    pub failed: usize,
    /// Recipients whose last try was transient (retried next run).
    pub deferred: usize,
    /// Planned recipients never tried (stopped early).
    pub not_attempted: usize,
    /// Transactions in all (tries).
    pub transactions: usize,
    /// Why the run stopped early, if it did.
    pub stop: Option<Stop>,
}

/// A failure that leaves the ledger untrustworthy: the run stops at once.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Writing the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}
