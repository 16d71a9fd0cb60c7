//! The schedule's answers: a letter that may go, or what holds the next one
//! back and until when.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

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
