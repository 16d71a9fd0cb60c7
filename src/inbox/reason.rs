//! Reasons, decided in one place: from whatever a decoder found (an
//! enhanced status, a reply code, the remote server's words) to the
//! enhanced status the ledger row starts with, hard or soft, and a short
//! reason in words. Decoders only extract; they never judge.

use super::failure::{Action, ReportedFailure};
use super::status::{enhanced_in, is_enhanced, reply_code};

/// What a failure means for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The enhanced status (RFC 3463), e.g. `5.1.1`.
    pub status: String,
    /// The remote server's reply code, when the report states one.
    pub smtp_code: Option<u16>,
    /// Class 5: not resent unless `--retry-failed`.
    pub hard: bool,
    /// The ledger row's detail: the status, a reason in words, then the
    /// remote server's words.
    pub detail: String,
}

/// Known enhanced statuses in words (RFC 3463 and the IANA registry of
/// enhanced status codes, read 2026-12-01). By subject and detail, so
/// `5.1.1` and `4.1.1` share a phrase. Not `x.1.10` (null MX in the
/// registry): Microsoft uses 5.1.10 for "recipient not found".
const PHRASES: [(&str, &str); 15] = [
    ("1.1", "user unknown"),
    ("1.2", "domain not found"),
    ("1.3", "bad address syntax"),
    ("1.6", "mailbox moved"),
    ("2.1", "mailbox disabled"),
    ("2.2", "mailbox full"),
    ("2.3", "message too large"),
    ("3.4", "message too large"),
    ("4.1", "no answer from host"),
    ("4.4", "unable to route"),
    ("4.7", "delivery time expired"),
    ("7.1", "refused by policy"),
    ("7.26", "failed authentication checks (DMARC)"),
    ("7.27", "sender address has null MX"),
    ("7.0", "refused by policy"),
];

/// Words that name a reason when the report gives no code: (needle,
/// enhanced status). Checked in order, lower-case.
const WORDS: [(&str, &str); 23] = [
    ("user unknown", "5.1.1"),
    ("unknown user", "5.1.1"),
    ("no such user", "5.1.1"),
    ("no such mailbox", "5.1.1"),
    ("user not found", "5.1.1"),
    ("recipient not found", "5.1.1"),
    ("does not exist", "5.1.1"),
    ("invalid recipient", "5.1.1"),
    ("mailbox unavailable", "5.1.1"),
    ("address rejected", "5.1.1"),
    ("no mailbox here", "5.1.1"),
    ("host not found", "5.1.2"),
    ("domain not found", "5.1.2"),
    ("no mx", "5.1.2"),
    ("account is disabled", "5.2.1"),
    ("mailbox full", "4.2.2"),
    ("mailbox is full", "4.2.2"),
    ("over quota", "4.2.2"),
    ("quota exceeded", "4.2.2"),
    ("message too large", "5.3.4"),
    ("spam", "5.7.1"),
    ("blocked", "5.7.1"),
    ("timed out", "4.4.7"),
];

/// Decides a failure's status, class and detail.
pub fn verdict(failure: &ReportedFailure) -> Verdict {
    let words = failure.diagnostic.trim();
    let smtp_code = failure.smtp_code.or_else(|| reply_code(words));
    let status = failure
        .status
        .clone()
        .filter(|s| is_enhanced(s))
        .or_else(|| enhanced_in(words))
        .or_else(|| {
            let lower = words.to_ascii_lowercase();
            WORDS
                .iter()
                .find(|(needle, _)| lower.contains(needle))
                .map(|(_, status)| status.to_string())
        })
        .or_else(|| smtp_code.map(|c| format!("{}.0.0", c / 100)))
        .unwrap_or_else(|| match failure.action {
            Action::Failed => "5.0.0".to_string(),
            Action::Delayed => "4.0.0".to_string(),
        });
    // A delay is never hard, whatever code the remote server gave so far.
    let status = match (failure.action, status.strip_prefix("5.")) {
        (Action::Delayed, Some(rest)) => format!("4.{rest}"),
        _ => status,
    };
    let hard = status.starts_with("5.");
    let phrase = phrase(&status);
    let mut detail = format!("{status} {phrase}");
    if !words.is_empty() {
        detail.push_str(": ");
        detail.push_str(&crate::text::one_line(words));
    }
    Verdict {
        status,
        smtp_code,
        hard,
        detail,
    }
}

fn phrase(status: &str) -> &'static str {
    let rest = status.split_once('.').map_or("", |(_, r)| r);
    PHRASES.iter().find(|(code, _)| *code == rest).map_or_else(
        || {
            if status.starts_with('5') {
                "permanent failure"
            } else {
                "temporary failure"
            }
        },
        |(_, p)| p,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: Option<&str>, diagnostic: &str) -> ReportedFailure {
        ReportedFailure {
            recipient: None,
            original: None,
            status: status.map(str::to_string),
            smtp_code: None,
            diagnostic: diagnostic.to_string(),
            action: Action::Failed,
        }
    }

    #[test]
    fn status_from_the_report_then_the_words() {
        let v = verdict(&failed(
            Some("5.1.1"),
            "smtp; 550 5.1.1 <a@example.org>... User Unknown",
        ));
        assert_eq!(
            (v.status.as_str(), v.smtp_code, v.hard),
            ("5.1.1", Some(550), true)
        );
        assert!(
            v.detail.starts_with("5.1.1 user unknown: smtp; 550"),
            "{}",
            v.detail
        );

        let v = verdict(&failed(
            None,
            "Sorry, no mailbox here by that name. (#5.1.1)",
        ));
        assert_eq!(v.status, "5.1.1");
        assert_eq!(v.smtp_code, None);

        let v = verdict(&failed(None, "452 4.2.2 Over quota"));
        assert_eq!((v.status.as_str(), v.hard), ("4.2.2", false));

        let v = verdict(&failed(None, "The recipient's mailbox is full"));
        assert_eq!((v.status.as_str(), v.hard), ("4.2.2", false));

        let v = verdict(&failed(None, "host 192.0.2.25 said: 554 go away"));
        assert_eq!((v.status.as_str(), v.smtp_code), ("5.0.0", Some(554)));

        let v = verdict(&failed(None, ""));
        assert_eq!(v.detail, "5.0.0 permanent failure");
    }

    #[test]
    fn delays_are_soft() {
        let mut f = failed(Some("5.4.7"), "still trying");
        f.action = Action::Delayed;
        let v = verdict(&f);
        assert_eq!((v.status.as_str(), v.hard), ("4.4.7", false));
    }
}
