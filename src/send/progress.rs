//! What a run tells its observer (the CLI's progress bar or log lines):
//! the library never prints.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ledger::Event;
use crate::schedule::{Forecast, Hold};

/// What the run tells its observer (the CLI's progress bar or log lines).
#[derive(Debug)]
pub enum Progress<'a> {
    /// A transaction is starting.
    Sending {
        /// The recipient.
        email: &'a str,
        /// The try within this run (1-based).
        try_in_run: u32,
    },
    /// A transaction ended and its row is in the ledger.
    Done {
        /// The outcome row.
        event: &'a Event,
        /// When a transient failure will be retried in this run.
        retry_in: Option<Duration>,
    },
    /// Nothing may go before `until` because of `hold`: a pace (the
    /// account's, or `domain`'s own) or a backoff, or with `--wait` a
    /// closed window or the daily cap. Sent once per new wait.
    Waiting {
        /// What holds the letters back.
        hold: Hold,
        /// The recipient domain whose own pace holds the next letter
        /// (`None`: another limit).
        domain: Option<&'a str>,
        /// When the next letter may go (`None`: not foreseeable).
        until: Option<DateTime<Utc>>,
    },
    /// The letters not yet started and the state of every limit, for the
    /// observer to estimate when they would go (the plan's estimate, run
    /// again from the present: [`Forecast::estimate`], best on a thread of
    /// its own). Sent only to an observer that [wants
    /// it](Observer::wants_outlook), at most every [`OUTLOOK_EVERY`].
    Outlook {
        /// The letters left and the limits' state.
        forecast: Box<Forecast>,
    },
}

/// Receives [`Progress`]; the library never prints.
pub trait Observer {
    /// Called from the dispatch loop; keep it quick.
    fn progress(&mut self, p: Progress<'_>);

    /// Whether to send [`Progress::Outlook`] (it costs a copy of the
    /// letters left: a display's ETA wants it, a log does not).
    fn wants_outlook(&self) -> bool {
        false
    }
}

/// How often at most the run sends a [`Progress::Outlook`] (and never
/// for more than a twentieth of its time: a long list costs a longer
/// copy).
pub const OUTLOOK_EVERY: Duration = Duration::from_secs(1);

impl<F: FnMut(Progress<'_>)> Observer for F {
    fn progress(&mut self, p: Progress<'_>) {
        self(p)
    }
}
