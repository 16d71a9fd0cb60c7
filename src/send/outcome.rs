//! One classified outcome per transaction (DESIGN.md, "Sending").

use lettre::transport::smtp::response::Response;

use crate::diagnose::{Fault, Refusal};
use crate::ledger::Status;
use crate::text::with_causes;

use super::connection::{Failure, Step};

mod sign_in;
use sign_in::at_sign_in;
#[cfg(test)]
use sign_in::sign_in_fault;

/// What one transaction came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx after DATA.
    Sent {
        /// The reply code.
        code: u16,
        /// The server's reply text.
        detail: String,
    },
    /// 4xx, a dropped connection or a timeout: retry later.
    Transient {
        /// The reply code, if the server gave one.
        code: Option<u16>,
        /// The reply or the error.
        detail: String,
    },
    /// 5xx for this recipient: do not retry.
    Permanent {
        /// The reply code, if any.
        code: Option<u16>,
        /// The reply or the error.
        detail: String,
    },
    /// A fault of the whole run (auth, TLS, server unreachable): stop,
    /// and do not blame the recipient.
    RunLevel {
        /// Which kind.
        fault: Fault,
        /// Whether the transaction counts as a try of the recipient's
        /// letter: not when it failed at sign-in (see [`decide`]), before
        /// anything about the letter was said.
        counts_a_try: bool,
        /// The reply code, if any.
        code: Option<u16>,
        /// The reply or the error.
        detail: String,
    },
}

impl Outcome {
    /// The ledger's code column.
    pub fn code(&self) -> Option<u16> {
        match self {
            Outcome::Sent { code, .. } => Some(*code),
            Outcome::Transient { code, .. }
            | Outcome::Permanent { code, .. }
            | Outcome::RunLevel { code, .. } => *code,
        }
    }

    /// Whether this transaction counts as a try of the recipient's letter
    /// (the ledger's `attempt` column): every one but a run-level fault at
    /// sign-in.
    pub fn counts_a_try(&self) -> bool {
        match self {
            Outcome::RunLevel { counts_a_try, .. } => *counts_a_try,
            _ => true,
        }
    }

    /// The ledger's status and detail for this outcome's row.
    pub fn row(&self) -> (Status, String) {
        let detail = self.detail();
        match self {
            Outcome::Sent { .. } => (Status::Sent, detail.to_string()),
            Outcome::Transient { .. } => (Status::Deferred, detail.to_string()),
            Outcome::Permanent { .. } => (Status::Failed, detail.to_string()),
            // Not the recipient's fault and certainly not delivered:
            // deferred, so the next run tries again.
            Outcome::RunLevel {
                counts_a_try: true, ..
            } => (Status::Deferred, format!("not sent, run stopped: {detail}")),
            Outcome::RunLevel { .. } => (
                Status::Deferred,
                format!("not sent, run stopped at sign-in (not counted as a try): {detail}"),
            ),
        }
    }

    /// The ledger's detail column.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Sent { detail, .. }
            | Outcome::Transient { detail, .. }
            | Outcome::Permanent { detail, .. }
            | Outcome::RunLevel { detail, .. } => detail,
        }
    }
}

fn reply_text(r: &Response) -> String {
    r.message().collect::<Vec<_>>().join(" ")
}

fn code_of(code: lettre::transport::smtp::response::Code) -> u16 {
    code.to_string().parse().unwrap_or(0)
}

/// Classifies a transaction's result. `delivered_before` tells whether
/// this run already reached the server once: a connection refused then is
/// a passing glitch, at the start it is a wrong setting.
pub fn classify(result: Result<Response, Failure>, delivered_before: bool) -> Outcome {
    match result {
        Ok(r) => Outcome::Sent {
            code: code_of(r.code()),
            detail: reply_text(&r),
        },
        Err(Failure::Smtp(e)) => classify_smtp(SmtpFacts::of(&e), delivered_before),
        Err(other) => classify_own(other, delivered_before),
    }
}

/// Decides what a transaction came to, knowing the step it failed at.
/// This is the one place where a fault of the run is told from a fault of
/// the letter.
///
/// A failure at [`Step::SignIn`] (connect, TLS, greeting, EHLO, STARTTLS,
/// AUTH) is a fault of the run, whatever its code or with none (a timeout):
/// no letter was spoken of yet, so no recipient can be to blame, and the
/// try is not counted (DESIGN.md, "Sending"). Later failures are classified
/// by [`classify`].
pub fn decide(result: Result<Response, (Step, Failure)>, delivered_before: bool) -> Outcome {
    match result {
        Ok(r) => classify(Ok(r), delivered_before),
        Err((Step::SignIn, f)) => at_sign_in(f),
        Err((_, f)) => classify(Err(f), delivered_before),
    }
}

/// Whether a failed transaction counts toward the failure streak
/// ([`super::FAILURE_STREAK_LIMIT`]) that stops a run as the account's
/// fault. A 4xx other than 421 in reply to RCPT or DATA is about that
/// recipient (greylisting, a full mailbox, too many recipients): it does
/// not count while the recipient will be tried again in this run, since
/// greylisting refuses every first try and accepts the retry. It counts on
/// the recipient's last try, so a provider refusing every RCPT with a 4xx
/// still stops the run; so does every other failure (a 5xx, a timeout, a
/// dropped connection, a 421, a 4xx to MAIL or to the body).
pub fn counts_toward_streak(step: Option<Step>, outcome: &Outcome, retried: bool) -> bool {
    match outcome {
        Outcome::Sent { .. } | Outcome::RunLevel { .. } => false,
        Outcome::Permanent { .. } => true,
        Outcome::Transient { code, .. } => {
            let recipients_own = step == Some(Step::Envelope)
                && code.is_some_and(|c| (400..500).contains(&c) && c != 421);
            !(recipients_own && retried)
        }
    }
}

