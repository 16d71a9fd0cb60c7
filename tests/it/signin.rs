//! Signing in against a real SMTP server on loopback (tests/support):
//! XOAUTH2 with tokens from `token_command` (renewed when they expire,
//! refused the Microsoft and the Google way), `password_command`, the
//! providers' refusals explained, the quota reply, and no secret anywhere.

use crate::fixture;
use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use fixture::{rep_contacts, rep_emails, stderr, stdout, Campaign, CampaignFile, FAST, TEXT};
use repmail::ledger::{Ledger, State, Status};
use support::{Fault, FaultPlan, Refusal, ServerOptions, Stage, TestPki, TestServer, TokenPolicy};

const USER: &str = "letters@example.org";
/// Every token the helper prints starts with this; none may show anywhere.
const TOKEN_PREFIX: &str = "ya29.T0KEN-";
const PASSWORD: &str = "s3cr3t-Pa55word-From-A-Command";

/// Longest a run refused at sign-in may take: far below one retry backoff
/// (`backoff_secs = 30` below), so a run that retried with backoff fails.
const STOPS_WITHIN: Duration = Duration::from_secs(20);

fn email(i: usize) -> String {
    fixture::rep_email(i)
}

/// A STARTTLS campaign against `server` with `smtp` lines, `n` recipients.
fn campaign(server: &TestServer, pki: &TestPki, smtp: &str, n: usize, rest: &str) -> Campaign {
    let smtp = format!(
        "security = \"starttls\"\nca_file = \"{}\"\n{smtp}",
        pki.ca_file().display()
    );
    file(server, &smtp, rest).write(TEXT, rep_contacts(&rep_emails(n)).as_bytes())
}

/// The campaign file of this module's campaigns.
fn file(server: &TestServer, smtp: &str, rest: &str) -> CampaignFile {
    CampaignFile::new("signin")
        .loopback(server.port(), smtp)
        .sections(rest)
}

/// A token helper in the campaign folder: prints `ya29.T0KEN-<n>`, n
/// counting its runs (kept in `token-runs`).
fn token_helper(c: &Campaign) -> String {
    let runs = c.path("token-runs");
    c.write(
        "token.sh",
        format!(
            "n=$(cat '{r}' 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > '{r}'\necho {TOKEN_PREFIX}$n\n",
            r = runs.display()
        )
        .as_bytes(),
    );
    format!("sh {}", c.path("token.sh").display())
}

