//! What the contacts' problems say: the case at hand and what to do.

use super::Columns;
use crate::problem::Diagnostic;

/// A row whose field count differs from the header's. The two cases have
/// different causes, so each gets its own explanation.
pub fn field_count(found: usize, width: usize) -> String {
    if found < width {
        format!(
            "this row has {found} field{} but the header has {width}: a value is missing (keep its place with an empty field, e.g. `a,,c`), or a line break inside an unquoted value split the row in two (put that value in double quotes)",
            if found == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "this row has {found} fields but the header has {width}: a value probably contains the delimiter unquoted; put that value in double quotes"
        )
    }
}

/// Why a row has no address, and how the office can still be reached.
/// `cell` is what the address column held (empty, or a placeholder such as
/// `No email found`); `form` the row's contact form, if any.
pub fn no_address(columns: &Columns, email_column: &str, cell: &str, form: Option<&str>) -> String {
    let why = if cell.is_empty() {
        format!("no address in column `{email_column}`")
    } else {
        format!(
            "`{}` in column `{email_column}` is not an address (there is no `@`), so the row has no address",
            cell.escape_debug()
        )
    };
    match (form, columns.email) {
        // The same words on every such row (no URL: the forms kit has
        // it), so a run says it once with the list of lines, not once per
        // row (issue 24, item 9).
        (Some(_), _) => format!(
            "{why}; the office has a contact form: it gets no email (`repmail forms --html FILE` writes its letter)"
        ),
        (None, Some(_)) => format!(
            "{why} and no contact form: this office is unreachable; add its address to include it"
        ),
        (None, None) => format!(
            "no contact form{}: this office is unreachable; add its form's address (URL) to include it",
            columns
                .contact_form
                .map(|i| format!(" in column `{}`", columns.names[i]))
                .unwrap_or_default()
        ),
    }
}

/// The file (or one of its rows) is not UTF-8 and no encoding was set.
pub fn not_utf8(place: &str, line: u64) -> Diagnostic {
    Diagnostic::error(
        format!("{place}:{line}"),
        "the file is not UTF-8 text; if it was saved by Excel, add `encoding = \"windows-1252\"` under [contacts] (or save it as \"CSV UTF-8\")",
    )
}

/// A csv reading error that stops the file.
pub fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read the contacts file: {io}"),
        csv::ErrorKind::Utf8 { .. } => {
            "the file is not UTF-8 text; set `encoding` under [contacts]".to_string()
        }
        _ => format!("{e}; check the quoting on this line"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_and_too_many_are_explained_differently() {
        let few = field_count(3, 5);
        assert!(few.contains("3 fields but the header has 5"), "{few}");
        assert!(
            few.contains("a value is missing") && few.contains("line break"),
            "{few}"
        );
        assert!(!few.contains("contains the delimiter"), "{few}");
        let many = field_count(6, 5);
        assert!(many.contains("contains the delimiter unquoted"), "{many}");
        assert!(!many.contains("missing"), "{many}");
        assert!(field_count(1, 5).contains("1 field but"));
    }
}
