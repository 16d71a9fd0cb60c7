//! Command-line layer: arguments, printing, prompts and exit codes.
//!
//! Every line a command prints goes through one of the macros below: each
//! formats the whole line, then [`terminal::line`] shows any control
//! character in it as a visible escape, so text from a spreadsheet, a
//! server or an incoming message cannot drive the terminal. A line break in
//! a value is escaped too: a message that spans lines is several calls.
//! `println!`, `eprintln!`, `print!` and `eprint!` are refused by clippy
//! (`clippy.toml`), so new code cannot bypass them.

/// One line on stdout, cleaned; a closed pipe (`repmail preview | head`)
/// is the reader being done, not an error: exit quietly instead of
/// panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let text = $crate::cli::terminal::line(&text);
        if let Err(e) = writeln!(std::io::stdout().lock(), "{text}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

/// One line on stdout, cleaned, for a run in progress: a closed stdout
/// must not end a send half way (unlike `say!`, which treats it as the
/// reader being done).
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stdout().lock(), "{}", $crate::cli::terminal::line(&text));
    }};
}

/// One line on stderr, cleaned: errors, warnings, notes.
macro_rules! say_err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr().lock(), "{}", $crate::cli::terminal::line(&text));
    }};
}

mod check;
mod dry_run;
mod exit;
mod followup;
mod forms;
mod hint;
mod inbox;
mod init;
mod log;
mod manual;
mod preview;
mod progress;
mod report;
mod roster;
mod send;
mod sent;
mod signals;
mod signin;
mod terminal;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use exit::Exit;

/// Send one personal letter to every representative on a list — safely
/// paced, resumable, with a delivery log.
#[derive(Debug, Parser)]
#[command(name = "repmail", version, about, long_about = None)]
pub struct Cli {
    /// Campaign file
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "PATH",
        default_value = "repmail.toml"
    )]
    pub config: PathBuf,
    /// More detail (repeat for more)
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors and the final summary
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate config, contacts and templates; render every letter in memory
    Check {
        /// Treat warnings (duplicate address, row without address) as errors
        #[arg(long)]
        strict: bool,
    },
    /// Show the letters exactly as they would be sent
    Preview(PreviewArgs),
    /// Send the letters (paced, resumable); --dry-run shows the plan only
    Send(send::SendArgs),
    /// Review the delivery log: who was sent, deferred, failed, unknown
    Log(log::LogArgs),
    /// The offices that take only a web form: their letters, ready to paste;
    /// `--done KEY…` records those reached in the delivery log
    Forms(forms::FormsArgs),
    /// Record bounces, replies and auto-replies to the letters in the log
    Inbox(inbox::InboxArgs),
    /// Current representatives from their publishers, in one contacts layout
    Roster(roster::RosterArgs),
    /// Create a new campaign folder from the example campaign
    Init {
        /// Folder to create (default: the current folder)
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Set up [smtp] and [rate] for a known provider (gmail, microsoft365, …)
        #[arg(long, value_name = "NAME")]
        provider: Option<String>,
        /// Start from a fresh roster (e.g. openstates/il) instead of the example contacts
        #[arg(long, value_name = "SOURCE")]
        roster: Option<String>,
        /// With --roster: fetch from BASE (scheme://host:port) instead of the publisher
        #[arg(long, value_name = "BASE", requires = "roster")]
        url: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output; with COMMAND, that command's page
    Man {
        /// The command (`send`, `roster fetch`): its page instead of repmail(1)
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Only this recipient (repeatable)
    #[arg(long, value_name = "EMAIL")]
    pub recipient: Vec<String>,
    /// At most N letters
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Write one .eml file per recipient into DIR
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write a gallery to open in a browser: DIR/index.html and a page per letter
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// Write every letter, exactly as sent, into one mboxrd FILE (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub mbox: Option<PathBuf>,
    /// Show this stage's letter: 0 the first letter (default), 1 the first [[followup]], …
    #[arg(long, value_name = "N")]
    pub stage: Option<usize>,
}

/// Output verbosity, resolved once from the flags.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub quiet: bool,
    pub verbose: u8,
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let out = Output {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let result = match &cli.command {
        Command::Check { strict } => check::run(&cli.config, *strict, out),
        Command::Preview(args) => preview::run(&cli.config, args, out),
        Command::Send(args) => send::run(&cli.config, args, out),
        Command::Log(args) => log::run(&cli.config, args, out),
        Command::Init {
            dir,
            provider,
            roster,
            url,
        } => init::run(
            dir,
            provider.as_deref(),
            roster.as_deref().map(|r| (r, url.as_deref())),
            out,
        ),
        Command::Roster(args) => roster::run(&cli.config, args, out),
        Command::Forms(args) => forms::run(&cli.config, args, out),
        Command::Inbox(args) => inbox::run(&cli.config, args, out),
        Command::Completions { shell } => {
            manual::completions(*shell, <Cli as clap::CommandFactory>::command())
        }
        Command::Man { command } => manual::man(<Cli as clap::CommandFactory>::command(), command),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            report::error(&e);
            Exit::Error.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
