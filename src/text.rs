//! Text as repmail handles it between files and letters: column names as
//! template variables, values kept to one header line, links a page may
//! hold, and an error's causes said once each in one line.

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

/// Whether `tag` looks like a BCP 47 language tag: a primary subtag of 2
/// or 3 letters, then subtags of 1 to 8 letters or digits (`fa`, `en-GB`,
/// `zh-Hant-TW`). It goes into an HTML `lang` attribute.
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
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

/// `form` if a page may link to it: an `http` or `https` address with no
/// spaces or control characters. A `javascript:` or `data:` "form" from a
/// hostile contacts file must never become a link.
pub fn web_link(form: &str) -> Option<String> {
    let lower = form.trim().to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    (web && !form
        .trim()
        .chars()
        .any(|c| c.is_whitespace() || c.is_control()))
    .then(|| form.trim().to_string())
}

/// `head`, then the text of every error below `e` in its chain, each after
/// `: `, leaving out any that `head` already says (lettre and tera often
/// repeat their source's text in their own).
pub fn with_causes(head: String, e: &dyn std::error::Error) -> String {
    // lettre's own text may already say its kind twice (a connection error
    // whose cause is a connection error: "Connection error: Connection
    // error: invalid peer certificate", the STARTTLS path): said once.
    let mut head = joined("", &head);
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !head.contains(&more) {
            head = joined(&head, &more);
        }
        source = cause.source();
    }
    head
}

/// `head: more`, where `more` does not repeat what `head` ends with: a
/// cause that starts with its wrapper's own words (`Connection error:
/// Connection error: …`, issue 24, item 9) says them once. The one place
/// an error's parts are joined.
pub fn joined(head: &str, more: &str) -> String {
    let head = head.trim_end_matches(": ");
    match (head.is_empty(), more.is_empty()) {
        (true, _) => said_once(more),
        (false, true) => said_once(head),
        (false, false) => said_once(&format!("{head}: {more}")),
    }
}

/// `text` with every part (between `: `) that repeats the part before it
/// left out.
fn said_once(text: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_that_repeats_its_wrapper_is_said_once() {
        assert_eq!(
            joined(
                "Connection error",
                "Connection error: invalid peer certificate: UnknownIssuer"
            ),
            "Connection error: invalid peer certificate: UnknownIssuer"
        );
        assert_eq!(
            joined("cannot read", "No such file"),
            "cannot read: No such file"
        );
        assert_eq!(joined("a: b", "b: c"), "a: b: c");
        // lettre's STARTTLS error says its kind twice in its own text.
        assert_eq!(
            joined(
                "",
                "Connection error: Connection error: invalid peer certificate"
            ),
            "Connection error: invalid peer certificate"
        );
    }

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

    #[test]
    fn causes_follow_the_head_once_each() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let root = E("disk full", None);
        let mid = E("cannot write: disk full", Some(Box::new(root)));
        let top = E("send failed", Some(Box::new(mid)));
        assert_eq!(
            with_causes(top.to_string(), &top),
            "send failed: cannot write: disk full"
        );
        let alone = E("alone", None);
        assert_eq!(with_causes("head".into(), &alone), "head");
    }
}
