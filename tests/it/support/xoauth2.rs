//! AUTH XOAUTH2, which mailin lacks, answered by the harness below
//! mailin's session: one base64 line in, `235` or a refusal out.

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::atomic::Ordering;

use super::{lock, ConnState, Shared};

/// XOAUTH2 as Google and Microsoft implement it: the client sends one
/// base64 line, `user=U^Aauth=Bearer T^A^A` (Google, "OAuth 2.0 Mechanism",
/// developers.google.com/gmail/imap/xoauth2-protocol; Microsoft Learn,
/// "Authenticate an IMAP, POP or SMTP connection using OAuth"; read
/// 2026-12-01).
#[derive(Clone, Debug)]
pub struct OAuth {
    /// The account the token must be for.
    pub user: String,
    pub tokens: TokenPolicy,
    pub refusal: Refusal,
}

/// Which tokens the server takes.
#[derive(Clone, Debug)]
pub enum TokenPolicy {
    /// Any token starting with this prefix, each on one connection only:
    /// a token that expires after one session.
    OncePerConnection(String),
    /// None at all.
    Nothing,
}

/// How a bad token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Microsoft: `535 5.7.3 Authentication unsuccessful` at once.
    Microsoft,
    /// Google: `334` with a base64 JSON error, the client's empty line,
    /// then `535-5.7.8 Username and Password not accepted`.
    Google,
}

/// Google's JSON status for a refused token (as quoted in nodemailer#114
/// and PHPMailer#633).
pub const GOOGLE_TOKEN_ERROR: &str =
    r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#;

pub(super) fn is_command(line: &[u8], command: &[u8]) -> bool {
    line.len() >= command.len() && line[..command.len()].eq_ignore_ascii_case(command)
}

/// Answers `AUTH XOAUTH2 <base64>`; returns false when the client hung up.
pub(super) fn answer<S: Read + Write>(
    line: &[u8],
    oauth: &OAuth,
    io: &mut BufReader<S>,
    state: &RefCell<ConnState>,
    shared: &Shared,
) -> io::Result<bool> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let reply = |io: &mut BufReader<S>, text: &str| -> io::Result<()> {
        io.get_mut().write_all(text.as_bytes())?;
        io.get_mut().flush()
    };
    let arg = String::from_utf8_lossy(&line[b"AUTH XOAUTH2".len()..])
        .trim()
        .to_owned();
    let decoded = b64.decode(arg.as_bytes()).unwrap_or_default();
    let decoded = String::from_utf8_lossy(&decoded).into_owned();
    // user=U ^A auth=Bearer T ^A ^A
    let mut user = None;
    let mut token = None;
    for field in decoded.split('\x01') {
        if let Some(u) = field.strip_prefix("user=") {
            user = Some(u.to_owned());
        } else if let Some(t) = field.strip_prefix("auth=Bearer ") {
            token = Some(t.to_owned());
        }
    }
    let well_formed = decoded.ends_with("\x01\x01");
    let connection = state.borrow().number;
    let accepted = match (&user, &token) {
        (Some(u), Some(t)) if well_formed && *u == oauth.user => {
            let mut used = lock(&shared.tokens_used);
            let ok = match &oauth.tokens {
                TokenPolicy::OncePerConnection(prefix) => {
                    t.starts_with(prefix.as_str()) && !used.iter().any(|(u, _)| u == t)
                }
                TokenPolicy::Nothing => false,
            };
            if ok {
                used.push((t.clone(), connection));
            }
            ok
        }
        _ => false,
    };
    if accepted {
        state.borrow_mut().oauth_user = user;
        reply(io, "235 2.7.0 Accepted\r\n")?;
        return Ok(true);
    }
    shared.auth_failures.fetch_add(1, Ordering::SeqCst);
    match oauth.refusal {
        Refusal::Microsoft => {
            reply(
                io,
                "535 5.7.3 Authentication unsuccessful [repmail test harness]\r\n",
            )?;
        }
        Refusal::Google => {
            reply(io, &format!("334 {}\r\n", b64.encode(GOOGLE_TOKEN_ERROR)))?;
            // The client answers the challenge with an empty line (or, like
            // lettre, gives up and hangs up).
            let mut next = Vec::new();
            if io.read_until(b'\n', &mut next)? == 0 {
                return Ok(false);
            }
            reply(io, "535-5.7.8 Username and Password not accepted. Learn more at\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp\r\n")?;
        }
    }
    Ok(true)
}
