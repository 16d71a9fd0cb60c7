//! The inbox: every fixture format classified, matched and recorded; the
//! CLI over files, folders, Maildirs and mboxes; idempotence; what a
//! bounce does to the next `send`.

mod fixture;

use std::path::{Path, PathBuf};

use chrono::Utc;
use repmail::inbox::{Found, Matcher};
use repmail::ledger::{Event, Ledger, Status};

use fixture::{ledger_text, letter_id, sent_rows, stdout, Campaign, INBOX_RECIPIENTS};

const ANN: &str = INBOX_RECIPIENTS[0];
const JOSE: &str = INBOX_RECIPIENTS[1];
const MARYAM: &str = INBOX_RECIPIENTS[2];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inbox")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap()
}

/// (fixture, expected row: recipient, status, detail start, smtp_code).
type Expected = (
    &'static str,
    Option<(&'static str, Status, &'static str, Option<u16>)>,
);

const CASES: [Expected; 19] = [
    // Final-Recipient is an alias: only the returned Message-ID names Ann.
    ("rfc3464-postfix.eml", Some((ANN, Status::Bounced, "5.1.1 user unknown: 550 5.1.1", Some(550)))),
    ("exim.eml", Some((JOSE, Status::Bounced, "5.1.1 user unknown: host mx2.example.com", Some(550)))),
    ("qmail.eml", Some((MARYAM, Status::Bounced, "5.1.1 user unknown: Sorry, no mailbox here", None))),
    ("postfix-plain.eml", Some((ANN, Status::Bounced, "4.2.2 mailbox full: host mx.example.org", Some(452)))),
    ("sendmail-plain.eml", Some((JOSE, Status::Bounced, "5.1.1 user unknown: 550 5.1.1", Some(550)))),
    ("exchange.eml", Some((MARYAM, Status::Bounced, "5.1.10 permanent failure: Remote Server returned '550 5.1.10", Some(550)))),
    ("gmail.eml", Some((ANN, Status::Bounced, "5.2.1 mailbox disabled: 550 5.2.1 The email account", Some(550)))),
    ("yahoo.eml", Some((JOSE, Status::Bounced, "5.7.1 refused by policy: Remote host said: 554 5.7.1", Some(554)))),
    // No marker but `address: reply` lines (OpenSMTPD).
    ("opensmtpd.eml", Some((JOSE, Status::Bounced, "5.1.1 user unknown: 550 5.1.1", Some(550)))),
    ("delayed-dsn.eml", None),
    ("delayed-exim.eml", None),
    ("arf.eml", None),
    ("newsletter.eml", None),
    ("bounce-stranger.eml", None),
    // By In-Reply-To, then by From.
    ("ooo-en.eml", Some((JOSE, Status::AutoReplied, "from Jose Nunez <jose.nunez@example.com>, 2026-11-30 15:10:00 UTC, subject: Automatic reply", None))),
    ("ooo-de.eml", Some((MARYAM, Status::AutoReplied, "from Maryam R <maryam@example.net>, 2026-11-30 15:10:00 UTC, subject: Abwesenheitsnotiz", None))),
    ("reply-by-id.eml", Some((ANN, Status::Replied, "from Office of Senator Smith <aide@senate.example.org>, 2026-12-01 19:00:00 UTC, subject: Re: A letter", None))),
    ("reply-by-from.eml", Some((MARYAM, Status::Replied, "from Maryam <maryam@example.net>, 2026-12-01 23:00:00 UTC, subject: Your letter", None))),
    // A person quoting a bounce is a reply, not a bounce.
    ("person-quotes-bounce.eml", Some((JOSE, Status::Replied, "from Jose Nunez", None))),
];

#[test]
fn every_format_is_recorded_as_its_class() {
    let ledger = Ledger::from_events(sent_rows());
    for (name, expected) in CASES {
        let mut matcher = Matcher::new(&ledger, "test-campaign");
        let found = matcher.process(&read(name));
        match (expected, &found) {
            (None, Found::Record(rows)) => panic!("{name}: nothing expected, got {rows:?}"),
            (None, _) => {}
            (Some((email, status, detail, code)), Found::Record(rows)) => {
                assert_eq!(rows.len(), 1, "{name}: {rows:?}");
                let row = &rows[0];
                assert_eq!((row.email.as_str(), row.status), (email, status), "{name}");
                assert!(row.detail.starts_with(detail), "{name}: {}", row.detail);
                assert_eq!(row.smtp_code, code, "{name}");
                assert_eq!(row.attempt, 1, "{name}");
                assert!(
                    !row.message_id.is_empty(),
                    "{name}: the incoming message is remembered"
                );
            }
            (Some(_), other) => panic!("{name}: expected a row, got {other:?}"),
        }
        // The same message again records nothing.
        if expected.is_some() {
            assert_eq!(
                matcher.process(&read(name)),
                Found::AlreadyImported,
                "{name}"
            );
        }
    }
}

