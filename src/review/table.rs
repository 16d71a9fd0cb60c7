//! The terminal format: the summary as aligned `label  value` lines, the
//! domains and the rows as aligned columns. For people; scripts use CSV or
//! JSON.

use std::borrow::Cow;
use std::io::{self, Write};

use super::{Counts, Exporter, Review, Row, Rows, Standing, View};

/// Aligned text.
pub struct Table;

/// Spaces between columns.
const GAP: &str = "  ";

impl Exporter for Table {
    fn write(&self, report: &Review, out: &mut dyn Write) -> io::Result<()> {
        write(report, &report.rows, out)
    }
}

/// Writes the report's summary, then `rows`.
pub(super) fn write(report: &Review, rows: &dyn Rows, out: &mut dyn Write) -> io::Result<()> {
    about(report, out)?;
    summary(report, out)?;
    domains(report, out)?;
    self::rows(report, rows, out)
}

/// Hands each line of a table (cells) to the sink given; called once to
/// measure the columns and once to write them.
type Lines<'a> = dyn Fn(&mut dyn FnMut(&[String]) -> io::Result<()>) -> io::Result<()> + 'a;

fn about(report: &Review, out: &mut dyn Write) -> io::Result<()> {
    let a = &report.about;
    if let Some(name) = &a.campaign {
        writeln!(out, "campaign   {name}")?;
    }
    writeln!(out, "log        {}", a.log.display())?;
    if let Some(contacts) = &a.contacts {
        writeln!(out, "contacts   {}", contacts.display())?;
    }
    writeln!(out)
}

fn summary(report: &Review, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let mut lines: Vec<(String, String)> =
        vec![("recipients".into(), s.counts.total().to_string())];
    for outcome in outcomes(report) {
        lines.push((
            format!("  {}", outcome.label()),
            s.counts.get(outcome).to_string(),
        ));
    }
    lines.push(("replied".into(), s.replied.to_string()));
    lines.push(("auto-replied".into(), s.auto_replied.to_string()));
    if s.copied > 0 {
        lines.push(("copies in Sent".into(), s.copied.to_string()));
    }
    lines.push(("attempts".into(), s.attempts.to_string()));
    let time = |t: Option<_>| t.map_or_else(|| "-".to_string(), crate::time::human_time);
    lines.push(("first event".into(), time(s.first)));
    lines.push(("last event".into(), time(s.last)));
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    // Numbers right-aligned so the counts line up under each other.
    let number_width = lines
        .iter()
        .filter(|(_, v)| v.bytes().all(|b| b.is_ascii_digit()))
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0);
    for (label, value) in lines {
        writeln!(out, "{label:<width$}{GAP}{value:>number_width$}")?;
    }
    Ok(())
}

/// The outcomes worth a line: `never` and the offices without an address
/// only when the contacts were read.
fn outcomes(report: &Review) -> impl Iterator<Item = Standing> + '_ {
    report.outcomes()
}

fn domains(report: &Review, out: &mut dyn Write) -> io::Result<()> {
    if report.summary.domains.is_empty() {
        return Ok(());
    }
    let mut header = vec!["DOMAIN".to_string(), "RECIPIENTS".to_string()];
    // Offices without an address have no domain.
    let by_domain = || outcomes(report).filter(|o| o.has_domain());
    header.extend(by_domain().map(|o| o.as_str().to_uppercase()));
    let body = report.summary.domains.iter().map(|(domain, counts)| {
        let mut cells = vec![domain.clone(), counts.total().to_string()];
        cells.extend(by_domain().map(|o| Counts::get(counts, o).to_string()));
        cells
    });
    writeln!(out)?;
    let all: Vec<Vec<String>> = std::iter::once(header).chain(body).collect();
    let lines =
        |f: &mut dyn FnMut(&[String]) -> io::Result<()>| all.iter().try_for_each(|cells| f(cells));
    columns(&lines, &[false, true, true, true, true, true, true], out)
}

