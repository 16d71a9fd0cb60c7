//! `repmail completions SHELL` and `repmail man`: generated from the same
//! clap definition the commands are parsed with, so they never drift
//! (issue 24, item 10). Completions come from clap's own `clap_complete`.
//! The man page is written here: `clap_mangen` is not available to this
//! build (no network), and a page of NAME, SYNOPSIS, OPTIONS and one
//! section per command is a few lines of roff (man-pages(7), groff_man(7),
//! read 2026-12-05).

use std::io::Write;

use anyhow::Context as _;
use clap::{Arg, Command};

use super::Exit;

/// Writes the completion script for `shell` to standard output.
pub fn completions(shell: clap_complete::Shell, mut cmd: Command) -> anyhow::Result<Exit> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "repmail", &mut out);
    out.flush().context("cannot write to standard output")?;
    Ok(Exit::Ok)
}

/// Writes the man page (section 1) to standard output.
pub fn man(cmd: Command) -> anyhow::Result<Exit> {
    let page = page(&cmd);
    let mut out = std::io::stdout().lock();
    out.write_all(page.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(Exit::Ok)
}

/// The roff source of the page.
pub fn page(cmd: &Command) -> String {
    let name = cmd.get_name();
    let version = cmd.get_version().unwrap_or_default();
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let mut s = format!(
        ".TH {} 1 \"\" \"{name} {version}\" \"User Commands\"\n.SH NAME\n{name} \\- {}\n.SH SYNOPSIS\n\\fB{name}\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR\n",
        name.to_uppercase(),
        text(&about)
    );
    s.push_str(".SH OPTIONS\n");
    options(cmd, &mut s);
    s.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        section(&format!("{name} {}", sub.get_name()), sub, &mut s);
    }
    s.push_str(".SH SEE ALSO\nThe README of the repmail repository, and the comments of the campaign file \\fBrepmail init\\fR writes.\n");
    s
}

fn section(title: &str, cmd: &Command, s: &mut String) {
    s.push_str(&format!(".SS \"{}\"\n", text(title)));
    if let Some(about) = cmd.get_about() {
        s.push_str(&line(&about.to_string()));
    }
    options(cmd, s);
    for sub in cmd.get_subcommands() {
        section(&format!("{title} {}", sub.get_name()), sub, s);
    }
}

fn options(cmd: &Command, s: &mut String) {
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        s.push_str(".TP\n");
        // Already roff (each part escaped in `usage`).
        s.push_str(&usage(arg));
        s.push('\n');
        if let Some(help) = arg.get_help() {
            s.push_str(&line(&help.to_string()));
        }
    }
}

/// `-c, --config PATH` in bold and italics.
fn usage(arg: &Arg) -> String {
    let value = arg
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(|n| format!(" \\fI{}\\fR", text(n)))
                .collect::<String>()
        })
        .unwrap_or_default();
    let mut names = Vec::new();
    if let Some(c) = arg.get_short() {
        names.push(format!("\\fB\\-{c}\\fR"));
    }
    if let Some(l) = arg.get_long() {
        names.push(format!("\\fB\\-\\-{}\\fR", text(l)));
    }
    if names.is_empty() {
        // A positional argument: its value name alone.
        return value.trim_start().to_string();
    }
    let takes_value = arg.get_action().takes_values();
    format!(
        "{}{}",
        names.join(", "),
        if takes_value { value } else { String::new() }
    )
}

/// A line of text, safe at the start of a roff line.
fn line(t: &str) -> String {
    format!("{}\n", text(t))
}

/// Text escaped for roff: backslashes, hyphens, and a leading `.` or `'`
/// that would read as a request.
fn text(t: &str) -> String {
    let escaped = t.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_page_has_every_command_and_escaped_options() {
        let page = page(&super::super::Cli::command());
        assert!(page.starts_with(".TH REPMAIL 1 "));
        for sub in [
            "check", "preview", "send", "log", "forms", "inbox", "roster", "init", "man",
        ] {
            assert!(page.contains(&format!(".SS \"repmail {sub}\"")), "{sub}");
        }
        assert!(
            page.contains("\\fB\\-c\\fR, \\fB\\-\\-config\\fR \\fIPATH\\fR\n"),
            "{page}"
        );
        assert!(
            page.contains("\\fB\\-\\-test\\-to\\fR \\fIADDR\\fR"),
            "{page}"
        );
        // No line starts a request by accident.
        for l in page.lines() {
            assert!(!l.starts_with('\''), "{l}");
        }
    }
}