fn token_runs(c: &Campaign) -> u32 {
    std::fs::read_to_string(c.path("token-runs"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(0)
}

/// A campaign signing in with XOAUTH2, its tokens from [`token_helper`].
fn oauth_campaign(server: &TestServer, pki: &TestPki, n: usize, rest: &str) -> Campaign {
    let c = campaign(server, pki, "", n, rest);
    let command = token_helper(&c);
    let smtp = format!(
        "security = \"starttls\"\nca_file = \"{}\"\n{}",
        pki.ca_file().display(),
        oauth_smtp(&command)
    );
    c.write("repmail.toml", file(server, &smtp, rest).build().as_bytes());
    c
}

fn oauth_smtp(command: &str) -> String {
    format!("username = \"{USER}\"\nauth = \"oauth2\"\ntoken_command = \"{command}\"")
}

fn run(c: &Campaign, args: &[&str]) -> std::process::Output {
    let mut all = vec!["-v", "-v", "send", "--yes"];
    all.extend_from_slice(args);
    c.cmd(&all)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

fn ledger(c: &Campaign) -> Ledger {
    Ledger::read(&c.path("logs/signin.csv")).unwrap()
}

/// Everything the run wrote (logs, ledgers, any file but our own inputs),
/// plus its stdout and stderr.
fn all_output(c: &Campaign, out: &std::process::Output) -> Vec<(String, String)> {
    fn walk(dir: &Path, found: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, found);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                found.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    let mut found = vec![
        ("stdout".to_string(), stdout(out)),
        ("stderr".to_string(), stderr(out)),
    ];
    walk(c.dir.path(), &mut found);
    // Our own inputs: the helper and the password file hold the secrets.
    found.retain(|(p, _)| !p.ends_with("pw.txt") && !p.ends_with("token.sh"));
    found
}

fn assert_no_secret(c: &Campaign, out: &std::process::Output, secret: &str) {
    for (place, text) in all_output(c, out) {
        assert!(!text.contains(secret), "secret in {place}: {text}");
    }
}

fn assert_nobody_failed_or_sent(server: &TestServer, c: &Campaign) {
    assert_eq!(server.messages().len(), 0, "nothing stored");
    let l = ledger(c);
    assert!(
        l.events()
            .iter()
            .all(|e| e.status != Status::Failed && e.status != Status::Sent),
        "nobody failed or sent: {:?}",
        l.events()
    );
}

#[test]
fn expiring_tokens_are_renewed_and_every_letter_goes_once() {
    let pki = TestPki::generate();
    // Each token is good for one connection, and the server takes one
    // message per connection: every letter after the first needs a new
    // token.
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_oauth(
                USER,
                TokenPolicy::OncePerConnection(TOKEN_PREFIX.into()),
                Refusal::Microsoft,
            )
            .with_close_after_message(),
    );
    let c = oauth_campaign(&server, &pki, 5, FAST);
    let out = run(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for i in 0..5 {
        assert_eq!(server.messages_to(&email(i)).len(), 1, "{} once", email(i));
        assert_eq!(
            ledger(&c).state(&email(i)).map(|(s, _)| s),
            Some(State::Sent)
        );
    }
    assert_eq!(server.messages().len(), 5);
    let accepted = server.tokens_accepted();
    assert_eq!(accepted.len(), 5, "one token per connection: {accepted:?}");
    assert_eq!(token_runs(&c), 5, "the command ran once per token");
    for m in server.messages() {
        assert_eq!(m.auth_user.as_deref(), Some(USER));
        assert!(m.tls);
    }
    assert_no_secret(&c, &out, TOKEN_PREFIX);
}

fn refused_token(refusal: Refusal) {
    let pki = TestPki::generate();
    let server = TestServer::start(ServerOptions::starttls(pki.server_cert()).with_oauth(
        USER,
        TokenPolicy::Nothing,
        refusal,
    ));
    let rest = "[retry]\nattempts = 3\nbackoff_secs = 30\n";
    let c = oauth_campaign(&server, &pki, 4, rest);
    let started = Instant::now();
    let out = run(&c, &[]);
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < STOPS_WITHIN, "took {took:?}: {err}");
    assert!(err.contains("token_command"), "{err}");
    assert!(err.contains(USER), "names the account: {err}");
    // Refused, renewed once, refused again: then the run stops.
    assert_eq!(server.auth_failures(), 2, "{err}");
    assert_eq!(token_runs(&c), 2, "first token and one renewal");
    assert_nobody_failed_or_sent(&server, &c);
    assert_eq!(
        ledger(&c).state(&email(0)).map(|(s, _)| s),
        Some(State::Deferred)
    );
    assert_no_secret(&c, &out, TOKEN_PREFIX);
}

#[test]
fn token_refused_the_microsoft_way_stops_the_run() {
    refused_token(Refusal::Microsoft);
}

#[test]
fn token_refused_the_google_way_stops_the_run() {
    refused_token(Refusal::Google);
}

#[test]
fn failing_token_command_stops_before_any_connection() {
    let pki = TestPki::generate();
    let server = TestServer::start(ServerOptions::starttls(pki.server_cert()).with_oauth(
        USER,
        TokenPolicy::Nothing,
        Refusal::Microsoft,
    ));
    let cmd =
        "echo 'oama: no refresh token for letters@example.org; run oama authorize' >&2; exit 3";
    let c = campaign(&server, &pki, &oauth_smtp(cmd), 2, FAST);
    let out = run(&c, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no refresh token for letters@example.org"),
        "{err}"
    );
    assert!(err.contains("token_command"), "{err}");
    assert_eq!(server.connections(), 0, "no connection made");
    assert!(ledger(&c).events().is_empty(), "nothing in the ledger");
}

#[test]
fn failing_password_command_stops_before_any_connection() {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert()).with_auth("letters", PASSWORD),
    );
    let smtp = "username = \"letters\"\npassword_command = \"echo 'gpg: decryption failed: No secret key' >&2; exit 2\"";
    let c = campaign(&server, &pki, smtp, 2, FAST);
    let out = run(&c, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("gpg: decryption failed: No secret key"),
        "{err}"
    );
    assert!(err.contains("password_command"), "{err}");
    assert_eq!(server.connections(), 0, "no connection made");
}

