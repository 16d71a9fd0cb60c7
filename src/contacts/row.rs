//! What a contacts file holds: its header, and each row as a recipient (it
//! has an address), an office without one (reached by its contact form, or
//! unreachable), or a problem.

use std::sync::Arc;

use lettre::Address;

use crate::problem::Diagnostic;
use crate::text::snake_case;

/// The header row: names as written and their snake_case variables.
#[derive(Debug)]
pub struct Columns {
    /// Header names as written (trimmed).
    pub names: Vec<String>,
    /// `snake_case` of each name (the template variable).
    pub snake: Vec<String>,
    /// Index of the address column; `None` in a file of form-only offices
    /// (no address column, but a contact-form column).
    pub email: Option<usize>,
    /// Index of the contact-form column, if the file has one.
    pub contact_form: Option<usize>,
}

impl Columns {
    /// Index of the column named `name`, as written or in snake_case.
    pub fn index(&self, name: &str) -> Option<usize> {
        let wanted = name.trim();
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(wanted))
            .or_else(|| {
                let snake = snake_case(wanted);
                self.snake.iter().position(|s| *s == snake)
            })
    }

    /// The header most like `wanted` (a configured column that is not in
    /// the header): a near spelling (`emial`), or a header that holds the
    /// word (`E-mail Address` for `email`: letters and digits compared,
    /// case ignored). `skip` names headers that are something else.
    pub fn closest_header(&self, wanted: &str, skip: &[Option<usize>]) -> Option<&str> {
        let candidates: Vec<(usize, &str)> = self
            .names
            .iter()
            .enumerate()
            .filter(|(i, n)| !skip.contains(&Some(*i)) && !n.trim().is_empty())
            .map(|(i, n)| (i, n.as_str()))
            .collect();
        let snakes: Vec<&str> = candidates
            .iter()
            .map(|(i, _)| self.snake[*i].as_str())
            .collect();
        if let Some(s) = crate::problem::suggest::closest(&snake_case(wanted), &snakes) {
            let at = snakes.iter().position(|x| *x == s)?;
            return Some(candidates[at].1);
        }
        let squash = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let word = squash(wanted);
        if word.chars().count() < 3 {
            return None;
        }
        candidates
            .iter()
            .find(|(_, n)| squash(n).contains(&word))
            .map(|(_, n)| *n)
    }

    /// Pairs of (variable name, value) for a row: each column under its
    /// name as written and, when different, under its snake_case name.
    fn variables<'a>(&'a self, values: &'a [String]) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.names
            .iter()
            .zip(&self.snake)
            .zip(values)
            .flat_map(|((name, snake), value)| {
                let alias = (snake != name && !snake.is_empty()).then_some(snake.as_str());
                std::iter::once(name.as_str())
                    .chain(alias)
                    .map(move |n| (n, value.as_str()))
            })
    }
}

/// Header names with repeats numbered: the second `Address` becomes
/// `Address 2` (variable `address_2`), and so on. Publishers repeat a
/// block of columns per office (Represent, Canada: `Office type, Address,
/// Phone, Fax` once per office). A repeated address or contact-form column
/// stays an error: which one to write to would be a guess.
pub(super) fn number_repeats(
    names: Vec<String>,
    email_column: &str,
    form_columns: &[&str],
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let seen = names[..i]
            .iter()
            .filter(|n| !n.is_empty() && *n == name)
            .count();
        if seen == 0 {
            out.push(name.clone());
            continue;
        }
        let numbered = format!("{name} {}", seen + 1);
        let key = name.eq_ignore_ascii_case(email_column.trim())
            || snake_case(name) == snake_case(email_column)
            || form_columns.contains(&snake_case(name).as_str());
        if key || names.contains(&numbered) {
            return Err(format!(
                "column {} repeats the header `{name}`; rename one of them",
                i + 1
            ));
        }
        out.push(numbered);
    }
    Ok(out)
}

/// One addressable row of the contacts file.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// 1-based line where the row starts.
    pub line: u64,
    /// The validated address.
    pub email: Address,
    /// Field values (trimmed), aligned with [`Columns::names`].
    pub values: Vec<String>,
    /// The file's header, shared by every row.
    pub columns: Arc<Columns>,
}

impl Recipient {
    /// The value of `column` (as written or snake_case), if the file has it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.index(column).map(|i| self.values[i].as_str())
    }

    /// The key the ledger and the duplicate check use: the address
    /// lower-cased (providers treat addresses case-insensitively).
    pub fn key(&self) -> String {
        crate::address::recipient_key(self.email.as_ref())
    }

    /// Pairs of (variable name, value): each column under its name as
    /// written and, when different, under its snake_case name.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns.variables(&self.values)
    }
}

/// A row without an address: an office to reach by its contact form, or
/// one that cannot be reached at all. It is never sent an email, and never
/// silently dropped: `check` reports it, `forms` writes its letter, `log`
/// lists it.
#[derive(Debug, Clone)]
pub struct Office {
    /// 1-based line where the row starts.
    pub line: u64,
    /// Field values (trimmed), aligned with [`Columns::names`].
    pub values: Vec<String>,
    /// The file's header, shared by every row.
    pub columns: Arc<Columns>,
    /// The contact form's address (URL); `None`: unreachable.
    pub form: Option<String>,
    /// What `check` reports about the row: always for an unreachable
    /// office, and for a form-only office in a file that has addresses
    /// (it is left out of the email campaign). `None` for an office with
    /// a form in a file of form-only offices, where that is the campaign.
    pub warning: Option<Diagnostic>,
}

impl Office {
    /// The value of `column` (as written or snake_case), if the file has it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.index(column).map(|i| self.values[i].as_str())
    }

    /// Pairs of (variable name, value), as for a [`Recipient`].
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns.variables(&self.values)
    }

    /// The same row as a recipient at `placeholder`, so its letter renders
    /// through exactly the templates an emailed letter uses.
    pub fn as_recipient(&self, placeholder: Address) -> Recipient {
        Recipient {
            line: self.line,
            email: placeholder,
            values: self.values.clone(),
            columns: Arc::clone(&self.columns),
        }
    }
}

/// What one CSV row became.
#[derive(Debug)]
pub enum ContactRow {
    /// A recipient to write to.
    Recipient(Recipient),
    /// A row without an address (see [`Office`]).
    Office(Office),
    /// A problem: an error (bad address, ragged row) or a warning
    /// (duplicate, garbled text).
    Problem(Diagnostic),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn repeated_columns_are_numbered_but_not_the_address() {
        let got = number_repeats(
            names(&[
                "Name",
                "Email",
                "Office type",
                "Address",
                "Office type",
                "Address",
                "Address",
            ]),
            "email",
            &["contact_form"],
        )
        .unwrap();
        assert_eq!(
            got,
            names(&[
                "Name",
                "Email",
                "Office type",
                "Address",
                "Office type 2",
                "Address 2",
                "Address 3"
            ])
        );
        let e = number_repeats(names(&["email", "x", "email"]), "email", &[]).unwrap_err();
        assert!(e.contains("column 3 repeats the header `email`"), "{e}");
        let e = number_repeats(
            names(&["a", "contact_form", "contact_form"]),
            "email",
            &["contact_form"],
        )
        .unwrap_err();
        assert!(e.contains("column 3"), "{e}");
        assert!(number_repeats(names(&["a", "a 2", "a"]), "email", &[]).is_err());
    }
}
