//! `send`'s own connections against the real SMTP server on loopback
//! (tests/support): reused across letters, at most one per concurrency
//! slot, reopened after an error, a 421 or the per-connection limit, with
//! TLS and AUTH on every new connection, and never a letter lost or doubled.

use crate::fixture;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use fixture::{rep_contacts, rep_emails, stderr, Campaign, CampaignFile, FAST, TEXT};
use repmail::ledger::{Ledger, State, Status};
use repmail::send::connection::MAX_MESSAGES_PER_CONNECTION;
use support::{Fault, FaultPlan, SecondEhlo, ServerOptions, Stage, TestPki, TestServer};

const PASSWORD: &str = "c0nnection-Pa55word";

fn email(i: usize) -> String {
    fixture::rep_email(i)
}

fn campaign(server: &TestServer, smtp: &str, concurrency: u32, n: usize) -> Campaign {
    let rest = FAST.replace(
        "burst = 1000\n",
        &format!("burst = 1000\nconcurrency = {concurrency}\n"),
    );
    CampaignFile::new("test-conn")
        .loopback(server.port(), smtp)
        .sections(&rest)
        .write(TEXT, rep_contacts(&rep_emails(n)).as_bytes())
}

fn ledger(c: &Campaign) -> Ledger {
    Ledger::read(&c.path("logs/test-conn.csv")).unwrap()
}

fn send(c: &Campaign) -> std::process::Output {
    fixture::send_yes(c, PASSWORD, &[])
}

/// Every recipient stored once, `sent` once in the ledger.
fn assert_all_once(server: &TestServer, c: &Campaign, n: usize) {
    let l = ledger(c);
    for i in 0..n {
        let e = email(i);
        assert_eq!(server.messages_to(&e).len(), 1, "{e} stored once");
        assert_eq!(l.state(&e).map(|(s, _)| s), Some(State::Sent), "{e} sent");
    }
    assert_eq!(server.messages().len(), n, "nothing else stored");
}

/// How many rows with `status` the ledger holds.
fn rows(c: &Campaign, status: Status) -> usize {
    ledger(c)
        .events()
        .iter()
        .filter(|e| e.status == status)
        .count()
}

/// Messages stored per server connection.
fn per_connection(server: &TestServer) -> BTreeMap<usize, usize> {
    let mut m = BTreeMap::new();
    for s in server.messages() {
        *m.entry(s.connection).or_insert(0) += 1;
    }
    m
}

#[test]
fn letters_share_one_connection_per_concurrency_slot() {
    for concurrency in [1u32, 3] {
        let n = 24;
        let server = TestServer::start(ServerOptions::plain());
        let c = campaign(&server, "security = \"none\"", concurrency, n);
        let out = send(&c);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_all_once(&server, &c, n);
        assert!(
            server.connections() <= concurrency as usize,
            "{} connections at concurrency {concurrency}",
            server.connections()
        );
        assert_eq!(rows(&c, Status::Sending), n, "one transaction each");
    }
}

