//! Delivery reports, one decoder per format (after Sisimai's `lhost/`):
//! each reads the same parsed [`Mail`] into the same per-recipient
//! [`ReportedFailure`]s. Decoders extract only; [`super::reason`] judges. A new
//! format is a new file and one line in [`REGISTRY`].

mod dragonfly;
mod exchange;
mod exim;
mod gmail;
mod postfix;
mod qmail;
mod rfc3464;
mod sendmail;
mod yahoo;

use super::failure::{Action, ReportedFailure};
use super::mail::Mail;

/// A decoder: its name (the format) and its function, which returns no
/// failures when the message is not in its format.
pub struct Decoder {
    /// The report format, e.g. `exim`.
    pub name: &'static str,
    /// Reads the message; empty when it is not this format.
    pub decode: fn(&Mail) -> Vec<ReportedFailure>,
}

/// Every decoder, the standard first: most servers send RFC 3464 reports,
/// and a standard report is never re-read by a guess.
pub const REGISTRY: [Decoder; 9] = [
    Decoder {
        name: "rfc3464",
        decode: rfc3464::decode,
    },
    Decoder {
        name: "exim",
        decode: exim::decode,
    },
    Decoder {
        name: "qmail",
        decode: qmail::decode,
    },
    Decoder {
        name: "postfix",
        decode: postfix::decode,
    },
    Decoder {
        name: "sendmail",
        decode: sendmail::decode,
    },
    Decoder {
        name: "exchange",
        decode: exchange::decode,
    },
    Decoder {
        name: "gmail",
        decode: gmail::decode,
    },
    Decoder {
        name: "yahoo",
        decode: yahoo::decode,
    },
    Decoder {
        name: "dragonfly",
        decode: dragonfly::decode,
    },
];

/// The first decoder that reads the message: its name and failures.
pub fn decode(mail: &Mail) -> Option<(&'static str, Vec<ReportedFailure>)> {
    REGISTRY.iter().find_map(|d| {
        let failures = (d.decode)(mail);
        (!failures.is_empty()).then_some((d.name, failures))
    })
}

/// The standard decoder alone (RFC 3464), for a report whose
/// delivery-status part names its recipients.
pub fn decode_standard(mail: &Mail) -> Option<(&'static str, Vec<ReportedFailure>)> {
    let failures = rfc3464::decode(mail);
    (!failures.is_empty()).then_some(("rfc3464", failures))
}

/// The text before the returned copy of the original, which would
/// otherwise feed its own addresses and words to a decoder.
pub(crate) fn report_text(mail: &Mail) -> &str {
    const MARKERS: [&str; 10] = [
        "------ This is a copy of the message",
        "--- Below this line is a copy of the message",
        "----- Original message -----",
        "------ Original message ------",
        "----- Unsent message follows -----",
        "Original message headers:",
        "------=_",
        "--- The header of the original message is following. ---",
        "Message headers follow.",
        "Below is a copy of the original message",
    ];
    let text = mail.text.as_str();
    let cut = MARKERS
        .iter()
        .filter_map(|m| text.find(m))
        .min()
        .unwrap_or(text.len());
    &text[..cut]
}

/// The address on a line such as `<a@example.org>:`, `  a@example.org`,
/// `Name (a@example.org)` or `a@example.org<mailto:a@example.org>`.
pub(crate) fn address_in(line: &str) -> Option<String> {
    let line = line.trim();
    let candidate = if let Some(start) = line.find('<') {
        let rest = &line[start + 1..];
        rest.split('>').next().unwrap_or(rest)
    } else if let Some(start) = line.find('(') {
        let rest = &line[start + 1..];
        rest.split(')').next().unwrap_or(rest)
    } else {
        line.split_whitespace().next().unwrap_or_default()
    };
    let candidate = candidate
        .trim()
        .trim_start_matches("mailto:")
        .trim_end_matches([':', ',', ';', '.']);
    is_address(candidate).then(|| candidate.to_lowercase())
}

/// Good enough to tell an address from prose: one `@`, a dot in the
/// domain, no spaces.
pub(crate) fn is_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !s.contains(char::is_whitespace)
                && !s.contains(['<', '>', '(', ')', '"', '[', ']'])
        }
        None => false,
    }
}

/// Lines after the first one containing `marker` (case-insensitive).
pub(crate) fn lines_after<'a>(text: &'a str, marker: &str) -> Option<std::str::Lines<'a>> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&marker.to_ascii_lowercase())?;
    let rest = &text[at..];
    let mut lines = rest.lines();
    lines.next();
    Some(lines)
}

/// Address blocks as qmail, Postfix, Yahoo and Exim print them: a line
/// starting with an address (`<a@example.org>:` or `  a@example.org`),
/// then the server's words on the same and the following lines, up to a
/// blank line. Lines before the first address are skipped.
pub(crate) fn blocks<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut open = false;
    for line in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            open = false;
            continue;
        }
        if trimmed.starts_with("---") {
            break;
        }
        let first = trimmed.split_whitespace().next().unwrap_or_default();
        let starts_with_address = (first.starts_with('<')
            || is_address(first.trim_end_matches(':')))
            && address_in(first).is_some();
        if starts_with_address && (!open || first.starts_with('<')) {
            let addr = address_in(first).expect("checked");
            let rest = trimmed[first.len()..].trim_start_matches(':').trim();
            out.push((addr, rest.to_string()));
            open = true;
        } else if open {
            let words = &mut out.last_mut().expect("open block").1;
            if !words.is_empty() {
                words.push(' ');
            }
            words.push_str(trimmed);
        }
    }
    out
}

/// Failures from address blocks, delayed when the message says so.
pub(crate) fn failures(mail: &Mail, blocks: Vec<(String, String)>) -> Vec<ReportedFailure> {
    let action = if says_delayed(mail) {
        Action::Delayed
    } else {
        Action::Failed
    };
    blocks
        .into_iter()
        .map(|(addr, words)| ReportedFailure {
            recipient: Some(addr),
            original: None,
            status: None,
            smtp_code: None,
            diagnostic: words,
            action,
        })
        .collect()
}

/// Whether the text announces a delay rather than a final failure.
pub(crate) fn says_delayed(mail: &Mail) -> bool {
    let subject = mail.subject.to_ascii_lowercase();
    let text = report_text(mail).to_ascii_lowercase();
    subject.contains("delayed")
        || subject.contains("(delay)")
        || subject.contains("warning: could not send")
        || text.contains("has not yet been delivered")
        || text.contains("will continue trying")
        || text.contains("will retry")
        || text.contains("has been delayed")
        || text.contains("no action is required on your part")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_on_report_lines() {
        assert_eq!(address_in("<A@example.org>:"), Some("a@example.org".into()));
        assert_eq!(
            address_in("    a@example.org"),
            Some("a@example.org".into())
        );
        assert_eq!(
            address_in("Ann (a@example.org)"),
            Some("a@example.org".into())
        );
        assert_eq!(
            address_in("a@example.org<mailto:a@example.org>"),
            Some("a@example.org".into())
        );
        assert_eq!(address_in("Technical details:"), None);
        assert_eq!(address_in(""), None);
    }
}
