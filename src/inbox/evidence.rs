//! What incoming mail may change in the delivery log: the one place that
//! weighs a message's evidence against the campaign's letters.
//!
//! The invariant (DESIGN.md, issue 23): nothing that lacks the Message-ID
//! of a letter sent to a recipient can make that recipient sendable again.
//! Anyone can mail the group's inbox and every header and layout of a
//! delivery report can be forged; the Message-ID of a letter cannot be
//! guessed (it carries 128 random bits, `render::message_id`), so it is
//! the only evidence that a report is about one of our letters. Hence:
//!
//! * a bounce names a letter by its Message-ID (returned in the report),
//!   and the report's recipient (Final- or Original-Recipient) must be that
//!   letter's recipient, or the report names none; that letter must be the
//!   recipient's latest, and accepted (`sent`): then it is recorded as
//!   the report says, hard or soft;
//! * a report that carries one of our Message-IDs but names another
//!   recipient changes nobody (neither the letter's recipient nor the one
//!   it names);
//! * a report without any of our Message-IDs may only record a hard
//!   bounce, marked [`crate::ledger::BY_ADDRESS_ONLY`]: the ledger reads such a
//!   row as a letter that must never be sent again, under every flag;
//!   a soft bounce without the Message-ID is not recorded;
//! * a delay is never a bounce (the classifier drops delayed recipients);
//! * answers (replies, automatic answers) are facts about a delivered
//!   letter and never decide a recipient's state (the ledger), so they may
//!   be matched by a parent Message-ID or by the sender's address.

use std::collections::{HashMap, HashSet};

use super::failure::ReportedFailure;
use super::mail::Mail;
use crate::ledger::{recipient_key, Ledger, Status};

/// What the campaign's log says about its letters: the facts evidence is
/// weighed against.
#[derive(Debug, Default)]
pub(super) struct Letters {
    /// Message-ID (lower-cased) of every letter started → recipient key.
    by_id: HashMap<String, String>,
    /// Message-IDs (lower-cased) of letters the server accepted.
    accepted: HashSet<String>,
    /// Recipient key → Message-ID (lower-cased) of the latest letter
    /// started to them.
    latest: HashMap<String, String>,
    /// Recipient key → address as the log spells it, for every recipient
    /// with a `sent` row.
    pub(super) sent: HashMap<String, String>,
    /// Message-IDs (lower-cased) of follow-up letters (issue 21), kept in
    /// logs of their own: a reply to one is an answer, and a report about
    /// one never reopens a letter (see [`Letters::with_followups`]).
    followups: HashSet<String>,
}

/// How a recorded bounce was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Match {
    /// By the Message-ID of the recipient's latest letter.
    ById,
    /// By the address alone: only ever stops letters.
    ByAddress,
}

/// The ruling on one incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ruling {
    /// Bounces to record: (address as the log spells it, the failure, how
    /// it was matched).
    Bounces(Vec<(String, ReportedFailure, Match)>),
    /// An answer from (or about) this recipient.
    Answer(String),
    /// Matches none of the letters.
    Unmatched,
    /// A report that may not change the log, and why.
    NotUnderstood(&'static str),
}

/// Why a report that names a letter changes nobody.
pub(super) const DISAGREE: &str =
    "the report's recipient is not the recipient of the letter its Message-ID names";
/// Why a report about an earlier letter changes nobody.
pub(super) const EARLIER: &str =
    "a report about an earlier letter to the recipient, not the latest one";
/// Why a soft bounce of a follow-up is not recorded.
pub(super) const SOFT_FOLLOWUP: &str =
    "a soft bounce of a follow-up (its stage is retried by `send`; the first letter is not sent again)";
/// Why a soft bounce without a Message-ID is not recorded.
pub(super) const SOFT_BY_ADDRESS: &str =
    "a soft bounce without the Message-ID of the letter (it would make the letter sendable again)";

