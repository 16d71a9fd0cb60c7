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
mod standing;
mod table;
mod timeline;
mod walk;

use std::io::{self, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

pub use build::build;
pub(crate) use contacts::Namer;
pub use contacts::{load_contacts, ContactList};
pub use export::{export_contacts, ExportFormat, Records};
pub use standing::{Counts, Standing};
pub use timeline::{Timeline, MAX_BUCKETS};
pub use walk::{ContactSource, Exported, Walk};

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

impl Row {
    /// The row of a recipient never attempted: a contact with no row in
    /// the ledger, or an office without an address (`office`: its contacts
    /// line and contact form), which says how to reach it.
    pub(crate) fn unattempted(
        email: &str,
        name: &str,
        standing: Standing,
        office: Option<&(u64, Option<String>)>,
    ) -> Row {
        Row {
            time: None,
            email: email.to_string(),
            name: name.to_string(),
            status: standing.as_str(),
            attempt: None,
            attempts: 0,
            smtp_code: None,
            message_id: String::new(),
            detail: match office {
                Some((_, Some(form))) => format!("reach by contact form: {form}"),
                Some((line, None)) => format!(
                    "no address and no contact form (contacts line {line}): find one to reach this office"
                ),
                None => String::new(),
            },
            form: office.and_then(|(_, f)| f.clone()),
        }
    }
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
    /// Each recipient's subject as rendered from the campaign, by ledger
    /// key ([`ContactList::subjects`]); `None` when not rendered (no
    /// campaign, or templates that cannot be used).
    pub subjects: Option<std::collections::HashMap<String, String>>,
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
    /// The outcomes its summary lists: `never` and the offices without an
    /// address only when the contacts were read; `form_sent` when there is
    /// one, or an office is still to reach by its form (then "0 reached by
    /// form" is news; in a campaign of email only it is noise).
    pub fn outcomes(&self) -> impl Iterator<Item = Standing> + '_ {
        let c = &self.summary.counts;
        let forms = c.form_sent > 0 || c.form > 0;
        Standing::ALL.into_iter().filter(move |&o| match o {
            Standing::FormSent => forms,
            o => !o.needs_contacts() || self.with_contacts,
        })
    }

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
