//! The delivery log reduced to what planning needs, read as a stream: each
//! recipient's state and tries, and the times of recent `sent` rows. A
//! million recipients keep about 20 MB here, where [`Ledger`] keeps every
//! event with its strings (about 250 bytes a row) and the file itself
//! while reading it (issue 23). `send --dry-run` plans from it; a real
//! `send` keeps the [`Ledger`] its writer holds under the lock.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufReader};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{recipient_key, scan_lines, Event, Ledger, LedgerError, State, Status};

/// Each recipient's state as the log decides it, by a fingerprint of its
/// address (64 bits, random keys per run: see `contacts`'s duplicate check
/// for the odds of two addresses sharing one).
#[derive(Debug, Default)]
pub struct Digest {
    states: HashMap<u64, Slot>,
    keys: RandomState,
    /// `sent` rows at or after `since`, for the daily cap.
    sent: Vec<DateTime<Utc>>,
    since: Option<DateTime<Utc>>,
    events: usize,
    torn_tail: bool,
    /// Each campaign named in the log, with the first line naming it
    /// (a log holds one; a few are kept to name the stranger).
    campaigns: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// The state the last delivery row decides; `None` with answers only.
    state: Option<State>,
    attempts: u32,
}

impl Digest {
    /// Reads the log at `path` as [`Ledger::read`] does (a missing file is
    /// an empty log, a torn last line is left out, any other unreadable
    /// line is an error naming it), keeping the times of `sent` rows at or
    /// after `sent_since`.
    pub fn read(path: &Path, sent_since: DateTime<Utc>) -> Result<Digest, LedgerError> {
        let mut digest = Digest {
            since: Some(sent_since),
            ..Digest::default()
        };
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(digest),
            Err(e) => return Err(LedgerError::io("read", path, e)),
        };
        let lines = scan_lines(path, BufReader::new(file), |e, _| digest.push(&e))?;
        digest.torn_tail = lines.torn_tail;
        Ok(digest)
    }

    /// Mirrors [`Ledger`]'s own bookkeeping: answers decide nothing, the
    /// last delivery row decides the state, each `sending` row is a try
    /// unless a `deferred` row takes it back.
    fn push(&mut self, event: &Event) {
        self.events += 1;
        let named = event.campaign.trim();
        if !named.is_empty()
            && self.campaigns.len() < 4
            && !self.campaigns.iter().any(|(c, _)| c == named)
        {
            // As `Ledger::check_campaign` counts: the header is line 1.
            self.campaigns.push((named.to_string(), self.events + 1));
        }
        let key = self.keys.hash_one(recipient_key(&event.email));
        let slot = self.states.entry(key).or_default();
        if let Some(state) = event.state() {
            slot.state = Some(state);
        }
        slot.attempts += u32::from(event.status == Status::Sending);
        // As `Ledger::push`: a `deferred` row counting fewer tries takes
        // the last one back (that try failed at sign-in).
        if event.status == Status::Deferred && event.attempt < slot.attempts {
            slot.attempts = event.attempt;
        }
        if event.status == Status::Sent && self.since.is_some_and(|s| event.time >= s) {
            self.sent.push(event.time);
        }
    }

    /// The recipient's state, or `None` if the log decides nothing for it.
    pub fn state(&self, email: &str) -> Option<State> {
        self.slot(email)?.state
    }

    /// How many times a message to this recipient was started.
    pub fn attempts(&self, email: &str) -> u32 {
        self.slot(email).map_or(0, |s| s.attempts)
    }

    /// The times of the `sent` rows kept (at or after the `sent_since` it
    /// was read with), oldest first.
    pub fn sent(&self) -> Vec<DateTime<Utc>> {
        let mut times = self.sent.clone();
        times.sort_unstable();
        times
    }

    /// Refuses a log that holds rows of another campaign, as
    /// [`Ledger::check_campaign`] does for the log held in full.
    pub fn check_campaign(&self, path: &Path, campaign: &str) -> Result<(), LedgerError> {
        let ours = crate::text::one_line(campaign);
        match self.campaigns.iter().find(|(c, _)| c != ours.trim()) {
            Some((theirs, line)) => Err(LedgerError::OtherCampaign {
                path: path.to_path_buf(),
                ours,
                theirs: theirs.clone(),
                line: *line,
            }),
            None => Ok(()),
        }
    }

    /// Whether the last line was torn and left out.
    pub fn torn_tail(&self) -> bool {
        self.torn_tail
    }

    /// Whether the log has no events.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    fn slot(&self, email: &str) -> Option<&Slot> {
        self.states.get(&self.keys.hash_one(recipient_key(email)))
    }
}

/// A recipient's state, from whichever reading of the log a command holds.
pub trait StateOf {
    /// The state the log decides for `email`, if any.
    fn state_of(&self, email: &str) -> Option<State>;
}

impl StateOf for Ledger {
    fn state_of(&self, email: &str) -> Option<State> {
        self.state(email).map(|(s, _)| s)
    }
}

impl StateOf for Digest {
    fn state_of(&self, email: &str) -> Option<State> {
        self.state(email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_ledger_on_every_state_and_try() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let rows = [
            ("a@example.org", Status::Sending, ""),
            ("a@example.org", Status::Sent, "250 ok"),
            ("A@example.org", Status::Replied, "thanks"),
            ("b@example.org", Status::Sending, ""),
            ("b@example.org", Status::Deferred, "451"),
            ("b@example.org", Status::Sending, ""),
            ("c@example.org", Status::Sending, ""),
            ("d@example.org", Status::Sending, ""),
            ("d@example.org", Status::Sent, ""),
            ("d@example.org", Status::Bounced, "5.1.1 no such user"),
            ("e@example.org", Status::AutoReplied, "away"),
            ("f@example.org", Status::Failed, "550"),
            // A try that failed at sign-in is taken back (attempt 1 < 2).
            ("h@example.org", Status::Sending, ""),
            ("h@example.org", Status::Sending, ""),
            ("h@example.org", Status::Deferred, "421 at sign-in"),
        ];
        let mut text = super::super::HEADER.join(",") + "\n";
        for (email, status, detail) in rows {
            text.push_str(&format!(
                "2026-12-01T10:00:00.000Z,t,{email},{status},1,,,{detail}\n"
            ));
        }
        text.push_str("2026-12-01T10:00:00.000Z,t,g@example.org,sent"); // torn
        std::fs::write(&path, text).unwrap();
        let ledger = Ledger::read(&path).unwrap();
        let since = DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z").unwrap();
        let digest = Digest::read(&path, since.with_timezone(&Utc)).unwrap();
        for email in [
            "a@example.org",
            "b@EXAMPLE.org",
            "c@example.org",
            "d@example.org",
        ]
        .into_iter()
        .chain([
            "e@example.org",
            "f@example.org",
            "g@example.org",
            "h@example.org",
            "x@example.org",
        ]) {
            assert_eq!(digest.state_of(email), ledger.state_of(email), "{email}");
            assert_eq!(digest.attempts(email), ledger.attempts(email), "{email}");
        }
        assert_eq!(digest.sent(), ledger.sent_since(since.with_timezone(&Utc)));
        assert!(digest.torn_tail() && ledger.torn_tail());
        assert!(Digest::read(&dir.path().join("none.csv"), Utc::now())
            .unwrap()
            .is_empty());
    }
}