impl Letters {
    /// The letters in `ledger`.
    pub(super) fn new(ledger: &Ledger) -> Letters {
        let mut letters = Letters::default();
        for e in ledger.events() {
            let key = e.key();
            let id = e.message_id.trim().to_lowercase();
            match e.status {
                Status::Sending | Status::Sent if !id.is_empty() => {
                    letters.by_id.insert(id.clone(), key.clone());
                    letters.latest.insert(key.clone(), id.clone());
                    if e.status == Status::Sent {
                        letters.accepted.insert(id);
                    }
                }
                _ => {}
            }
            if e.status == Status::Sent {
                letters.sent.insert(key, e.email.trim().to_string());
            }
        }
        letters
    }

    /// Adds the follow-up letters of each stage's log (in stage order, so
    /// the latest letter to a recipient is their last follow-up). A reply
    /// to a follow-up is then matched by its parent, like one to the first
    /// letter. A report about a follow-up records a hard bounce as matched
    /// by address only (it stops the chain and never makes the first
    /// letter sendable again: the row goes to the first letter's log) and
    /// a soft one not at all; and once a follow-up went, a late report
    /// about the first letter is about an earlier letter, so a delayed
    /// failure notice cannot send the first letter again after its
    /// follow-up.
    pub(super) fn with_followups<'a>(
        mut self,
        stages: impl IntoIterator<Item = &'a Ledger>,
    ) -> Letters {
        for ledger in stages {
            for e in ledger.events() {
                let id = e.message_id.trim().to_lowercase();
                if id.is_empty() || !matches!(e.status, Status::Sending | Status::Sent) {
                    continue;
                }
                let key = e.key();
                self.by_id.insert(id.clone(), key.clone());
                self.latest.insert(key, id.clone());
                if e.status == Status::Sent {
                    self.accepted.insert(id.clone());
                }
                self.followups.insert(id);
            }
        }
        self
    }

    /// The ruling on a delivery report's failed recipients.
    pub(super) fn bounce(&self, mail: &Mail, failures: &[ReportedFailure]) -> Ruling {
        let named: Vec<(&String, &String)> = mail
            .original_ids()
            .iter()
            .filter_map(|id| self.by_id.get_key_value(&id.trim().to_lowercase()))
            .collect();
        if !named.is_empty() {
            return self.by_id(&named, failures);
        }
        let mut rows = Vec::new();
        let mut soft = false;
        for f in failures {
            let Some(email) = f
                .recipient
                .as_deref()
                .and_then(|r| self.sent.get(&recipient_key(r)))
            else {
                continue;
            };
            if super::reason::verdict(f).hard {
                rows.push((email.clone(), f.clone(), Match::ByAddress));
            } else {
                soft = true;
            }
        }
        if rows.is_empty() && !soft {
            // No named recipient of ours: one named in the diagnostic text,
            // if exactly one is (reports that print no address line).
            let mut text: String = failures.iter().map(|f| f.diagnostic.as_str()).collect();
            text.push('\n');
            text.push_str(super::decoders::report_text(mail));
            if let ([email], Some(f)) = (self.recipients_in(&text).as_slice(), failures.first()) {
                if super::reason::verdict(f).hard {
                    rows.push((email.clone(), f.clone(), Match::ByAddress));
                } else {
                    soft = true;
                }
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.dedup_by(|a, b| a.0 == b.0);
        match (rows.is_empty(), soft) {
            (false, _) => Ruling::Bounces(rows),
            (true, true) => Ruling::NotUnderstood(SOFT_BY_ADDRESS),
            (true, false) => Ruling::Unmatched,
        }
    }

    /// A report that returns the Message-IDs of our letters: each letter's
    /// failure is the one naming its recipient, or the only one when the
    /// report names nobody.
    fn by_id(&self, named: &[(&String, &String)], failures: &[ReportedFailure]) -> Ruling {
        let names_someone = failures
            .iter()
            .any(|f| f.recipient.is_some() || f.original.is_some());
        let mut rows = Vec::new();
        let mut why = None;
        for &(id, key) in named {
            let Some(email) = self.sent.get(key).filter(|_| self.accepted.contains(id)) else {
                continue;
            };
            let failure = if names_someone {
                failures.iter().find(|f| agrees(f, key))
            } else {
                failures.first().filter(|_| failures.len() == 1)
            };
            let Some(failure) = failure else {
                why = Some(DISAGREE);
                continue;
            };
            if self.latest.get(key) != Some(id) {
                why = why.or(Some(EARLIER));
                continue;
            }
            if self.followups.contains(id.as_str()) {
                // A follow-up's log is not the first letter's: only a hard
                // bounce is recorded, and as one that only stops letters.
                if super::reason::verdict(failure).hard {
                    rows.push((email.clone(), failure.clone(), Match::ByAddress));
                } else {
                    why = why.or(Some(SOFT_FOLLOWUP));
                }
                continue;
            }
            // One row per recipient: only their latest letter gets here.
            rows.push((email.clone(), failure.clone(), Match::ById));
        }
        match (rows.is_empty(), why) {
            (false, _) => Ruling::Bounces(rows),
            (true, Some(why)) => Ruling::NotUnderstood(why),
            (true, None) => Ruling::Unmatched,
        }
    }

    /// The ruling on an answer: the recipient of the letter it answers
    /// (In-Reply-To / References), else the sender when they were sent a
    /// letter. Answers never decide a recipient's state, so an address is
    /// evidence enough.
    pub(super) fn answer(&self, mail: &Mail) -> Ruling {
        let by_parent = mail
            .parents
            .iter()
            .find_map(|id| self.by_id.get(&id.trim().to_lowercase()))
            .and_then(|key| self.sent.get(key));
        match by_parent.or_else(|| self.sent.get(&recipient_key(&mail.from))) {
            Some(email) => Ruling::Answer(email.clone()),
            None => Ruling::Unmatched,
        }
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

/// Whether the failure is about this recipient: its Final-Recipient or its
/// Original-Recipient (RFC 3464 section 2.3.1: the address as the sender
/// gave it, which a forwarding server keeps) is theirs.
fn agrees(f: &ReportedFailure, key: &str) -> bool {
    [&f.recipient, &f.original]
        .into_iter()
        .flatten()
        .any(|r| recipient_key(r) == key)
}

/// A bounce row's detail: the verdict's, marked when the bounce was
/// matched by address only. The mark comes right after our own words, so a
/// reader sees it first; the ledger looks for it anywhere in the detail
/// (words a report adds can only make a row stop more, never less).
pub(super) fn bounce_detail(verdict_detail: &str, how: Match) -> String {
    match how {
        Match::ById => verdict_detail.to_string(),
        Match::ByAddress => match verdict_detail.split_once(": ") {
            Some((head, words)) => {
                format!("{head}, {}: {words}", crate::ledger::BY_ADDRESS_ONLY)
            }
            None => format!("{verdict_detail}, {}", crate::ledger::BY_ADDRESS_ONLY),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::failure::Action;
    use crate::ledger::Event;

    const ANN: &str = "ann@example.org";
    const JOSE: &str = "jose@example.org";

    fn letters() -> Letters {
        let mut rows = Vec::new();
        for (email, id) in [(ANN, "<a-1@example.org>"), (JOSE, "<j-1@example.org>")] {
            for status in [Status::Sending, Status::Sent] {
                rows.push(Event::new("c", email, status, 1).with_message_id(id));
            }
        }
        Letters::new(&Ledger::from_events(rows))
    }

    fn failure(recipient: Option<&str>, status: &str) -> ReportedFailure {
        ReportedFailure {
            recipient: recipient.map(str::to_string),
            original: None,
            status: Some(status.to_string()),
            smtp_code: None,
            diagnostic: String::new(),
            action: Action::Failed,
        }
    }

    fn mail(body: &str) -> Mail {
        Mail::parse(format!("From: MAILER-DAEMON@mx.example.net\n\n{body}").as_bytes())
    }

    fn recipients(ruling: &Ruling) -> Vec<(&str, Match)> {
        match ruling {
            Ruling::Bounces(rows) => rows.iter().map(|(e, _, m)| (e.as_str(), *m)).collect(),
            _ => Vec::new(),
        }
    }

    /// Ann was sent a follow-up (stage 1) after her first letter.
    fn with_a_followup() -> Letters {
        let stage = Ledger::from_events(
            [Status::Sending, Status::Sent]
                .into_iter()
                .map(|s| Event::new("c", ANN, s, 1).with_message_id("<a-f1@example.org>"))
                .collect::<Vec<_>>(),
        );
        letters().with_followups([&stage])
    }

    #[test]
    fn once_a_follow_up_went_a_late_report_on_the_first_letter_reopens_nothing() {
        let l = with_a_followup();
        let m = mail("Message-ID: <a-1@example.org>\n");
        assert_eq!(
            l.bounce(&m, &[failure(Some(ANN), "4.2.2")]),
            Ruling::NotUnderstood(EARLIER)
        );
        // Without the follow-up, the same report is about the latest letter.
        assert_eq!(
            recipients(&letters().bounce(&m, &[failure(Some(ANN), "4.2.2")])),
            [(ANN, Match::ById)]
        );
    }

    #[test]
    fn a_report_on_a_follow_up_only_ever_stops_letters() {
        let l = with_a_followup();
        let m = mail("Message-ID: <a-f1@example.org>\n");
        assert_eq!(
            recipients(&l.bounce(&m, &[failure(Some(ANN), "5.1.1")])),
            [(ANN, Match::ByAddress)]
        );
        assert_eq!(
            l.bounce(&m, &[failure(Some(ANN), "4.2.2")]),
            Ruling::NotUnderstood(SOFT_FOLLOWUP)
        );
    }

    #[test]
    fn a_reply_to_a_follow_up_is_matched_by_its_parent() {
        let l = with_a_followup();
        let reply = Mail::parse(
            b"From: casework@office.example.net\nIn-Reply-To: <a-f1@example.org>\nSubject: Re: x\n\nThank you\n",
        );
        assert_eq!(l.answer(&reply), Ruling::Answer(ANN.to_string()));
        assert_eq!(letters().answer(&reply), Ruling::Unmatched);
    }

    #[test]
    fn by_address_every_named_recipient_once_and_only_hard() {
        let l = letters();
        let m = mail("");
        let two = [
            failure(Some(JOSE), "5.1.1"),
            failure(Some(ANN), "5.1.1"),
            failure(Some(ANN), "5.2.1"),
        ];
        assert_eq!(
            recipients(&l.bounce(&m, &two)),
            [(ANN, Match::ByAddress), (JOSE, Match::ByAddress)]
        );
        assert_eq!(
            l.bounce(&m, &[failure(Some(ANN), "4.2.2")]),
            Ruling::NotUnderstood(SOFT_BY_ADDRESS)
        );
    }

    #[test]
    fn a_soft_bounce_by_address_is_not_turned_hard_by_the_words() {
        // Jose's failure is soft; the report's first failure is a
        // stranger's hard one, and Jose's address is in its words: the
        // fallback that reads addresses in the words must not run.
        let l = letters();
        let m = mail(&format!("<{JOSE}>: mailbox full\n"));
        let failures = [
            failure(Some("stranger@example.net"), "5.1.1"),
            failure(Some(JOSE), "4.2.2"),
        ];
        assert_eq!(
            l.bounce(&m, &failures),
            Ruling::NotUnderstood(SOFT_BY_ADDRESS)
        );
        // No named recipient of ours: one address in the words, if hard.
        let stranger = [failure(Some("stranger@example.net"), "5.1.1")];
        assert_eq!(
            recipients(&l.bounce(&m, &stranger)),
            [(JOSE, Match::ByAddress)]
        );
    }

    #[test]
    fn a_report_naming_nobody_is_its_letters_only_with_one_failure() {
        let l = letters();
        let m = mail("Message-ID: <a-1@example.org>\n");
        let one = [failure(None, "5.0.0")];
        assert_eq!(recipients(&l.bounce(&m, &one)), [(ANN, Match::ById)]);
        let two = [failure(None, "5.0.0"), failure(None, "4.2.2")];
        assert_eq!(l.bounce(&m, &two), Ruling::NotUnderstood(DISAGREE));
    }
}
