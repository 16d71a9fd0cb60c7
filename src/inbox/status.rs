//! Status codes in a report's words: the enhanced status (RFC 3463,
//! `5.1.1`) and the SMTP reply code (`550`), found in whatever text a
//! server wrote. Decoders use them to extract, [`super::reason`] to judge.

/// `class.subject.detail` with class 2, 4 or 5 (RFC 3463 section 2).
pub fn is_enhanced(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Words of a diagnostic: runs of digits and dots (so `550-5.1.1` and
/// `(#5.1.1)` both yield their codes).
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
}

/// The first enhanced status in the text, if any.
pub fn enhanced_in(text: &str) -> Option<String> {
    tokens(text)
        .find(|t| is_enhanced(t) && !t.starts_with('2'))
        .map(str::to_string)
}

/// The first SMTP reply code (4xx or 5xx) in the text. Only a code at the
/// start of a word counts: a number inside an address or an IP does not.
pub fn reply_code(text: &str) -> Option<u16> {
    text.split(|c: char| c.is_whitespace() || c == '-' || c == ':' || c == '(' || c == '\'')
        .find_map(|w| {
            let w = w.trim_end_matches([',', ';', ')']);
            (w.len() == 3 && matches!(w.as_bytes()[0], b'4' | b'5'))
                .then(|| w.parse::<u16>().ok())
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_status_shapes() {
        assert!(is_enhanced("5.1.1") && is_enhanced("4.7.26"));
        assert!(!is_enhanced("5.1") && !is_enhanced("192.0.2.1") && !is_enhanced("3.1.1"));
        assert_eq!(
            enhanced_in("host 192.0.2.1 said 550-5.7.1 no"),
            Some("5.7.1".into())
        );
    }
}
