//! Classification, table-driven: reply codes × phases × error kinds, and
//! the providers' own refusal texts. The exactly-once promise rests on
//! this function: a 5xx read as transient resends a refused letter every
//! run; a dropped connection read as permanent loses one.

use super::*;
use lettre::transport::smtp::response::{Category, Code, Detail, Severity};

/// What an outcome is, without its detail text.
fn kind(o: &Outcome) -> String {
    match o {
        Outcome::Sent { .. } => "sent".into(),
        Outcome::Transient { .. } => "transient".into(),
        Outcome::Permanent { .. } => "permanent".into(),
        Outcome::RunLevel { fault, .. } => format!("run:{fault:?}"),
    }
}

/// The facts of a server's negative reply, as lettre reports them.
fn reply(code: u16, text: &str) -> SmtpFacts {
    let (kind, transient, permanent) = match code / 100 {
        4 => ("transient error", true, false),
        5 => ("permanent error", false, true),
        _ => ("response error", false, false),
    };
    SmtpFacts {
        code: Some(code),
        transient,
        permanent,
        tls: false,
        client: false,
        detail: format!("{kind} ({code}): {text}"),
    }
}

/// A failure with no reply code (connection, TLS, client side).
fn no_reply(detail: &str, tls: bool, client: bool) -> SmtpFacts {
    SmtpFacts {
        code: None,
        transient: false,
        permanent: false,
        tls,
        client,
        detail: detail.to_string(),
    }
}

#[test]
fn replies_by_code_whatever_the_phase() {
    // (code, text, expected). The same for the first transaction of a run
    // and a later one: a reply is about this letter or this account.
    let table: &[(u16, &str, &str)] = &[
        (
            421,
            "4.7.0 Try again later, closing connection",
            "transient",
        ),
        (450, "4.2.1 Mailbox busy", "transient"),
        (451, "4.3.0 Temporary lookup failure", "transient"),
        (452, "4.5.3 Too many recipients", "transient"),
        (
            454,
            "4.7.0 TLS not available due to local problem",
            "transient",
        ),
        (
            550,
            "5.1.1 The email account that you tried to reach does not exist",
            "permanent",
        ),
        (551, "5.1.6 User not local", "permanent"),
        (552, "5.3.4 Message size exceeds fixed limit", "permanent"),
        (553, "5.1.3 Invalid recipient address", "permanent"),
        (554, "5.7.1 Message rejected as spam", "permanent"),
        (530, "5.7.0 Authentication required", "run:Auth"),
        (534, "5.7.9 Please log in with your web browser", "run:Auth"),
        (535, "5.7.8 Username and Password not accepted", "run:Auth"),
        (
            538,
            "5.7.11 Encryption required for requested authentication mechanism",
            "run:Auth",
        ),
    ];
    for &(code, text, want) in table {
        for delivered_before in [false, true] {
            let got = classify_smtp(reply(code, text), delivered_before);
            assert_eq!(
                kind(&got),
                want,
                "{code} {text} (delivered before: {delivered_before})"
            );
            assert_eq!(got.code(), Some(code), "{code}: the ledger keeps the code");
            assert!(
                got.detail().contains(text),
                "{code}: detail {:?}",
                got.detail()
            );
        }
    }
}

