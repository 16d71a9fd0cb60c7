//! One classified outcome per transaction (DESIGN.md, "Sending").

use lettre::transport::smtp::response::Response;

use crate::diagnose::Refusal;
use crate::text::with_causes;

use super::connection::Failure;

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
        /// The reply code, if any.
        code: Option<u16>,
        /// The reply or the error.
        detail: String,
    },
}

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
        }
    }
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
            fault: Fault::Session,
            code,
            detail,
        };
    }
    if lower.contains("connection error") && !delivered_before {
        return Outcome::RunLevel {
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
        Failure::Timeout(_) => Outcome::Transient { code: None, detail },
        Failure::Connect(_) if delivered_before => Outcome::Transient { code: None, detail },
        Failure::Connect(_) => Outcome::RunLevel {
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
            fault: Fault::Session,
            code: None,
            detail,
        },
        Failure::Credentials(_) => Outcome::RunLevel {
            fault: Fault::Auth,
            code: None,
            detail,
        },
        Failure::Unencrypted => Outcome::RunLevel {
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
