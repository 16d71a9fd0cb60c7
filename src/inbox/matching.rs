//! Matching incoming mail to the campaign's letters and turning it into
//! ledger rows. What a message may record is decided by [`super::evidence`]
//! (a bounce by the letter's Message-ID, or a hard one by address only; an
//! answer by its parent Message-ID or its sender); this module keeps the
//! bookkeeping: `--since`, the reading time, and what was imported before,
//! which is not recorded again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::classify::{classify, Class};
use super::evidence::{bounce_detail, Letters, Match, Ruling};
use super::mail::Mail;
use super::reason::verdict;
use crate::ledger::{recipient_key, Event, Ledger, Status};

/// What became of one incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Rows to append (one per matched recipient).
    Record(Vec<Event>),
    /// Matched, but every row it makes is in the ledger already.
    AlreadyImported,
    /// A report, answer or message that matches none of the letters.
    Unmatched,
    /// A report that may not change the log, and why: its recipient is not
    /// the recipient of the letter it returns, it is about an earlier
    /// letter, or it is a soft bounce without the letter's Message-ID.
    /// Listed (`inbox -v`), not recorded.
    NotUnderstood(&'static str),
    /// A delayed-delivery notice: nothing to record.
    Delayed,
    /// A feedback (ARF) report: a complaint, not recorded.
    Complaint,
    /// Mail for many, or a mail system's notice that is no report.
    Unrelated,
    /// Dated before `--since`: not looked at.
    Older,
}

/// Matches incoming messages against one campaign's ledger.
#[derive(Debug)]
pub struct Matcher {
    campaign: String,
    letters: Letters,
    /// Attempts per recipient key, for the rows' `attempt`.
    attempts: HashMap<String, u32>,
    /// (incoming key, recipient key) of rows already in the ledger.
    imported: HashSet<(String, String)>,
    /// Messages dated before this are skipped (undated ones are read).
    since: Option<DateTime<Utc>>,
}

impl Matcher {
    /// Follow-up letters (issue 21), from each stage's log in order, are
    /// known too: see [`Letters::with_followups`].
    pub fn with_followups(mut self, stages: &[Ledger]) -> Matcher {
        self.letters = std::mem::take(&mut self.letters).with_followups(stages);
        self
    }

    /// A matcher for the letters in `ledger`.
    pub fn new(ledger: &Ledger, campaign: &str) -> Matcher {
        let mut m = Matcher {
            campaign: campaign.to_string(),
            letters: Letters::new(ledger),
            attempts: HashMap::new(),
            imported: HashSet::new(),
            since: None,
        };
        for e in ledger.events() {
            let key = e.key();
            if matches!(
                e.status,
                Status::Bounced | Status::Replied | Status::AutoReplied
            ) {
                m.imported.insert((e.message_id.clone(), key.clone()));
            }
            m.attempts.insert(key.clone(), ledger.attempts(&key));
        }
        m
    }

    /// Skips messages dated before `since`.
    pub fn since(mut self, since: Option<DateTime<Utc>>) -> Matcher {
        self.since = since;
        self
    }

    /// Classifies and matches one raw message. `Record` rows are also
    /// remembered, so the same message read twice in one run (from two
    /// sources) is recorded once.
    pub fn process(&mut self, raw: &[u8]) -> Found {
        self.process_received(raw, None)
    }

    /// [`Matcher::process`] for a message whose mailbox says when it
    /// arrived (IMAP INTERNALDATE): the time an answer with an unreadable
    /// `Date:` is said to be from.
    pub fn process_received(&mut self, raw: &[u8], received: Option<DateTime<Utc>>) -> Found {
        let mail = Mail::parse(raw);
        if let (Some(since), Some(date)) = (self.since, mail.date.or(received)) {
            if date < since {
                return Found::Older;
            }
        }
        let incoming = incoming_key(&mail, raw);
        let rows: Vec<(String, Event)> = match classify(&mail) {
            Class::Complaint => return Found::Complaint,
            Class::Delayed => return Found::Delayed,
            Class::Unrelated => return Found::Unrelated,
            Class::Bounce { failures, .. } => match self.letters.bounce(&mail, &failures) {
                Ruling::Bounces(found) => found
                    .iter()
                    .map(|(email, f, how)| self.bounce_row(email, f, *how))
                    .collect(),
                Ruling::NotUnderstood(why) => return Found::NotUnderstood(why),
                _ => Vec::new(),
            },
            Class::AutoReply => self.answer(&mail, Status::AutoReplied, received),
            Class::Message => self.answer(&mail, Status::Replied, received),
        };
        if rows.is_empty() {
            return Found::Unmatched;
        }
        let mut events = Vec::new();
        for (key, event) in rows {
            if self.imported.insert((incoming.clone(), key)) {
                events.push(event.with_message_id(&incoming));
            }
        }
        if events.is_empty() {
            Found::AlreadyImported
        } else {
            Found::Record(events)
        }
    }

    fn bounce_row(
        &self,
        email: &str,
        f: &super::failure::ReportedFailure,
        how: Match,
    ) -> (String, Event) {
        let v = verdict(f);
        let event = self
            .event(email, Status::Bounced)
            .with_smtp_code(v.smtp_code)
            .with_detail(bounce_detail(&v.detail, how));
        (recipient_key(email), event)
    }

    fn answer(
        &self,
        mail: &Mail,
        status: Status,
        received: Option<DateTime<Utc>>,
    ) -> Vec<(String, Event)> {
        let Ruling::Answer(email) = self.letters.answer(mail) else {
            return Vec::new();
        };
        // An unreadable Date is no date at all (issue 23): say when the
        // message arrived, or was read, and that its own date was unreadable.
        let when = match (mail.date, mail.header("date")) {
            (Some(date), _) => crate::time::human_time(date),
            (None, raw) => {
                let (at, how) = match received {
                    Some(t) => (t, "received"),
                    None => (Utc::now(), "read"),
                };
                let said = match raw.map(str::trim).filter(|d| !d.is_empty()) {
                    Some(_) => "its Date unreadable",
                    None => "no Date",
                };
                format!("{how} {} ({said})", crate::time::human_time(at))
            }
        };
        let detail = format!(
            "from {}, {when}, subject: {}",
            mail.from_header.trim(),
            mail.subject.trim()
        );
        vec![(
            recipient_key(&email),
            self.event(&email, status).with_detail(detail),
        )]
    }

    fn event(&self, email: &str, status: Status) -> Event {
        let attempt = self
            .attempts
            .get(&recipient_key(email))
            .copied()
            .unwrap_or(1);
        Event::new(&self.campaign, email, status, attempt)
    }
}

/// What identifies an incoming message across runs and sources: its
/// Message-ID, else a hash of its bytes (FNV-1a, stable across Rust
/// versions, unlike `DefaultHasher`).
fn incoming_key(mail: &Mail, raw: &[u8]) -> String {
    if let Some(id) = &mail.message_id {
        return id.clone();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in raw {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a:{hash:016x}")
}
