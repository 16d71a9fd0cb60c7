//! Refusals explained in plain words, each with what to do.
//!
//! Providers answer a sign-in or a message they will not take with a code
//! and a line of jargon. This module recognises the replies that mean
//! something about the account rather than the letter (basic auth
//! disabled, app password required, wrong credentials, a refused token, the
//! daily quota), and turns a run-level fault into a message a coordinator
//! can act on. The reply texts matched here are the providers' own, as
//! quoted in the tests below.

use crate::config::Smtp;
use crate::credentials::AuthMethod;

/// Faults that stop the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The server refused the account (535/530/534/538).
    Auth,
    /// The TLS handshake or certificate check failed, or STARTTLS is not
    /// offered when it is required.
    Tls,
    /// The server could not be reached.
    Unreachable,
    /// Too many failures in a row: the provider is throttling or blocking.
    Streak,
    /// The client refused something about the session (e.g. no usable
    /// AUTH mechanism).
    Session,
    /// The provider's daily sending quota is used up: like the daily cap,
    /// the run stops and the refused letter stays deferred.
    Quota,
    /// The server refused the sign-in with a reply the kinds above do not
    /// name (an AUTH mechanism it does not take, a policy refusal, a line
    /// too long, a 4xx), or did not answer it at all.
    SignIn,
}

impl Fault {
    /// What the coordinator should do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Fault::Auth => "the server refused the account: check `username` under [smtp] and the password (for many providers an app password)",
            Fault::Tls => "the secure connection failed: check `host`, `port` and `security` under [smtp]; for a self-hosted server add its CA with `ca_file`",
            Fault::Unreachable => "the server could not be reached: check `host` and `port` under [smtp] and your network connection",
            Fault::Streak => "too many failures in a row: the provider may be throttling or blocking the account; wait, then run send again (it resumes)",
            Fault::Session => "the server and repmail could not agree on how to talk: check `security` and `username` under [smtp]",
            Fault::Quota => "the provider's daily sending quota is used up: run send again tomorrow (it resumes)",
            Fault::SignIn => "the server refused or did not answer the sign-in: check `host`, `port`, `security`, `auth` and `username` under [smtp]; if the settings are right, try again later (it resumes)",
        }
    }
}

/// What a reply or error means for the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Password sign-in (basic authentication) is turned off.
    BasicAuthDisabled,
    /// Only an app password is accepted.
    AppPasswordRequired,
    /// The server refused the credentials (password or token).
    BadCredentials,
    /// The server refused an OAuth2 token the Google way: a `334` with a
    /// base64 JSON status, which lettre reports as an unexpected challenge.
    TokenChallenge,
    /// The server offers no AUTH at all (a client-side finding).
    NoAuthOffered,
    /// The provider's daily sending quota is used up.
    QuotaReached,
}

