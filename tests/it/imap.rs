//! `repmail inbox` over IMAP against a real Dovecot on loopback
//! (STARTTLS with the test CA, a password login): the same rows as from
//! the same messages in files, nothing added by a second run, every
//! message still there and unread, the password never printed.

use crate::dovecot;
use crate::fixture;

use std::path::{Path, PathBuf};

use dovecot::Dovecot;
use fixture::{config, inbox_rows, ledger_text, sent_rows, stderr, stdout, Campaign};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inbox")
}

fn messages() -> Vec<Vec<u8>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn campaign(inbox: &str) -> Campaign {
    let c = Campaign::with(
        &format!("{}\n{inbox}", config()),
        fixture::TEXT,
        fixture::CONTACTS.as_bytes(),
    );
    c.write(
        "logs/test-campaign.csv",
        ledger_text(&sent_rows()).as_bytes(),
    );
    c
}

fn inbox_section(server: &Dovecot) -> String {
    format!(
        "[inbox]\nhost = \"localhost\"\nport = {}\nsecurity = \"starttls\"\n\
         username = \"{}\"\nca_file = \"{}\"\n",
        server.port(),
        server.user,
        server.ca_file().display()
    )
}

#[test]
fn imap_records_what_files_do_and_touches_nothing() {
    let originals = messages();
    let server = Dovecot::start(&originals);

    let from_files = campaign("");
    from_files
        .cmd(&["inbox", "--from", fixtures().to_str().unwrap()])
        .assert()
        .success();
    let expected = inbox_rows(&from_files);
    assert_eq!(expected.len(), 15);

    let c = campaign(&inbox_section(&server));
    let out = c
        .cmd(&["-vv", "inbox"])
        .env("REPMAIL_SMTP_PASSWORD", &server.password)
        .output()
        .unwrap();
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{so}\n{se}\n{}", server.log());
    assert!(!so.contains(&server.password) && !se.contains(&server.password));
    assert!(!so.contains("s3cret") && !se.contains("s3cret"), "{so}{se}");
    assert!(so.contains("UIDVALIDITY"), "-vv names each message: {so}");
    assert_eq!(inbox_rows(&c), expected, "the same rows as from the files");

    let out = c
        .cmd(&["inbox"])
        .env("REPMAIL_SMTP_PASSWORD", &server.password)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already recorded   15"),
        "{}",
        stdout(&out)
    );
    assert_eq!(inbox_rows(&c), expected, "a second run adds nothing");

    // Every message still there, byte for byte, and none marked read.
    let files = server.files();
    let mut bodies: Vec<Vec<u8>> = files.iter().map(|(b, _)| b.clone()).collect();
    bodies.sort();
    let mut want = originals.clone();
    want.sort();
    assert_eq!(bodies, want, "every message is still in the INBOX");
    for (_, flags) in &files {
        assert!(
            !flags.as_deref().unwrap_or("").contains('S'),
            "a message was marked read: {flags:?}"
        );
    }
}

#[test]
fn a_refused_login_is_clear_and_never_shows_the_password() {
    let server = Dovecot::start(&messages());
    let c = campaign(&inbox_section(&server));
    let wrong = "wrong-Pa55word";
    let out = c
        .cmd(&["-vv", "inbox"])
        .env("REPMAIL_SMTP_PASSWORD", wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(se.contains("refused the login"), "{se}");
    assert!(!so.contains(wrong) && !se.contains(wrong), "{so}{se}");
    assert!(inbox_rows(&c).is_empty());

    let out = c.cmd(&["inbox"]).output().unwrap();
    assert!(
        stderr(&out).contains("REPMAIL_SMTP_PASSWORD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_server_certificate_not_trusted_is_refused() {
    let server = Dovecot::start(&[]);
    let section = inbox_section(&server).replace(
        &format!("ca_file = \"{}\"\n", server.ca_file().display()),
        "",
    );
    let c = campaign(&section);
    let out = c
        .cmd(&["inbox"])
        .env("REPMAIL_SMTP_PASSWORD", &server.password)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("TLS"), "{}", stderr(&out));
}

#[test]
fn an_empty_ca_file_is_the_same_error_as_for_smtp_before_any_connection() {
    // A port nothing listens on: the file is refused before connecting.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = campaign(&format!(
        "[inbox]\nhost = \"localhost\"\nport = {port}\nsecurity = \"starttls\"\n\
         username = \"letters\"\nca_file = \"empty-ca.pem\"\n"
    ));
    let empty = c.path("empty-ca.pem");
    std::fs::write(&empty, "").unwrap();
    let out = c
        .cmd(&["inbox"])
        .env("REPMAIL_SMTP_PASSWORD", "unused-Pa55")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The words of tests/connection.rs's SMTP test.
    let want = format!(
        "cannot use ca_file {}: it holds no certificate; ca_file must be a PEM file holding the CA certificate of your server",
        empty.display()
    );
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    assert!(inbox_rows(&c).is_empty());
}
