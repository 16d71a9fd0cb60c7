//! Text that others wrote never drives the terminal (issue 23, item 5): a
//! contacts cell, an SMTP server's refusal and an incoming message's From
//! and Subject reach stdout and stderr with every control character shown
//! as a visible escape (`\u{1b}`), never as the byte itself.

use crate::fixture;
use crate::support;

use fixture::{config, ledger_text, letter_id, sent_rows, Campaign, CampaignFile, FAST, TEXT};
use support::{Fault, FaultPlan, ServerOptions, Stage, TestServer};

/// A window title, a screen clear and a carriage return that would let
/// the text after it overwrite the line: what a hostile value carries.
const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J\rsent 999 letters";

/// Fails when ESC, BEL or CR reaches either stream; returns both, joined.
fn assert_clean(what: &str, out: &std::process::Output) -> String {
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        for bad in [0x1b_u8, 0x07, 0x0d] {
            assert!(
                !bytes.contains(&bad),
                "{what}: byte {bad:#04x} reached {name}:\n{}",
                String::from_utf8_lossy(bytes).escape_debug()
            );
        }
    }
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn contacts_cells_with_terminal_controls_are_shown_escaped() {
    // One office whose contact form is the hostile cell (`forms` and `log`
    // name it), one recipient whose name is (the dry run's To and Subject).
    let contacts = format!(
        "title,first_name,last_name,state,email,contact_form\n\
         Senator,Ann,Smith,Vermont,ann.smith@example.org,\n\
         Senator,Bo,\"Lee{HOSTILE}\",Ohio,bo.lee@example.org,\n\
         Senator,Cy,Doe,Maine,,\"https://forms.example.org/{HOSTILE}\"\n"
    );
    let c = Campaign::with(&config(), TEXT, contacts.as_bytes());
    c.write(
        "logs/test-campaign.csv",
        ledger_text(&[repmail::ledger::Event::new(
            "test-campaign",
            "ann.smith@example.org",
            repmail::ledger::Status::Failed,
            1,
        )
        .with_smtp_code(Some(550))
        // The log holds no bare CR (it refuses such a line); the rest, yes.
        .with_detail("5.1.1 \x1b]0;pwned\x07\x1b[2J")])
        .as_bytes(),
    );

    let check = c.cmd(&["check"]).output().unwrap();
    assert_clean("check", &check);
    // `check` says the contact-form rows once, without their URLs (issue
    // 24, item 9); `forms` lists each office with its form.
    let forms = c.cmd(&["forms"]).output().unwrap();
    let text = assert_clean("forms", &forms);
    assert!(
        text.contains("forms.example.org/\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"),
        "the cell is shown, escaped: {text}"
    );
    // The reader turns a lone CR into a line break; it stays inside the line.
    assert!(!text.lines().any(|l| l.starts_with("sent 999")), "{text}");

    let dry = c.cmd(&["send", "--dry-run"]).output().unwrap();
    let text = assert_clean("send --dry-run", &dry);
    // Headers are made one line by the letter itself (controls → spaces).
    assert!(text.contains("would send  line     3"), "{text}");

    // The letter's body, printed on several lines on purpose, each cleaned.
    let preview = c
        .cmd(&["preview", "--recipient", "bo.lee@example.org"])
        .output()
        .unwrap();
    let text = assert_clean("preview", &preview);
    assert!(text.contains("Dear Senator Lee\\u{1b}]0;pwned"), "{text}");

    for format in ["table", "json"] {
        let log = c.cmd(&["log", "--format", format]).output().unwrap();
        let text = assert_clean(&format!("log --format {format}"), &log);
        assert!(text.contains("5.1.1"), "{text}");
        assert!(
            text.contains("\\u{1b}]0;pwned") || text.contains("\\u001b]0;pwned"),
            "{text}"
        );
    }
    // CSV is data: the cell comes out byte-true, for a spreadsheet.
    let csv = c.cmd(&["log", "--format", "csv"]).output().unwrap();
    assert!(String::from_utf8_lossy(&csv.stdout).contains("5.1.1 \x1b]0;pwned\x07"));
}

#[test]
fn an_smtp_refusal_with_terminal_controls_is_shown_escaped() {
    let reply: &'static str = Box::leak(format!("5.1.1 no such user {HOSTILE}").into_boxed_str());
    let server = TestServer::start(ServerOptions::plain().with_fault(
        "bo.lee@example.org",
        FaultPlan::always(Stage::Rcpt, Fault::Say(550, reply)),
    ));
    let config = CampaignFile::new("terminal")
        .loopback(server.port(), "security = \"none\"")
        .sections(FAST)
        .build();
    let contacts = "title,first_name,last_name,state,email\n\
                    Senator,Ann,Smith,Vermont,ann.smith@example.org\n\
                    Senator,Bo,Lee,Ohio,bo.lee@example.org\n";
    let c = Campaign::with(&config, TEXT, contacts.as_bytes());

    let send = c.cmd(&["-v", "send", "--yes"]).output().unwrap();
    let text = assert_clean("send", &send);
    assert!(
        text.contains("no such user \\u{1b}]0;pwned\\u{7}"),
        "the refusal is shown, escaped: {text}"
    );
    assert_eq!(server.messages().len(), 1, "Ann's letter went");

    let log = c.cmd(&["log"]).output().unwrap();
    assert_clean("log after the refusal", &log);
}

#[test]
fn an_incoming_from_and_subject_with_terminal_controls_are_shown_escaped() {
    let c = Campaign::new();
    c.write(
        "logs/test-campaign.csv",
        ledger_text(&sent_rows()).as_bytes(),
    );
    // A raw ESC in the From name, and one hidden in an encoded word of
    // the Subject (=1B is ESC once decoded).
    let reply = format!(
        "From: \"Aide{HOSTILE}\" <aide@senate.example.org>\r\n\
         To: Test Group <letters@example.org>\r\n\
         Subject: =?utf-8?q?Re=3A_A_letter_=1B]0;pwned=07=1B[2J=0Dsent?=\r\n\
         Date: Tue, 01 Dec 2026 14:00:00 -0500\r\n\
         Message-ID: <reply-hostile@senate.example.org>\r\n\
         In-Reply-To: {id}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Thank you for writing.\r\n",
        id = letter_id("ann.smith@example.org")
    );
    c.write("reply.eml", reply.as_bytes());

    let inbox = c
        .cmd(&[
            "-vv",
            "inbox",
            "--from",
            c.path("reply.eml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = assert_clean("inbox -v", &inbox);
    assert!(text.contains("replied ann.smith@example.org"), "{text}");
    assert!(text.contains("\\u{1b}"), "the controls are shown: {text}");

    let log = c.cmd(&["log"]).output().unwrap();
    assert_clean("log after the reply", &log);
}
