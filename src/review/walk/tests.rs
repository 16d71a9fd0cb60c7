//! The walked review against the held one ([`build`]): the same summary
//! and the same rows, byte for byte, on every state, answer and filter.

use std::io::Cursor;

use chrono::TimeZone;

use super::super::contacts::collect;
use super::super::ContactList;
use super::super::{build, Format};
use super::*;
use crate::config::Contacts;
use crate::ledger::{Ledger, HEADER};
use crate::review::{ExportFormat, Rows};

const CONTACTS: &str = "\
name,email,contact_form
Ann,a@example.org,
Bo,B@example.com,
Office,,https://example.net/form
Cy,c@example.org,
Never,n@example.org,
Nowhere,,
bad,not an address,
Dee,d@example.net,
Dup,A@example.org,
Eve,e@example.org,
Fay,f@example.org,
Reached,,https://example.net/Reached
";

/// One row of the log; the times are 2026-12-01 plus `secs`.
fn row(secs: u32, email: &str, status: &str, attempt: u32, code: &str, detail: &str) -> String {
    format!(
        "2026-12-01T10:{:02}:{:02}.000Z,hrf,{email},{status},{attempt},{code},<{secs}@example.org>,{detail}\n",
        secs / 60,
        secs % 60
    )
}

fn log_text() -> String {
    let mut text = HEADER.join(",") + "\n";
    for line in [
        row(0, "a@example.org", "sending", 1, "", ""),
        row(1, "a@example.org", "sent", 1, "250", "2.0.0 Ok"),
        row(2, "b@example.com", "sending", 1, "", ""),
        row(
            3,
            "B@example.com",
            "failed",
            1,
            "550",
            "\"5.1.1 no such user, sorry\"",
        ),
        row(4, "c@example.org", "sending", 1, "", ""),
        row(5, "c@example.org", "deferred", 1, "451", "4.7.1 later"),
        row(6, "c@example.org", "sending", 2, "", ""),
        row(7, "c@example.org", "deferred", 1, "", "sign-in refused"),
        row(8, "d@example.net", "sending", 1, "", ""),
        row(9, "d@example.net", "sent", 1, "250", "ok"),
        row(10, "d@example.net", "bounced", 1, "", "5.1.1 user unknown"),
        row(11, "a@example.org", "replied", 1, "", "thank you"),
        row(12, "e@example.org", "sending", 1, "", ""),
        row(13, "e@example.org", "sent", 1, "250", "ok"),
        row(14, "e@example.org", "auto_replied", 1, "", "away"),
        row(15, "x@example.org", "auto_replied", 1, "", "not ours"),
        row(16, " Gone@Example.org ", "sending", 1, "", ""),
        row(17, "y@example.org", "sending", 1, "", ""),
        row(18, "y@example.org", "sent", 1, "250", "ok"),
        row(19, "gone@example.org", "sent", 1, "250", "late"),
        row(20, "f@example.org", "replied", 1, "", "early answer"),
        row(21, "f@example.org", "sending", 1, "", ""),
        row(22, "f@example.org", "sent", 1, "250", "ok"),
        row(23, "y@example.org", "replied", 1, "", "yes"),
        row(24, "d@example.net", "auto_replied", 1, "", "gone"),
        // Copies in the Sent folder, counted once per letter.
        row(25, "a@example.org", "copied", 1, "", "Sent"),
        row(26, "e@example.org", "copied", 1, "", "Sent"),
        // Offices reached by their form (`forms --done`): one in the
        // contacts (its key as the log writes it, case aside), one whose
        // form the contacts no longer give.
        row(
            27,
            "https://example.net/reached",
            "form_sent",
            0,
            "",
            "line 13",
        ),
        row(
            28,
            "https://example.net/old-form",
            "form_sent",
            0,
            "",
            "line 9",
        ),
    ] {
        text.push_str(&line);
    }
    text
}

fn contacts_cfg() -> Contacts {
    Contacts {
        path: "contacts.csv".into(),
        email_column: "email".into(),
        name: None,
        delimiter: None,
        encoding: None,
        attachments_column: None,
        timezone_column: None,
        cc_column: None,
        roster: None,
    }
}

fn reader() -> Result<ContactReader, Diagnostic> {
    ContactReader::from_reader(
        Box::new(Cursor::new(CONTACTS.as_bytes())),
        "contacts.csv",
        &contacts_cfg(),
    )
}

