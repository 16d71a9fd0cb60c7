//! What the follow-up stages did (issue 21): per stage, how many letters
//! the server accepted and how many offices answered after that stage's
//! letter; per recipient, its chain. For `log` (and the report).
//!
//! An answer is counted for the last stage whose letter went to that
//! office before the answer was recorded: the inbox's `replied` row
//! carries the incoming message's own Message-ID, not the letter's, and
//! "answered after the second letter" is what a coordinator asks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::ledger::{recipient_key, Status};

use super::followup::Chains;

/// One stage's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageCount {
    /// 0: the first letter; 1…: the follow-ups.
    pub stage: usize,
    /// Recipients whose letter of this stage the server accepted.
    pub sent: usize,
    /// Of those, offices whose first answer came after this stage's letter
    /// (and before the next).
    pub answered: usize,
}

impl StageCount {
    /// `answered / sent` in percent, `None` when nothing was sent.
    pub fn rate(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.answered as f64 * 100.0 / self.sent as f64)
    }
}

/// One recipient's letters and first answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// When each stage's letter was accepted, by stage (`None`: not sent).
    pub sent: Vec<Option<DateTime<Utc>>>,
    /// When the first answer was recorded.
    pub answered: Option<DateTime<Utc>>,
}

impl Chain {
    /// The stage an answer is counted for: the last one sent at or before
    /// it (the first letter when the times disagree).
    pub fn answered_stage(&self) -> Option<usize> {
        let at = self.answered?;
        Some(
            self.sent
                .iter()
                .enumerate()
                .rfind(|(_, t)| t.is_some_and(|t| t <= at))
                .map(|(i, _)| i)
                .unwrap_or(0),
        )
    }
}

impl Chains {
    /// Every recipient's chain, by recipient key.
    pub fn chains(&self) -> HashMap<String, Chain> {
        let stages = self.logs().len();
        let mut out: HashMap<String, Chain> = HashMap::new();
        for (stage, log) in self.logs().iter().enumerate() {
            for e in log.events() {
                let chain = out.entry(recipient_key(&e.email)).or_insert_with(|| Chain {
                    sent: vec![None; stages],
                    answered: None,
                });
                match e.status {
                    Status::Sent => chain.sent[stage] = Some(e.time),
                    Status::Replied if chain.answered.is_none_or(|t| e.time < t) => {
                        chain.answered = Some(e.time)
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// The figures of every stage, first letter first.
    pub fn counts(&self) -> Vec<StageCount> {
        let mut counts: Vec<StageCount> = (0..self.logs().len())
            .map(|stage| StageCount {
                stage,
                ..StageCount::default()
            })
            .collect();
        for chain in self.chains().values() {
            for (stage, t) in chain.sent.iter().enumerate() {
                counts[stage].sent += usize::from(t.is_some());
            }
            if let Some(stage) = chain.answered_stage() {
                if chain.sent[stage].is_some() {
                    counts[stage].answered += 1;
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Event, Ledger};

    fn row(email: &str, status: Status, days_ago: i64) -> Event {
        let mut e = Event::new("t", email, status, 1);
        e.time = Utc::now() - chrono::Duration::days(days_ago);
        e
    }

    #[test]
    fn answers_count_for_the_last_letter_before_them() {
        let main = Ledger::from_events([
            row("a@example.org", Status::Sent, 30),
            row("b@example.org", Status::Sent, 30),
            row("c@example.org", Status::Sent, 30),
            row("d@example.org", Status::Sent, 30),
            // a answered the first letter, c the follow-up; d only sent an
            // out-of-office.
            row("a@example.org", Status::Replied, 25),
            row("c@example.org", Status::Replied, 5),
            row("c@example.org", Status::Replied, 4),
            row("d@example.org", Status::AutoReplied, 29),
        ]);
        let stage1 = Ledger::from_events([
            row("b@example.org", Status::Sent, 20),
            row("c@example.org", Status::Sent, 20),
            row("d@example.org", Status::Sent, 20),
        ]);
        let counts = Chains::new(vec![main, stage1]).counts();
        assert_eq!(
            counts,
            [
                StageCount {
                    stage: 0,
                    sent: 4,
                    answered: 1
                },
                StageCount {
                    stage: 1,
                    sent: 3,
                    answered: 1
                }
            ]
        );
        assert_eq!(counts[0].rate(), Some(25.0));
        assert!((counts[1].rate().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    }
}
