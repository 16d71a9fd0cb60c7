//! `repmail completions SHELL` and `repmail man [COMMAND]`: generated from
//! the same clap definition the commands are parsed with, by clap's own
//! crates (`clap_complete`, `clap_mangen`), so they never drift (issue 24,
//! item 10).
//!
//! The man pages follow `clap_mangen`'s layout, one page per command as
//! git has them: repmail(1) names every command, and its SUBCOMMANDS
//! section points at repmail-send(1) and the others, which
//! `repmail man send` prints.

use std::io::Write;

use anyhow::{bail, Context as _};
use clap::Command;

use super::Exit;

/// Writes the completion script for `shell` to standard output.
pub fn completions(shell: clap_complete::Shell, mut cmd: Command) -> anyhow::Result<Exit> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "repmail", &mut out);
    out.flush().context("cannot write to standard output")?;
    Ok(Exit::Ok)
}

/// Writes the man page (section 1) of `repmail`, or of the command named
/// by `path` (`["roster", "fetch"]`), to standard output.
pub fn man(cmd: Command, path: &[String]) -> anyhow::Result<Exit> {
    let page = page(cmd, path)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(Exit::Ok)
}

/// The roff source of the page of the command at `path` under `cmd`.
pub fn page(cmd: Command, path: &[String]) -> anyhow::Result<Vec<u8>> {
    // As `clap_mangen::generate_to` does: built once from the top, so that
    // each command's display name is `repmail-send`, the page it is.
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut at = &cmd;
    for name in path {
        let Some(sub) = at.find_subcommand(name).filter(|s| !s.is_hide_set()) else {
            let names: Vec<&str> = at
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(Command::get_name)
                .collect();
            bail!(
                "`{}` has no command `{name}`; its commands: {}",
                at.get_display_name().unwrap_or(at.get_name()),
                names.join(", ")
            );
        };
        at = sub;
    }
    // Every page says which repmail it documents (a command has no
    // version of its own).
    let source = format!("repmail {}", cmd.get_version().unwrap_or_default());
    let mut page = Vec::new();
    clap_mangen::Man::new(at.clone())
        .source(source)
        .manual("User Commands")
        .render(&mut page)
        .context("cannot write the man page")?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn text(path: &[&str]) -> String {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        String::from_utf8(page(super::super::Cli::command(), &path).unwrap()).unwrap()
    }

    #[test]
    fn the_page_names_every_command_and_each_has_its_own() {
        let top = text(&[]);
        assert!(top.starts_with(".ie \\n(.g .ds Aq"), "{top}");
        assert!(top.contains(".TH repmail 1 "), "{top}");
        let cli = super::super::Cli::command();
        let names: Vec<&str> = cli.get_subcommands().map(Command::get_name).collect();
        assert!(names.len() >= 10, "{names:?}");
        for sub in names {
            // Named in repmail(1), with a page of its own.
            assert!(top.contains(&format!("repmail\\-{sub}(1)")), "{sub}: {top}");
            let own = text(&[sub]);
            assert!(own.contains(&format!(".TH repmail-{sub} 1 ")), "{own}");
            assert!(own.contains(&format!("\"repmail {}\"", env!("CARGO_PKG_VERSION"))));
        }
        // The options, escaped for roff.
        assert!(top.contains("\\-\\-config"), "{top}");
        assert!(text(&["send"]).contains("\\-\\-test\\-to"));
        // No line starts a request by accident.
        for l in top.lines() {
            assert!(!l.starts_with('\''), "{l}");
        }
    }

    #[test]
    fn an_unknown_command_is_named_with_the_ones_there_are() {
        let err = page(super::super::Cli::command(), &["sned".to_string()]).unwrap_err();
        let said = err.to_string();
        assert!(
            said.contains("`repmail` has no command `sned`") && said.contains("send"),
            "{said}"
        );
    }
}