#[test]
fn a_server_that_takes_three_per_connection_gets_every_letter_once() {
    let n = 10;
    let server = TestServer::start(ServerOptions::plain().with_messages_per_connection(3));
    let c = campaign(&server, "security = \"none\"", 2, n);
    let out = send(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_once(&server, &c, n);
    // The 421 at MAIL proves the letter was not taken: it goes again at
    // once on a new connection, without a deferred row or a second try.
    assert_eq!(rows(&c, Status::Deferred), 0, "{:?}", ledger(&c).events());
    assert_eq!(rows(&c, Status::Sending), n, "one transaction each");
    let per = per_connection(&server);
    assert!(per.values().all(|&k| k <= 3), "{per:?}");
    assert!(per.len() >= 4, "at least ceil(10/3) connections: {per:?}");
}

#[test]
fn starttls_and_auth_on_every_new_connection() {
    let n = 7;
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_auth("letters", PASSWORD)
            .with_messages_per_connection(3),
    );
    let smtp = format!(
        "security = \"starttls\"\nusername = \"letters\"\nca_file = \"{}\"",
        pki.ca_file().display()
    );
    let c = campaign(&server, &smtp, 1, n);
    let out = send(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_once(&server, &c, n);
    let per = per_connection(&server);
    assert_eq!(per.len(), 3, "3 + 3 + 1 letters: {per:?}");
    for m in server.messages() {
        assert!(m.tls, "over TLS on connection {}", m.connection);
        assert_eq!(m.auth_user.as_deref(), Some("letters"));
    }
    assert_eq!(server.auth_failures(), 0);
}

#[test]
fn implicit_tls_and_auth_on_every_new_connection() {
    let n = 7;
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::implicit_tls(pki.server_cert())
            .with_auth("letters", PASSWORD)
            .with_messages_per_connection(3),
    );
    let smtp = format!(
        "security = \"tls\"\nusername = \"letters\"\nca_file = \"{}\"",
        pki.ca_file().display()
    );
    let c = campaign(&server, &smtp, 2, n);
    let out = send(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_once(&server, &c, n);
    assert!(per_connection(&server).len() >= 3);
    for m in server.messages() {
        assert!(m.tls);
        assert_eq!(m.auth_user.as_deref(), Some("letters"));
    }
}

#[test]
fn a_drop_mid_data_on_a_reused_connection_is_deferred_then_delivered_once() {
    let n = 6;
    // rep3 goes out on the connection that carried rep0..rep2.
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(&email(3), FaultPlan::first(1, Stage::DataEnd, Fault::Drop)),
    );
    let c = campaign(&server, "security = \"none\"", 1, n);
    let out = send(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_once(&server, &c, n);
    let l = ledger(&c);
    let statuses: Vec<Status> = l
        .events()
        .iter()
        .filter(|e| e.email == email(3))
        .map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        [
            Status::Sending,
            Status::Deferred,
            Status::Sending,
            Status::Sent
        ],
        "the body may have reached the server: never retried silently"
    );
    assert_eq!(server.connections(), 2, "reopened once, after the drop");
}

#[test]
fn the_envelope_goes_as_one_group_only_to_a_server_that_offers_pipelining() {
    // RFC 2920: a client pipelines only when the EHLO reply offers it; then
    // MAIL and RCPT each reach the server with the next command right
    // behind them (DATA ends the group). Also after STARTTLS with AUTH,
    // where the offer is read from the EHLO inside TLS.
    let pki = TestPki::generate();
    let n = 6;
    for (offers, starttls) in [(true, false), (false, false), (true, true)] {
        let opts = if starttls {
            ServerOptions::starttls(pki.server_cert()).with_auth("letters", PASSWORD)
        } else {
            ServerOptions::plain()
        };
        let opts = if offers {
            opts
        } else {
            opts.without_pipelining()
        };
        let server = TestServer::start(opts);
        let smtp = if starttls {
            format!(
                "security = \"starttls\"\nusername = \"letters\"\nca_file = {:?}",
                pki.ca_file().display().to_string()
            )
        } else {
            "security = \"none\"".to_owned()
        };
        let c = campaign(&server, &smtp, 2, n);
        let out = send(&c);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_all_once(&server, &c, n);
        let grouped = if offers { 2 * n } else { 0 };
        assert_eq!(
            server.grouped_commands(),
            grouped,
            "offers pipelining: {offers}, STARTTLS: {starttls}"
        );
    }
}

#[test]
fn a_server_that_refuses_ignores_or_hangs_up_on_a_second_ehlo_still_gets_every_letter() {
    // repmail asks for PIPELINING with a second EHLO. Python's smtpd and
    // aiosmtpd answer it "503 Duplicate HELO/EHLO"; a server may also hang
    // up on it, or never answer. Either way every letter goes once, signed
    // in, one command at a time, and the question is asked once in the
    // run: a run of 2 × the per-connection limit + 1 letters takes three
    // sessions (four when the first is lost to the question). The
    // transaction's timeout is 2 s, so the question waits half a second.
    let limit = MAX_MESSAGES_PER_CONNECTION as usize;
    let n = 2 * limit + 1;
    for (answer, connections) in [
        (SecondEhlo::Refuse, 3),
        (SecondEhlo::HangUp, 4),
        (SecondEhlo::Stall, 4),
    ] {
        let server = TestServer::start(
            ServerOptions::plain()
                .with_plaintext_auth()
                .with_auth("letters", PASSWORD)
                .with_second_ehlo(answer),
        );
        let smtp = "security = \"none\"\nusername = \"letters\"\ntimeout_secs = 2";
        let c = campaign(&server, smtp, 1, n);
        let out = send(&c);
        assert_eq!(out.status.code(), Some(0), "{answer:?}: {}", stderr(&out));
        assert_all_once(&server, &c, n);
        assert_eq!(server.grouped_commands(), 0, "{answer:?}");
        assert_eq!(server.second_ehlos(), 1, "{answer:?}");
        assert_eq!(server.connections(), connections, "{answer:?}");
    }
}

