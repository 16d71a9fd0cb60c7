//! Exim's own reports: "This message was created automatically by mail
//! delivery software. … The following address(es) failed:", each address
//! indented two spaces, the server's words indented further.

use super::{blocks, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

/// Exim's failure and delay reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let Some(lines) = [
        "the following address(es) failed:",
        "the following address(es) have not yet been delivered",
    ]
    .iter()
    .find_map(|m| lines_after(text, m)) else {
        return Vec::new();
    };
    failures(mail, blocks(lines))
}
