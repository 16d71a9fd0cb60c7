//! Small text helpers shared by the input side.

/// `First Name` → `first_name`: header names as template variables.
///
/// Letters and digits are kept (lower-cased), every other run of characters
/// becomes one `_`; a leading digit gets a `_` prefix so the result is a
/// valid Tera identifier.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_sep = false;
    let mut prev_lower = false;
    for ch in name.trim().chars() {
        if ch.is_alphanumeric() {
            // `firstName` → `first_name`
            if ch.is_uppercase() && prev_lower {
                pending_sep = true;
            }
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
            out.extend(ch.to_lowercase());
        } else {
            pending_sep = true;
            prev_lower = false;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Whether `name` can be used as a bare Tera variable (`{{ name }}`).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Replaces every control character (CR, LF, NUL, tab, DEL, …) with a
/// space and collapses runs of whitespace: header values can then never
/// start a new header line.
pub fn one_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut space = false;
    for ch in value.chars() {
        if ch.is_control() || ch.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_headers() {
        assert_eq!(snake_case("First Name"), "first_name");
        assert_eq!(snake_case("  E-mail Address "), "e_mail_address");
        assert_eq!(snake_case("firstName"), "first_name");
        assert_eq!(snake_case("email"), "email");
        assert_eq!(snake_case("2nd line"), "_2nd_line");
        assert_eq!(snake_case("State/District"), "state_district");
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("first_name"));
        assert!(!is_identifier("First Name"));
        assert!(!is_identifier("1a"));
        assert!(!is_identifier(""));
    }

    #[test]
    fn one_line_strips_controls() {
        assert_eq!(
            one_line("Ann\r\nBcc: x@example.org"),
            "Ann Bcc: x@example.org"
        );
        assert_eq!(one_line(" a\t\u{0}b  c "), "a b c");
        assert_eq!(one_line("\u{7f}"), "");
    }
}
