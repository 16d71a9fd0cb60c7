//! `send` against hostile and broken servers (tests/support on loopback),
//! and internationalised addresses. Each test names the behaviour that
//! docs/reliability.md lists.

use crate::fixture;
use crate::support;

use std::time::{Duration, Instant};

use fixture::{rep_contacts, stderr, stdout, Campaign, CampaignFile, FAST, TEXT};
use repmail::ledger::{Ledger, State, Status};
use support::{Fault, FaultPlan, ServerOptions, Stage, TestPki, TestServer};

const PASSWORD: &str = "hostile-Pa55word-Never-Shown";

fn email(i: usize) -> String {
    fixture::rep_email(i)
}

fn campaign_to(port: u16, smtp: &str, rest: &str, emails: &[String]) -> Campaign {
    let smtp = if smtp.contains("timeout_secs") {
        smtp.to_string()
    } else {
        format!("{smtp}\ntimeout_secs = 5")
    };
    CampaignFile::new("hostile")
        .loopback(port, &smtp)
        .sections(rest)
        .write(TEXT, rep_contacts(emails).as_bytes())
}

fn campaign(server: &TestServer, smtp: &str, rest: &str, n: usize) -> Campaign {
    let emails: Vec<String> = (0..n).map(email).collect();
    campaign_to(server.port(), smtp, rest, &emails)
}

fn send(c: &Campaign, args: &[&str]) -> std::process::Output {
    fixture::send_yes(c, PASSWORD, args)
}

fn ledger(c: &Campaign) -> Ledger {
    Ledger::read(&c.path("logs/hostile.csv")).unwrap()
}

fn both(out: &std::process::Output) -> String {
    format!("{}\n{}", stdout(out), stderr(out))
}

/// Every one of `emails` stored exactly once and `sent` in the ledger.
fn assert_each_once(server: &TestServer, c: &Campaign, emails: &[String]) {
    let l = ledger(c);
    for e in emails {
        assert_eq!(server.messages_to(e).len(), 1, "{e} stored once");
        assert_eq!(l.state(e).map(|(s, _)| s), Some(State::Sent), "{e}");
    }
    assert_eq!(server.messages().len(), emails.len());
}

fn all(n: usize) -> Vec<String> {
    fixture::rep_emails(n)
}

/// No recipient is blamed (`failed`) and nothing reached the server.
fn assert_nothing_sent(server: &TestServer, c: &Campaign, n: usize) {
    assert!(server.messages().is_empty(), "nothing stored");
    for i in 0..n {
        assert_eq!(server.attempts(&email(i)), 0, "no RCPT for {}", email(i));
    }
    assert!(
        ledger(c)
            .events()
            .iter()
            .all(|e| e.status != Status::Failed && e.status != Status::Sent),
        "nobody marked failed or sent"
    );
}

// ---------------------------------------------------------------------------
// Odd but legal replies.

/// `opts` as it is (PIPELINING offered: the envelope's replies read from
/// one group) and without PIPELINING (one command at a time).
fn both_ways(opts: ServerOptions) -> [ServerOptions; 2] {
    [opts.clone(), opts.without_pipelining()]
}

