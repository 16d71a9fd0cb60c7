//! The headers whose text comes from the campaign or a contacts cell (the
//! Subject, the To display name), written so that no line of a message
//! exceeds 998 octets (RFC 5322 §2.1.1, a MUST; 78 is the SHOULD) and no
//! value is read as something else.
//!
//! lettre folds at white space and RFC 2047-encodes non-ASCII text, but
//! writes an ASCII run without white space as it is: a 2,000-character
//! name or subject from a cell became one 2,000-octet line, which servers
//! may refuse or cut (issue 23). Such text, and ASCII text shaped like an
//! encoded word, is encoded here whole, as short encoded words, one per
//! folded line (with lettre's own encoder, not ours).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use email_encoding::headers::writer::EmailWriter;
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder};

/// A run of non-white-space longer than this cannot be folded within 78
/// octets together with its header's name.
const LONGEST_RUN: usize = 66;

/// Whether lettre would leave `text` on a line longer than 78 octets (or
/// show a look-alike encoded word decoded).
fn needs_encoding(text: &str) -> bool {
    text.contains("=?") || text.split_whitespace().any(|run| run.len() > LONGEST_RUN)
}

/// `text` as RFC 2047 encoded words after `Name: ` (`name` is the
/// header's), folded so that every line stays within 78 octets (the
/// encoder's lines are at most 76, plus the folding space); a character is
/// never split across two words. lettre's own encoder (the
/// `email-encoding` crate) writes them: "B" words, which RFC 2047 §5(3)
/// also allows in a display name.
fn encoded_words(name: &str, text: &str) -> String {
    let mut out = String::new();
    {
        let mut w = EmailWriter::new(&mut out, name.len() + ": ".len(), 0, false);
        // Writing to a String cannot fail.
        let _ = email_encoding::headers::rfc2047::encode(text, &mut w);
    }
    out
}

/// The Subject header. lettre RFC 2047-encodes only words that are not
/// plain ASCII, so an ASCII word shaped like an encoded word
/// (`=?utf-8?q?=41?=`, from a CSV value) would go out as it is and every
/// mail program would show it decoded ("A"), not as rendered; and a long
/// run without spaces would go out on one line. Such a subject is encoded
/// whole; any other goes through lettre as usual.
pub fn subject(subject: &str) -> HeaderValue {
    let name = HeaderName::new_from_ascii_str("Subject");
    if !needs_encoding(subject) {
        return HeaderValue::new(name, subject.to_string());
    }
    HeaderValue::dangerous_new_pre_encoded(
        name,
        subject.to_string(),
        encoded_words("Subject", subject),
    )
}

/// Adds the To header for `to` (sent from `from`). A display name with a
/// run lettre cannot fold is written here as encoded words; the envelope
/// is then set from the addresses, as lettre would have derived it.
pub fn to(builder: MessageBuilder, from: &Mailbox, to: &Mailbox) -> MessageBuilder {
    let envelope = Envelope::new(Some(from.email.clone()), vec![to.email.clone()])
        .expect("one recipient is never an empty envelope");
    let Some(name) = to.name.as_deref().filter(|n| needs_encoding(n)) else {
        // The envelope given, not left to lettre, which would parse it
        // back out of the From and To headers it has just formatted (a
        // tenth of rendering a letter, callgrind 2026-12-05); the same
        // addresses either way. `copies` replaces it when it adds any.
        return builder.to(to.clone()).envelope(envelope);
    };
    let header = HeaderValue::dangerous_new_pre_encoded(
        HeaderName::new_from_ascii_str("To"),
        to.to_string(),
        format!("{}\r\n <{}>", encoded_words("To", name), to.email),
    );
    builder.raw_header(header).envelope(envelope)
}

/// A Message-ID on the sender's domain: spam filters score one on the
/// machine's host name (rspamd `MID_RHS_NOT_FQDN`). Unique per render so
/// that a retry is a distinct message to the server.
///
/// Its left side is the time, a counter and 128 bits from the operating
/// system's CSPRNG (`getrandom`, already built for ring): the inbox
/// trusts a returned Message-ID as proof that a report is about this
/// letter (`inbox::evidence`), so nobody but the letter's recipient and
/// its servers may be able to know or guess it (issue 23; before, it was
/// the time, a counter and a hash of campaign, recipient and pid).
pub(super) fn message_id(domain: &str) -> Result<String, getrandom::Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut random = [0u8; 16];
    getrandom::getrandom(&mut random)?;
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("<{nanos:x}.{n:x}.{random}@{domain}>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::SinglePart;
    use mailparse::MailHeaderMap;

    fn message(name: &str, subject_text: &str) -> Vec<u8> {
        let from: Mailbox = "Group <letters@example.org>".parse().unwrap();
        let rcpt = Mailbox::new(Some(name.to_string()), "rep@example.org".parse().unwrap());
        let builder = lettre::Message::builder()
            .from(from.clone())
            .raw_header(subject(subject_text));
        let m = to(builder, &from, &rcpt)
            .singlepart(SinglePart::plain("hi".to_string()))
            .unwrap();
        assert_eq!(m.envelope().to(), std::slice::from_ref(&rcpt.email));
        m.formatted()
    }

    #[test]
    fn long_names_and_subjects_without_spaces_fold_and_parse_back_intact() {
        for (name, subject_text) in [
            ("N".repeat(2000), "S".repeat(2000)),
            (
                format!("{}\"<x>\"{}", "é".repeat(300), "N".repeat(900)),
                format!("{} {}", "=?utf-8?q?=41?=", "ß".repeat(700)),
            ),
            ("Ann Smith".to_string(), "A letter".to_string()),
        ] {
            let bytes = message(&name, &subject_text);
            let head = &bytes[..bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap()];
            for line in head.split(|&b| b == b'\n') {
                assert!(line.len() <= 78, "{} octets", line.len());
            }
            let parsed = mailparse::parse_mail(&bytes).unwrap();
            assert_eq!(
                parsed.headers.get_first_value("Subject").unwrap(),
                subject_text
            );
            let to = parsed.headers.get_first_header("To").unwrap();
            let to = mailparse::addrparse_header(to).unwrap();
            let mailparse::MailAddr::Single(to) = &to[0] else {
                panic!("{to:?}")
            };
            assert_eq!(to.display_name.as_deref(), Some(name.as_str()));
            assert_eq!(to.addr, "rep@example.org");
        }
    }

    #[test]
    fn the_envelope_given_is_the_one_lettre_derives_from_the_headers() {
        let from: Mailbox = "Group <letters@example.org>".parse().unwrap();
        for rcpt in [
            "rep@example.org",
            "Ann Smith <ann.smith@example.com>",
            "\"Smith, Ann\" <ann@example.net>",
            "Zoë Müller <zoe@example.org>",
        ] {
            let rcpt: Mailbox = rcpt.parse().unwrap();
            let m = to(lettre::Message::builder().from(from.clone()), &from, &rcpt)
                .singlepart(SinglePart::plain("hi".to_string()))
                .unwrap();
            assert_eq!(
                Envelope::try_from(m.headers()).ok().as_ref(),
                Some(m.envelope()),
                "{rcpt}"
            );
        }
    }
}