#[test]
fn providers_refusals_are_about_the_account_not_the_recipient() {
    // The providers' reply texts (as quoted in src/diagnose.rs). A quota or
    // basic-auth refusal arrives as a 5xx or 4xx that would otherwise mark
    // the recipient failed or retry it forever.
    let table: &[(u16, &str, &str)] = &[
        // Gmail, "Daily user sending limit exceeded" (support.google.com/a/answer/166852)
        (550, "5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852", "run:Quota"),
        // Amazon SES
        (454, "Throttling failure: Daily message quota exceeded.", "run:Quota"),
        // Exchange Online
        (554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception", "run:Quota"),
        // Microsoft 365, basic authentication turned off
        (535, "5.7.139 Authentication unsuccessful, basic authentication is disabled.", "run:Auth"),
        (550, "5.7.30 Basic authentication is not supported for Client Submission.", "run:Auth"),
        // Gmail, app password required
        (534, "5.7.9 Application-specific password required. Learn more at https://support.google.com/mail/?p=InvalidSecondFactor", "run:Auth"),
    ];
    for &(code, text, want) in table {
        for delivered_before in [false, true] {
            let got = classify_smtp(reply(code, text), delivered_before);
            assert_eq!(kind(&got), want, "{code} {text}");
        }
    }
}

#[test]
fn failures_without_a_reply_depend_on_kind_and_phase() {
    // (detail, tls, client, delivered_before, expected)
    let table: &[(&str, bool, bool, bool, &str)] = &[
        // Refused at the very start: a wrong host or port.
        (
            "Connection error: Connection refused (os error 111)",
            false,
            false,
            false,
            "run:Unreachable",
        ),
        // Refused after the server worked in this run: a passing glitch.
        (
            "Connection error: Connection refused (os error 111)",
            false,
            false,
            true,
            "transient",
        ),
        // A drop mid-DATA: the letter may be retried safely.
        (
            "response error: incomplete response",
            false,
            false,
            true,
            "transient",
        ),
        (
            "response error: incomplete response",
            false,
            false,
            false,
            "transient",
        ),
        // TLS: a certificate or a missing STARTTLS is a wrong setting.
        (
            "tls error: invalid peer certificate: UnknownIssuer",
            true,
            false,
            false,
            "run:Tls",
        ),
        (
            "tls error: invalid peer certificate: UnknownIssuer",
            true,
            false,
            true,
            "run:Tls",
        ),
        (
            "client error: STARTTLS is not supported by this server",
            false,
            true,
            false,
            "run:Tls",
        ),
        // lettre reports a refused certificate as a connection error with
        // `is_tls()` false (DESIGN.md pitfalls): the text decides.
        (
            "Connection error: invalid peer certificate: UnknownIssuer",
            false,
            false,
            false,
            "run:Tls",
        ),
        (
            "Connection error: invalid peer certificate: UnknownIssuer",
            false,
            false,
            true,
            "run:Tls",
        ),
        (
            "Connection error: received fatal alert: HandshakeFailure",
            false,
            false,
            true,
            "run:Tls",
        ),
        // Client side: a non-ASCII address the server cannot take is the
        // recipient's; anything else is about the session.
        (
            "client error: Envelope contains non-ascii chars but server does not support SMTPUTF8",
            false,
            true,
            true,
            "permanent",
        ),
        (
            "client error: No compatible authentication mechanism was found",
            false,
            true,
            false,
            "run:Session",
        ),
        // Google refusing a token: 334 + JSON, then lettre's "challenge" error.
        (
            "client error: This mechanism does not expect a challenge",
            false,
            true,
            false,
            "run:Auth",
        ),
    ];
    for &(detail, tls, client, delivered_before, want) in table {
        let got = classify_smtp(no_reply(detail, tls, client), delivered_before);
        assert_eq!(
            kind(&got),
            want,
            "{detail} (tls {tls}, client {client}, delivered before {delivered_before})"
        );
        assert_eq!(got.code(), None);
    }
}

#[test]
fn failures_repmail_detects_itself() {
    let cut = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
    let bad_cert = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        )
    };
    let table: Vec<(Failure, bool, &str)> = vec![
        (Failure::Timeout(30), false, "transient"),
        (Failure::Timeout(30), true, "transient"),
        (
            Failure::Connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            false,
            "run:Unreachable",
        ),
        (
            Failure::Connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            true,
            "transient",
        ),
        (Failure::Tls(cut()), true, "transient"),
        (Failure::Tls(cut()), false, "run:Tls"),
        (Failure::Tls(bad_cert()), true, "run:Tls"),
        (Failure::Tls(bad_cert()), false, "run:Tls"),
        (
            Failure::Client("the server does not support SMTPUTF8".into()),
            true,
            "permanent",
        ),
        (
            Failure::Client("no AUTH mechanism in common".into()),
            true,
            "run:Session",
        ),
        (
            Failure::Credentials("token_command exited with 1".into()),
            false,
            "run:Auth",
        ),
        (Failure::Unencrypted, false, "run:Session"),
    ];
    for (failure, delivered_before, want) in table {
        let shown = failure.to_string();
        let got = classify(Err(failure), delivered_before);
        assert_eq!(
            kind(&got),
            want,
            "{shown} (delivered before {delivered_before})"
        );
    }
}

#[test]
fn a_2xx_after_data_is_sent_with_its_code_and_text() {
    let ok = Response::new(
        Code::new(
            Severity::PositiveCompletion,
            Category::MailSystem,
            Detail::Zero,
        ),
        vec!["2.0.0 Ok: queued as 4Bq".into()],
    );
    let got = classify(Ok(ok), false);
    assert_eq!(kind(&got), "sent");
    assert_eq!(got.code(), Some(250));
    assert_eq!(got.detail(), "2.0.0 Ok: queued as 4Bq");
}

#[test]
fn the_ledger_detail_keeps_the_whole_error_chain() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Connection error")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let e = Outer(std::io::Error::other("Connection reset by peer"));
    assert_eq!(
        with_causes(e.to_string(), &e),
        "Connection error: Connection reset by peer"
    );
    // A source already quoted by its parent is not repeated.
    let e = Outer(std::io::Error::other("Connection error"));
    assert_eq!(with_causes(e.to_string(), &e), "Connection error");
}

#[test]
fn each_run_level_fault_says_what_to_check() {
    let cases = [
        (Fault::Auth, "`username`"),
        (Fault::Tls, "`ca_file`"),
        (Fault::Unreachable, "`host` and `port`"),
        (Fault::Streak, "run send again"),
        (Fault::Session, "`security`"),
        (Fault::Quota, "tomorrow"),
        (Fault::SignIn, "try again later"),
    ];
    for (fault, says) in cases {
        assert!(
            fault.advice().contains(says),
            "{fault:?}: {}",
            fault.advice()
        );
    }
}

