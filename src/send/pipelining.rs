//! SMTP PIPELINING (RFC 2920): whether the server offers it, and a
//! transaction's envelope as one group (see [`super::connection::Connection::send`]).

use std::fmt;
use std::time::Duration;

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;

/// The longest the server has to answer the question; at most a quarter
/// of the transaction's timeout ([`ask_limit`]). A server answers EHLO at
/// once; one that does not is not asked again and the session is opened
/// anew, rather than the question costing the transaction's whole timeout
/// and, at sign-in, the run.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the question may take within a transaction of `timeout`.
pub(super) fn ask_limit(timeout: Duration) -> Duration {
    (timeout / 4).min(ASK_TIMEOUT)
}

/// What the second EHLO found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Offer {
    /// PIPELINING is offered.
    Offered,
    /// Not offered, or the question refused as a command (500-504): the
    /// session goes on one command at a time.
    NotOffered,
    /// No answer in time, the connection lost, or any other reply (a 421,
    /// a 554 before hanging up): the session may be over; open a new one.
    Lost,
}

/// Asks whether the server offers PIPELINING. lettre keeps only the EHLO
/// keywords it acts on itself (its `ServerInfo`; PIPELINING is not one,
/// lettre 0.11), so the session says EHLO once more and reads them: RFC
/// 5321 §4.1.4 allows a later EHLO, which resets only a transaction, and
/// none has begun. Before AUTH, after STARTTLS (RFC 3207 §4.2: what was
/// offered before TLS does not count). Some servers refuse a second EHLO
/// ("503 Duplicate HELO/EHLO": Python's smtpd and aiosmtpd, read
/// 2026-12-05).
pub(super) async fn ask(
    inner: &mut AsyncSmtpConnection,
    hello: &ClientId,
    limit: Duration,
) -> Offer {
    match tokio::time::timeout(limit, inner.command(Ehlo::new(hello.clone()))).await {
        Ok(Ok(reply)) => {
            // The first line is the server's name, not a keyword.
            let offered = reply.message().skip(1).any(|line| {
                line.split_whitespace()
                    .next()
                    .is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
            });
            if offered {
                Offer::Offered
            } else {
                Offer::NotOffered
            }
        }
        Ok(Err(e)) if refused_as_command(&e) => Offer::NotOffered,
        _ => Offer::Lost,
    }
}

/// 500-504: the command itself refused (RFC 5321 §4.2.2); the session is
/// as it was.
fn refused_as_command(e: &lettre::transport::smtp::Error) -> bool {
    e.status().is_some_and(|code| {
        matches!(
            code.to_string().as_str(),
            "500" | "501" | "502" | "503" | "504"
        )
    })
}

/// A transaction's envelope as one pipelined group: MAIL, each RCPT,
/// DATA, written at once through lettre's commands.
pub(super) struct EnvelopeGroup {
    pub(super) mail: Mail,
    pub(super) rcpts: Vec<Rcpt>,
}

impl fmt::Display for EnvelopeGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each command writes its own CRLF.
        write!(f, "{}", self.mail)?;
        for rcpt in &self.rcpts {
            write!(f, "{rcpt}")?;
        }
        write!(f, "{Data}")
    }
}
