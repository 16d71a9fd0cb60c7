//! Summary and rows as one JSON document, for scripts. The schema is
//! documented in the README and versioned: fields are only ever added;
//! a change that would break a reader bumps `version`.

use std::io::{self, Write};

use serde::Serialize;

use super::{Counts, Exporter, Review, Row, Rows, Standing};
use crate::time::machine_time;

/// The schema's version.
pub const VERSION: u32 = 1;

/// One JSON document.
pub struct Json;

impl Exporter for Json {
    fn write(&self, report: &Review, out: &mut dyn Write) -> io::Result<()> {
        write(report, &report.rows, out)
    }
}

/// Writes the document: the report's summary, then `rows` as they come.
pub(super) fn write(report: &Review, rows: &dyn Rows, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Document::of(report, rows))?;
    writeln!(out)
}

// The schema as structs: fields serialize in the order written here, the
// order the README documents.

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    view: &'static str,
    campaign: Option<&'a str>,
    log: String,
    contacts: Option<String>,
    torn_tail: bool,
    summary: SummaryJson<'a>,
    rows: RowsJson<'a>,
}

/// The rows, serialized one by one as they are read: never all held.
struct RowsJson<'a>(&'a dyn Rows);

impl Serialize for RowsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        // No length: serde_json writes `[]` for none either way.
        let mut seq = s.serialize_seq(None)?;
        let mut failed = None;
        let walked = self.0.each(&mut |r| {
            seq.serialize_element(&RowJson::of(r)).map_err(|e| {
                failed = Some(e);
                io::Error::other("a row could not be written")
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        walked.map_err(S::Error::custom)?;
        seq.end()
    }
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    #[serde(flatten)]
    counts: CountsJson,
    attempts: usize,
    replied: usize,
    auto_replied: usize,
    first: Option<String>,
    last: Option<String>,
    domains: Vec<DomainJson<'a>>,
}

#[derive(Serialize)]
struct DomainJson<'a> {
    domain: &'a str,
    #[serde(flatten)]
    counts: CountsJson,
}

/// `never` is `null` when the contacts were not read: unknowable, not zero.
#[derive(Serialize)]
struct CountsJson {
    recipients: usize,
    sent: usize,
    deferred: usize,
    failed: usize,
    unknown: usize,
    bounced: usize,
    never: Option<usize>,
    form: Option<usize>,
    unreachable: Option<usize>,
    /// Offices reached by their contact form: known from the log alone.
    form_sent: usize,
}

#[derive(Serialize)]
struct RowJson<'a> {
    time: Option<String>,
    email: &'a str,
    name: &'a str,
    status: &'a str,
    attempt: Option<u32>,
    attempts: u32,
    smtp_code: Option<u16>,
    message_id: &'a str,
    detail: &'a str,
    form: Option<&'a str>,
}

impl<'a> Document<'a> {
    fn of(report: &'a Review, rows: &'a dyn Rows) -> Document<'a> {
        let a = &report.about;
        let s = &report.summary;
        let counts = |c: &Counts| CountsJson {
            recipients: c.total(),
            sent: c.sent,
            deferred: c.deferred,
            failed: c.failed,
            unknown: c.unknown,
            bounced: c.bounced,
            never: report.with_contacts.then(|| c.get(Standing::Never)),
            form: report.with_contacts.then(|| c.get(Standing::Form)),
            unreachable: report.with_contacts.then(|| c.get(Standing::Unreachable)),
            form_sent: c.form_sent,
        };
        Document {
            version: VERSION,
            view: report.view.as_str(),
            campaign: a.campaign.as_deref(),
            log: a.log.display().to_string(),
            contacts: a.contacts.as_ref().map(|p| p.display().to_string()),
            torn_tail: a.torn_tail,
            summary: SummaryJson {
                counts: counts(&s.counts),
                attempts: s.attempts,
                replied: s.replied,
                auto_replied: s.auto_replied,
                first: s.first.map(machine_time),
                last: s.last.map(machine_time),
                domains: s
                    .domains
                    .iter()
                    .map(|(domain, c)| DomainJson {
                        domain,
                        counts: counts(c),
                    })
                    .collect(),
            },
            rows: RowsJson(rows),
        }
    }
}

impl<'a> RowJson<'a> {
    fn of(r: &'a Row) -> RowJson<'a> {
        RowJson {
            time: r.time.map(machine_time),
            email: &r.email,
            name: &r.name,
            status: r.status,
            attempt: r.attempt,
            attempts: r.attempts,
            smtp_code: r.smtp_code,
            message_id: &r.message_id,
            detail: &r.detail,
            form: r.form.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{build, About, Filter, View};
    use super::*;
    use crate::ledger::{Event, Ledger, Status};
    use serde_json::Value;

    #[test]
    fn document_shape() {
        let ledger = Ledger::from_events([
            Event::new("hrf", "a@example.org", Status::Sending, 1),
            Event::new("hrf", "a@example.org", Status::Sent, 1).with_smtp_code(Some(250)),
        ]);
        let about = About {
            campaign: Some("hrf".into()),
            log: "logs/hrf.csv".into(),
            ..About::default()
        };
        let report = build(&ledger, None, &Filter::default(), View::History, about);
        let mut out = Vec::new();
        Json.write(&report, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["view"], "history");
        assert_eq!(v["campaign"], "hrf");
        assert_eq!(v["contacts"], Value::Null);
        assert_eq!(v["summary"]["recipients"], 1);
        assert_eq!(v["summary"]["sent"], 1);
        assert_eq!(v["summary"]["never"], Value::Null);
        assert_eq!(v["summary"]["attempts"], 1);
        assert_eq!(v["summary"]["domains"][0]["domain"], "example.org");
        assert_eq!(v["summary"]["domains"][0]["sent"], 1);
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["status"], "sending");
        assert_eq!(rows[0]["smtp_code"], Value::Null);
        assert_eq!(rows[1]["smtp_code"], 250);
        assert_eq!(rows[1]["attempts"], 1);
        // Fields in the documented order.
        let text = String::from_utf8(out).unwrap();
        let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
        assert!(at("version") < at("view") && at("view") < at("summary"));
        assert!(at("recipients") < at("sent") && at("never") < at("attempts"));
    }
}
