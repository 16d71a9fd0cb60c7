//! The copy in Sent (issue 20) against the in-process SMTP server and a
//! real Dovecot: every accepted letter appended once, byte for byte,
//! `\Seen`, to the folder marked `\Sent`; at most once across a SIGKILL
//! and a resume; an IMAP server gone mid-run never stops the sending, and
//! the next run makes the copies it missed.

use crate::dovecot;
use crate::fixture;
use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use repmail::ledger::{Ledger, Status};

use dovecot::Dovecot;
use fixture::{rep_contacts, rep_emails, spawn_send, stderr, stdout, Campaign, CampaignFile, TEXT};
use support::{wait_for, ServerOptions, TestServer};

const N: usize = 20;

fn campaign(smtp: &TestServer, imap: &Dovecot, per_minute: u32) -> Campaign {
    let rest = format!(
        "[rate]\nper_minute = {per_minute}\nburst = 1\n\n\
         [inbox]\nhost = \"localhost\"\nport = {}\nsecurity = \"starttls\"\n\
         username = \"{}\"\npassword_command = \"cat secret.txt\"\nca_file = \"{}\"\n\n\
         [sent]\ncopy = \"always\"\n",
        imap.port(),
        imap.user,
        imap.ca_file().display()
    );
    let c = CampaignFile::new("test-sent")
        .loopback(smtp.port(), "security = \"none\"")
        .sections(&rest)
        .write(TEXT, rep_contacts(&rep_emails(N)).as_bytes());
    c.write("secret.txt", imap.password.as_bytes());
    c
}

/// Password commands run in the campaign folder? No: from anywhere. The
/// command is given the absolute path.
fn fix_secret_path(c: &Campaign) {
    let config = std::fs::read_to_string(c.config()).unwrap();
    let path = c.path("secret.txt");
    std::fs::write(
        c.config(),
        config.replace("cat secret.txt", &format!("cat '{}'", path.display())),
    )
    .unwrap();
}

/// The copies in Sent by Message-ID, each with its bytes and flags; fails
/// on a Message-ID there twice.
fn copies(imap: &Dovecot) -> BTreeMap<String, (Vec<u8>, String)> {
    let mut out = BTreeMap::new();
    for (bytes, flags) in imap.files_in("Sent") {
        let (headers, _) = mailparse::parse_headers(&bytes).unwrap();
        use mailparse::MailHeaderMap as _;
        let id = headers.get_first_value("Message-ID").unwrap();
        let again = out.insert(id.clone(), (bytes, flags.unwrap_or_default()));
        assert!(again.is_none(), "two copies of {id} in Sent");
    }
    out
}

/// Exactly one copy per accepted letter, identical to what the SMTP server
/// stored, marked read; one `copied` row each in the log.
fn assert_every_letter_copied_once(smtp: &TestServer, imap: &Dovecot, c: &Campaign) {
    let stored = smtp.messages();
    assert_eq!(stored.len(), N, "every letter sent once");
    let copies = copies(imap);
    assert_eq!(copies.len(), N, "one copy per letter: {:?}", copies.keys());
    for s in &stored {
        let id = s.header("Message-ID").unwrap();
        let (bytes, flags) = copies.get(&id).unwrap_or_else(|| panic!("no copy of {id}"));
        assert!(
            bytes.as_slice() == s.message(),
            "the copy of {id} is the letter as sent"
        );
        assert!(flags.contains('S'), "the copy of {id} is \\Seen: {flags}");
    }
    let ledger = Ledger::read(&c.path("logs/test-sent.csv")).unwrap();
    let mut rows: Vec<&str> = ledger
        .events()
        .iter()
        .filter(|e| e.status == Status::Copied)
        .map(|e| e.message_id.as_str())
        .collect();
    rows.sort();
    let n = rows.len();
    rows.dedup();
    assert_eq!((n, rows.len()), (N, N), "one copied row per letter");
    for e in rep_emails(N) {
        assert_eq!(
            ledger.state(&e).map(|(s, _)| s),
            Some(repmail::ledger::State::Sent),
            "a copied row leaves {e} sent"
        );
    }
}

#[test]
fn twenty_letters_leave_twenty_seen_copies_identical_to_what_was_sent() {
    let smtp = TestServer::start(ServerOptions::default());
    let unread = b"From: someone@example.net\r\nSubject: unread\r\nMessage-ID: <u1@example.net>\r\n\r\nhello\r\n".to_vec();
    let imap = Dovecot::start(std::slice::from_ref(&unread));
    let c = campaign(&smtp, &imap, 6000);
    fix_secret_path(&c);
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        stdout(&out),
        stderr(&out),
        imap.log()
    );
    assert!(
        stdout(&out).contains("copies     20 in \"Sent\""),
        "{}",
        stdout(&out)
    );
    assert_every_letter_copied_once(&smtp, &imap, &c);

    let log = c.cmd(&["log"]).output().unwrap();
    let line = stdout(&log)
        .lines()
        .find(|l| l.contains("copies in Sent"))
        .map(str::to_string);
    assert!(
        line.as_deref()
            .is_some_and(|l| l.trim_end().ends_with(" 20")),
        "`log` counts the copies: {}",
        stdout(&log)
    );

    // Nothing else in the mailbox changed: the INBOX message is there,
    // unread.
    let inbox = imap.files();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].0, unread);
    assert!(
        !inbox[0].1.as_deref().unwrap_or("").contains('S'),
        "{inbox:?}"
    );

    // A second run sends nothing and copies nothing again.
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_every_letter_copied_once(&smtp, &imap, &c);
}

