//! The rows as CSV, for spreadsheets and scripts. A stable schema (see the
//! README): a header line, then one line per row; the summary is not
//! repeated here (JSON carries both).

use std::io::{self, Write};

use super::{Exporter, Review, Rows};
use crate::time::machine_time;

/// The header, column by column. Append new columns at the end only, so
/// scripts reading by position keep working.
pub const COLUMNS: [&str; 10] = [
    "time",
    "email",
    "name",
    "status",
    "attempt",
    "attempts",
    "smtp_code",
    "message_id",
    "detail",
    "form",
];

/// CSV rows.
pub struct Csv;

impl Exporter for Csv {
    fn write(&self, report: &Review, out: &mut dyn Write) -> io::Result<()> {
        write(&report.rows, out)
    }
}

/// Writes the header and `rows`.
pub(super) fn write(rows: &dyn Rows, out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(COLUMNS)?;
    rows.each(&mut |r| {
        let time = r.time.map(machine_time).unwrap_or_default();
        let attempt = r.attempt.map(|a| a.to_string()).unwrap_or_default();
        let attempts = r.attempts.to_string();
        let code = r.smtp_code.map(|c| c.to_string()).unwrap_or_default();
        w.write_record([
            time.as_str(),
            &r.email,
            &r.name,
            r.status,
            &attempt,
            &attempts,
            &code,
            &r.message_id,
            &r.detail,
            r.form.as_deref().unwrap_or_default(),
        ])
        .map_err(io::Error::from)
    })?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::super::{build, About, Filter, View};
    use super::*;
    use crate::ledger::{Event, Ledger, Status};
    use chrono::TimeZone;

    #[test]
    fn header_and_quoted_rows() {
        let t = chrono::Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        let ledger = Ledger::from_events([Event {
            time: t,
            ..Event::new("hrf", "a@example.org", Status::Deferred, 2)
        }
        .with_smtp_code(Some(451))
        .with_detail("4.7.1 \"greylisted\", try later")]);
        let report = build(
            &ledger,
            None,
            &Filter::default(),
            View::Current,
            About::default(),
        );
        let mut out = Vec::new();
        Csv.write(&report, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time,email,name,status,attempt,attempts,smtp_code,message_id,detail,form\n\
             2023-11-14T22:13:20.123Z,a@example.org,,deferred,2,0,451,,\"4.7.1 \"\"greylisted\"\", try later\",\n"
        );
    }
}