/// A server's reply at sign-in, decided as [`decide`] does for
/// `Err((Step::SignIn, Failure::Smtp(…)))` (lettre's errors cannot be built
/// here; the integration tests in tests/signin.rs send these replies from
/// a real server).
fn at_sign_in_reply(code: u16, text: &str) -> Outcome {
    sign_in_fault(classify_smtp(reply(code, text), false), None)
}

#[test]
fn every_failure_at_sign_in_stops_the_run_and_counts_no_try() {
    let replies = [
        (504, "5.7.4 Unrecognized authentication type", "run:SignIn"),
        (554, "5.7.1 Sign-in refused by policy", "run:SignIn"),
        (500, "5.5.2 Error: line too long", "run:SignIn"),
        (454, "4.7.0 Too many login attempts", "run:SignIn"),
        (421, "4.3.2 Service shutting down", "run:SignIn"),
        (535, "5.7.8 Username and Password not accepted", "run:Auth"),
    ];
    let mut got: Vec<(String, Outcome, &str)> = replies
        .iter()
        .map(|(code, text, want)| {
            (
                format!("{code} {text}"),
                at_sign_in_reply(*code, text),
                *want,
            )
        })
        .collect();
    let own = || -> Vec<(Failure, &str)> {
        vec![
            (Failure::Timeout(30), "run:SignIn"),
            (
                Failure::Connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
                "run:Unreachable",
            ),
            (
                Failure::Tls(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
                "run:Tls",
            ),
            (
                Failure::Credentials("token_command exited with 1".into()),
                "run:Auth",
            ),
        ]
    };
    // Whether or not the run delivered before: a sign-in is a sign-in.
    for delivered_before in [false, true] {
        for (failure, want) in own() {
            let shown = failure.to_string();
            got.push((
                shown,
                decide(Err((Step::SignIn, failure)), delivered_before),
                want,
            ));
        }
    }
    for (shown, got, want) in got {
        assert_eq!(kind(&got), want, "{shown}");
        assert!(!got.counts_a_try(), "{shown}");
        let (status, detail) = got.row();
        assert_eq!(status, crate::ledger::Status::Deferred, "{shown}");
        assert!(detail.contains("not counted as a try"), "{detail}");
    }
    let silent = decide(Err((Step::SignIn, Failure::Timeout(30))), true);
    assert!(
        silent
            .detail()
            .contains("did not answer the sign-in within 30 s"),
        "{silent:?}"
    );
}

#[test]
fn the_same_failures_after_sign_in_are_the_letters() {
    // A 554 5.7.1 to RCPT is a letter refused as spam; a timeout after
    // sign-in is transient; both count as a try.
    let spam = classify_smtp(reply(554, "5.7.1 Message rejected as spam"), true);
    assert_eq!(kind(&spam), "permanent");
    assert!(spam.counts_a_try());
    for step in [Step::Mail, Step::Envelope, Step::Body] {
        let got = decide(Err((step, Failure::Timeout(30))), true);
        assert_eq!(kind(&got), "transient", "{step:?}");
        assert!(got.counts_a_try(), "{step:?}");
    }
}

#[test]
fn a_greylisting_reply_counts_toward_the_streak_only_on_the_last_try() {
    let transient = |code| Outcome::Transient {
        code: Some(code),
        detail: String::new(),
    };
    let rcpt = Some(Step::Envelope);
    // Greylisting, a full mailbox, too many recipients: tried again.
    for code in [450, 451, 452] {
        assert!(
            !counts_toward_streak(rcpt, &transient(code), true),
            "{code}"
        );
        assert!(
            counts_toward_streak(rcpt, &transient(code), false),
            "{code}"
        );
    }
    // The server closing, a 4xx to MAIL or to the body, a timeout, a 5xx.
    assert!(counts_toward_streak(rcpt, &transient(421), true));
    assert!(counts_toward_streak(
        Some(Step::Mail),
        &transient(451),
        true
    ));
    assert!(counts_toward_streak(
        Some(Step::Body),
        &transient(451),
        true
    ));
    let timeout = Outcome::Transient {
        code: None,
        detail: String::new(),
    };
    assert!(counts_toward_streak(rcpt, &timeout, true));
    let refused = Outcome::Permanent {
        code: Some(550),
        detail: String::new(),
    };
    assert!(counts_toward_streak(rcpt, &refused, true));
}

#[test]
fn a_credential_quoted_in_a_sign_in_reply_is_cut() {
    // What lettre sends for XOAUTH2: base64 of the user and the token.
    let line = "dXNlcj1sZXR0ZXJzQGV4YW1wbGUub3JnAWF1dGg9QmVhcmVyIHlhMjkuVDBLRU4tMQEB";
    let got = at_sign_in_reply(500, &format!("5.5.2 line too long: AUTH XOAUTH2 {line}"))
        .without_credentials();
    assert!(!got.detail().contains(line), "{got:?}");
    assert!(got.detail().contains("AUTH XOAUTH2 […]"), "{got:?}");
    // A provider's reference code stays.
    let got = at_sign_in_reply(
        535,
        "5.7.3 Authentication unsuccessful [LO4P302CA0005.GBRP302.PROD.OUTLOOK.COM]",
    )
    .without_credentials();
    assert!(got.detail().contains("LO4P302CA0005.GBRP302"), "{got:?}");
}