#[test]
fn replies_split_into_one_byte_packets_are_understood() {
    let pki = TestPki::generate();
    let opts = ServerOptions::starttls(pki.server_cert())
        .with_auth("letters", PASSWORD)
        .with_split_replies(1, Duration::from_millis(1));
    for opts in both_ways(opts) {
        let server = TestServer::start(opts);
        let smtp = format!(
            "security = \"starttls\"\nusername = \"letters\"\nca_file = \"{}\"",
            pki.ca_file().display()
        );
        let c = campaign(&server, &smtp, FAST, 4);
        let out = send(&c, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        assert_each_once(&server, &c, &all(4));
        assert!(server.messages().iter().all(|m| m.tls));
    }
}

#[test]
fn multi_line_replies_are_understood_and_logged_on_one_line() {
    let opts = ServerOptions::plain()
        .with_multiline_replies()
        .with_split_replies(7, Duration::ZERO);
    for opts in both_ways(opts) {
        let server = TestServer::start(opts);
        let c = campaign(&server, "security = \"none\"", FAST, 3);
        let out = send(&c, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        assert_each_once(&server, &c, &all(3));
        let text = std::fs::read_to_string(c.path("logs/hostile.csv")).unwrap();
        let sent: Vec<&str> = text.lines().filter(|l| l.contains(",sent,")).collect();
        assert_eq!(sent.len(), 3, "{text}");
        assert!(
            sent.iter().all(|l| l.contains("multi-line reply")),
            "both lines of the reply are kept: {text}"
        );
    }
}

#[test]
fn a_server_that_closes_after_every_message_still_gets_each_letter_once() {
    let n = 12;
    let server = TestServer::start(ServerOptions::plain().with_close_after_message());
    let c = campaign(
        &server,
        "security = \"none\"",
        &FAST.replace("[rate]\n", "[rate]\nconcurrency = 3\n"),
        n,
    );
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_each_once(&server, &c, &all(n));
    assert!(server.connections() >= n, "a connection per message");
}

// ---------------------------------------------------------------------------
// Garbage.

#[test]
fn garbage_replies_are_deferred_and_retried_never_stored_twice() {
    let n = 6;
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(
                &email(1),
                FaultPlan::first(
                    1,
                    Stage::Rcpt,
                    Fault::Garbage(b"HELLO? 2x0 what is this\r\n"),
                ),
            )
            .with_fault(
                &email(3),
                FaultPlan::first(1, Stage::DataStart, Fault::Garbage(b"\0\xff\xfe\r\n")),
            )
            .with_fault(
                &email(4),
                FaultPlan::first(
                    2,
                    Stage::DataEnd,
                    Fault::Garbage(b"250\r\n999 no such code\r\n"),
                ),
            ),
    );
    let c = campaign(&server, "security = \"none\"", FAST, n);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_each_once(&server, &c, &all(n));
    let l = ledger(&c);
    for (i, tries) in [(1, 2), (3, 2), (4, 3)] {
        let deferred = l
            .events()
            .iter()
            .filter(|e| e.email == email(i) && e.status == Status::Deferred)
            .count();
        assert_eq!(deferred, tries - 1, "{}", email(i));
        assert_eq!(server.attempts(&email(i)), tries as u32);
    }
}

/// A reply that is not SMTP at all (here: an HTTP server on the port) in
/// place of the greeting is a failure at sign-in: the run stops at the
/// first connection; nothing is sent, nobody blamed or charged a try.
#[test]
fn a_server_that_does_not_speak_smtp_stops_the_run_at_once() {
    let server = TestServer::start(ServerOptions::plain().with_connect_fault(
        Fault::Garbage(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        None,
    ));
    let c = campaign(&server, "security = \"none\"", FAST, 5);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stderr(&out).contains("run stopped"), "{}", both(&out));
    assert!(stderr(&out).contains("HTTP/1.1 400"), "{}", both(&out));
    assert_nothing_sent(&server, &c, 5);
    assert_eq!(server.connections(), 1);
    assert_no_try_counted(&c, 5);
}

/// No recipient's try counted: every `sending` row taken back.
fn assert_no_try_counted(c: &Campaign, n: usize) {
    let l = ledger(c);
    for i in 0..n {
        assert_eq!(l.attempts(&email(i)), 0, "{}: {:?}", email(i), l.events());
    }
}

// ---------------------------------------------------------------------------
// Throttling replies.

/// A 421 greeting ("not now") is a refusal at sign-in: a fault of the run
/// (DESIGN.md), which stops at once, charging nobody a try; the next run
/// resumes, and once the server greets, everyone gets one letter, each at
/// its first counted try.
#[test]
fn a_421_greeting_stops_the_run_and_the_next_run_resumes() {
    let server =
        TestServer::start(ServerOptions::plain().with_connect_fault(Fault::Reply(421), Some(2)));
    let c = campaign(&server, "security = \"none\"", FAST, 4);
    for connection in 1..=2 {
        let out = send(&c, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        assert!(
            stderr(&out).contains("refused the connection for now"),
            "{}",
            both(&out)
        );
        assert_eq!(server.connections(), connection);
        assert_no_try_counted(&c, 4);
    }
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_each_once(&server, &c, &all(4));
    let l = ledger(&c);
    let deferred: Vec<_> = l
        .events()
        .iter()
        .filter(|e| e.status == Status::Deferred)
        .cloned()
        .collect();
    assert_eq!(deferred.len(), 2, "{deferred:?}");
    assert!(deferred.iter().all(|e| e.smtp_code == Some(421)));
    for i in 0..4 {
        assert_eq!(l.attempts(&email(i)), 1, "{}", email(i));
    }
}

#[test]
fn a_421_greeting_every_time_stops_the_run_without_blaming_anyone() {
    let server =
        TestServer::start(ServerOptions::plain().with_connect_fault(Fault::Reply(421), None));
    let n = 30;
    let c = campaign(&server, "security = \"none\"", FAST, n);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stderr(&out).contains("run stopped"), "{}", both(&out));
    assert_nothing_sent(&server, &c, n);
    // Not one refusal per recipient, nor the failure streak: the first.
    assert_eq!(server.connections(), 1, "connections before the stop");
    // The one tried is deferred, its try not counted: the next run tries
    // it again as if this one had not.
    let l = ledger(&c);
    let latest: Vec<_> = l.latest().collect();
    assert_eq!(latest.len(), 1, "{latest:?}");
    assert_eq!(latest[0].status, Status::Deferred, "{latest:?}");
    assert_no_try_counted(&c, n);
}

#[test]
fn a_452_too_many_recipients_is_retried_and_each_gets_one_letter() {
    let n = 8;
    let mut opts = ServerOptions::plain();
    for i in (0..n).step_by(2) {
        opts = opts.with_fault(
            &email(i),
            FaultPlan::first(2, Stage::Rcpt, Fault::Reply(452)),
        );
    }
    let server = TestServer::start(opts);
    let c = campaign(&server, "security = \"none\"", FAST, n);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_each_once(&server, &c, &all(n));
    let codes: Vec<_> = ledger(&c)
        .events()
        .iter()
        .filter(|e| e.status == Status::Deferred)
        .map(|e| e.smtp_code)
        .collect();
    assert_eq!(codes, vec![Some(452); n / 2 * 2]);
}

// ---------------------------------------------------------------------------
// Slow servers.

#[test]
fn slow_replies_within_the_timeout_are_waited_for() {
    let slow = Duration::from_millis(1500);
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(
                &email(0),
                FaultPlan::always(Stage::Rcpt, Fault::Delay(slow)),
            )
            .with_fault(
                &email(1),
                FaultPlan::always(Stage::DataEnd, Fault::Delay(slow)),
            )
            .with_connect_fault(Fault::Delay(slow), Some(1)),
    );
    // The slowest transaction (connect delay + RCPT delay) takes 3 s: a
    // 10 s timeout leaves a margin no loaded machine eats.
    let c = campaign(&server, "security = \"none\"\ntimeout_secs = 10", FAST, 3);
    let started = Instant::now();
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(started.elapsed() >= slow * 2, "it did wait");
    assert_each_once(&server, &c, &all(3));
    assert!(ledger(&c)
        .events()
        .iter()
        .all(|e| e.status != Status::Deferred));
}

