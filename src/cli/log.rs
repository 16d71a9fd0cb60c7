//! `repmail log`: review the delivery log — a summary and rows on the
//! terminal (or as CSV / JSON), a follow-up contacts file, or a shareable
//! HTML page. Reads only: the ledger is never modified.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use repmail::config::Campaign;
use repmail::ledger::{Ledger, Status};
use repmail::review::{
    self, load_contacts, About, ExportFormat, Format, Review, Rows, Standing, View,
};

use super::check::plural;

mod export;
mod walked;
use super::{terminal, Exit, Output};
use export::{export, said_export, write_file};
use walked::{filter, follow_up, walk};

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Review this delivery log; the campaign file is then optional
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Only recipients in this state: sent, deferred, failed, unknown,
    /// never (attempted), bounced, form (an office with only a contact
    /// form), form_sent (an office reached by its form: `repmail forms
    /// --done`) or unreachable; or who answered: replied, auto_replied;
    /// repeatable or comma-separated
    #[arg(long, value_name = "S", value_delimiter = ',', value_parser = parse_status)]
    pub status: Vec<StatusArg>,
    /// Only recipients whose letter was sent at least DAYS days ago and who
    /// have not replied (with --export: the follow-up list)
    #[arg(long, value_name = "DAYS")]
    pub unanswered: Option<u32>,
    /// Only this recipient (repeatable)
    #[arg(long, value_name = "EMAIL")]
    pub recipient: Vec<String>,
    /// Only what happened at or after TIME: 2024-05-01 (UTC) or RFC 3339
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Every event instead of each recipient's current state
    #[arg(long)]
    pub history: bool,
    /// Output format [default: table]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Write the selected recipients' rows of the contacts file to FILE, for
    /// a follow-up campaign (default selection: every status but sent,
    /// offices without an address included)
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Aligned text: the summary, then the rows
    Table,
    /// The rows as CSV
    Csv,
    /// Summary and rows as one JSON document
    Json,
}

/// What `--format` is when not given.
const DEFAULT_FORMAT: FormatArg = FormatArg::Table;

/// A `--status` word: a delivery outcome, or a kind of answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusArg {
    /// sent, deferred, failed, unknown, bounced, never, form, unreachable.
    Standing(Standing),
    /// replied, auto_replied.
    Answer(Status),
}

fn parse_status(s: &str) -> Result<StatusArg, String> {
    match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "replied" => Ok(StatusArg::Answer(Status::Replied)),
        "auto_replied" => Ok(StatusArg::Answer(Status::AutoReplied)),
        _ => s.parse().map(StatusArg::Standing),
    }
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    repmail::time::parse_time(s)
}

pub fn run(config: &Path, args: &LogArgs, out: Output) -> anyhow::Result<Exit> {
    let needs_contacts = args.export.is_some()
        || args
            .status
            .iter()
            .any(|s| matches!(s, StatusArg::Standing(o) if o.needs_contacts()));
    let campaign = load_campaign(config, args, needs_contacts, out)?;
    let log = match (&args.log, &campaign) {
        (Some(path), _) => path.clone(),
        (None, Some(c)) => c.campaign.log.clone(),
        (None, None) => unreachable!("without --log the campaign file is required"),
    };
    if args.log.is_some() && !log.is_file() {
        bail!(
            "no delivery log at {}; check the path (a campaign's log is `log` under \
             [campaign], by default logs/<name>.csv beside the campaign file)",
            log.display()
        );
    }
    let filter = filter(args);
    // The HTML page (a timeline of every attempt) and the history view
    // (every event) hold the log; the rest walks it.
    if args.html.is_none() && (args.export.is_some() || !args.history) {
        return walk(&log, campaign.as_ref(), needs_contacts, &filter, args, out);
    }
    let ledger = Ledger::read(&log)?;
    let first = ledger.events().first().map(|e| e.campaign.as_str());
    let campaign = campaign.filter(|c| same_campaign(c, first, args, out));
    if needs_contacts && campaign.is_none() {
        bail!(
            "--export and --status never, form or unreachable need the campaign's \
             contacts: pass the campaign file with --config PATH"
        );
    }
    let contacts = match &campaign {
        Some(c) => match load_contacts(c) {
            Ok(list) => Some(list),
            Err(d) if needs_contacts => bail!("{d}"),
            Err(d) => {
                say_err!("warning: {d}; reviewing the log alone");
                None
            }
        },
        None => None,
    };
    let facts = Facts {
        torn_tail: ledger.torn_tail(),
        empty: ledger.is_empty(),
        skipped: contacts.as_ref().map_or(0, |l| l.skipped),
    };
    notes(&log, facts, campaign.as_ref(), out);

    let about = about(&log, first, ledger.torn_tail(), campaign.as_ref());
    let view = if args.history {
        View::History
    } else {
        View::Current
    };
    let mut protected = vec![log.clone()];
    protected.extend(campaign.as_ref().map(|c| c.contacts.path.clone()));
    protected.extend(campaign.as_ref().map(|c| c.path.clone()));

    if args.export.is_none() && args.html.is_none() {
        let report = review::build(&ledger, contacts.as_ref(), &filter, view, about);
        let format = args.format.unwrap_or(DEFAULT_FORMAT);
        let exit = print(&report, &report.rows, format)?;
        stages(campaign.as_ref(), format, args, out)?;
        return Ok(exit);
    }

    if let (Some(path), Some(c), Some(list)) = (&args.export, &campaign, &contacts) {
        let filter = follow_up(&filter);
        let report = review::build(&ledger, Some(list), &filter, View::Current, about.clone());
        export(
            path,
            &report,
            list,
            ExportFormat::of(&c.contacts),
            &protected,
            out,
        )?;
    }
    if let Some(path) = &args.html {
        let mut about = about;
        if let Some(c) = campaign.as_ref().filter(|c| !c.followups.is_empty()) {
            about.stages = repmail::plan::followup::Chains::read(c)?.counts();
        }
        if let (Some(c), Some(list)) = (&campaign, &contacts) {
            about.subjects = list.subjects(c);
        }
        let report = review::build(&ledger, contacts.as_ref(), &filter, view, about);
        write_file(path, &protected, |w| report.write(Format::Html, w))?;
        if !out.quiet {
            say!("wrote the report to {}", path.display());
        }
    }
    Ok(Exit::Ok)
}