#[test]
fn non_bounces_are_named_for_what_they_are() {
    let ledger = Ledger::from_events(sent_rows());
    let mut matcher = Matcher::new(&ledger, "test-campaign");
    assert_eq!(matcher.process(&read("delayed-dsn.eml")), Found::Delayed);
    assert_eq!(matcher.process(&read("delayed-exim.eml")), Found::Delayed);
    assert_eq!(matcher.process(&read("arf.eml")), Found::Complaint);
    assert_eq!(matcher.process(&read("newsletter.eml")), Found::Unrelated);
    assert_eq!(
        matcher.process(&read("bounce-stranger.eml")),
        Found::Unmatched
    );
}

#[test]
fn nothing_is_recorded_for_letters_that_were_not_sent() {
    // Ann's letter failed at SMTP: a later report about it is not a bounce
    // of a delivered letter, and a reply from an unknown sender is nobody's.
    let rows = vec![
        Event::new("test-campaign", ANN, Status::Sending, 1).with_message_id(letter_id(ANN)),
        Event::new("test-campaign", ANN, Status::Failed, 1).with_detail("550 no"),
    ];
    let ledger = Ledger::from_events(rows);
    let mut matcher = Matcher::new(&ledger, "test-campaign");
    for name in [
        "rfc3464-postfix.eml",
        "gmail.eml",
        "reply-by-id.eml",
        "reply-by-from.eml",
    ] {
        assert_eq!(matcher.process(&read(name)), Found::Unmatched, "{name}");
    }
}

#[test]
fn since_skips_older_messages() {
    let ledger = Ledger::from_events(sent_rows());
    let since = repmail::review::parse_time("2026-12-01").unwrap();
    let mut matcher = Matcher::new(&ledger, "test-campaign").since(Some(since));
    assert_eq!(matcher.process(&read("exim.eml")), Found::Older);
    assert!(matches!(
        matcher.process(&read("reply-by-id.eml")),
        Found::Record(_)
    ));
}

/// A campaign whose ledger has the three recipients as sent.
fn sent_campaign() -> Campaign {
    let c = Campaign::new();
    c.write(
        "logs/test-campaign.csv",
        ledger_text(&sent_rows()).as_bytes(),
    );
    c
}

fn ledger_of(c: &Campaign) -> Ledger {
    Ledger::read(&c.path("logs/test-campaign.csv")).unwrap()
}

