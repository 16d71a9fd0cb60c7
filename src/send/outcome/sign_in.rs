//! A failure at sign-in is the run's fault, not a recipient's, and what
//! it says must not carry the credentials the server may have quoted.

use super::{classify, Fault, Outcome};
use crate::send::connection::Failure;

pub(super) fn at_sign_in(f: Failure) -> Outcome {
    let silent = match f {
        Failure::Timeout(secs) => Some(secs),
        _ => None,
    };
    // As at the start of a run: a connection refused or cut during the
    // sign-in reads as "unreachable" or a TLS failure, not a passing glitch
    // (which the whole run's stop now answers: the next run resumes).
    sign_in_fault(classify(Err(f), false), silent)
}

/// `classified`, a failure at sign-in (`silent`: a timeout of that many
/// seconds), as the fault of the run it is.
pub(super) fn sign_in_fault(classified: Outcome, silent: Option<u64>) -> Outcome {
    match classified {
        Outcome::RunLevel {
            fault,
            code,
            detail,
            ..
        } => Outcome::RunLevel {
            fault,
            counts_a_try: false,
            code,
            detail,
        },
        other => Outcome::RunLevel {
            fault: Fault::SignIn,
            counts_a_try: false,
            code: other.code(),
            detail: match silent {
                Some(secs) => {
                    format!("the server did not answer the sign-in within {secs} s (timeout_secs)")
                }
                None => other.detail().to_string(),
            },
        },
    }
    .without_credentials()
}

/// The longest run of base64 (or token) characters kept in a sign-in
/// failure's detail. A server's reply to AUTH may quote the line it got
/// (Postfix: "500 5.5.2 Error: command not recognized" does not, others
/// do), and that line holds the password or the token in base64: longer
/// runs are cut, since the detail is printed and goes to the ledger.
/// Providers' own reference codes (`BM1P287CA0015`, `o13sm2119833lfg`)
/// are far shorter.
const MAX_WORD_IN_SIGN_IN_DETAIL: usize = 31;

impl Outcome {
    pub(super) fn without_credentials(self) -> Outcome {
        match self {
            Outcome::RunLevel {
                fault,
                counts_a_try,
                code,
                detail,
            } => Outcome::RunLevel {
                fault,
                counts_a_try,
                code,
                detail: cut_long_words(&detail),
            },
            other => other,
        }
    }
}

/// `text` with every run of more than [`MAX_WORD_IN_SIGN_IN_DETAIL`]
/// base64 or token characters replaced by `[…]`.
fn cut_long_words(text: &str) -> String {
    let tokenish = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if tokenish(c) {
            run.push(c);
            continue;
        }
        if run.len() > MAX_WORD_IN_SIGN_IN_DETAIL {
            out.push_str("[…]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}
