//! The DragonFly Mail Agent (dma): "There was an error delivering your
//! mail to <address>.", then the remote server's reply.

use super::{address_in, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

const MARKER: &str = "there was an error delivering your mail to";

/// dma's failure reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let lower = text.to_ascii_lowercase();
    let Some(at) = lower.find(MARKER) else {
        return Vec::new();
    };
    let line = text[at + MARKER.len()..].lines().next().unwrap_or_default();
    let Some(addr) = address_in(line) else {
        return Vec::new();
    };
    let words = lines_after(&text[at..], MARKER)
        .map(|lines| {
            lines
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    failures(mail, vec![(addr, words)])
}
