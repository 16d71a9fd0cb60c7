//! `repmail roster list|fetch|update`, and the fetch behind `init --roster`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use repmail::config::Campaign;
use repmail::roster::diff::{self, Change, Entry};
use repmail::roster::{self, file, FetchProgress, Publisher, Roster};

use super::{Exit, Output};

#[derive(Debug, Args)]
pub struct RosterArgs {
    #[command(subcommand)]
    pub command: RosterCommand,
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// The sources, what each covers and who publishes it
    List,
    /// Fetch a source's current representatives into one contacts CSV
    Fetch {
        /// e.g. openstates/il, us-congress, uk-commons, canada-commons
        source: String,
        /// The file to write (default: SOURCE as a file name, e.g. openstates-il.csv)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Fetch from BASE (scheme://host:port) instead of the publisher: a mirror or a test server
        #[arg(long, value_name = "BASE")]
        url: Option<String>,
    },
    /// Fetch the campaign's roster again: who joined, who left, whose address changed
    Update {
        /// Rewrite the contacts file with the fresh roster (the delivery log is never touched)
        #[arg(long)]
        write: bool,
        /// Fetch from BASE (scheme://host:port) instead of the publisher
        #[arg(long, value_name = "BASE")]
        url: Option<String>,
    },
}

pub fn run(config: &Path, args: &RosterArgs, out: Output) -> anyhow::Result<Exit> {
    match &args.command {
        RosterCommand::List => {
            list();
            Ok(Exit::Ok)
        }
        RosterCommand::Fetch {
            source,
            out: file,
            url,
        } => {
            let source = Publisher::parse(source)?;
            let path = file.clone().unwrap_or_else(|| source.file_name().into());
            let roster = fetch(&source, url.as_deref(), out)?;
            file::write(&path, &roster, chrono::Utc::now())?;
            if !out.quiet {
                say!("wrote {}: {}", path.display(), counts(&roster));
                say!(
                    "Use it in a campaign's [contacts]: path = \"{}\" and roster = \"{}\"",
                    path.display(),
                    roster.source
                );
            }
            Ok(Exit::Ok)
        }
        RosterCommand::Update { write, url } => update(config, *write, url.as_deref(), out),
    }
}

fn list() {
    say!("{:<20} covers", "source");
    for (name, covers, publisher) in roster::SOURCES {
        say!("{name:<20} {covers}\n{:<20} ({publisher})", "");
    }
}

/// Fetches `source`, showing progress on the terminal.
pub fn fetch(source: &Publisher, url: Option<&str>, out: Output) -> anyhow::Result<Roster> {
    let mut shown = Shown::new(out);
    let roster = roster::fetch(source, url, &mut shown);
    shown.finish();
    Ok(roster?)
}

/// "176 members: 173 with an address, 0 by contact form only, 3 unreachable".
pub fn counts(roster: &Roster) -> String {
    let letters = roster
        .members
        .iter()
        .filter(|m| !m.email.is_empty())
        .count();
    let forms = roster
        .members
        .iter()
        .filter(|m| m.email.is_empty() && !m.contact_form.is_empty())
        .count();
    let none = roster.members.len() - letters - forms;
    format!(
        "{} members from {}: {letters} with an address, {forms} by contact form only, {none} unreachable",
        roster.members.len(),
        roster.source
    )
}

fn update(config: &Path, write: bool, url: Option<&str>, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    let path = &campaign.contacts.path;
    let Some(source) = &campaign.contacts.roster else {
        anyhow::bail!(
            "{}: [contacts] has no `roster` key, so there is no source to update from; add e.g. roster = \"openstates/il\" (see `repmail roster list`)",
            campaign.path.display()
        );
    };
    let old = file::read_entries(path)?;
    let roster = fetch(source, url, out)?;
    let new: Vec<Entry> = roster.members.iter().map(Entry::from).collect();
    let changes = diff::changes(&old, &new);
    for change in &changes {
        match change {
            Change::Left(e) => say!("left     {}  {}", who(e), e.reach()),
            Change::Joined(e) => say!("joined   {}  {}", who(e), e.reach()),
            Change::Address { before, after } => {
                say!(
                    "address  {}  {} -> {}",
                    who(after),
                    before.reach(),
                    after.reach()
                )
            }
        }
    }
    let n = |f: fn(&Change) -> bool| changes.iter().filter(|c| f(c)).count();
    let summary = format!(
        "{} joined, {} left, {} changed address",
        n(|c| matches!(c, Change::Joined(_))),
        n(|c| matches!(c, Change::Left(_))),
        n(|c| matches!(c, Change::Address { .. }))
    );
    if write {
        file::write(path, &roster, chrono::Utc::now())?;
        if !out.quiet {
            say!("{summary}; wrote {} ({})", path.display(), counts(&roster));
            say!("Letters already sent stay in the delivery log: `repmail send` writes only to the newcomers and the changed addresses.");
        }
    } else if !out.quiet {
        if changes.is_empty() {
            say!("{summary}: {} is current", path.display());
        } else {
            say!(
                "{summary}; {} is unchanged: run `repmail roster update --write` to apply",
                path.display()
            );
        }
    }
    Ok(Exit::Ok)
}

fn who(e: &Entry) -> String {
    if e.district.is_empty() {
        format!("{} [{}]", e.name, e.source_id)
    } else {
        format!("{} ({}) [{}]", e.name, e.district, e.source_id)
    }
}

/// A fetch as the user sees it: a bar on a terminal for the sources of
/// many requests; otherwise retries (always) and requests (`-v`) as lines.
struct Shown {
    bar: Option<ProgressBar>,
    out: Output,
}

impl Shown {
    fn new(out: Output) -> Shown {
        let bar = (std::io::stderr().is_terminal() && !out.quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} members {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Shown { bar, out }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(super::terminal::line(&text)),
            None => say_err!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl FetchProgress for Shown {
    fn request(&mut self, url: &str) {
        if self.out.verbose > 0 {
            self.line(format!("GET {url}"));
        }
    }

    fn members(&mut self, done: usize, total: Option<usize>) {
        if let Some(bar) = &self.bar {
            if let Some(total) = total {
                bar.set_length(total as u64);
            }
            bar.set_position(done as u64);
        }
    }

    fn retry(&mut self, url: &str, why: &str, wait: Duration) {
        if !self.out.quiet {
            self.line(format!(
                "{why} from {url}; trying again in {:.0} s",
                wait.as_secs_f64().ceil()
            ));
        }
    }
}
