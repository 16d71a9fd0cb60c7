//! "Did you mean …?": the one measure of a typo, for config keys, contact
//! columns and template variables alike.

/// `: did you mean `x`?` for the closest name, when it is close enough to
/// be a typo (at most a third of its letters wrong).
pub fn did_you_mean(typed: &str, names: &[&str]) -> String {
    closest(typed, names)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

/// The name closest to `typed` (case and `-`/`_` ignored), when it is close
/// enough to be a typo: at most a third of its letters wrong. The one
/// measure of "close" for config keys, columns and template variables.
pub fn closest<'a>(typed: &str, names: &[&'a str]) -> Option<&'a str> {
    let typed_lower = typed.to_lowercase().replace('-', "_");
    names
        .iter()
        .map(|n| (distance(&typed_lower, &n.to_lowercase()), *n))
        .filter(|(d, n)| *d <= (n.chars().count().max(typed.chars().count()) / 3).max(1))
        .min()
        .map(|(_, n)| n)
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and swaps of two neighbours each count one (strsim's,
/// by characters).
fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_names_get_no_guess() {
        assert_eq!(did_you_mean("zzzzzz", &["name", "subject"]), "");
        assert_eq!(
            did_you_mean("Per-Minute", &["per_minute"]),
            " (did you mean `per_minute`?)"
        );
        assert_eq!(distance("subjcet", "subject"), 1);
    }
}
