//! Gmail's plain-text reports (before it sent DSNs): "Delivery to the
//! following recipient failed permanently:", the indented addresses, then
//! "The error that the other server returned was:" and the reply.

use super::{address_in, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

const MARKERS: [&str; 4] = [
    "delivery to the following recipient failed permanently:",
    "delivery to the following recipients failed permanently:",
    "delivery to the following recipient has been delayed:",
    "delivery to the following recipients has been delayed:",
];

/// Gmail's failure and delay reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let Some(lines) = MARKERS.iter().find_map(|m| lines_after(text, m)) else {
        return Vec::new();
    };
    let mut addresses = Vec::new();
    for line in lines {
        match address_in(line) {
            Some(addr) if line.trim().len() <= addr.len() + 2 => addresses.push(addr),
            _ if line.trim().is_empty() => continue,
            _ => break,
        }
    }
    let words = lines_after(text, "the error that the other server returned was:")
        .or_else(|| lines_after(text, "technical details of permanent failure:"))
        .map(|lines| {
            lines
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    failures(
        mail,
        addresses.into_iter().map(|a| (a, words.clone())).collect(),
    )
}
