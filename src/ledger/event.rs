//! One row of the delivery log: what happened ([`Status`]), the state of a
//! recipient it leads to ([`State`]), and the row itself ([`Event`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};

use crate::address::recipient_key;
use crate::text::one_line;

/// The status written in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Written and fsynced before the SMTP transaction starts.
    Sending,
    /// The server accepted the message (2xx after DATA).
    Sent,
    /// Transient failure (4xx, connection lost, timeout): retried.
    Deferred,
    /// Permanent failure (5xx, invalid address): not retried by default.
    Failed,
    /// After `sent`: a delivery report came back. `detail` starts with its
    /// enhanced status; 5.x.x is hard (not resent unless `--retry-failed`),
    /// anything else soft (retried like `deferred`).
    Bounced,
    /// A person answered the letter. No effect on the delivery state.
    Replied,
    /// An automatic answer (out of office…). No effect on the delivery state.
    AutoReplied,
    /// After `sent`: a copy of the letter is in the account's Sent folder
    /// (`[sent]`, issue 20). No effect on the delivery state.
    Copied,
    /// An office without an address was reached by its contact form
    /// (`repmail forms --done`, issue 24). The row's `email` field holds
    /// the form's address as the contacts give it: it can never be a
    /// recipient's address, so no letter is sent because of it.
    FormSent,
}

impl Status {
    /// All statuses, in the order of a message's life.
    pub const ALL: [Status; 9] = [
        Status::Sending,
        Status::Sent,
        Status::Deferred,
        Status::Failed,
        Status::Bounced,
        Status::Replied,
        Status::AutoReplied,
        Status::Copied,
        Status::FormSent,
    ];

    /// The word written in the log: `sending`, `sent`, `deferred`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Deferred => "deferred",
            Status::Failed => "failed",
            Status::Bounced => "bounced",
            Status::Replied => "replied",
            Status::AutoReplied => "auto_replied",
            Status::Copied => "copied",
            Status::FormSent => "form_sent",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown status `{0}` (expected sending, sent, deferred, failed, bounced, replied, auto_replied, copied or form_sent)"
)]
pub struct ParseStatusError(pub String);

impl FromStr for Status {
    type Err = ParseStatusError;

    /// Case-insensitive, surrounding spaces ignored (the log may have been
    /// touched by a spreadsheet; `--status` is typed by people).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim();
        Status::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| ParseStatusError(word.to_string()))
    }
}

/// A recipient's state, decided by the last row for that recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Accepted by the server: never send again.
    Sent,
    /// Transient failure: retry.
    Deferred,
    /// Permanent failure: retry only with `--retry-failed`.
    Failed,
    /// A hard bounce (5.x.x) came back after `sent`: retry only with
    /// `--retry-failed`. (A soft bounce leaves the recipient `Deferred`.)
    Bounced,
    /// The last row is `sending`: the run stopped mid-transaction and nobody
    /// knows whether the server took the message. Resend only with
    /// `--resend-unknown`.
    Unknown,
    /// An office without an address reached by its contact form: never
    /// emailed, counted as reached.
    FormSent,
}

impl State {
    /// `sent`, `deferred`, `failed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Sent => "sent",
            State::Deferred => "deferred",
            State::Failed => "failed",
            State::Bounced => "bounced",
            State::Unknown => "unknown",
            State::FormSent => "form_sent",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened (UTC; stored with millisecond precision).
    pub time: DateTime<Utc>,
    /// The campaign's name.
    pub campaign: String,
    /// The recipient's address as given in the contacts.
    pub email: String,
    /// What happened.
    pub status: Status,
    /// Which try this is for the recipient, counted across all runs
    /// (1-based).
    pub attempt: u32,
    /// The server's reply code, if there was a reply.
    pub smtp_code: Option<u16>,
    /// The message's `Message-ID` (may be empty).
    pub message_id: String,
    /// The server's reply or the error.
    pub detail: String,
}

impl Event {
    /// An event stamped now, with no reply code, message id or detail.
    pub fn new(
        campaign: impl Into<String>,
        email: impl Into<String>,
        status: Status,
        attempt: u32,
    ) -> Self {
        Event {
            time: Utc::now(),
            campaign: campaign.into(),
            email: email.into(),
            status,
            attempt,
            smtp_code: None,
            message_id: String::new(),
            detail: String::new(),
        }
    }

    /// Sets the server's reply code.
    pub fn with_smtp_code(mut self, code: Option<u16>) -> Self {
        self.smtp_code = code;
        self
    }

    /// Sets the `Message-ID`.
    pub fn with_message_id(mut self, message_id: impl Into<String>) -> Self {
        self.message_id = message_id.into();
        self
    }

    /// Sets the server's reply or the error text.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The state a recipient is in when this is its last delivery row;
    /// `None` for answers (`replied`, `auto_replied`), which decide nothing.
    pub fn state(&self) -> Option<State> {
        Some(match self.status {
            Status::Sending => State::Unknown,
            Status::Sent => State::Sent,
            Status::Deferred => State::Deferred,
            Status::Failed => State::Failed,
            // A report that did not carry the letter's Message-ID can be
            // anyone's forgery: it may stop letters, never reopen them
            // (issue 23). Sent is the one state no flag resends.
            Status::Bounced if is_by_address_only(&self.detail) => State::Sent,
            Status::Bounced if is_hard_bounce(&self.detail) => State::Bounced,
            Status::Bounced => State::Deferred,
            Status::FormSent => State::FormSent,
            Status::Replied | Status::AutoReplied | Status::Copied => return None,
        })
    }

    /// The key identifying this event's recipient, see [`recipient_key`].
    pub fn key(&self) -> String {
        recipient_key(&self.email)
    }

    /// The event exactly as it will read back from the file: text fields on
    /// one line, time cut to milliseconds. The writer stores this form so
    /// that its live view equals what a later [`Ledger::read`] returns.
    pub(super) fn normalized(&self) -> Event {
        Event {
            time: self.time.trunc_subsecs(3),
            campaign: one_line(&self.campaign),
            email: one_line(&self.email),
            status: self.status,
            attempt: self.attempt,
            smtp_code: self.smtp_code,
            message_id: one_line(&self.message_id),
            detail: one_line(&self.detail),
        }
    }
}

/// Whether a `bounced` row's detail names a permanent failure: it starts
/// with an enhanced status of class 5 (RFC 3463), e.g. `5.1.1 user unknown`.
/// A detail edited by hand into something else counts as soft, so the
/// recipient is retried rather than silently dropped.
pub fn is_hard_bounce(detail: &str) -> bool {
    detail.trim_start().starts_with("5.")
}

/// What a `bounced` row's detail says when the report did not carry the
/// Message-ID of the recipient's letter and was matched by the address
/// alone (`inbox`'s evidence rule, docs/design.md "What the inbox may
/// record").
pub const BY_ADDRESS_ONLY: &str = "matched by address only";

/// Whether a `bounced` row was matched by address only: such a row leaves
/// the recipient `sent`, never sent again under any flag. Looked for
/// anywhere in the detail, so the report's own words can only make a row
/// stop letters, never make one sendable.
pub fn is_by_address_only(detail: &str) -> bool {
    detail.contains(BY_ADDRESS_ONLY)
}