#[test]
fn password_command_signs_in_with_plain() {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert()).with_auth("letters", PASSWORD),
    );
    let c0 = campaign(&server, &pki, "", 1, "");
    c0.write("pw.txt", format!("{PASSWORD}\n").as_bytes());
    // The first `cat` reads the command's standard input: it must be
    // empty (no terminal, nothing of repmail's own input), or the
    // password would start with what was typed.
    let smtp = format!(
        "username = \"letters\"\npassword_command = \"cat; cat '{}'\"",
        c0.path("pw.txt").display()
    );
    let c = campaign(&server, &pki, &smtp, 3, FAST);
    // The variable repmail would otherwise read holds a wrong password:
    // password_command comes first.
    let out = c
        .cmd(&["-v", "-v", "send", "--yes"])
        .env("REPMAIL_SMTP_PASSWORD", "wrong")
        .write_stdin("typed-on-stdin\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 3);
    assert!(server
        .messages()
        .iter()
        .all(|m| m.auth_user.as_deref() == Some("letters")));
    assert_no_secret(&c, &out, PASSWORD);
    // The dry run says where the password comes from, running nothing.
    let dry = c.cmd(&["send", "--dry-run"]).output().unwrap();
    let plan = stdout(&dry);
    assert!(plan.contains("from password_command `cat;"), "{plan}");
    assert!(!plan.contains(PASSWORD), "{plan}");
}

/// A password server refusing every AUTH with `code` and `text`: the run
/// stops at once with `want` in its message, nobody failed.
fn refusal_explained(code: u16, text: &'static str, want: &[&str]) {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_auth("letters", PASSWORD)
            .with_auth_refusal(code, text),
    );
    let c = campaign(&server, &pki, "username = \"letters\"", 3, FAST);
    let out = fixture::send_yes(&c, PASSWORD, &["-v"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for w in want {
        assert!(err.contains(w), "{w:?} missing in: {err}");
    }
    assert!(err.contains(&format!("server said: {code}")), "{err}");
    assert_eq!(server.auth_failures(), 1, "no retry with a password");
    assert_nobody_failed_or_sent(&server, &c);
}

#[test]
fn basic_auth_disabled_is_explained() {
    // Exchange Online's replies (rpremraj/mailR#107; the 5.7.30).
    refusal_explained(
        535,
        "5.7.139 Authentication unsuccessful, basic authentication is disabled. [BM1P287CA0015.INDP287.PROD.OUTLOOK.COM]",
        &["no longer accepts a password", "auth = \"oauth2\"", "token_command"],
    );
    refusal_explained(
        550,
        "5.7.30 Basic authentication is not supported for Client Submission.",
        &["no longer accepts a password", "auth = \"oauth2\""],
    );
}

#[test]
fn app_password_required_is_explained() {
    // Gmail's reply (nodemailer#1116).
    refusal_explained(
        534,
        "5.7.9 Application-specific password required. Learn more at 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp",
        &["wants an app password", "2-Step Verification"],
    );
}

#[test]
fn wrong_credentials_are_explained() {
    refusal_explained(
        535,
        "5.7.8 Username and Password not accepted. Learn more at 5.7.8 https://support.google.com/mail/?p=BadCredentials b3sm2891515lff.190 - gsmtp",
        &["refused the username or password of letters", "app password"],
    );
}

#[test]
fn no_auth_offered_is_said_so_not_blamed_on_the_server() {
    let pki = TestPki::generate();
    // A server without AUTH; the campaign has a username.
    let server = TestServer::start(ServerOptions::starttls(pki.server_cert()));
    let c = campaign(&server, &pki, "username = \"letters\"", 2, FAST);
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("offers no way to sign in"), "{err}");
    assert!(err.contains("remove `username`"), "{err}");
    assert!(!err.contains("server said"), "a client-side finding: {err}");
    assert_nobody_failed_or_sent(&server, &c);
}