/// Recognises `text` (a reply with its code, or lettre's error chain).
pub fn recognize(code: Option<u16>, text: &str) -> Option<Refusal> {
    // Without a code, the one in lettre's error chain ("permanent error
    // (534): …"), if the text holds one: the rules below look at both.
    let code = code.or_else(|| server_reply(text)?.get(..3)?.parse().ok());
    let t = text.to_ascii_lowercase();
    // Quota first: Gmail's quota reply is a 550, which would otherwise read
    // as a permanent failure of the recipient.
    // Gmail: "550 5.4.5 Daily user sending limit exceeded." (also "…quota
    // exceeded"); iCloud: "550 5.7.1 …: You have exceeded your daily
    // sending limit"; Amazon SES: "454 Throttling failure: Daily message
    // quota exceeded."; Exchange Online: "554 5.2.0
    // STOREDRV.Submission.Exception:SubmissionQuotaExceededException".
    const QUOTA: &[&str] = &[
        "daily user sending",
        "daily sending limit",
        "daily sending quota",
        "sending quota exceeded",
        "daily message quota",
        "submissionquotaexceeded",
    ];
    if QUOTA.iter().any(|q| t.contains(q)) {
        return Some(Refusal::QuotaReached);
    }
    // Exchange Online: "535 5.7.139 Authentication unsuccessful, basic
    // authentication is disabled" / "…SmtpClientAuthentication is disabled
    // for the Tenant"; "550 5.7.30 Basic authentication is not supported
    // for Client Submission"; "535 5.7.139 Authentication unsuccessful, the
    // request did not meet the criteria to be authenticated successfully"
    // (security defaults or a sign-in policy blocking SMTP AUTH;
    // gophish/gophish#3220, read 2026-12-02). Not every 5.7.139 is one:
    // "5.7.139 … the user credentials were incorrect" is a wrong password
    // (codassassin/email-bomber-v2.0#1, read 2026-12-02).
    if t.contains("basic authentication is disabled")
        || t.contains("basic authentication is not supported")
        || t.contains("smtpclientauthentication is disabled")
        || t.contains("did not meet the criteria to be authenticated")
    {
        return Some(Refusal::BasicAuthDisabled);
    }
    // Gmail: "534-5.7.9 Application-specific password required."
    if t.contains("application-specific password") || (code == Some(534) && t.contains("5.7.9")) {
        return Some(Refusal::AppPasswordRequired);
    }
    if t.contains("does not expect a challenge") {
        return Some(Refusal::TokenChallenge);
    }
    if t.contains("no compatible authentication mechanism") {
        return Some(Refusal::NoAuthOffered);
    }
    // Gmail: "535-5.7.8 Username and Password not accepted."; Exchange
    // Online: "535 5.7.3 Authentication unsuccessful"; RFC 4954 §6: 535
    // 5.7.8 "Authentication credentials invalid" — the enhanced code says
    // it whatever the basic code a server puts before it.
    if matches!(code, Some(535)) || t.contains("5.7.8 ") {
        return Some(Refusal::BadCredentials);
    }
    None
}

/// Whether a failed transaction was the server refusing the sign-in, so a
/// fresh token may help.
pub fn is_sign_in_refusal(code: Option<u16>, text: &str) -> bool {
    matches!(code, Some(530 | 534 | 535 | 538))
        || matches!(
            recognize(code, text),
            Some(
                Refusal::BasicAuthDisabled
                    | Refusal::AppPasswordRequired
                    | Refusal::BadCredentials
                    | Refusal::TokenChallenge
            )
        )
}

/// A run-level fault in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// What happened.
    pub what: String,
    /// What to do about it.
    pub todo: String,
    /// The server's own reply, when there was one (never a client-side
    /// error dressed up as the server's).
    pub server_said: Option<String>,
}

/// The server's reply inside lettre's error chain ("permanent error (535):
/// 5.7.139 …"), if the detail came from the server.
pub fn server_reply(detail: &str) -> Option<String> {
    for kind in ["permanent error (", "transient error ("] {
        if let Some(i) = detail.find(kind) {
            let rest = &detail[i + kind.len()..];
            if let Some((code, text)) = rest.split_once("):") {
                if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
                    return Some(format!("{code} {}", text.trim()));
                }
            }
        }
    }
    None
}

/// What explanations call an account without a `username`.
const NO_USERNAME: &str = "(no username)";