fn rows(report: &Review, rows: &dyn Rows, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    if rows.is_empty() {
        return writeln!(out, "(no rows match)");
    }
    // The current view shows tries across runs; the history shows which try
    // within its run each event belongs to.
    let (tries, try_of): (&str, fn(&Row) -> String) = match report.view {
        View::Current => ("TRIES", |r| r.attempts.to_string()),
        View::History => ("TRY", |r| r.attempt.map_or("-".into(), |a| a.to_string())),
    };
    let header = ["TIME (UTC)", "STATUS", tries, "CODE", "EMAIL", "DETAIL"].map(String::from);
    let cells = |r: &Row| {
        [
            r.time
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            r.status.to_string(),
            try_of(r),
            r.smtp_code.map_or(String::new(), |c| c.to_string()),
            // An office without an address is named instead.
            if r.email.is_empty() {
                r.name.clone()
            } else {
                r.email.clone()
            },
            r.detail.clone(),
        ]
    };
    let lines = |f: &mut dyn FnMut(&[String]) -> io::Result<()>| {
        f(&header)?;
        rows.each(&mut |r| f(&cells(r)))
    };
    columns(&lines, &[false, false, true, true, false, false], out)
}

/// Writes cells padded to each column's widest (in characters); the last
/// column is never padded, so long details cost no trailing spaces. The
/// lines are read twice, to measure and then to write, not kept: a million
/// rows walked from the files stay on disk (issue 23).
fn columns(lines: &Lines<'_>, right: &[bool], out: &mut dyn Write) -> io::Result<()> {
    // One row, one line: a line break in a cell (a contacts cell, a
    // server's reply) shows as `\n` instead of starting a line that
    // would look like a row. The CLI cleans the rest for the terminal.
    // Made per cell as it is measured and written, not kept.
    let mut widths: Vec<usize> = Vec::new();
    lines(&mut |row| {
        if widths.len() < row.len() {
            widths.resize(row.len(), 0);
        }
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(one_line(cell).chars().count());
        }
        Ok(())
    })?;
    lines(&mut |row| {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let cell = one_line(cell);
            if i > 0 {
                line.push_str(GAP);
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            let last = i + 1 == row.len();
            if right.get(i).copied().unwrap_or(false) {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(&cell);
            } else {
                line.push_str(&cell);
                if !last {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", line.trim_end())
    })
}

fn one_line(cell: &str) -> Cow<'_, str> {
    if cell.contains(['\n', '\r']) {
        Cow::Owned(cell.replace('\n', "\\n").replace('\r', "\\r"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{build, About, Filter};
    use super::*;
    use crate::ledger::{Event, Ledger, Status};
    use chrono::TimeZone;

    #[test]
    fn summary_then_aligned_rows() {
        let t = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 14, 0, 2).unwrap();
        let ledger = Ledger::from_events([
            Event {
                time: t,
                ..Event::new("hrf", "a@example.org", Status::Sending, 1)
            },
            Event {
                time: t,
                ..Event::new("hrf", "a@example.org", Status::Sent, 1)
            }
            .with_smtp_code(Some(250))
            .with_detail("2.0.0 Ok"),
            Event {
                time: t,
                ..Event::new("hrf", "longer.name@example.com", Status::Failed, 1)
            }
            .with_smtp_code(Some(550))
            .with_detail("5.1.1 no such user"),
        ]);
        let about = About {
            campaign: Some("hrf".into()),
            log: "logs/hrf.csv".into(),
            ..About::default()
        };
        let report = build(&ledger, None, &Filter::default(), View::Current, about);
        let mut out = Vec::new();
        Table.write(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
campaign   hrf
log        logs/hrf.csv

recipients    2
  sent        1
  deferred    0
  failed      1
  unknown     0
  bounced     0
replied       0
auto-replied  0
attempts      1
first event   2024-05-01 14:00:02 UTC
last event    2024-05-01 14:00:02 UTC

DOMAIN       RECIPIENTS  SENT  DEFERRED  FAILED  UNKNOWN  BOUNCED
example.com           1     0         0       1        0        0
example.org           1     1         0       0        0        0

TIME (UTC)           STATUS  TRIES  CODE  EMAIL                    DETAIL
2024-05-01 14:00:02  sent        1   250  a@example.org            2.0.0 Ok
2024-05-01 14:00:02  failed      0   550  longer.name@example.com  5.1.1 no such user
";
        assert_eq!(text, expected);
    }
}