#[test]
fn a_sigkill_mid_run_and_a_resume_still_leave_one_copy_per_letter() {
    let smtp = TestServer::start(ServerOptions::default());
    let imap = Dovecot::start(&[]);
    // 4 letters a second: the kill lands between letters, copies in flight.
    // It waits until the log has recorded every letter the server holds, so
    // the kill does not land inside a transaction (a letter killed there is
    // rightly `unknown`, and the resumed run would end with exit code 3).
    let c = campaign(&smtp, &imap, 240);
    fix_secret_path(&c);
    let mut child = spawn_send(&c, false);
    let log = c.path("logs/test-sent.csv");
    assert!(wait_for(
        || {
            let at_server = smtp.messages().len();
            let recorded = std::fs::read_to_string(&log)
                .map(|t| t.lines().filter(|l| l.contains(",sent,")).count())
                .unwrap_or(0);
            at_server >= 8 && recorded == at_server
        },
        Duration::from_secs(60)
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    let before = copies(&imap).len();
    assert!(before < N, "killed before the end ({before} copies)");
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_every_letter_copied_once(&smtp, &imap, &c);
}

#[test]
fn an_imap_server_gone_mid_run_stops_no_letter_and_the_next_run_makes_the_copies() {
    let smtp = TestServer::start(ServerOptions::default());
    let mut imap = Dovecot::start(&[]);
    // A letter every 2/3 s: the server goes away with most still to send.
    let c = campaign(&smtp, &imap, 90);
    fix_secret_path(&c);
    let child = spawn_send(&c, true);
    assert!(wait_for(
        || smtp.messages().len() >= 5,
        Duration::from_secs(60)
    ));
    imap.stop();
    let stopped_at = smtp.messages().len();
    let out = child.wait_with_output().unwrap();
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "the sending went on: {so}\n{se}");
    assert_eq!(smtp.messages().len(), N, "every letter sent");
    assert!(se.contains("sent without a copy in Sent yet"), "{so}\n{se}");
    assert!(stopped_at < N, "the server was gone before the last letter");
    assert!(copies(&imap).len() <= stopped_at);

    imap.restart();
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("copies"), "{}", stdout(&out));
    assert_every_letter_copied_once(&smtp, &imap, &c);
}

/// A follow-up (issue 21) gets its copy in Sent as a first letter does,
/// threaded to the letter before it, recorded once in the campaign's log.
#[test]
fn a_follow_up_gets_its_copy_in_sent_too() {
    use repmail::ledger::Event;
    let n = 3;
    let smtp = TestServer::start(ServerOptions::default());
    let imap = Dovecot::start(&[]);
    let c = campaign(&smtp, &imap, 6000);
    fix_secret_path(&c);
    let config = std::fs::read_to_string(c.config()).unwrap();
    std::fs::write(
        c.config(),
        format!("{config}\n[[followup]]\nafter_days = 1\ntext = \"followup.txt.tera\"\n"),
    )
    .unwrap();
    c.write("followup.txt.tera", b"Dear {{ last_name }}, a reminder.\n");
    // The first letters went two days ago, so only the follow-ups are due;
    // the contacts' other recipients are left out with --recipient.
    let when = chrono::Utc::now() - chrono::Duration::days(2);
    let mut rows = Vec::new();
    for (i, e) in rep_emails(n).iter().enumerate() {
        let id = format!("<first-{i}@example.org>");
        let mut sending = Event::new("test-sent", e, Status::Sending, 1).with_message_id(&id);
        sending.time = when;
        let mut sent = Event::new("test-sent", e, Status::Sent, 1).with_message_id(&id);
        sent.time = when;
        rows.extend([sending, sent]);
    }
    c.write("logs/test-sent.csv", fixture::ledger_text(&rows).as_bytes());
    let out = c.cmd(&["send", "--yes", "--stage", "1"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let stored = smtp.messages();
    assert_eq!(stored.len(), n, "the follow-ups went: {}", stdout(&out));
    let copies = copies(&imap);
    assert_eq!(
        copies.len(),
        n,
        "one copy per follow-up: {:?}",
        copies.keys()
    );
    for s in &stored {
        let id = s.header("Message-ID").unwrap();
        let (bytes, _) = copies.get(&id).unwrap_or_else(|| panic!("no copy of {id}"));
        assert!(
            bytes.as_slice() == s.message(),
            "the copy of {id} is as sent"
        );
        assert!(s.header("In-Reply-To").is_some(), "a threaded follow-up");
    }
    let ledger = Ledger::read(&c.path("logs/test-sent.csv")).unwrap();
    let copied = ledger
        .events()
        .iter()
        .filter(|e| e.status == Status::Copied)
        .count();
    assert_eq!(
        copied, n,
        "one copied row per follow-up in the campaign's log"
    );
}
