//! What an incoming message is, in a fixed order: a complaint (ARF), a
//! delivery report (bounce or delay), an automatic answer, a person's
//! message, or mail for many.

use super::autoreply;
use super::decoders;
use super::failure::{Action, ReportedFailure};
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
        failures: Vec<ReportedFailure>,
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
    /// From a mail system or a list, and not a report.
    Unrelated,
}

/// Classifies a parsed message.
///
/// A message is a delivery report by its structure only (issue 23): a
/// `message/delivery-status` part (RFC 3464), or the layout of a known
/// mail server ([`decoders`]) in mail from a mail system (a daemon's
/// mailbox or a null Return-Path). A subject alone never makes a report:
/// a person quoting a bounce under "Re: Undelivered Mail" wrote a reply.
/// Everything here can be forged; what a report may then record is
/// decided by [`super::evidence`].
pub fn classify(mail: &Mail) -> Class {
    if mail.feedback || mail.report_type.as_deref() == Some("feedback-report") || is_jmrp(mail) {
        return Class::Complaint;
    }
    let is_report = !mail.status_parts.is_empty();
    // A DSN that names recipients says who failed: no guess may read other
    // failures into its text (its words are free text, its fields are not).
    let standard = is_report && names_recipients(mail);
    let from_system = mail.from_daemon() || mail.null_sender();
    if is_report || from_system {
        let read = if standard {
            decoders::decode_standard(mail)
        } else {
            decoders::decode(mail)
        };
        if let Some((format, failures)) = read {
            let failed: Vec<ReportedFailure> = failures
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
    // When none failed (all delivered or relayed), it is no bounce.
    if standard {
        return Class::Unrelated;
    }
    if is_report || mail.from_daemon() {
        return generic(mail);
    }
    if autoreply::is_bulk(mail) {
        return Class::Unrelated;
    }
    Class::Message
}

/// Whether a delivery-status part names a recipient (RFC 3464 section
/// 2.3: `Final-Recipient`, `Original-Recipient`).
fn names_recipients(mail: &Mail) -> bool {
    mail.status_parts.iter().any(|p| {
        p.lines().any(|l| {
            let name = l.split(':').next().unwrap_or_default().trim();
            name.eq_ignore_ascii_case("final-recipient")
                || name.eq_ignore_ascii_case("original-recipient")
        })
    })
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

/// A report from a mail system in no format we know. With a report's
/// subject, the `address: reply` lines many servers print without any
/// other marker (OpenSMTPD, some appliances) are read, else it is a
/// failure of no named recipient: only the letter's Message-ID in it, or
/// one address in its words, can then name one ([`super::evidence`]).
/// Without a report's subject it is some other notice.
fn generic(mail: &Mail) -> Class {
    if !looks_like_report(mail) {
        return Class::Unrelated;
    }
    let text = decoders::report_text(mail);
    let blocks = decoders::blocks(text.lines());
    let failures = if blocks.is_empty() {
        vec![ReportedFailure {
            recipient: None,
            original: None,
            status: None,
            smtp_code: None,
            diagnostic: first_reply_line(text),
            action: Action::Failed,
        }]
    } else {
        decoders::failures(mail, blocks)
    };
    Class::Bounce {
        format: "generic",
        failures,
    }
}

/// The first line of the text that carries a failure's reply code or
/// enhanced status (`reason` reads only classes 4 and 5): usually the
/// remote server's words.
fn first_reply_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| super::status::enhanced_in(l).is_some() || super::status::reply_code(l).is_some())
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
        // Either sign alone suffices.
        let subject_only = "From: staff@hotmail.example.com\nSubject: complaint about message from 192.0.2.1\n\nHi\n";
        assert_eq!(class_of(subject_only), Class::Complaint);
        let header_only =
            String::from_utf8_lossy(raw).replace("complaint about message from", "report");
        assert_eq!(class_of(&header_only), Class::Complaint);
    }
    fn class_of(raw: &str) -> Class {
        classify(&Mail::parse(raw.as_bytes()))
    }

    const EXIM: &str = "This message was created automatically by mail delivery software.\n\n\
The following address(es) failed:\n\n  a@example.org\n    550 5.1.1 user unknown\n";

    #[test]
    fn a_feedback_part_or_its_report_type_alone_is_a_complaint() {
        let part = "From: fbl@example.net\nSubject: report\n\
Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/feedback-report\n\n\
Feedback-Type: abuse\n--x--\n";
        assert_eq!(class_of(part), Class::Complaint);
        let report_type = "From: fbl@example.net\nSubject: report\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=x\n\n\
--x\nContent-Type: text/plain\n\nspam\n--x--\n";
        assert_eq!(class_of(report_type), Class::Complaint);
    }

    #[test]
    fn a_layout_is_read_only_in_mail_from_a_mail_system() {
        // Issue 23: a person's message with a report's subject and a
        // server's layout is a message.
        let person = format!("From: Ann <a@example.org>\nSubject: Mail delivery failed\n\n{EXIM}");
        assert_eq!(class_of(&person), Class::Message);
        // A daemon's mailbox, or a null Return-Path, each alone suffice.
        for headers in [
            "From: Mailer-Daemon@mx.example.net\n",
            "Return-Path: <>\nFrom: relay@mx.example.net\n",
        ] {
            let raw = format!("{headers}Subject: Notice\n\n{EXIM}");
            assert!(
                matches!(class_of(&raw), Class::Bounce { format: "exim", .. }),
                "{headers}"
            );
        }
    }

    #[test]
    fn a_dsn_naming_only_delivered_recipients_is_no_bounce() {
        let raw = format!(
            "From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n\
--b\nContent-Type: text/plain\n\n{EXIM}\n\
--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n\
Original-Recipient: rfc822; b@example.org\nAction: delivered\nStatus: 2.0.0\n--b--\n"
        );
        assert_eq!(class_of(&raw), Class::Unrelated);
        // A DSN part naming nobody: its text is read.
        let nameless = raw.replace("Original-Recipient: rfc822; b@example.org\n", "");
        assert!(matches!(class_of(&nameless), Class::Bounce { .. }));
    }

    #[test]
    fn a_mail_systems_notice_in_no_known_layout() {
        // No report subject: some other notice.
        let notice = "From: postmaster@mx.example.net\nSubject: Your mailbox is almost full\n\n\
Please delete some mail. 552 soon.\n";
        assert_eq!(class_of(notice), Class::Unrelated);
        // A report subject: `address: reply` lines, else a failure naming
        // nobody, carrying the first line with a failure's code.
        let lines = "From: postmaster@mx.example.net\nSubject: Undeliverable\n\n\
a@example.org: 550 5.1.1 no such user\n";
        let Class::Bounce { format, failures } = class_of(lines) else {
            panic!("not a bounce");
        };
        assert_eq!(format, "generic");
        assert_eq!(failures[0].recipient.as_deref(), Some("a@example.org"));
        let words = "From: postmaster@mx.example.net\nSubject: Undeliverable\n\n\
We could not deliver it.\nThe server said 250 ok then 2.0.0 fine.\nRemote said 550 no such user\n";
        let Class::Bounce { failures, .. } = class_of(words) else {
            panic!("not a bounce");
        };
        assert_eq!(failures[0].recipient, None);
        assert_eq!(failures[0].diagnostic, "Remote said 550 no such user");
    }
    #[test]
    fn a_mail_systems_delay_notice_in_no_known_layout_is_a_delay() {
        let raw = "From: postmaster@mx.example.net\nSubject: Delivery delayed\n\n\
Your message to a@example.org has not yet been delivered: 451 4.4.1 no answer.\n";
        assert_eq!(class_of(raw), Class::Delayed);
    }
}