#[test]
fn replies_slower_than_the_timeout_are_deferred_and_nothing_is_stored() {
    let server = TestServer::start(ServerOptions::plain().with_fault(
        &email(0),
        FaultPlan::always(Stage::Rcpt, Fault::Delay(Duration::from_secs(8))),
    ));
    let rest =
        "[rate]\nper_minute = 60000\nburst = 1000\n\n[retry]\nattempts = 2\nbackoff_secs = 0\n";
    // 2 s: far above a normal transaction under load, far below the delay.
    let c = campaign(&server, "security = \"none\"\ntimeout_secs = 2", rest, 3);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let l = ledger(&c);
    let (state, last) = l.state(&email(0)).unwrap();
    assert_eq!(state, State::Deferred);
    assert!(last.detail.contains("timeout_secs"), "{}", last.detail);
    assert_eq!(server.attempts(&email(0)), 2, "tried twice in the run");
    assert!(server.messages_to(&email(0)).is_empty());
    // The others went through (the transport was rebuilt after each
    // timeout, so no poisoned connection was reused).
    for i in 1..3 {
        assert_eq!(server.messages_to(&email(i)).len(), 1);
    }
}

/// The one case SMTP itself cannot settle: the server stored the message
/// but its final reply never arrived. repmail cannot tell this from a drop
/// before the data (lettre reports both as a lost connection), and
/// DESIGN.md treats it as transient, so the letter is sent again: the
/// recipient may get it twice. This test pins that behaviour down so that
/// a change to it is deliberate; docs/reliability.md lists it as the known
/// limit.
#[test]
fn known_limit_a_reply_lost_after_the_data_means_a_second_copy() {
    let server = TestServer::start(ServerOptions::plain().with_fault(
        &email(0),
        FaultPlan::first(1, Stage::DataEnd, Fault::DropAfterStoring),
    ));
    let c = campaign(&server, "security = \"none\"", FAST, 2);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(server.messages_to(&email(0)).len(), 2);
    let l = ledger(&c);
    let rows: Vec<Status> = l
        .events()
        .iter()
        .filter(|e| e.email == email(0))
        .map(|e| e.status)
        .collect();
    assert_eq!(
        rows,
        [
            Status::Sending,
            Status::Deferred,
            Status::Sending,
            Status::Sent
        ],
        "the log shows both tries"
    );
    assert_eq!(server.messages_to(&email(1)).len(), 1);
}