/// Where the review's data came from; the campaign's name comes from the
/// log's rows when there is no campaign file.
/// Follow-up stages (issue 21) after the table, for people: sent and
/// answered per stage, and each `--recipient`'s chain.
fn stages(
    campaign: Option<&Campaign>,
    format: FormatArg,
    args: &LogArgs,
    out: Output,
) -> anyhow::Result<()> {
    if let (Some(c), FormatArg::Table, false) = (campaign, format, out.quiet) {
        super::followup::print_log(c, &args.recipient)?;
    }
    Ok(())
}

fn about(log: &Path, first: Option<&str>, torn_tail: bool, campaign: Option<&Campaign>) -> About {
    About {
        campaign: campaign
            .map(|c| c.campaign.name.clone())
            .or_else(|| first.map(str::to_string)),
        log: log.to_path_buf(),
        contacts: campaign.map(|c| c.contacts.path.clone()),
        subject: campaign.map(|c| c.campaign.subject.clone()),
        subjects: None,
        sender: campaign.map(|c| c.sender.from.to_string()),
        torn_tail,
        stages: Vec::new(),
    }
}

/// The campaign file, if there is one to use. Without `--log` it is
/// required; with `--log` it only adds contacts, names and the letter's
/// subject and sender, so a missing or broken one is not an error unless
/// the contacts are needed.
fn load_campaign(
    config: &Path,
    args: &LogArgs,
    needs_contacts: bool,
    out: Output,
) -> anyhow::Result<Option<Campaign>> {
    if args.log.is_none() {
        if !config.exists() {
            bail!(
                "no campaign file {}: pass it with --config PATH, or review a delivery log \
                 alone with --log PATH",
                config.display()
            );
        }
        return Ok(Some(Campaign::load(config)?));
    }
    if !config.exists() && !needs_contacts {
        return Ok(None);
    }
    match Campaign::load(config) {
        Ok(c) => Ok(Some(c)),
        Err(e) if needs_contacts => Err(e.into()),
        Err(e) => {
            if !out.quiet {
                say_err!("note: not using the campaign file: {e}");
            }
            Ok(None)
        }
    }
}

/// Whether a `--log` belongs to the campaign file found beside it: joining
/// another campaign's contacts would report all of them as never attempted.
fn same_campaign(campaign: &Campaign, first: Option<&str>, args: &LogArgs, out: Output) -> bool {
    let Some(first) = first else {
        return true;
    };
    if args.log.is_none() || first == campaign.campaign.name {
        return true;
    }
    if !out.quiet {
        say_err!(
            "note: the log is of campaign `{}` but {} is `{}`: reviewing the log alone",
            first,
            campaign.path.display(),
            campaign.campaign.name
        );
    }
    false
}

/// What the notes before a review speak of.
#[derive(Clone, Copy)]
struct Facts {
    torn_tail: bool,
    empty: bool,
    /// Contacts rows left out.
    skipped: usize,
}

fn notes(log: &Path, facts: Facts, campaign: Option<&Campaign>, out: Output) {
    if out.quiet {
        return;
    }
    if facts.torn_tail {
        say_err!(
            "note: the last line of {} is incomplete (a crash while writing it) and is not \
             counted; the next `repmail send` repairs it",
            log.display()
        );
    }
    if let (Some(c), true) = (campaign, facts.empty) {
        let what = if log.exists() {
            "has no rows yet"
        } else {
            "does not exist yet"
        };
        say_err!(
            "nothing sent yet: the delivery log {} {what}; every contact of `{}` shows as \
             never attempted",
            log.display(),
            c.campaign.name
        );
    }
    if facts.skipped > 0 {
        say_err!(
            "note: {} row{} of the contacts file left out (an invalid or duplicate \
             address); `repmail check` lists them",
            facts.skipped,
            plural(facts.skipped),
        );
    }
}

fn print(report: &Review, rows: &dyn Rows, format: FormatArg) -> anyhow::Result<Exit> {
    let format = match format {
        FormatArg::Table => Format::Table,
        FormatArg::Csv => Format::Csv,
        FormatArg::Json => Format::Json,
    };
    // The table is for people: each of its lines is cleaned for the
    // terminal. CSV and JSON are data and stay byte-true (JSON escapes
    // control characters itself).
    let sink: Box<dyn Write> = match format {
        Format::Table => Box::new(terminal::CleanLines::new(io::stdout().lock())),
        Format::Csv | Format::Json | Format::Html => Box::new(io::stdout().lock()),
    };
    let mut stdout = BufWriter::new(sink);
    match report
        .write_rows(format, rows, &mut stdout)
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(Exit::Ok),
        // `repmail log | head`: the reader is done, which is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Exit::Ok),
        Err(e) => Err(e).context("cannot write the review to standard output"),
    }
}
