//! Yahoo's reports: "Sorry, we were unable to deliver your message to the
//! following address.", then `<address>:` and "Remote host said: …".

use super::{blocks, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

/// Yahoo's failure reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let Some(lines) = lines_after(
        text,
        "we were unable to deliver your message to the following",
    ) else {
        return Vec::new();
    };
    failures(mail, blocks(lines))
}