#[test]
fn daily_quota_reply_stops_like_the_daily_cap() {
    let pki = TestPki::generate();
    // Gmail's reply once the account's daily limit is used up, here for
    // the second letter (DATA end, as Gmail sends it).
    let quota = "5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp";
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_auth("letters", PASSWORD)
            .with_fault(
                &email(1),
                FaultPlan::always(Stage::DataEnd, Fault::Say(550, quota)),
            ),
    );
    let c = campaign(&server, &pki, "username = \"letters\"", 5, FAST);
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("daily sending quota"), "{err}");
    assert!(err.contains("nobody was marked failed"), "{err}");
    assert!(err.contains("after "), "says when to resume: {err}");
    assert_eq!(server.messages().len(), 1, "stopped after one refusal");
    assert_eq!(
        server.attempts(&email(1)),
        1,
        "the refused letter not retried"
    );
    let l = ledger(&c);
    assert!(l.events().iter().all(|e| e.status != Status::Failed));
    assert_eq!(l.state(&email(1)).map(|(s, _)| s), Some(State::Deferred));
    for i in 2..5 {
        // Never tried, or prepared ahead while letter 1 was in flight and
        // withdrawn unsent (a `deferred` row the next run retries).
        match l.state(&email(i)) {
            None => {}
            Some((State::Deferred, e)) => assert!(
                e.detail.starts_with("not sent: the run stopped before"),
                "{e:?}"
            ),
            other => panic!("{} not attempted: {other:?}", email(i)),
        }
        assert_eq!(server.attempts(&email(i)), 0, "{} never sent", email(i));
    }
}

#[test]
fn a_token_command_failing_on_renewal_stops_the_run_with_its_stderr() {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_oauth(
                USER,
                TokenPolicy::OncePerConnection(TOKEN_PREFIX.into()),
                Refusal::Microsoft,
            )
            .with_close_after_message(),
    );
    let c = oauth_campaign(&server, &pki, 3, FAST);
    // The first run of the helper works; the next ones fail.
    let once = c.path("once");
    c.write(
        "token.sh",
        format!(
            "if [ -e '{o}' ]; then echo 'pizauth: refresh token revoked for letters@example.org' >&2; exit 1; fi\ntouch '{o}'\necho {TOKEN_PREFIX}1\n",
            o = once.display()
        )
        .as_bytes(),
    );
    let out = run(&c, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("could not renew the access token for letters@example.org"),
        "{err}"
    );
    assert!(err.contains("pizauth: refresh token revoked"), "{err}");
    assert_eq!(server.messages().len(), 1, "the first letter went");
    let l = ledger(&c);
    assert!(l.events().iter().all(|e| e.status != Status::Failed));
    assert_eq!(l.state(&email(1)).map(|(s, _)| s), Some(State::Deferred));
    assert_no_secret(&c, &out, TOKEN_PREFIX);
}

// ---------------------------------------------------------------------------
// Refusals and silence at sign-in are faults of the run (issue 23, item 3):
// whatever the code, or none, nobody is marked failed and nobody is
// charged a try.

/// Every recipient exactly as sendable as before the run: no `failed` row,
/// no try counted (the `sending` row of the transaction that failed at
/// sign-in is taken back by its `deferred` row), and each one that was
/// touched is `deferred`, so the next run sends it without a flag.
fn assert_nobody_charged(server: &TestServer, c: &Campaign, n: usize) {
    assert_nobody_failed_or_sent(server, c);
    let l = ledger(c);
    for i in 0..n {
        assert_eq!(l.attempts(&email(i)), 0, "{}: {:?}", email(i), l.events());
        if let Some((state, _)) = l.state(&email(i)) {
            assert_eq!(state, State::Deferred, "{}", email(i));
        }
    }
    for e in l.events().iter().filter(|e| e.status == Status::Deferred) {
        assert_eq!(e.attempt, 0, "{e:?}");
        assert!(e.detail.contains("not counted as a try"), "{e:?}");
    }
}

