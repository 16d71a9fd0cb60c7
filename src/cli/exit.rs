//! Exit codes, documented in the README.

use std::process::ExitCode;

/// What the process tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// All done.
    Ok = 0,
    /// Bad input, config, or a run-level fault.
    Error = 1,
    /// Wrong command-line usage (clap's own code).
    Usage = 2,
    /// Finished, but some recipients failed, were deferred or are unknown.
    Incomplete = 3,
    /// Stopped by Ctrl-C.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the binary defines.
    const ALL: [Exit; 5] = [
        Exit::Ok,
        Exit::Error,
        Exit::Usage,
        Exit::Incomplete,
        Exit::Interrupted,
    ];

    /// The word the README's row for `e` opens with. A match with no
    /// wildcard: a new variant does not compile until it is given a word
    /// here. It must also be added to `ALL` by hand (nothing checks that
    /// it is); from there the README check below wants its row.
    fn first_word(e: Exit) -> &'static str {
        match e {
            Exit::Ok => "all",
            Exit::Error => "error",
            Exit::Usage => "usage",
            Exit::Incomplete => "finished",
            Exit::Interrupted => "interrupted",
        }
    }

    /// The rows of the table under the README's `## Exit codes`: each
    /// `| code | meaning |` line after the header and its `|---|` rule.
    fn readme_table(readme: &str) -> Vec<(u8, String)> {
        let section = readme
            .split("\n## ")
            .find(|s| s.starts_with("Exit codes\n"))
            .expect("README.md has a section `## Exit codes`");
        section
            .lines()
            .filter(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                let code = cells[0]
                    .parse()
                    .unwrap_or_else(|_| panic!("README exit-code row `{l}`: not a code"));
                (code, cells[1].to_string())
            })
            .collect()
    }

    #[test]
    fn codes_match_the_readme() {
        // Read at run time, not compiled in: the README is the user's
        // document, and the check is that it says what the binary does.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let rows = readme_table(&readme);
        let mut defined: Vec<u8> = ALL.iter().map(|&e| e as u8).collect();
        defined.sort_unstable();
        defined.dedup();
        assert_eq!(defined.len(), ALL.len(), "two variants share a code");
        let documented: Vec<u8> = rows.iter().map(|(code, _)| *code).collect();
        assert_eq!(
            documented, defined,
            "README.md's exit codes (in order) against the binary's"
        );
        for (e, (code, meaning)) in ALL.iter().zip(&rows) {
            assert!(
                meaning.starts_with(first_word(*e)),
                "README.md says exit {code} is `{meaning}`, the binary's {e:?} is `{}…`",
                first_word(*e)
            );
        }
    }

    #[test]
    fn the_readme_table_is_read_as_written() {
        let readme = "# x\n\n## Exit codes\n\n| code | meaning |\n|---|---|\n| 0 | all done |\n| 130 | interrupted (Ctrl-C) |\n\n## Next\n\n| 7 | not this table |\n";
        assert_eq!(
            readme_table(readme),
            [
                (0, "all done".to_string()),
                (130, "interrupted (Ctrl-C)".to_string())
            ]
        );
    }
}