/// Offices without one are named by their line instead.
fn namer() -> Namer {
    Namer::template("{% if email %}{{ name }} <{{ email }}>{% endif %}")
}

fn at(secs: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap() + chrono::Duration::seconds(secs.into())
}

/// Every filter the CLI can build, one field at a time and a few together.
fn filters() -> Vec<Filter> {
    let mut filters = vec![Filter::default()];
    for o in Standing::ALL {
        filters.push(Filter {
            statuses: vec![o],
            ..Filter::default()
        });
    }
    for kind in [Status::Replied, Status::AutoReplied] {
        filters.push(Filter {
            answers: vec![kind],
            ..Filter::default()
        });
        filters.push(Filter {
            statuses: vec![Standing::Sent, Standing::Failed],
            answers: vec![kind],
            ..Filter::default()
        });
    }
    for who in [
        &["A@example.org ", "gone@example.org"][..],
        &[""],
        &["n@example.org"],
    ] {
        filters.push(Filter {
            recipients: who.iter().map(ToString::to_string).collect(),
            ..Filter::default()
        });
    }
    for secs in [0, 5, 9, 13, 30] {
        filters.push(Filter {
            since: Some(at(secs)),
            ..Filter::default()
        });
        filters.push(Filter {
            unanswered_before: Some(at(secs)),
            ..Filter::default()
        });
    }
    filters.push(Filter {
        statuses: vec![Standing::Never, Standing::Form, Standing::Unknown],
        since: Some(at(3)),
        ..Filter::default()
    });
    filters
}

fn written(report: &Review, rows: &dyn Rows, format: Format) -> String {
    let mut out = Vec::new();
    report.write_rows(format, rows, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// What the walk's export writes, and says.
fn exported(walk: &Walk) -> (String, Exported) {
    let mut out = Vec::new();
    let said = walk.export(format(), &mut out).unwrap();
    (String::from_utf8(out).unwrap(), said)
}

/// The same from the held report, as `repmail log --export` does.
fn exported_held(held: &Review, list: &ContactList) -> (String, Exported) {
    let mut out = Vec::new();
    let said = held.export(list, format(), &mut out).unwrap();
    (String::from_utf8(out).unwrap(), said)
}

fn format() -> ExportFormat {
    ExportFormat {
        delimiter: b';',
        encoding: None,
    }
}

#[test]
fn walks_to_the_same_report_as_the_held_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hrf.csv");
    std::fs::write(&path, log_text()).unwrap();
    let ledger = Ledger::read(&path).unwrap();
    let list = collect(reader().unwrap(), &namer());
    assert_eq!(list.skipped, 1, "the duplicate");
    let about = About {
        campaign: Some("hrf".into()),
        log: path.clone(),
        ..About::default()
    };
    for with_contacts in [true, false] {
        for filter in filters() {
            let mut walk = Walk::read(&path).unwrap();
            if with_contacts {
                walk.join(ContactSource::from_fn(reader, namer()));
            }
            let contacts = with_contacts.then_some(&list);
            let held = build(&ledger, contacts, &filter, View::Current, about.clone());
            let walked = walk.review(&filter, about.clone()).unwrap();
            let what = format!("contacts {with_contacts}, {filter:?}");
            assert_eq!(walked.summary, held.summary, "{what}");
            assert_eq!(walked.with_contacts, held.with_contacts, "{what}");
            let mut rows = Vec::new();
            walk.each(&mut |r| {
                rows.push(r.clone());
                Ok(())
            })
            .unwrap();
            assert_eq!(rows, held.rows, "{what}");
            assert_eq!(Rows::is_empty(&walk), held.rows.is_empty(), "{what}");
            let skipped = if with_contacts { list.skipped } else { 0 };
            assert_eq!(walk.skipped(), skipped, "{what}");
            if with_contacts {
                assert_eq!(exported(&walk), exported_held(&held, &list), "{what}");
            }
            for format in [Format::Table, Format::Csv, Format::Json] {
                assert_eq!(
                    written(&walked, &walk, format),
                    written(&held, &held.rows, format),
                    "{what}, {format:?}"
                );
            }
        }
    }
    // The log's own facts, as the held reading has them.
    let walk = Walk::read(&path).unwrap();
    assert_eq!(walk.first_campaign(), Some("hrf"));
    assert!(!walk.log_is_empty() && !walk.torn_tail());
    let missing = Walk::read(&dir.path().join("none.csv")).unwrap();
    assert!(missing.log_is_empty() && missing.first_campaign().is_none());
}
