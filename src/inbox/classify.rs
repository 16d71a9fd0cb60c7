//! What an incoming message is, in a fixed order: a complaint (ARF), a
//! delivery report (bounce or delay), an automatic answer, a person's
//! message, or mail for many.

use super::autoreply;
use super::decoders::{self, Action, Failure};
use super::mail::Mail;

/// The kind of an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// A delivery report: these recipients failed. (`format` names the
    /// decoder that read it.)
    Bounce {
        /// The report format, e.g. `rfc3464`, `exim`.
        format: &'static str,
        /// The failed recipients.
        failures: Vec<Failure>,
    },
    /// A delayed-delivery notice: the server is still trying. Not a bounce.
    Delayed,
    /// A feedback report (ARF, RFC 5965): someone marked mail as spam.
    /// A complaint, not a bounce.
    Complaint,
    /// An automatic answer (out of office, RFC 3834).
    AutoReply,
    /// Written by a person, as far as the headers tell.
    Message,
    /// From a mail system or a list, and not a report we can read.
    Unrelated,
}

/// Classifies a parsed message.
pub fn classify(mail: &Mail) -> Class {
    if mail.feedback || mail.report_type.as_deref() == Some("feedback-report") || is_jmrp(mail) {
        return Class::Complaint;
    }
    let is_report = mail.report_type.as_deref() == Some("delivery-status");
    // Free-text formats are only read from mail systems: a person quoting
    // a bounce in a reply is not a bounce.
    if is_report || mail.from_daemon() || mail.null_sender() || looks_like_report(mail) {
        if let Some((format, failures)) = decoders::decode(mail) {
            let failed: Vec<Failure> = failures
                .into_iter()
                .filter(|f| f.action == Action::Failed)
                .collect();
            if failed.is_empty() {
                return Class::Delayed;
            }
            return Class::Bounce {
                format,
                failures: failed,
            };
        }
        if (is_report || mail.from_daemon()) && decoders::says_delayed(mail) {
            return Class::Delayed;
        }
    }
    if autoreply::is_auto_reply(mail) && !is_report && !mail.from_daemon() {
        return Class::AutoReply;
    }
    if is_report || mail.from_daemon() {
        return generic(mail);
    }
    if autoreply::is_bulk(mail) {
        return Class::Unrelated;
    }
    Class::Message
}

/// Microsoft's Junk Mail Reporting Program sends complaints that are not
/// ARF: the subject "complaint about message from <IP>" and the reported
/// message attached, carrying `X-HmXmrOriginalRecipient` (seen in
/// Sisimai's set-of-emails corpus, read 2026-12-01).
fn is_jmrp(mail: &Mail) -> bool {
    let subject = mail.subject.trim().to_ascii_lowercase();
    subject.starts_with("complaint about message from")
        || mail
            .returned
            .to_ascii_lowercase()
            .contains("x-hmxmroriginalrecipient:")
}

/// Subjects of delivery reports, lower-case.
const REPORT_SUBJECTS: [&str; 12] = [
    "undeliver",
    "undelivered",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "mail system error",
    "non remis",
    "unzustellbar",
    "nondeliverable",
];

fn looks_like_report(mail: &Mail) -> bool {
    let subject = mail.subject.to_lowercase();
    REPORT_SUBJECTS.iter().any(|s| subject.contains(s))
}

/// A report from a mail system in no format we know: a bounce with no
/// named recipient when its subject says so (the matcher then looks for
/// the letter's Message-ID or a recipient's address in it), else unrelated.
fn generic(mail: &Mail) -> Class {
    if !looks_like_report(mail) {
        return Class::Unrelated;
    }
    // Many servers print `address: reply` lines without any other marker
    // (OpenSMTPD, some appliances): read those if there are any.
    let text = decoders::report_text(mail);
    let blocks = decoders::blocks(text.lines());
    if !blocks.is_empty() {
        return Class::Bounce {
            format: "generic",
            failures: decoders::failures(mail, blocks),
        };
    }
    Class::Bounce {
        format: "generic",
        failures: vec![Failure {
            recipient: None,
            status: None,
            smtp_code: None,
            diagnostic: first_reply_line(decoders::report_text(mail)),
            action: Action::Failed,
        }],
    }
}

/// The first line of the text that carries a reply code or enhanced
/// status: usually the remote server's words.
fn first_reply_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| {
            super::reason::enhanced_in(l).is_some_and(|s| !s.starts_with('2'))
                || super::reason::reply_code(l).is_some()
        })
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_complaints_are_complaints() {
        let raw = b"From: staff@hotmail.example.com\r\nSubject:  complaint about message from 192.0.2.1\r\n\
Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n\
X-HmXmrOriginalRecipient: a@example.org\r\nFrom: b@example.org\r\n\r\nHi\r\n--x--\r\n";
        assert_eq!(classify(&Mail::parse(raw)), Class::Complaint);
    }
}
