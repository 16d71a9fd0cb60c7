//! The inbox signs in as `[smtp]` can (issue 20): SASL XOAUTH2 with a
//! token from `token_command`, a `password_command`, or `[smtp]`'s method
//! by default; against a real Dovecot on loopback whose oauth2 passdb asks
//! a token-introspection service the test runs. Refusals in plain words,
//! no secret in any output even at `-vv`; `check` and `send --dry-run`
//! say whether the sign-in is ready, and what happens to the Sent copy.

use crate::dovecot;
use crate::fixture;

use dovecot::introspect::Introspection;
use dovecot::Dovecot;
use fixture::{config, ledger_text, sent_rows, stderr, stdout, Campaign};

const TOKEN: &str = "ya29.good-token-7f3a";

fn campaign(extra: &str) -> Campaign {
    let c = Campaign::with(
        &format!("{}\n{extra}", config()),
        fixture::TEXT,
        fixture::CONTACTS.as_bytes(),
    );
    c.write(
        "logs/test-campaign.csv",
        ledger_text(&sent_rows()).as_bytes(),
    );
    c
}

/// `[inbox]` pointing at the test server, with `more` keys.
fn inbox(server: &Dovecot, more: &str) -> String {
    format!(
        "[inbox]\nhost = \"localhost\"\nport = {}\nsecurity = \"starttls\"\nca_file = \"{}\"\n{more}",
        server.port(),
        server.ca_file().display()
    )
}

fn no_secret(out: &std::process::Output, secrets: &[&str]) {
    let (so, se) = (stdout(out), stderr(out));
    for s in secrets {
        assert!(
            !so.contains(s) && !se.contains(s),
            "a secret was printed:\n{so}\n{se}"
        );
    }
}

#[test]
fn inbox_signs_in_with_xoauth2_by_default_as_smtp_does_and_with_its_own_command() {
    let service = Introspection::start(&[(TOKEN, "letters@example.org")]);
    let server = Dovecot::start_oauth2(&[], &service.url);
    // [smtp] signs in with OAuth2: the inbox does the same by default.
    let smtp = format!(
        "[smtp]\nhost = \"localhost\"\nusername = \"letters@example.org\"\n\
         auth = \"oauth2\"\ntoken_command = \"printf {TOKEN}\"\n"
    );
    let c = campaign(&format!("{smtp}\n{}", inbox(&server, "")));
    let out = c.cmd(&["-vv", "inbox"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stderr(&out), server.log());
    no_secret(&out, &[TOKEN, "good-token"]);
    assert!(stderr(&out).contains("(oauth2)"), "{}", stderr(&out));
    assert_eq!(
        service.asked(),
        vec![TOKEN.to_string()],
        "the token reached Dovecot"
    );
    assert!(server.log().contains("method=XOAUTH2"), "{}", server.log());

    // Its own token command under [inbox], no [smtp] at all.
    let c = campaign(&inbox(
        &server,
        &format!(
            "username = \"letters@example.org\"\nauth = \"oauth2\"\ntoken_command = \"printf {TOKEN}\"\n"
        ),
    ));
    let out = c.cmd(&["-vv", "inbox"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stderr(&out), server.log());
    no_secret(&out, &[TOKEN]);
    assert_eq!(service.asked().len(), 2);
}

#[test]
fn inbox_signs_in_with_a_password_command() {
    let service = Introspection::start(&[]);
    let server = Dovecot::start_oauth2(&[], &service.url);
    let c = campaign("");
    c.write("secret.txt", server.password.as_bytes());
    let c2 = campaign(&inbox(
        &server,
        &format!(
            "username = \"{}\"\npassword_command = \"cat '{}'\"\n",
            server.user,
            c.path("secret.txt").display()
        ),
    ));
    let out = c2.cmd(&["-vv", "inbox"]).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stderr(&out), server.log());
    no_secret(&out, &[&server.password, "s3cret"]);
    assert!(stderr(&out).contains("(password)"), "{}", stderr(&out));
    assert!(
        service.asked().is_empty(),
        "a password never goes to the token service"
    );
}

#[test]
fn a_wrong_token_is_refused_in_plain_words_and_never_shown() {
    let service = Introspection::start(&[(TOKEN, "letters@example.org")]);
    let server = Dovecot::start_oauth2(&[], &service.url);
    let wrong = "ya29.expired-token-91c";
    let c = campaign(&inbox(
        &server,
        &format!(
            "username = \"letters@example.org\"\nauth = \"oauth2\"\ntoken_command = \"printf {wrong}\"\n"
        ),
    ));
    let before = std::fs::read_to_string(c.path("logs/test-campaign.csv")).unwrap();
    let out = c.cmd(&["-vv", "inbox"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let se = stderr(&out);
    assert!(se.contains("refused the login"), "{se}");
    assert!(
        se.contains("AUTHENTICATIONFAILED"),
        "the server's words: {se}"
    );
    assert!(se.contains("access token was refused"), "what to do: {se}");
    no_secret(&out, &[wrong, "expired-token"]);
    assert_eq!(service.asked(), vec![wrong.to_string()]);
    let ledger = std::fs::read_to_string(c.path("logs/test-campaign.csv")).unwrap();
    assert_eq!(ledger, before, "nothing recorded");
}

#[test]
fn check_and_dry_run_say_whether_the_inbox_sign_in_is_ready_and_what_auto_does() {
    // Yahoo: a mailbox from the preset, a password, a copy in Sent.
    let c = campaign(
        "[smtp]\nprovider = \"yahoo\"\nusername = \"letters@example.org\"\n\
         password_command = \"cat /nonexistent/secret\"\n",
    );
    let out = c.cmd(&["check"]).output().unwrap();
    let so = stdout(&out);
    assert!(
        so.contains("inbox sign-in: password for letters@example.org at imap.mail.yahoo.com:993"),
        "{so}\n{}",
        stderr(&out)
    );
    assert!(so.contains("sent copy: a copy of each letter"), "{so}");
    let out = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert!(
        stdout(&out).contains("mailbox    imap.mail.yahoo.com:993, sign-in password"),
        "{}",
        stdout(&out)
    );

    // Microsoft 365 files its own copy: `auto` makes none, and says why.
    let c = campaign(
        "[smtp]\nprovider = \"microsoft365\"\nusername = \"letters@example.org\"\n\
         token_command = \"no-such-token-helper-xyz\"\n",
    );
    let out = c.cmd(&["check"]).output().unwrap();
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(
        so.contains("sent copy: no copy: Microsoft 365 (Exchange Online) files its own"),
        "{so}"
    );
    assert!(
        se.contains("inbox sign-in: token_command `no-such-token-helper-xyz`"),
        "a missing helper is a warning: {so}\n{se}"
    );
}
