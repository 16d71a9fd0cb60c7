//! Sorting a row by its address cell: a recipient (a sendable address,
//! seen for the first time), an office without an address (reached by
//! its contact form, or unreachable), or a problem naming the row (a
//! mistyped address, two addresses in one cell, a duplicate).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use lettre::Address;

use super::explain;
use super::row::{Columns, ContactRow, Office, Recipient};
use crate::address::sendable_address;
use crate::problem::Diagnostic;

/// Sorts the rows of one file; remembers the addresses it has seen.
pub(super) struct Sorter {
    pub(super) columns: Arc<Columns>,
    pub(super) email_column: String,
    /// A 64-bit fingerprint of each address read so far, to find
    /// duplicates: 8 bytes instead of the address (a million rows keep
    /// ~20 MB, not ~100 MB; issue 23). Two addresses share one with odds of
    /// about n²/2⁶⁵ (3 in 100 million for a million rows), and that would
    /// report one row as a duplicate, by its line, never send a letter
    /// twice. The keys are random per run, so a spreadsheet cannot be
    /// built to collide on purpose.
    seen: HashSet<u64>,
    fingerprint: RandomState,
}

impl Sorter {
    pub(super) fn new(columns: Arc<Columns>, email_column: String) -> Sorter {
        Sorter {
            columns,
            email_column,
            seen: HashSet::new(),
            fingerprint: RandomState::new(),
        }
    }

    /// The row as a recipient, an office without an address, or a problem
    /// with its address; `at` names its place (`file:line`).
    pub(super) fn sort(&mut self, values: Vec<String>, line: u64, at: String) -> ContactRow {
        let raw = self.columns.email.map_or("", |i| values[i].as_str());
        // A cell with no `@` at all is a placeholder (`No email found`,
        // `n/a`, `-`, a contact form's URL), not a mistyped address,
        // unless it reads like an address that lost its `@`.
        if !raw.contains('@') {
            if looks_like_a_host(raw) {
                return ContactRow::Problem(Diagnostic::error(
                    at,
                    format!(
                        "`{}` is not a valid email address (it has no `@`, but looks like an address that lost it); correct it, or write e.g. `n/a` if the office has no address",
                        raw.escape_debug()
                    ),
                ));
            }
            return ContactRow::Office(self.office(values, line, at));
        }
        let email: Address = match raw.parse() {
            Ok(a) => a,
            // Several addresses in one cell: one letter goes to one office
            // at one address (issue 24, item 10).
            Err(_)
                if raw
                    .split([';', ',', ' '])
                    .filter(|p| p.contains('@'))
                    .count()
                    > 1 =>
            {
                return ContactRow::Problem(Diagnostic::error(
                    at,
                    format!(
                        "`{}` holds more than one address: one address per row (the office's); put further addresses in a column named by `cc_column` under [contacts], separated by `;`, to copy them on the letter",
                        raw.escape_debug()
                    ),
                ));
            }
            Err(e) => {
                return ContactRow::Problem(Diagnostic::error(
                    at,
                    format!(
                        "`{}` is not a valid email address ({e}); correct it or remove the row",
                        raw.escape_debug()
                    ),
                ));
            }
        };
        let email = match sendable_address(&email) {
            Ok(a) => a,
            Err(why) => {
                return ContactRow::Problem(Diagnostic::error(
                    at,
                    format!(
                        "repmail cannot send to `{}`: {}; correct it or remove the row",
                        raw.escape_debug(),
                        why.reason()
                    ),
                ));
            }
        };
        let key = crate::address::recipient_key(email.as_ref());
        if !self.seen.insert(self.fingerprint.hash_one(&key)) {
            return ContactRow::Problem(Diagnostic::warning(
                at,
                format!("duplicate address {email}: it gets the letter once (from its first row)"),
            ));
        }
        ContactRow::Recipient(Recipient {
            line,
            email,
            values,
            columns: Arc::clone(&self.columns),
        })
    }

    /// A row without an address: its contact form (from the form column,
    /// or a URL in the address column, as some publishers put there) and
    /// the warning `check` shows.
    fn office(&self, values: Vec<String>, line: u64, at: String) -> Office {
        let cell = self.columns.email.map_or("", |i| values[i].as_str());
        let form = self
            .columns
            .contact_form
            .map(|i| values[i].as_str())
            .filter(|v| !v.is_empty())
            .or_else(|| is_url(cell).then_some(cell))
            .map(str::to_string);
        // In a file of form-only offices, an office with a form is the
        // campaign working as intended, not something to warn about.
        let warning = (self.columns.email.is_some() || form.is_none()).then(|| {
            Diagnostic::warning(
                at,
                explain::no_address(&self.columns, &self.email_column, cell, form.as_deref()),
            )
        });
        Office {
            line,
            values,
            columns: Arc::clone(&self.columns),
            form,
            warning,
        }
    }
}

/// Whether a cell without `@` reads like an address or host name that lost
/// its `@` (`jane.doe.example.org`): dotted labels of address characters
/// ending in a top-level domain of letters. Placeholders (`n/a`, `N.A.`,
/// `No email found`) and URLs do not.
pub(super) fn looks_like_a_host(cell: &str) -> bool {
    let Some((head, tld)) = cell.rsplit_once('.') else {
        return false;
    };
    !is_url(cell)
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '%'))
        && head.split('.').all(|label| !label.is_empty())
}

/// Whether a cell is a web address (a contact form put in the address column).
fn is_url(cell: &str) -> bool {
    let lower = cell.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !cell.contains(char::is_whitespace)
}