// ---------------------------------------------------------------------------
// TLS attacks.

#[test]
fn starttls_stripped_from_the_server_reply_refuses_and_sends_nothing() {
    let pki = TestPki::generate();
    // A man in the middle hides STARTTLS; the server would even take the
    // password in the clear.
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .without_starttls_offer()
            .with_auth("letters", PASSWORD)
            .with_plaintext_auth(),
    );
    let smtp = format!(
        "security = \"starttls\"\nusername = \"letters\"\nca_file = \"{}\"",
        pki.ca_file().display()
    );
    let c = campaign(&server, &smtp, FAST, 5);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let err = stderr(&out);
    assert!(err.contains("secure connection failed"), "{err}");
    assert!(err.to_ascii_lowercase().contains("starttls"), "{err}");
    assert_nothing_sent(&server, &c, 5);
    assert_eq!(
        server.auth_attempts(),
        0,
        "the password went over the wire in clear text"
    );
    fixture::assert_no_secret(&c, &out, PASSWORD);
}

#[test]
fn a_certificate_for_another_host_refuses_and_sends_nothing() {
    let pki = TestPki::generate();
    for (mode, security) in [("starttls", "starttls"), ("implicit", "tls")] {
        let cert = pki.leaf_for(&["mail.example.net"]);
        let opts = match mode {
            "starttls" => ServerOptions::starttls(cert),
            _ => ServerOptions::implicit_tls(cert),
        };
        let server = TestServer::start(opts.with_auth("letters", PASSWORD));
        let smtp = format!(
            "security = \"{security}\"\nusername = \"letters\"\nca_file = \"{}\"",
            pki.ca_file().display()
        );
        let c = campaign(&server, &smtp, FAST, 3);
        let out = send(&c, &[]);
        assert_eq!(out.status.code(), Some(1), "{mode}: {}", both(&out));
        let err = stderr(&out);
        assert!(err.contains("secure connection failed"), "{mode}: {err}");
        assert!(err.contains("certificate"), "{mode}: {err}");
        assert_nothing_sent(&server, &c, 3);
        assert_eq!(
            server.auth_attempts(),
            0,
            "{mode}: AUTH to an unverified server"
        );
        fixture::assert_no_secret(&c, &out, PASSWORD);
    }
}

