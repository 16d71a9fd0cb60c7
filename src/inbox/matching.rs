//! Matching incoming mail to the campaign's letters and turning it into
//! ledger rows: by the original Message-ID first (a report's returned
//! headers, a reply's In-Reply-To / References), else by address among the
//! recipients whose letter was accepted (`sent`). What matches nothing is
//! ignored; what was imported before is not recorded again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::classify::{classify, Class};
use super::decoders::Failure;
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
    /// A delayed-delivery notice: nothing to record.
    Delayed,
    /// A feedback (ARF) report: a complaint, not recorded.
    Complaint,
    /// Mail for many, or a mail system's notice we cannot read.
    Unrelated,
    /// Dated before `--since`: not looked at.
    Older,
}

/// Matches incoming messages against one campaign's ledger.
#[derive(Debug)]
pub struct Matcher {
    campaign: String,
    /// Original Message-ID (lower-cased) → recipient address.
    by_id: HashMap<String, String>,
    /// Recipient key → address as the ledger spells it, for every recipient
    /// with a `sent` row.
    sent: HashMap<String, String>,
    /// Attempts per recipient key, for the rows' `attempt`.
    attempts: HashMap<String, u32>,
    /// (incoming key, recipient key) of rows already in the ledger.
    imported: HashSet<(String, String)>,
    /// Messages dated before this are skipped (undated ones are read).
    since: Option<DateTime<Utc>>,
}

impl Matcher {
    /// A matcher for the letters in `ledger`.
    pub fn new(ledger: &Ledger, campaign: &str) -> Matcher {
        let mut m = Matcher {
            campaign: campaign.to_string(),
            by_id: HashMap::new(),
            sent: HashMap::new(),
            attempts: HashMap::new(),
            imported: HashSet::new(),
            since: None,
        };
        for e in ledger.events() {
            let key = e.key();
            match e.status {
                Status::Sending | Status::Sent if !e.message_id.is_empty() => {
                    m.by_id.insert(
                        e.message_id.trim().to_lowercase(),
                        e.email.trim().to_string(),
                    );
                }
                Status::Bounced | Status::Replied | Status::AutoReplied => {
                    m.imported.insert((e.message_id.clone(), key.clone()));
                }
                _ => {}
            }
            if e.status == Status::Sent {
                m.sent.insert(key.clone(), e.email.trim().to_string());
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
        let mail = Mail::parse(raw);
        if let (Some(since), Some(date)) = (self.since, mail.date) {
            if date < since {
                return Found::Older;
            }
        }
        let incoming = incoming_key(&mail, raw);
        let rows: Vec<(String, Event)> = match classify(&mail) {
            Class::Complaint => return Found::Complaint,
            Class::Delayed => return Found::Delayed,
            Class::Unrelated => return Found::Unrelated,
            Class::Bounce { failures, .. } => self.bounces(&mail, &failures),
            Class::AutoReply => self.answer(&mail, Status::AutoReplied),
            Class::Message => self.answer(&mail, Status::Replied),
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

    fn bounces(&self, mail: &Mail, failures: &[Failure]) -> Vec<(String, Event)> {
        // Each letter has one recipient, so the returned Message-ID names
        // them outright; the report's failure for that address (or its only
        // one) supplies the reason.
        if let Some(email) = self.by_original_id(&mail.original_ids()) {
            let key = recipient_key(&email);
            if !self.sent.contains_key(&key) {
                return Vec::new();
            }
            let failure = failures
                .iter()
                .find(|f| f.recipient.as_deref().map(recipient_key) == Some(key.clone()))
                .or_else(|| failures.first());
            return failure
                .map(|f| vec![self.bounce_row(&email, f)])
                .unwrap_or_default();
        }
        let mut rows = Vec::new();
        for f in failures {
            if let Some(email) = f
                .recipient
                .as_deref()
                .and_then(|r| self.sent.get(&recipient_key(r)))
            {
                rows.push(self.bounce_row(email, f));
            }
        }
        if rows.is_empty() {
            // No named recipient of ours: one named in the diagnostic text,
            // if exactly one is.
            let mut text: String = failures.iter().map(|f| f.diagnostic.as_str()).collect();
            text.push('\n');
            text.push_str(super::decoders::report_text(mail));
            let found = self.recipients_in(&text);
            if let ([email], Some(f)) = (found.as_slice(), failures.first()) {
                rows.push(self.bounce_row(email, f));
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.dedup_by(|a, b| a.0 == b.0);
        rows
    }

    fn bounce_row(&self, email: &str, f: &Failure) -> (String, Event) {
        let v = verdict(f);
        let key = recipient_key(email);
        let event = self
            .event(email, Status::Bounced)
            .with_smtp_code(v.smtp_code)
            .with_detail(v.detail);
        (key, event)
    }

    fn answer(&self, mail: &Mail, status: Status) -> Vec<(String, Event)> {
        let email = self
            .by_original_id(&mail.parents)
            .or_else(|| self.sent.get(&recipient_key(&mail.from)).cloned());
        let Some(email) = email else {
            return Vec::new();
        };
        let key = recipient_key(&email);
        if !self.sent.contains_key(&key) {
            return Vec::new();
        }
        let when = mail
            .date
            .map_or_else(|| "no date".to_string(), crate::review::human_time);
        let detail = format!(
            "from {}, {when}, subject: {}",
            mail.from_header.trim(),
            mail.subject.trim()
        );
        vec![(key, self.event(&email, status).with_detail(detail))]
    }

    fn event(&self, email: &str, status: Status) -> Event {
        let attempt = self
            .attempts
            .get(&recipient_key(email))
            .copied()
            .unwrap_or(1);
        Event::new(&self.campaign, email, status, attempt)
    }

    fn by_original_id(&self, ids: &[String]) -> Option<String> {
        ids.iter()
            .find_map(|id| self.by_id.get(&id.trim().to_lowercase()).cloned())
    }

    /// The campaign's sent recipients named anywhere in `text`.
    fn recipients_in(&self, text: &str) -> Vec<String> {
        let mut found: Vec<String> = text
            .split(|c: char| c.is_whitespace() || "<>()[]\"';,:".contains(c))
            .filter(|w| w.contains('@'))
            .filter_map(|w| {
                self.sent
                    .get(&recipient_key(w.trim_end_matches('.')))
                    .cloned()
            })
            .collect();
        found.sort();
        found.dedup();
        found
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