/// Explains a run-level `fault` whose detail is `detail`, for the account
/// in `smtp`.
pub fn explain(fault: Fault, detail: &str, smtp: Option<&Smtp>) -> Explanation {
    let server_said = server_reply(detail);
    let code = server_said
        .as_deref()
        .and_then(|s| s.get(..3))
        .and_then(|c| c.parse().ok());
    let account = smtp
        .and_then(|s| s.username.as_deref())
        .unwrap_or(NO_USERNAME);
    let host = smtp.map(|s| s.host.as_str()).unwrap_or("the server");
    let oauth = smtp.is_some_and(|s| s.auth == AuthMethod::Oauth2);
    let token_command = smtp.and_then(|s| s.token_command.as_deref()).unwrap_or("");
    let plain = |what: String, todo: String| Explanation {
        what,
        todo,
        server_said: server_said.clone(),
    };
    if fault == Fault::Auth && detail.contains("token_command `") {
        // The helper itself failed while renewing: its message says all.
        return Explanation {
            what: format!("could not renew the access token for {account}"),
            todo: detail.to_string(),
            server_said: None,
        };
    }
    if fault == Fault::SignIn {
        return explain_sign_in(code, detail, host, account, oauth, server_said);
    }
    match recognize(code, detail) {
        Some(Refusal::QuotaReached) => plain(
            format!("{host} says the daily sending quota of {account} is used up"),
            "nobody was marked failed; the refused letter stays deferred. Providers count the last 24 hours: run send again tomorrow (it resumes), and lower [rate] daily_cap so the next run stops before the provider does".into(),
        ),
        Some(Refusal::BasicAuthDisabled) => plain(
            format!("{host} no longer accepts a password for {account} (basic authentication is disabled)"),
            "sign in with OAuth2: set `auth = \"oauth2\"` and a `token_command` under [smtp] that prints an access token (the README shows how, e.g. with oama or pizauth)".into(),
        ),
        Some(Refusal::AppPasswordRequired) => plain(
            format!("{host} wants an app password for {account}, not the account's own password"),
            "turn on 2-Step Verification, make an app password (Google: myaccount.google.com/apppasswords) and use that; or sign in with `auth = \"oauth2\"` and a `token_command`".into(),
        ),
        Some(r @ (Refusal::BadCredentials | Refusal::TokenChallenge)) if oauth => plain(
            format!(
                "{host} refused the access token for {account}{}, also after it was renewed by running token_command again",
                if r == Refusal::TokenChallenge {
                    " (it answered with an error challenge, the way Google refuses a token)"
                } else {
                    ""
                }
            ),
            format!("check that `{token_command}` (token_command) prints a current token for {account}, with the mail-sending scope, and that `username` is that same account; run it by hand to see"),
        ),
        Some(Refusal::BadCredentials | Refusal::TokenChallenge) => plain(
            format!("{host} refused the username or password of {account}"),
            "check `username` under [smtp] and the password (password_command, password_env or what you typed); many providers need an app password here".into(),
        ),
        Some(Refusal::NoAuthOffered) if oauth => Explanation {
            what: format!("{host} offers no XOAUTH2 sign-in (its reply to EHLO lists no such AUTH method)"),
            todo: "check `host`, `port` and `security` under [smtp] (many servers offer AUTH only after STARTTLS), or sign in with `auth = \"password\"` if this server takes one".into(),
            server_said: None,
        },
        Some(Refusal::NoAuthOffered) => Explanation {
            what: format!("{host} offers no way to sign in (no AUTH in its reply to EHLO), but `username` is set"),
            todo: "if this server takes mail without signing in (a relay on your own network), remove `username` under [smtp]; otherwise check `host`, `port` and `security` — many servers offer AUTH only after STARTTLS".into(),
            server_said: None,
        },
        None => plain(fault.advice().to_string(), String::new()),
    }
}

