//! The rows a [`Walk`] yields, each read again from the files when it is
//! printed, and the follow-up list it exports.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::book::Book;
use super::{Entry, Walk};
use crate::ledger::{Event, Status};
use crate::review::{ExportFormat, Records, Row, Rows, Standing};

/// What [`Walk::export`] wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Exported {
    /// Rows of the contacts written.
    pub written: usize,
    /// Selected recipients only the log knows (not in the contacts file).
    pub missing: usize,
    /// The statuses of the selected recipients, in order.
    pub statuses: BTreeSet<&'static str>,
}

impl Walk<'_> {
    /// Writes the contacts rows of the recipients [`Walk::review`]
    /// selected, in contacts order, after the contacts' header: the
    /// follow-up list, one row held at a time. Without contacts, nothing.
    pub fn export(&self, format: ExportFormat, out: &mut dyn Write) -> io::Result<Exported> {
        let Some(source) = &self.contacts else {
            return Ok(Exported::default());
        };
        let reader = (source.open)().map_err(|d| io::Error::other(d.to_string()))?;
        let mut records = Records::new(format, &reader.columns().names, out)?;
        drop(reader);
        let mut exported = Exported::default();
        self.entries(&mut |book, entry, selected| {
            if !selected {
                return Ok(());
            }
            exported.statuses.insert(self.row(book, entry)?.status);
            if entry.values.is_empty() {
                exported.missing += usize::from(!entry.email.is_empty());
            } else {
                records.write(&entry.values)?;
                exported.written += 1;
            }
            Ok(())
        })?;
        Ok(exported)
    }

    /// The row `build`'s `current_row` makes for `entry`.
    fn row(&self, book: &mut Book, entry: &Entry) -> io::Result<Row> {
        let wanted = &self.filter.answers;
        let attempts = book.slots.get(&entry.hash).map_or(0, |s| s.attempts());
        if entry.outcome == Standing::Sent || !wanted.is_empty() {
            let kinds: &[Status] = if wanted.is_empty() {
                &[Status::Replied, Status::AutoReplied]
            } else {
                wanted
            };
            if let Some(at) = kinds.iter().find_map(|&k| book.answer(entry.hash, k)) {
                let event = book.rows.read(at)?;
                let status = event.status.as_str();
                return Ok(event_row(event, status, entry, attempts));
            }
        }
        Ok(match entry.last {
            Some(at) => {
                let mut row =
                    event_row(book.rows.read(at)?, entry.outcome.as_str(), entry, attempts);
                row.form = entry.office.as_ref().and_then(|(_, f)| f.clone());
                row
            }
            None => Row::unattempted(
                &entry.email,
                &entry.name,
                entry.outcome,
                entry.office.as_ref(),
            ),
        })
    }
}

fn event_row(event: Event, status: &'static str, entry: &Entry, attempts: u32) -> Row {
    Row {
        time: Some(event.time),
        email: entry.email.clone(),
        name: entry.name.clone(),
        status,
        attempt: Some(event.attempt),
        attempts,
        smtp_code: event.smtp_code,
        message_id: event.message_id,
        detail: event.detail,
        form: None,
    }
}

impl Rows for Walk<'_> {
    fn each(&self, f: &mut dyn FnMut(&Row) -> io::Result<()>) -> io::Result<()> {
        self.entries(&mut |book, entry, selected| {
            if selected {
                f(&self.row(book, entry)?)?;
            }
            Ok(())
        })
        .map(drop)
    }

    fn is_empty(&self) -> bool {
        self.selected == 0
    }
}