/// The inbox rows, without their time.
fn inbox_rows(c: &Campaign) -> Vec<(String, &'static str, String, String)> {
    let mut rows: Vec<_> = ledger_of(c)
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e.status,
                Status::Bounced | Status::Replied | Status::AutoReplied
            )
        })
        .map(|e| {
            (
                e.email.clone(),
                e.status.as_str(),
                e.message_id.clone(),
                e.detail.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn cli_reads_a_folder_and_a_second_run_adds_nothing() {
    let c = sent_campaign();
    let dir = fixtures();
    let out = c
        .cmd(&["inbox", "--from", dir.to_str().unwrap()])
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(text.contains("hard bounces       8"), "{text}");
    assert!(text.contains("soft bounces       1"), "{text}");
    assert!(text.contains("replies            3"), "{text}");
    assert!(text.contains("automatic replies  2"), "{text}");
    let first = inbox_rows(&c);
    assert_eq!(first.len(), 14);

    let out = c
        .cmd(&["inbox", "--from", dir.to_str().unwrap()])
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(text.contains("already recorded   14"), "{text}");
    assert_eq!(inbox_rows(&c), first, "a second run adds no row");
}

#[test]
fn maildir_mbox_and_single_files_give_the_same_rows() {
    let names: Vec<&str> = CASES.iter().map(|(n, _)| *n).collect();
    let from_folder = sent_campaign();
    from_folder
        .cmd(&["inbox", "--from", fixtures().to_str().unwrap()])
        .assert()
        .success();
    let expected = inbox_rows(&from_folder);

    // A Maildir: new/ and cur/, with a tmp/ file that is not a message yet.
    let c = sent_campaign();
    for (i, name) in names.iter().enumerate() {
        let sub = if i % 2 == 0 { "new" } else { "cur" };
        c.write(&format!("Maildir/{sub}/{i}.host:2,"), &read(name));
    }
    c.write("Maildir/tmp/partial", b"From: half");
    c.cmd(&["inbox", "--from", c.path("Maildir").to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(inbox_rows(&c), expected, "Maildir");

    // An mboxrd file, with a body line that needs quoting.
    let c = sent_campaign();
    let mut mbox = Vec::new();
    for name in &names {
        mbox.extend_from_slice(b"From MAILER-DAEMON Mon Nov 30 09:00:00 2026\n");
        let body = String::from_utf8(read(name))
            .unwrap()
            .replace("\nFrom ", "\n>From ");
        mbox.extend_from_slice(body.as_bytes());
        mbox.extend_from_slice(b"\n");
    }
    c.write("mail.mbox", &mbox);
    c.cmd(&["inbox", "--from", c.path("mail.mbox").to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(inbox_rows(&c), expected, "mbox");

    // Files one by one, repeated --from.
    let c = sent_campaign();
    let mut args = vec!["inbox".to_string()];
    for name in &names {
        args.push("--from".into());
        args.push(fixtures().join(name).display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    c.cmd(&args).assert().success();
    assert_eq!(inbox_rows(&c), expected, "single files");
}

#[test]
fn a_missing_source_is_named() {
    let c = sent_campaign();
    let out = c
        .cmd(&["inbox", "--from", "/nonexistent/mail"])
        .assert()
        .failure();
    let err = fixture::stderr(out.get_output());
    assert!(err.contains("/nonexistent/mail"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let out = c
        .cmd(&["inbox", "--from", empty.path().to_str().unwrap()])
        .assert()
        .failure();
    let err = fixture::stderr(out.get_output());
    assert!(err.contains("neither a message file"), "{err}");
}

#[test]
fn send_skips_hard_bounces_and_retries_soft_ones() {
    let c = sent_campaign();
    for name in ["exim.eml", "postfix-plain.eml", "reply-by-from.eml"] {
        c.cmd(&["inbox", "--from", fixtures().join(name).to_str().unwrap()])
            .assert()
            .success();
    }
    let ledger = ledger_of(&c);
    use repmail::ledger::State;
    assert_eq!(ledger.state(JOSE).unwrap().0, State::Bounced);
    assert_eq!(ledger.state(ANN).unwrap().0, State::Deferred, "soft bounce");
    assert_eq!(
        ledger.state(MARYAM).unwrap().0,
        State::Sent,
        "a reply changes nothing"
    );

    let out = c.cmd(&["send", "--dry-run"]).assert().success();
    let text = stdout(out.get_output());
    assert!(text.contains(&format!("{JOSE}: bounced")), "{text}");
    assert!(
        text.contains("would send") && text.contains("Smith"),
        "soft bounce retried: {text}"
    );
    assert!(
        !text.contains("would send  line     4"),
        "Maryam was sent: {text}"
    );
    assert!(text.contains("1 bounced"), "{text}");

    let out = c
        .cmd(&["send", "--dry-run", "--retry-failed"])
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(
        text.contains("Núñez") && !text.contains(": bounced"),
        "{text}"
    );
}

#[test]
fn log_counts_and_selects_bounces_and_replies() {
    let c = sent_campaign();
    c.cmd(&["inbox", "--from", fixtures().to_str().unwrap()])
        .assert()
        .success();
    let out = c.cmd(&["log", "--format", "json"]).assert().success();
    let v: serde_json::Value = serde_json::from_str(&stdout(out.get_output())).unwrap();
    let s = &v["summary"];
    // The last delivery row decides: Ann gmail 5.2.1 (hard), Jose yahoo
    // 5.7.1, Maryam exchange 5.1.10: all three hard-bounced by now.
    let ledger = ledger_of(&c);
    let bounced = [ANN, JOSE, MARYAM]
        .iter()
        .filter(|e| ledger.state(e).unwrap().0 == repmail::ledger::State::Bounced)
        .count();
    assert_eq!(s["bounced"], bounced);
    assert_eq!(s["replied"], 3);
    assert_eq!(s["auto_replied"], 2);

    let out = c.cmd(&["log", "--status", "replied"]).assert().success();
    let text = stdout(out.get_output());
    assert!(
        text.contains("aide@senate.example.org"),
        "who replied: {text}"
    );
    assert!(text.contains("replied"), "{text}");
    let out = c.cmd(&["log", "--status", "bounced"]).assert().success();
    let text = stdout(out.get_output());
    // Read in name order: rfc3464-postfix (5.1.1) is Ann's last report.
    assert!(
        text.contains("5.1.1 user unknown: 550 5.1.1 <a.smith"),
        "the reason: {text}"
    );
    assert!(
        text.contains("5.7.1 refused by policy"),
        "the reason: {text}"
    );
    let out = c
        .cmd(&["log", "--status", "auto_replied", "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_str(&stdout(out.get_output())).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn export_the_unanswered_for_a_follow_up() {
    let c = sent_campaign();
    // Maryam replied; Ann and Jose did not.
    c.cmd(&[
        "inbox",
        "--from",
        fixtures().join("reply-by-from.eml").to_str().unwrap(),
    ])
    .assert()
    .success();
    let out_file = c.path("follow-up.csv");
    c.cmd(&[
        "log",
        "--unanswered",
        "0",
        "--export",
        out_file.to_str().unwrap(),
    ])
    .assert()
    .success();
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.contains(ANN) && text.contains(JOSE), "{text}");
    assert!(!text.contains(MARYAM), "she answered: {text}");
    // Sent today: not yet unanswered for a week.
    c.cmd(&[
        "log",
        "--unanswered",
        "7",
        "--export",
        out_file.to_str().unwrap(),
    ])
    .assert()
    .success();
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(text.lines().count(), 1, "only the header: {text}");
    let _ = Utc::now();
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    fn all_fixtures() -> Vec<Vec<u8>> {
        CASES.iter().map(|(name, _)| read(name)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Every fixture cut anywhere, with bytes flipped: classified
        /// without a panic (and any row it makes names a known recipient).
        #[test]
        fn truncated_and_mangled_reports(which in 0usize..CASES.len(), cut in 0.0f64..=1.0, flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8)) {
            let ledger = Ledger::from_events(sent_rows());
            let mut raw = all_fixtures().swap_remove(which);
            let len = (raw.len() as f64 * cut) as usize;
            raw.truncate(len);
            for (at, byte) in flips {
                if !raw.is_empty() {
                    let i = ((raw.len() - 1) as f64 * at) as usize;
                    raw[i] = byte;
                }
            }
            let mut matcher = Matcher::new(&ledger, "test-campaign");
            if let Found::Record(rows) = matcher.process(&raw) {
                for row in rows {
                    prop_assert!([ANN, JOSE, MARYAM].contains(&row.email.as_str()));
                }
            }
        }

        /// Random MIME-ish text: headers, boundaries, report parts.
        #[test]
        fn random_mime(parts in proptest::collection::vec(prop_oneof![
            Just("Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n".to_string()),
            Just("Content-Type: message/delivery-status\n".to_string()),
            Just("--b\n".to_string()),
            Just("--b--\n".to_string()),
            Just("Final-Recipient: rfc822;\n".to_string()),
            Just("Action: failed\nStatus: 5.\n".to_string()),
            Just("From: MAILER-DAEMON@\n".to_string()),
            Just("Subject: =?utf-8?B?////?=\n".to_string()),
            Just("Content-Transfer-Encoding: base64\n".to_string()),
            Just("\n".to_string()),
            Just("<ann.smith@example.org>:\n".to_string()),
            Just("The following address(es) failed:\n".to_string()),
            Just("Message-ID: <\n".to_string()),
            "[ -~]{0,40}\n",
            any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ], 0..40)) {
            let ledger = Ledger::from_events(sent_rows());
            let mut matcher = Matcher::new(&ledger, "test-campaign");
            let _ = matcher.process(parts.concat().as_bytes());
        }
    }
}

#[test]
fn the_html_report_shows_bounces_replies_and_the_response_rate() {
    let c = sent_campaign();
    for name in ["exim.eml", "reply-by-from.eml", "ooo-en.eml"] {
        c.cmd(&["inbox", "--from", fixtures().join(name).to_str().unwrap()])
            .assert()
            .success();
    }
    let page = c.path("report.html");
    c.cmd(&["log", "--html", page.to_str().unwrap()])
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h2>Bounces</h2>"), "{html}");
    assert!(html.contains("5.1.1 user unknown"), "the reason");
    assert!(html.contains("<h2>Replies</h2>"));
    assert!(
        html.contains("from Maryam &lt;maryam@example.net&gt;"),
        "escaped who"
    );
    // Jose bounced; Ann and Maryam got the letter; Maryam replied: 1 of 2.
    assert!(html.contains("response rate: <b>50.0%</b>"), "{html}");
}
