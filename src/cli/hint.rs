//! The commands repmail suggests, and the note on letters left `unknown`:
//! one place decides what a hint shows (issue 24, items 3 and 9).

use std::path::Path;

/// The default campaign file (`--config`'s default in `Cli`).
const DEFAULT_CONFIG: &str = "repmail.toml";

/// `repmail REST`, with `--config PATH` only when the campaign file is not
/// the default one: a hint never adds a flag the user did not need.
pub fn command(config: &Path, rest: &str) -> String {
    // `init` in the current folder names it `./repmail.toml`: the default.
    let config = config.strip_prefix(".").unwrap_or(config);
    if config == Path::new(DEFAULT_CONFIG) {
        format!("repmail {rest}")
    } else {
        format!("repmail --config {} {rest}", config.display())
    }
}

/// How many addresses the note names before "and N more".
const NAMED: usize = 5;

/// The lines that name the recipients left `unknown` (a run stopped while
/// their letter was in flight) and what to do; empty when there are none.
pub fn unknown(addresses: &[String], config: &Path) -> Vec<String> {
    unknown_with(addresses, config, "send")
}

/// The same for the letters of follow-up stage `k` (its own log).
pub fn unknown_in_stage(addresses: &[String], config: &Path, k: usize) -> Vec<String> {
    unknown_with(addresses, config, &format!("send --stage {k}"))
}

fn unknown_with(addresses: &[String], config: &Path, send: &str) -> Vec<String> {
    let Some(first) = addresses.first() else {
        return Vec::new();
    };
    let n = addresses.len();
    let mut named = addresses
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if n > NAMED {
        named.push_str(&format!(" and {} more", n - NAMED));
    }
    let (letter, was) = if n == 1 {
        ("letter", "was")
    } else {
        ("letters", "were")
    };
    vec![
        format!("{n} {letter} may or may not have gone ({named}): a run stopped while {} {was} in flight, so repmail skips {}", if n == 1 { "it" } else { "they" }, if n == 1 { "it" } else { "them" }),
        format!(
            "  check the Sent folder or the server's log; a letter that did not go: `{}`",
            command(config, &format!("{send} --resend-unknown --recipient {first}"))
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_campaign_file_is_not_added_to_a_hint() {
        assert_eq!(command(Path::new("repmail.toml"), "send"), "repmail send");
        assert_eq!(
            command(Path::new("./repmail.toml"), "check"),
            "repmail check"
        );
        assert_eq!(
            command(Path::new("c/repmail.toml"), "send"),
            "repmail --config c/repmail.toml send"
        );
    }

    #[test]
    fn unknown_recipients_are_named_with_what_to_do() {
        assert!(unknown(&[], Path::new("repmail.toml")).is_empty());
        let lines = unknown(&["ann@example.org".into()], Path::new("repmail.toml"));
        assert!(lines[0].starts_with("1 letter may or may not have gone (ann@example.org)"));
        assert!(
            lines[1].contains("Sent folder")
                && lines[1].contains("`repmail send --resend-unknown --recipient ann@example.org`")
        );
    }
}
