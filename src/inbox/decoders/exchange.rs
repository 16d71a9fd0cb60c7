//! Microsoft Exchange and Office 365 reports without a usable DSN part:
//! "Delivery has failed to these recipients or groups:" (2007 and later,
//! Office 365) or "The following recipient(s) could not be reached:"
//! (2003), the addresses, then the remote reply ("Remote Server returned
//! '550 5.1.1 …'") or an `#5.1.1` code.

use super::{address_in, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

const MARKERS: [&str; 4] = [
    "delivery has failed to these recipients or groups:",
    "delivery has failed to these recipients or distribution lists:",
    "the following recipient(s) could not be reached:",
    "your message couldn't be delivered",
];

/// Exchange's and Office 365's plain reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let Some(lines) = MARKERS.iter().find_map(|m| lines_after(text, m)) else {
        return Vec::new();
    };
    let mut addresses = Vec::new();
    let mut words = Vec::new();
    for line in lines.take(40) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(addr) = address_in(trimmed) {
            if !addresses.contains(&addr) && words.is_empty() {
                addresses.push(addr);
                continue;
            }
        }
        if !addresses.is_empty() && words.len() < 4 {
            words.push(trimmed);
        }
    }
    let remote = lines_after(text, "remote server returned")
        .map(|_| {
            let lower = text.to_ascii_lowercase();
            let at = lower.find("remote server returned").unwrap_or(0);
            text[at..]
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| words.join(" "));
    failures(
        mail,
        addresses.into_iter().map(|a| (a, remote.clone())).collect(),
    )
}
