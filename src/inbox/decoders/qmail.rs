//! qmail-send's reports: "Hi. This is the qmail-send program at …", then
//! blocks of `<address>:` and the server's words, codes as `(#5.1.1)`.

use super::{blocks, failures, lines_after, report_text, ReportedFailure};
use crate::inbox::mail::Mail;

/// qmail's failure reports.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    let text = report_text(mail);
    let Some(lines) = [
        "this is the qmail-send program",
        "i'm afraid i wasn't able to deliver your message",
    ]
    .iter()
    .find_map(|m| lines_after(text, m)) else {
        return Vec::new();
    };
    failures(mail, blocks(lines))
}
