//! Review: the delivery log (and, given a campaign, its contacts) read into
//! a [`Review`] — a summary and one row per recipient or per event — that
//! `repmail log` prints as a table, CSV or JSON, renders as a shareable HTML
//! page, or turns into the contacts file of a follow-up campaign.
//!
//! Reading only: nothing here writes to the ledger or touches SMTP, so a
//! review is safe while a `send` of the same campaign is running.

mod build;
mod contacts;
mod csv;
mod export;
mod html;
mod json;
mod table;
mod timeline;
mod walk;

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ledger::State;

pub use build::build;
pub use contacts::{load_contacts, ContactList};
pub use export::{export_contacts, ExportFormat, Records};
pub use timeline::{Timeline, MAX_BUCKETS};
pub use walk::{ContactSource, Exported, Walk};

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
}

impl Standing {
    /// Every outcome, in the order summaries list them.
    pub const ALL: [Standing; 8] = [
        Standing::Sent,
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
        }
    }

    /// The phrase for people ("never attempted").
    pub fn label(self) -> &'static str {
        match self {
            Standing::Never => "never attempted",
            Standing::Form => "contact form only",
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
            .find(|o| o.as_str() == word)
            .ok_or_else(|| {
                format!(
                    "unknown status `{s}` (expected sent, deferred, failed, unknown, \
                     bounced, never, form, unreachable, replied or auto_replied)"
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
        }
    }
}

/// The figures at the top of every review, over the selected recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Recipients by current outcome.
    pub counts: Counts,
    /// Messages started (`sending` rows) for these recipients.
    pub attempts: usize,
    /// Recipients who answered in person (a `replied` row).
    pub replied: usize,
    /// Recipients who sent an automatic answer (an `auto_replied` row).
    pub auto_replied: usize,
    /// Letters with their copy in the Sent folder (`copied` rows).
    pub copied: usize,
    /// The earliest event of these recipients.
    pub first: Option<DateTime<Utc>>,
    /// The latest event of these recipients.
    pub last: Option<DateTime<Utc>>,
    /// Recipients by domain (lower-cased), most recipients first.
    pub domains: Vec<(String, Counts)>,
}

/// One line of the review: a recipient's current state, or one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// When the event happened; `None` for a recipient never attempted.
    pub time: Option<DateTime<Utc>>,
    /// The address as the contacts (or else the ledger) spell it.
    pub email: String,
    /// The To display name from the contacts, or empty.
    pub name: String,
    /// Current view: an [`Standing`] word; history view: the ledger's status
    /// word (`sending`, `sent`, `deferred`, `failed`).
    pub status: &'static str,
    /// The try (counted across runs); `None` for a recipient never attempted.
    pub attempt: Option<u32>,
    /// Messages started for this recipient, across all runs.
    pub attempts: u32,
    /// The server's reply code, if there was one.
    pub smtp_code: Option<u16>,
    /// The message's Message-ID, if recorded.
    pub message_id: String,
    /// The server's reply or the error; for an office without an address,
    /// its contact form or why it cannot be reached.
    pub detail: String,
    /// The contact form of an office without an address.
    pub form: Option<String>,
}

/// Which rows a review holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// One row per recipient: the row that decides its state.
    #[default]
    Current,
    /// Every event, in the ledger's order.
    History,
}

impl View {
    /// `current` or `history`, as in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Current => "current",
            View::History => "history",
        }
    }
}

/// Which recipients and events to review. Empty lists select everyone.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only recipients at one of these outcomes.
    pub statuses: Vec<Standing>,
    /// Only recipients with an answer of one of these kinds (`replied`,
    /// `auto_replied`); their rows show the answer.
    pub answers: Vec<crate::ledger::Status>,
    /// Only these addresses (case-insensitive).
    pub recipients: Vec<String>,
    /// Only recipients whose state was decided at or after this time, and
    /// only events from then on.
    pub since: Option<DateTime<Utc>>,
    /// Only recipients whose letter was accepted (`sent`) before this time
    /// and who have not replied in person: the follow-up list.
    pub unanswered_before: Option<DateTime<Utc>>,
}

/// Where the review's data came from, for headings and the HTML page.
#[derive(Debug, Clone, Default)]
pub struct About {
    /// The campaign's name (from the config, else from the ledger's rows).
    pub campaign: Option<String>,
    /// The delivery log read.
    pub log: PathBuf,
    /// The contacts file read, if any.
    pub contacts: Option<PathBuf>,
    /// The subject template, given a config.
    pub subject: Option<String>,
    /// The From mailbox, given a config.
    pub sender: Option<String>,
    /// Whether the log's last line was torn and ignored.
    pub torn_tail: bool,
    /// Letters and answers per follow-up stage, first letter first
    /// (issue 21); empty for a campaign without `[[followup]]`.
    pub stages: Vec<crate::plan::stages::StageCount>,
}

/// A finished review: what every output format renders.
#[derive(Debug, Clone)]
pub struct Review {
    /// Where the data came from.
    pub about: About,
    /// Whether rows are recipients or events.
    pub view: View,
    /// Whether the contacts were read (so `never` is meaningful).
    pub with_contacts: bool,
    /// The figures.
    pub summary: Summary,
    /// The rows, in contacts order (current view) or ledger order (history).
    pub rows: Vec<Row>,
    /// When each finished attempt of the selected recipients ended, and
    /// how; an unknown one at its `sending` row. Feeds the timeline.
    pub activity: Vec<(DateTime<Utc>, Standing)>,
}

/// The rows of a review, read once per call: held in a [`Review`], or
/// walked from the files ([`Walk`]) so a million of them are never held.
pub trait Rows {
    /// Hands each row to `f`, in order; stops at its first error.
    fn each(&self, f: &mut dyn FnMut(&Row) -> io::Result<()>) -> io::Result<()>;

    /// Whether there are none.
    fn is_empty(&self) -> bool;
}

impl Rows for Vec<Row> {
    fn each(&self, f: &mut dyn FnMut(&Row) -> io::Result<()>) -> io::Result<()> {
        self.iter().try_for_each(f)
    }

    fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

/// An output format for a [`Review`] (hyperfine-style: one file each).
pub trait Exporter {
    /// Writes the whole report.
    fn write(&self, report: &Review, out: &mut dyn Write) -> io::Result<()>;
}

/// The formats `repmail log` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text: the summary, then the rows.
    Table,
    /// The rows as CSV, for spreadsheets and scripts.
    Csv,
    /// Summary and rows as one JSON document, for scripts.
    Json,
    /// One self-contained HTML page.
    Html,
}

impl Format {
    /// The exporter for this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Table => Box::new(table::Table),
            Format::Csv => Box::new(csv::Csv),
            Format::Json => Box::new(json::Json),
            Format::Html => Box::new(html::Html),
        }
    }
}

impl Review {
    /// Writes the report in `format`.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        format.exporter().write(self, out)
    }

    /// Writes the report's summary with `rows` in place of its own (a
    /// [`Walk`]'s), as table, CSV or JSON; the HTML page needs the report
    /// whole (its timeline) and writes its own rows.
    pub fn write_rows(
        &self,
        format: Format,
        rows: &dyn Rows,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match format {
            Format::Table => table::write(self, rows, out),
            Format::Csv => csv::write(rows, out),
            Format::Json => json::write(self, rows, out),
            Format::Html => html::Html.write(self, out),
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
