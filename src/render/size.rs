//! Letters too big to be letters: a cell that holds a pasted file makes a
//! letter the size of that file, as many times as the template uses it (a
//! 10 MB cell made a 51 MB message, issue 23). Warnings, not errors: the
//! row's letter is still well formed, and the user decides; `check
//! --strict` fails on them.
//!
//! Thresholds, chosen far above any real letter and far below what
//! providers refuse: Gmail refuses messages over 25 MB and Microsoft 365
//! over 25 MB by default (support.google.com/mail/answer/6584,
//! learn.microsoft.com "Exchange Online limits", read 2026-12-05), and
//! base64 makes a message a third larger than its parts.

use crate::contacts::Recipient;

/// A single cell above this is reported with its column.
pub const CELL_WARN_BYTES: usize = 64 * 1024;

/// A letter whose text and HTML parts together exceed this is reported.
pub const LETTER_WARN_BYTES: usize = 1024 * 1024;

/// The warnings for `r`'s letter (`text`, `html`), each naming the column
/// where it can: messages for a `Diagnostic` at the row's line.
pub fn warnings(r: &Recipient, text: &str, html: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for (column, value) in r.variables() {
        if value.len() > CELL_WARN_BYTES {
            out.push(format!(
                "column `{column}` holds {} of text, more than a letter needs ({} KB); check the cell (a pasted file?)",
                human(value.len()),
                CELL_WARN_BYTES / 1024
            ));
        }
    }
    let letter = text.len() + html.map_or(0, str::len);
    if letter > LETTER_WARN_BYTES {
        out.push(format!(
            "this letter is {} before any attachment (over {} MB); providers refuse messages over 20-25 MB and a base64 body grows by a third: check the cells it uses",
            human(letter),
            LETTER_WARN_BYTES / (1024 * 1024)
        ));
    }
    out
}

fn human(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else {
        format!("{} KB", bytes / 1024)
    }
}