/// What one of lettre's errors says, as plain facts. lettre's errors
/// cannot be built outside lettre, so the decision below is a function of
/// these facts alone and the unit tests drive it with every combination;
/// the integration tests check [`SmtpFacts::of`] against a real server.
#[derive(Debug, Clone)]
struct SmtpFacts {
    /// The reply code, when the server replied.
    code: Option<u16>,
    /// lettre's own reading of the code (4xx / 5xx).
    transient: bool,
    permanent: bool,
    /// A TLS error, or a client-side one (lettre refused to go on).
    tls: bool,
    client: bool,
    /// The error with its whole source chain.
    detail: String,
}

impl SmtpFacts {
    fn of(e: &lettre::transport::smtp::Error) -> SmtpFacts {
        SmtpFacts {
            code: e.status().map(code_of),
            transient: e.is_transient(),
            permanent: e.is_permanent(),
            tls: e.is_tls(),
            client: e.is_client(),
            detail: with_causes(e.to_string(), e),
        }
    }
}

fn classify_smtp(f: SmtpFacts, delivered_before: bool) -> Outcome {
    let SmtpFacts { code, detail, .. } = f.clone();
    let lower = detail.to_ascii_lowercase();
    // Replies about the account, not the recipient (diagnose explains
    // them): a quota reply is a 550 at Gmail, basic auth disabled a 550
    // 5.7.30 at Microsoft, a refused token a client-side "challenge" error.
    match crate::diagnose::recognize(code, &detail) {
        Some(Refusal::QuotaReached) => {
            return Outcome::RunLevel {
                counts_a_try: true,
                fault: Fault::Quota,
                code,
                detail,
            }
        }
        Some(
            Refusal::BasicAuthDisabled
            | Refusal::AppPasswordRequired
            | Refusal::BadCredentials
            | Refusal::TokenChallenge,
        ) => {
            return Outcome::RunLevel {
                counts_a_try: true,
                fault: Fault::Auth,
                code,
                detail,
            }
        }
        Some(Refusal::NoAuthOffered) | None => {}
    }
    if let Some(c) = code {
        // Auth refusals arrive as a permanent reply per message; they are
        // about the account, not the recipient.
        if matches!(c, 530 | 534 | 535 | 538) {
            return Outcome::RunLevel {
                counts_a_try: true,
                fault: Fault::Auth,
                code,
                detail,
            };
        }
        if f.transient {
            return Outcome::Transient { code, detail };
        }
        if f.permanent {
            return Outcome::Permanent { code, detail };
        }
    }
    if f.tls
        || lower.contains("certificate")
        || lower.contains("starttls")
        || lower.contains("handshake")
    {
        return Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Tls,
            code,
            detail,
        };
    }
    if f.client {
        if lower.contains("smtputf8") {
            return Outcome::Permanent {
                code,
                detail: format!("{detail}: the server cannot take this non-ASCII address"),
            };
        }
        return Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Session,
            code,
            detail,
        };
    }
    if lower.contains("connection error") && !delivered_before {
        return Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Unreachable,
            code,
            detail,
        };
    }
    // A connection dropped mid-DATA is neither transient nor permanent in
    // lettre's terms; the letter may be retried safely.
    Outcome::Transient { code, detail }
}

/// The failures repmail detects itself, before or around lettre.
fn classify_own(f: Failure, delivered_before: bool) -> Outcome {
    let detail = with_causes(f.to_string(), &f);
    match f {
        Failure::Smtp(_) => unreachable!("classified by `classify`"),
        // Withdrawn before its text: certainly not delivered.
        Failure::Timeout(_) | Failure::Withdrawn => Outcome::Transient { code: None, detail },
        Failure::Connect(_) if delivered_before => Outcome::Transient { code: None, detail },
        Failure::Connect(_) => Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Unreachable,
            code: None,
            detail,
        },
        // A handshake cut off mid-way after the server has worked before
        // is a dropped connection, not a wrong certificate.
        Failure::Tls(ref e) if delivered_before && is_cut(e) => {
            Outcome::Transient { code: None, detail }
        }
        Failure::Tls(_) => Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Tls,
            code: None,
            detail,
        },
        Failure::Client(_) if detail.to_ascii_lowercase().contains("smtputf8") => {
            Outcome::Permanent {
                code: None,
                detail: format!("{detail}: the server cannot take this non-ASCII address"),
            }
        }
        Failure::Client(_) => Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Session,
            code: None,
            detail,
        },
        Failure::Credentials(_) => Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Auth,
            code: None,
            detail,
        },
        Failure::Unencrypted => Outcome::RunLevel {
            counts_a_try: true,
            fault: Fault::Session,
            code: None,
            detail,
        },
    }
}

/// The peer hung up (as opposed to a certificate or protocol refusal).
fn is_cut(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
    )
}

#[cfg(test)]
mod tests;