/// A password server whose every AUTH meets `fault`: the run stops at the
/// first sign-in with `want` in its message, exit 1, nobody charged.
fn sign_in_fault(fault: Fault, smtp_extra: &str, want: &[&str]) -> std::process::Output {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_auth("letters", PASSWORD)
            .with_auth_fault(fault),
    );
    let n = 3;
    let c = campaign(
        &server,
        &pki,
        &format!("username = \"letters\"\n{smtp_extra}"),
        n,
        "[retry]\nattempts = 3\nbackoff_secs = 30\n",
    );
    let started = Instant::now();
    let out = fixture::send_yes(&c, PASSWORD, &["-v"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(started.elapsed() < STOPS_WITHIN, "{err}");
    for w in want {
        assert!(err.contains(w), "{w:?} missing in: {err}");
    }
    assert!(err.contains("No recipient was marked failed"), "{err}");
    assert_eq!(server.auth_attempts(), 1, "one sign-in, not one per letter");
    assert_eq!(server.connections(), 1, "{err}");
    assert_nobody_charged(&server, &c, n);
    assert_no_secret(&c, &out, PASSWORD);
    out
}

#[test]
fn an_unrecognized_authentication_type_stops_the_run_blaming_nobody() {
    sign_in_fault(
        Fault::Say(504, "5.7.4 Unrecognized authentication type"),
        "",
        &[
            "does not take the sign-in method",
            "auth = \"oauth2\"",
            "server said: 504 5.7.4 Unrecognized authentication type",
        ],
    );
}

#[test]
fn a_policy_refusal_at_sign_in_stops_the_run_blaming_nobody() {
    sign_in_fault(
        Fault::Say(554, "5.7.1 Client host rejected: access denied"),
        "",
        &[
            "refused the sign-in of letters by its policy",
            "server said: 554 5.7.1",
        ],
    );
}

#[test]
fn a_server_silent_at_sign_in_stops_after_one_timeout() {
    // timeout_secs = 2 (the fixture's): one sign-in, one timeout.
    let out = sign_in_fault(
        Fault::Stall,
        "",
        &["did not answer the sign-in of letters within 2 s"],
    );
    assert!(!stderr(&out).contains("throttling"), "{}", stderr(&out));
}

#[test]
fn a_line_too_long_for_an_oauth2_token_stops_the_run_blaming_nobody() {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_oauth(USER, TokenPolicy::Nothing, Refusal::Microsoft)
            .with_auth_fault(Fault::Say(500, "5.5.2 Error: line too long")),
    );
    let n = 3;
    let c = oauth_campaign(
        &server,
        &pki,
        n,
        "[retry]\nattempts = 3\nbackoff_secs = 30\n",
    );
    let out = run(&c, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for w in [
        "could not read the sign-in of letters@example.org: the line was too long",
        "token_command prints only the access token",
        "server said: 500 5.5.2 Error: line too long",
        "No recipient was marked failed",
    ] {
        assert!(err.contains(w), "{w:?} missing in: {err}");
    }
    assert_eq!(server.auth_attempts(), 1, "{err}");
    assert_eq!(token_runs(&c), 1, "a line too long is no reason to renew");
    assert_nobody_charged(&server, &c, n);
    assert_no_secret(&c, &out, TOKEN_PREFIX);
}

#[test]
fn a_refused_sign_in_charges_no_try_run_after_run() {
    let pki = TestPki::generate();
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_auth("letters", PASSWORD)
            .with_auth_fault(Fault::Say(454, "4.7.0 Too many login attempts, try later")),
    );
    let c = campaign(&server, &pki, "username = \"letters\"", 2, FAST);
    for _ in 0..3 {
        let out = fixture::send_yes(&c, PASSWORD, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains("refused the sign-in of letters for now"));
    }
    assert_nobody_charged(&server, &c, 2);
    // Once the server takes the sign-in, the first try is try 1.
    let ok = TestServer::start(
        ServerOptions::starttls(pki.server_cert()).with_auth("letters", PASSWORD),
    );
    let config = std::fs::read_to_string(c.config()).unwrap().replace(
        &format!("port = {}", server.port()),
        &format!("port = {}", ok.port()),
    );
    c.write("repmail.toml", config.as_bytes());
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let l = ledger(&c);
    for i in 0..2 {
        assert_eq!(l.state(&email(i)).map(|(s, _)| s), Some(State::Sent));
        assert_eq!(l.attempts(&email(i)), 1, "{:?}", l.events());
    }
}
