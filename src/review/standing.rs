//! A recipient's standing in a review, and how many stand at each.

use std::fmt;
use std::str::FromStr;

use crate::ledger::State;

/// A recipient's standing in the review: the ledger's [`State`], plus
/// `Never` for a contact the ledger has no row for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Standing {
    /// The server accepted the message.
    Sent,
    /// A transient failure; the next `send` retries it.
    Deferred,
    /// A permanent failure; retried only with `--retry-failed`.
    Failed,
    /// A run stopped mid-transaction: nobody knows whether it arrived.
    Unknown,
    /// Accepted, then a hard bounce came back; retried only with
    /// `--retry-failed`.
    Bounced,
    /// In the contacts, but no message was ever started.
    Never,
    /// In the contacts without an address, but with a contact form: to be
    /// reached there (`repmail forms`), never by email.
    Form,
    /// In the contacts with neither an address nor a contact form.
    Unreachable,
    /// An office without an address that was reached by its contact form
    /// (a `form_sent` row, `repmail forms --done`): counted as reached.
    FormSent,
}

impl Standing {
    /// Every outcome, in the order summaries list them.
    pub const ALL: [Standing; 9] = [
        Standing::Sent,
        Standing::FormSent,
        Standing::Deferred,
        Standing::Failed,
        Standing::Unknown,
        Standing::Bounced,
        Standing::Never,
        Standing::Form,
        Standing::Unreachable,
    ];

    /// Who a follow-up campaign is for: everyone the letter has not
    /// certainly reached, offices without an address included (they are
    /// the ones to reach another way). The default selection of an export.
    pub const FOLLOW_UP: [Standing; 7] = [
        Standing::Deferred,
        Standing::Failed,
        Standing::Unknown,
        Standing::Bounced,
        Standing::Never,
        Standing::Form,
        Standing::Unreachable,
    ];

    /// Whether this is an office without an address (known only from the
    /// contacts, never from the ledger).
    pub fn is_office(self) -> bool {
        matches!(self, Standing::Form | Standing::Unreachable)
    }

    /// Whether a recipient at this outcome has an email domain (the
    /// summary's table by domain): not an office without an address.
    pub fn has_domain(self) -> bool {
        !self.is_office() && self != Standing::FormSent
    }

    /// Whether knowing this outcome needs the contacts file.
    pub fn needs_contacts(self) -> bool {
        self == Standing::Never || self.is_office()
    }

    /// The word used in output and accepted by `--status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Sent => "sent",
            Standing::Deferred => "deferred",
            Standing::Failed => "failed",
            Standing::Unknown => "unknown",
            Standing::Bounced => "bounced",
            Standing::Never => "never",
            Standing::Form => "form",
            Standing::Unreachable => "unreachable",
            Standing::FormSent => "form_sent",
        }
    }

    /// The phrase for people ("never attempted").
    pub fn label(self) -> &'static str {
        match self {
            Standing::Never => "never attempted",
            Standing::Form => "contact form only",
            Standing::FormSent => "reached by contact form",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Standing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<State> for Standing {
    fn from(state: State) -> Self {
        match state {
            State::Sent => Standing::Sent,
            State::Deferred => Standing::Deferred,
            State::Failed => Standing::Failed,
            State::Unknown => Standing::Unknown,
            State::Bounced => Standing::Bounced,
            State::FormSent => Standing::FormSent,
        }
    }
}

impl FromStr for Standing {
    type Err = String;

    /// Case-insensitive; "never attempted" may be spelt out.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        let word = if word == "never attempted" {
            "never"
        } else {
            &word
        };
        Standing::ALL
            .into_iter()
            .find(|o| o.as_str().replace('_', " ") == word)
            .ok_or_else(|| {
                format!(
                    "unknown status `{s}` (expected sent, deferred, failed, unknown, \
                     bounced, never, form, form_sent, unreachable, replied or auto_replied)"
                )
            })
    }
}

/// How many recipients stand at each [`Standing`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Accepted by the server.
    pub sent: usize,
    /// Transient failure.
    pub deferred: usize,
    /// Permanent failure.
    pub failed: usize,
    /// Standing unknown (crash mid-transaction).
    pub unknown: usize,
    /// Hard-bounced after being accepted.
    pub bounced: usize,
    /// In the contacts, never attempted.
    pub never: usize,
    /// In the contacts without an address, with a contact form.
    pub form: usize,
    /// In the contacts with neither an address nor a form.
    pub unreachable: usize,
    /// Offices reached by their contact form (`form_sent` rows).
    pub form_sent: usize,
}

impl Counts {
    /// Counts one more recipient at `outcome`.
    pub fn add(&mut self, outcome: Standing) {
        *self.slot(outcome) += 1;
    }

    /// The count for `outcome`.
    pub fn get(&self, outcome: Standing) -> usize {
        match outcome {
            Standing::Sent => self.sent,
            Standing::Deferred => self.deferred,
            Standing::Failed => self.failed,
            Standing::Unknown => self.unknown,
            Standing::Bounced => self.bounced,
            Standing::Never => self.never,
            Standing::Form => self.form,
            Standing::Unreachable => self.unreachable,
            Standing::FormSent => self.form_sent,
        }
    }

    /// All recipients counted.
    pub fn total(&self) -> usize {
        Standing::ALL.into_iter().map(|o| self.get(o)).sum()
    }

    fn slot(&mut self, outcome: Standing) -> &mut usize {
        match outcome {
            Standing::Sent => &mut self.sent,
            Standing::Deferred => &mut self.deferred,
            Standing::Failed => &mut self.failed,
            Standing::Unknown => &mut self.unknown,
            Standing::Bounced => &mut self.bounced,
            Standing::Never => &mut self.never,
            Standing::Form => &mut self.form,
            Standing::Unreachable => &mut self.unreachable,
            Standing::FormSent => &mut self.form_sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_words() {
        for o in Standing::ALL {
            assert_eq!(o.as_str().parse::<Standing>(), Ok(o));
        }
        assert_eq!(" FAILED ".parse::<Standing>(), Ok(Standing::Failed));
        assert_eq!("never-attempted".parse::<Standing>(), Ok(Standing::Never));
        assert_eq!("Never attempted".parse::<Standing>(), Ok(Standing::Never));
        let err = "sending".parse::<Standing>().unwrap_err();
        assert!(err.contains("expected sent, deferred"), "{err}");
        assert_eq!("form".parse::<Standing>(), Ok(Standing::Form));
        for word in ["form_sent", "FORM-SENT", "form sent"] {
            assert_eq!(word.parse::<Standing>(), Ok(Standing::FormSent), "{word}");
        }
        assert!(!Standing::FOLLOW_UP.contains(&Standing::FormSent));
        assert!(!Standing::FormSent.needs_contacts() && !Standing::FormSent.has_domain());
        assert!(Standing::FOLLOW_UP.contains(&Standing::Unreachable));
        assert_eq!(Standing::from(State::Unknown), Standing::Unknown);
    }

    #[test]
    fn counts_add_up() {
        let mut c = Counts::default();
        for o in [
            Standing::Sent,
            Standing::Sent,
            Standing::Never,
            Standing::Failed,
        ] {
            c.add(o);
        }
        assert_eq!((c.sent, c.never, c.failed, c.total()), (2, 1, 1, 4));
    }
}
