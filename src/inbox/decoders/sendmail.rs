//! Sendmail without a DSN part: "----- The following addresses had
//! permanent fatal errors -----", the addresses, then "(reason: …)" and a
//! transcript of the session with the remote reply.

use super::{address_in, failures, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

const FATAL: &str = "----- the following addresses had permanent fatal errors -----";

/// Sendmail's plain-text reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let lower = text.to_ascii_lowercase();
    let Some(at) = lower.find(FATAL) else {
        return Vec::new();
    };
    let mut addresses = Vec::new();
    let mut reason = String::new();
    for line in text[at + FATAL.len()..].lines() {
        let line = line.trim();
        if line.starts_with("-----") {
            break;
        }
        if let Some(r) = line.strip_prefix("(reason:") {
            reason = r.trim_end_matches(')').trim().to_string();
        } else if let Some(addr) = address_in(line) {
            addresses.push(addr);
        }
    }
    // The transcript names the remote reply; prefer it to the summary.
    let transcript = lower
        .find("----- transcript of session follows -----")
        .map(|i| &text[i..])
        .unwrap_or_default();
    if let Some(line) = transcript.lines().skip(1).find(|l| {
        let l = l.trim_start_matches("<<<").trim();
        l.starts_with('5') || l.starts_with('4')
    }) {
        reason = line.trim_start_matches("<<<").trim().to_string();
    }
    let blocks = addresses.into_iter().map(|a| (a, reason.clone())).collect();
    failures(mail, blocks)
}