// ---------------------------------------------------------------------------
// Internationalised addresses.

#[test]
fn an_idn_domain_is_sent_in_ascii_a_labels() {
    let server = TestServer::start(ServerOptions::plain());
    let good = [
        "rep@bücher.test".to_string(),
        "minister@пример.test".to_string(),
    ];
    let c = campaign_to(server.port(), "security = \"none\"", FAST, &good);
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let ascii = ["rep@xn--bcher-kva.test", "minister@xn--e1afmkfd.test"];
    for a in ascii {
        let stored = server.messages_to(a);
        assert_eq!(stored.len(), 1, "{a}");
        assert_eq!(stored[0].rcpts, vec![a.to_string()], "envelope in A-labels");
        let to = stored[0].header("To").unwrap();
        assert!(to.ends_with(&format!("<{a}>")), "To header: {to}");
        assert_eq!(ledger(&c).state(a).map(|(s, _)| s), Some(State::Sent));
    }
    // The user may name them as written in the spreadsheet.
    let out = c
        .cmd(&["preview", "--recipient", "REP@Bücher.test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        stdout(&out).contains("<rep@xn--bcher-kva.test>"),
        "{}",
        both(&out)
    );
    let out = c
        .cmd(&["log", "--format", "csv", "--recipient", "rep@bücher.test"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).lines().count(), 2, "{}", both(&out));
    // Preview shows the same form that was sent.
    let out = c.cmd(&["preview"]).output().unwrap();
    assert!(
        stdout(&out).contains("xn--bcher-kva.test"),
        "{}",
        both(&out)
    );
}

#[test]
fn a_non_ascii_local_part_is_refused_up_front_naming_its_line() {
    let server = TestServer::start(ServerOptions::plain());
    let emails = vec![
        "rep@example.org".to_string(),
        "josé@example.org".to_string(),
        "rep2@bücher.test".to_string(),
    ];
    let c = campaign_to(server.port(), "security = \"none\"", FAST, &emails);
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let err = stderr(&out);
    assert!(err.contains("contacts.csv:3:"), "{err}");
    assert!(err.contains("josé@example.org"), "{err}");
    assert!(err.contains("non-ASCII characters before the @"), "{err}");
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stderr(&out).contains("contacts.csv:3:"), "{}", both(&out));
    assert_eq!(server.connections(), 0, "nothing sent, no connection");
    assert!(ledger(&c).is_empty());
}

#[test]
fn a_non_ascii_sender_address_is_refused_and_an_idn_sender_domain_made_ascii() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, "security = \"none\"", FAST, 1);
    let config = std::fs::read_to_string(c.config()).unwrap();
    c.write(
        "repmail.toml",
        config
            .replace("letters@example.org", "brief@bücher.test")
            .as_bytes(),
    );
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let m = &server.messages()[0];
    assert_eq!(m.from, "brief@xn--bcher-kva.test");
    let mid = m.header("Message-ID").unwrap();
    assert!(mid.ends_with("@xn--bcher-kva.test>"), "{mid}");

    c.write(
        "repmail.toml",
        config
            .replace("letters@example.org", "bréf@example.org")
            .as_bytes(),
    );
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stderr(&out).contains("sender.from"), "{}", both(&out));
}