#[test]
fn a_refused_copy_fails_the_letter_and_its_text_is_never_sent_pipelined_or_not() {
    // The office is accepted, its Cc (`[sender] cc`) refused. Pipelined,
    // DATA has gone out behind the RCPTs and the server, with one recipient
    // it accepted, answers it 354: the client must still not send the
    // letter's text (a text sent then would reach the office while the log
    // says failed). One command at a time, DATA never goes.
    let archive = "archive@example.org";
    for offers in [true, false] {
        let n = 3;
        let opts = ServerOptions::plain()
            .with_fault(archive, FaultPlan::first(2, Stage::Rcpt, Fault::Reply(550)));
        let opts = if offers {
            opts
        } else {
            opts.without_pipelining()
        };
        let server = TestServer::start(opts);
        let rest = FAST.replace("burst = 1000\n", "burst = 1000\nconcurrency = 1\n");
        let c = CampaignFile::new("test-conn")
            .sender_lines(&format!("cc = [\"Archive <{archive}>\"]"))
            .loopback(server.port(), "security = \"none\"")
            .sections(&rest)
            .write(TEXT, rep_contacts(&rep_emails(n)).as_bytes());
        let out = send(&c);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        // The first two offices' transactions were refused; the third went.
        assert_eq!(server.messages().len(), 1, "pipelining: {offers}");
        assert_eq!(server.messages_to(&email(2)).len(), 1);
        let l = ledger(&c);
        for i in 0..2 {
            let (state, event) = l.state(&email(i)).unwrap();
            assert_eq!(state, State::Failed, "pipelining: {offers}");
            assert!(event.detail.contains("550"), "{}", event.detail);
        }
    }
}

#[test]
fn after_a_refused_recipient_the_next_letter_takes_a_new_connection() {
    let n = 3;
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(&email(1), FaultPlan::always(Stage::Rcpt, Fault::Reply(550))),
    );
    let c = campaign(&server, "security = \"none\"", 1, n);
    let out = send(&c);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let first = server.messages_to(&email(0))[0].connection;
    let third = server.messages_to(&email(2))[0].connection;
    assert_ne!(first, third, "a session after an error is not reused");
    assert_eq!(ledger(&c).state(&email(1)).unwrap().0, State::Failed);
}

#[test]
fn a_long_run_is_split_at_the_per_connection_limit() {
    let limit = MAX_MESSAGES_PER_CONNECTION as usize;
    let n = 2 * limit + 1;
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, "security = \"none\"", 1, n);
    let out = send(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_once(&server, &c, n);
    let per: BTreeSet<usize> = per_connection(&server).values().copied().collect();
    assert_eq!(per, BTreeSet::from([limit, 1]), "{limit} + {limit} + 1");
    assert_eq!(server.connections(), 3);
}

/// What `ca_file` pointing at a file without a certificate says, for SMTP
/// as for IMAP (tests/imap.rs): the key, the file, and what to do.
fn assert_empty_ca_file_error(stderr: &str, path: &std::path::Path) {
    let want = format!(
        "cannot use ca_file {}: it holds no certificate; ca_file must be a PEM file holding the CA certificate of your server",
        path.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
}

#[test]
fn an_empty_ca_file_stops_the_run_before_any_connection() {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert()).with_auth("letters", PASSWORD),
    );
    for security in ["starttls", "tls"] {
        let smtp = format!(
            "security = \"{security}\"\nusername = \"letters\"\nca_file = \"empty-ca.pem\""
        );
        let c = campaign(&server, &smtp, 1, 2);
        let empty = c.path("empty-ca.pem");
        std::fs::write(&empty, "").unwrap();
        let out = send(&c);
        assert_eq!(out.status.code(), Some(1), "{security}: {}", stderr(&out));
        assert_empty_ca_file_error(&stderr(&out), &empty);
        let log = c.path("logs/test-conn.csv");
        assert!(
            !log.exists() || rows(&c, Status::Sending) == 0,
            "{security}: nothing tried"
        );
    }
    assert!(server.messages().is_empty());
    assert_eq!(server.connections(), 0, "no connection was opened");
}
