//! Postfix without a DSN part (older versions, `bounce_notice` templates):
//! "This is the mail system at host …", then `<address>: words` blocks.

use super::{blocks, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

/// Postfix's plain-text reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let Some(lines) = [
        "this is the mail system at host",
        "this is the postfix program at host",
    ]
    .iter()
    .find_map(|m| lines_after(text, m)) else {
        return Vec::new();
    };
    failures(mail, blocks(lines))
}