/// A refusal or silence at sign-in that the kinds of [`Refusal`] do not
/// name. Read only for a failure known to be at sign-in: the same `554
/// 5.7.1` in reply to RCPT is a letter refused as spam, not the account.
fn explain_sign_in(
    code: Option<u16>,
    detail: &str,
    host: &str,
    account: &str,
    oauth: bool,
    server_said: Option<String>,
) -> Explanation {
    let t = detail.to_ascii_lowercase();
    let enhanced = |x: &str| t.contains(x);
    // Without a username there is no AUTH: the refusal or the silence came
    // while the connection opened (greeting, EHLO, STARTTLS).
    let sign_in = if account == NO_USERNAME {
        "the connection".to_string()
    } else {
        format!("the sign-in of {account}")
    };
    let (what, todo) = if t.contains("did not answer the sign-in") {
        (
            format!(
                "{host} did not answer {sign_in}{}",
                detail
                    .rsplit_once(" within ")
                    .map_or(String::new(), |(_, limit)| format!(" within {limit}"))
            ),
            "check `host`, `port` and `security` under [smtp] (port 465 wants `security = \"tls\"`, port 587 `\"starttls\"`); if they are right the server is overloaded or blocking this network: try again later (send resumes)".to_string(),
        )
    // RFC 4954 §6: 504 5.5.4 "Unrecognized authentication type"; many
    // servers say 504 5.7.4 ("Security features not supported", RFC 3463)
    // or "mechanism not supported".
    } else if code == Some(504)
        || enhanced("5.7.4")
        || t.contains("unrecognized authentication")
        || t.contains("mechanism not supported")
    {
        let todo = if oauth {
            "this server may not take OAuth2 (XOAUTH2) sign-in: check that `host` is the provider's OAuth2 SMTP server, or sign in with `auth = \"password\"` (often an app password)"
        } else {
            "this server may take only OAuth2: set `auth = \"oauth2\"` and a `token_command` under [smtp]; or check `security` (many servers offer a password sign-in only after STARTTLS)"
        };
        (
            format!(
                "{host} does not take the sign-in method repmail offered for {account} ({})",
                if oauth {
                    "XOAUTH2"
                } else {
                    "PLAIN or LOGIN, with a password"
                }
            ),
            todo.to_string(),
        )
    // Postfix: "500 5.5.0 Error: line too long"; Exim: "500 Line too
    // long"; RFC 5321 §4.5.3.1.4: command lines of at most 512 octets,
    // which an XOAUTH2 line with a long token exceeds unless the server
    // raises the limit (RFC 4954 §4 asks it to take 12288).
    } else if t.contains("too long") || t.contains("line length") {
        (
            format!("{host} could not read {sign_in}: the line was too long for it"),
            if oauth {
                "an OAuth2 access token goes in one line: check that token_command prints only the access token (not a refresh token or a JSON document); if it does, this server (or a proxy before it) takes shorter lines than its provider's tokens — ask its administrator".to_string()
            } else {
                "check that the password is right (password_command prints only the password); if it is, this server takes shorter lines: ask its administrator".to_string()
            },
        )
    } else if code.is_some_and(|c| (400..500).contains(&c)) {
        (
            format!("{host} refused {sign_in} for now"),
            "try again later (send resumes); if it keeps refusing, the provider may be limiting sign-ins (too many of them, or from this network)".to_string(),
        )
    // 554 5.7.1 at sign-in: a policy refusal (this network, this account
    // not allowed to send by SMTP).
    } else {
        (
            format!("{host} refused {sign_in} by its policy"),
            "check with the provider that this account may send by SMTP from this network (some need SMTP access turned on for the account, some take only their own networks or a VPN)".to_string(),
        )
    };
    Explanation {
        what,
        todo,
        server_said,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies as the providers send them (quoted in public bug reports,
    /// read 2026-12-01: rpremraj/mailR#107, nodemailer#1484, nodemailer#1116,
    /// nodemailer#114, PHPMailer#1708, simonrob/email-oauth2-proxy#297,
    /// Apple Support HT202305; read 2026-12-02: gophish/gophish#3220, whose
    /// reply was in Portuguese, here in Microsoft's English wording, and
    /// codassassin/email-bomber-v2.0#1).
    const CASES: &[(u16, &str, Option<Refusal>)] = &[
        (535, "5.7.139 Authentication unsuccessful, basic authentication is disabled. [BM1P287CA0015.INDP287.PROD.OUTLOOK.COM]", Some(Refusal::BasicAuthDisabled)),
        (535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", Some(Refusal::BasicAuthDisabled)),
        (550, "5.7.30 Basic authentication is not supported for Client Submission.", Some(Refusal::BasicAuthDisabled)),
        (534, "5.7.9 Application-specific password required. Learn more at 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp", Some(Refusal::AppPasswordRequired)),
        (535, "5.7.8 Username and Password not accepted. Learn more at 5.7.8 https://support.google.com/mail/?p=BadCredentials b3sm2891515lff.190 - gsmtp", Some(Refusal::BadCredentials)),
        (535, "5.7.3 Authentication unsuccessful [LO4P302CA0005.GBRP302.PROD.OUTLOOK.COM]", Some(Refusal::BadCredentials)),
        (535, "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. [MN2PR07CA0004.namprd07.prod.outlook.com]", Some(Refusal::BasicAuthDisabled)),
        (535, "5.7.139 Authentication unsuccessful, the user credentials were incorrect. [PH0PR07CA0004.namprd07.prod.outlook.com]", Some(Refusal::BadCredentials)),
        (530, "5.7.8 Authentication credentials invalid", Some(Refusal::BadCredentials)),
        // RFC 4954 §6's reply for a mechanism too weak: Gmail's way of
        // asking for an app password, without the words.
        (534, "5.7.9 Authentication mechanism is too weak", Some(Refusal::AppPasswordRequired)),
        // Gmail asking for a sign-in in a browser first: not an app
        // password, and nothing this module can name.
        (534, "5.7.14 Please log in via your web browser and then try again.", None),
        (550, "5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp", Some(Refusal::QuotaReached)),
        (550, "5.4.5 Daily user sending quota exceeded. - gsmtp", Some(Refusal::QuotaReached)),
        (550, "5.7.1 membername@icloud.com: You have exceeded your daily sending limit. Please try again later.", Some(Refusal::QuotaReached)),
        (454, "Throttling failure: Daily message quota exceeded.", Some(Refusal::QuotaReached)),
        (554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception", Some(Refusal::QuotaReached)),
        (550, "5.1.1 The email account that you tried to reach does not exist. - gsmtp", None),
        (452, "4.2.2 The email account that you tried to reach is over quota. - gsmtp", None),
        (421, "4.7.0 Temporary System Problem. Try again later (10). - gsmtp", None),
    ];

    #[test]
    fn providers_replies_are_recognised() {
        for (code, text, want) in CASES {
            assert_eq!(recognize(Some(*code), text), *want, "{code} {text}");
            // The same text inside lettre's error chain.
            let chain = format!("permanent error ({code}): {text}");
            assert_eq!(recognize(None, &chain), *want, "{chain}");
        }
    }

    #[test]
    fn client_side_findings_are_recognised_and_not_called_the_server() {
        let detail = "internal client error: No compatible authentication mechanism was found";
        assert_eq!(recognize(None, detail), Some(Refusal::NoAuthOffered));
        let e = explain(Fault::Session, detail, None);
        assert_eq!(e.server_said, None);
        assert!(e.todo.contains("remove `username`"), "{e:?}");
        let challenge = "internal client error: This mechanism does not expect a challenge";
        assert_eq!(recognize(None, challenge), Some(Refusal::TokenChallenge));
        assert!(is_sign_in_refusal(None, challenge));
    }

    #[test]
    fn each_explanation_says_what_to_do() {
        for (code, text, want) in CASES.iter().filter(|c| c.2.is_some()) {
            let detail = format!("permanent error ({code}): {text}");
            let e = explain(Fault::Auth, &detail, None);
            assert_eq!(
                e.server_said.as_deref(),
                Some(format!("{code} {text}").as_str())
            );
            let todo = e.todo.to_ascii_lowercase();
            match want {
                Some(Refusal::BasicAuthDisabled) => {
                    assert!(
                        todo.contains("oauth2") && todo.contains("token_command"),
                        "{e:?}"
                    )
                }
                Some(Refusal::AppPasswordRequired) => {
                    assert!(todo.contains("app password"), "{e:?}")
                }
                Some(Refusal::QuotaReached) => {
                    assert!(
                        todo.contains("nobody was marked failed") && todo.contains("tomorrow"),
                        "{e:?}"
                    )
                }
                _ => assert!(todo.contains("username"), "{e:?}"),
            }
        }
    }

    #[test]
    fn server_reply_only_from_a_reply() {
        assert_eq!(
            server_reply("permanent error (535): 5.7.8 nope").as_deref(),
            Some("535 5.7.8 nope")
        );
        assert_eq!(server_reply("Connection error: refused"), None);
    }

    fn account(auth: AuthMethod) -> Smtp {
        Smtp {
            host: "smtp.example.org".into(),
            port: 587,
            security: crate::tls::Security::Starttls,
            username: Some("letters@example.org".into()),
            password_env: "REPMAIL_SMTP_PASSWORD".into(),
            ca_file: None,
            timeout_secs: 30,
            provider: None,
            auth,
            password_command: None,
            token_command: Some("oama access letters@example.org".into()),
            imap_host: None,
        }
    }

    #[test]
    fn only_refusals_of_the_sign_in_are_sign_in_refusals() {
        assert!(is_sign_in_refusal(Some(535), "5.7.8 nope"));
        assert!(!is_sign_in_refusal(Some(550), "5.1.1 no such user"));
        assert!(!is_sign_in_refusal(
            Some(550),
            "5.4.5 Daily user sending quota exceeded. - gsmtp"
        ));
        assert!(!is_sign_in_refusal(None, "Connection refused"));
    }

    #[test]
    fn a_server_reply_has_a_three_digit_code() {
        for not_a_reply in [
            "permanent error (5350): 5.7.8 nope",
            "permanent error (abc): 5.7.8 nope",
            "transient error (42): try later",
        ] {
            assert_eq!(server_reply(not_a_reply), None, "{not_a_reply}");
        }
        assert_eq!(
            server_reply("transient error (421): 4.7.0 later").as_deref(),
            Some("421 4.7.0 later")
        );
    }

    #[test]
    fn explanations_follow_the_way_the_account_signs_in() {
        let oauth = account(AuthMethod::Oauth2);
        let password = account(AuthMethod::Password);
        let refused = "permanent error (535): 5.7.8 Username and Password not accepted.";
        let e = explain(Fault::Auth, refused, Some(&oauth));
        assert!(
            e.what.contains("access token") && e.todo.contains("oama access"),
            "{e:?}"
        );
        let e = explain(Fault::Auth, refused, Some(&password));
        assert!(e.what.contains("username or password"), "{e:?}");
        assert!(e.what.contains("letters@example.org") && e.what.contains("smtp.example.org"));

        let none = "internal client error: No compatible authentication mechanism was found";
        let e = explain(Fault::Session, none, Some(&oauth));
        assert!(e.what.contains("XOAUTH2"), "{e:?}");
        let e = explain(Fault::Session, none, Some(&password));
        assert!(e.what.contains("no way to sign in"), "{e:?}");
    }

    #[test]
    fn refusals_at_sign_in_are_explained_by_what_they_say() {
        let password = account(AuthMethod::Password);
        let oauth = account(AuthMethod::Oauth2);
        let cases: &[(&str, &Smtp, &[&str])] = &[
            (
                "permanent error (504): 5.7.4 Unrecognized authentication type",
                &password,
                &[
                    "does not take the sign-in method",
                    "PLAIN or LOGIN",
                    "auth = \"oauth2\"",
                ],
            ),
            (
                "permanent error (504): 5.7.4 Unrecognized authentication type",
                &oauth,
                &["XOAUTH2", "auth = \"password\""],
            ),
            (
                "permanent error (500): 5.5.2 Error: line too long",
                &oauth,
                &[
                    "line was too long",
                    "token_command prints only the access token",
                ],
            ),
            (
                "permanent error (554): 5.7.1 Client host rejected: Access denied",
                &password,
                &["by its policy", "may send by SMTP"],
            ),
            (
                "transient error (454): 4.7.0 Too many login attempts",
                &password,
                &["for now", "try again later"],
            ),
            (
                "the server did not answer the sign-in within 30 s (timeout_secs)",
                &password,
                &[
                    "did not answer the sign-in of letters@example.org within 30 s",
                    "`port`",
                ],
            ),
        ];
        for (detail, smtp, want) in cases {
            let e = explain(Fault::SignIn, detail, Some(smtp));
            let all = format!("{} / {}", e.what, e.todo);
            for w in *want {
                assert!(all.contains(w), "{w:?} missing for {detail}: {all}");
            }
        }
        // The same 554 5.7.1 after sign-in (a letter refused as spam) is
        // not explained as the account's: only a sign-in fault reads so.
        let e = explain(
            Fault::Streak,
            "permanent error (554): 5.7.1 spam",
            Some(&password),
        );
        assert!(!e.what.contains("policy"), "{e:?}");
    }

    #[test]
    fn a_failing_token_command_is_told_as_itself_only_for_the_sign_in() {
        let detail = "token_command `oama access x` failed (exit 1): no refresh token";
        let e = explain(Fault::Auth, detail, Some(&account(AuthMethod::Oauth2)));
        assert!(e.what.contains("could not renew"), "{e:?}");
        assert_eq!((e.todo.as_str(), e.server_said), (detail, None));
        let e = explain(Fault::Unreachable, detail, None);
        assert!(!e.what.contains("could not renew"), "{e:?}");
    }
}
