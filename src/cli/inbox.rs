//! `repmail inbox`: read what came back (bounces, replies, automatic
//! answers) from files or the account's mailbox and append it to the
//! delivery log. Never deletes, moves or marks mail read.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use chrono::{DateTime, Utc};
use clap::Args;
use repmail::config::Campaign;
use repmail::inbox::source::{self, imap, RawMessage};
use repmail::inbox::{Found, Matcher};
use repmail::ledger::{LedgerWriter, Status};

use super::{Exit, Output};

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Read this instead of the mailbox: a message file, a folder of .eml
    /// files, a Maildir or an mbox file (repeatable; no network)
    #[arg(long, value_name = "PATH")]
    pub from: Vec<PathBuf>,
    /// Only messages dated at or after DATE: 2024-05-01 (UTC) or RFC 3339
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    repmail::time::parse_time(s)
}

/// What one run found, for the closing summary.
#[derive(Debug, Default)]
struct Tally {
    messages: usize,
    hard: usize,
    soft: usize,
    replied: usize,
    auto_replied: usize,
    already: usize,
    by_address: usize,
    delayed: usize,
    not_understood: usize,
    complaints: usize,
    unmatched: usize,
    unrelated: usize,
    older: usize,
}

pub fn run(config: &Path, args: &InboxArgs, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    // Fetch before locking the ledger: a slow server must not hold off a
    // `send` of the same campaign.
    let fetched = if args.from.is_empty() {
        Some(imap_messages(&campaign, args.since, out)?)
    } else {
        None
    };
    let log = &campaign.campaign.log;
    let mut writer = LedgerWriter::open(log, &campaign.campaign.name)?;
    // Follow-up letters are in logs of their own: a reply to one, or a
    // report about one, is weighed against them too (issue 21).
    let stages = repmail::plan::followup::stage_ledgers(&campaign)?;
    let mut matcher = Matcher::new(writer.ledger(), &campaign.campaign.name)
        .with_followups(&stages)
        .since(args.since);
    let mut tally = Tally::default();
    for message in fetched.into_iter().flatten() {
        record(&mut matcher, &mut writer, &message, &mut tally, out)?;
    }
    for path in &args.from {
        let messages = source::open(path).with_context(|| "--from")?;
        for message in messages {
            let message = message?;
            record(&mut matcher, &mut writer, &message, &mut tally, out)?;
        }
    }
    if !out.quiet {
        summary(&tally, log);
    }
    Ok(Exit::Ok)
}

fn imap_messages(
    campaign: &Campaign,
    since: Option<DateTime<Utc>>,
    out: Output,
) -> anyhow::Result<Vec<RawMessage>> {
    let Some(inbox) = &campaign.inbox else {
        bail!(
            "no [inbox] section in {}: add one with the IMAP `host` (see config.example.toml), \
             or read saved mail with --from PATH",
            campaign.path.display()
        );
    };
    // Before connecting: a failing password or token command stops here.
    let login = super::signin::inbox_login(inbox)?;
    if out.verbose > 0 {
        say_err!(
            "reading {} from {}:{} ({}) as {} ({})",
            inbox.folders.join(", "),
            inbox.host,
            inbox.port,
            inbox.security.as_str(),
            login.user,
            inbox.auth.as_str()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")?;
    let bar = FolderBar::new(out);
    let mut progress = |folder: &str, read: usize, total: usize| bar.show(folder, read, total);
    let messages = runtime.block_on(imap::fetch_all(
        inbox,
        &login,
        since.map(|t| t.date_naive()),
        &mut progress,
    ));
    bar.finish();
    let messages = messages?;
    if out.verbose > 0 {
        say_err!(
            "fetched {} messages (read only: nothing marked or moved)",
            messages.len()
        );
    }
    Ok(messages)
}

/// Messages read of the total, per folder, on a terminal: a long mailbox
/// takes minutes. Nothing when the output is not a terminal or `--quiet`.
struct FolderBar(Option<indicatif::ProgressBar>);

impl FolderBar {
    fn new(out: Output) -> FolderBar {
        use std::io::IsTerminal as _;
        FolderBar((std::io::stderr().is_terminal() && !out.quiet).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} {bar:30.cyan/blue} {pos}/{len}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        }))
    }

    fn show(&self, folder: &str, read: usize, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_message(super::terminal::line(&format!("reading {folder}")).into_owned());
            bar.set_length(total as u64);
            bar.set_position(read as u64);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn record(
    matcher: &mut Matcher,
    writer: &mut LedgerWriter,
    message: &RawMessage,
    tally: &mut Tally,
    out: Output,
) -> anyhow::Result<()> {
    tally.messages += 1;
    let found = matcher.process_received(&message.bytes, message.received);
    let what = match &found {
        Found::Record(events) => {
            for event in events {
                writer.append(event)?;
                match event.status {
                    Status::Bounced if repmail::ledger::is_by_address_only(&event.detail) => {
                        tally.hard += 1;
                        tally.by_address += 1;
                    }
                    Status::Bounced if repmail::ledger::is_hard_bounce(&event.detail) => {
                        tally.hard += 1;
                    }
                    Status::Bounced => tally.soft += 1,
                    Status::Replied => tally.replied += 1,
                    _ => tally.auto_replied += 1,
                }
                if out.verbose > 0 {
                    tell!(
                        "{}: {} {}: {}",
                        message.origin,
                        event.status,
                        event.email,
                        event.detail
                    );
                }
            }
            return Ok(());
        }
        Found::AlreadyImported => {
            tally.already += 1;
            "already recorded"
        }
        Found::Unmatched => {
            tally.unmatched += 1;
            "matches none of the letters"
        }
        Found::NotUnderstood(why) => {
            tally.not_understood += 1;
            // Said at -v: the user may want to read these by hand.
            if out.verbose > 0 {
                tell!("{}: not understood: {why}", message.origin);
            }
            return Ok(());
        }
        Found::Delayed => {
            tally.delayed += 1;
            "delayed-delivery notice (not a bounce)"
        }
        Found::Complaint => {
            tally.complaints += 1;
            "feedback report (a complaint, not a bounce)"
        }
        Found::Unrelated => {
            tally.unrelated += 1;
            "unrelated"
        }
        Found::Older => {
            tally.older += 1;
            "before --since"
        }
    };
    if out.verbose > 1 {
        tell!("{}: {what}", message.origin);
    }
    Ok(())
}

fn summary(t: &Tally, log: &Path) {
    tell!("messages read      {}", t.messages);
    tell!("hard bounces       {}", t.hard);
    if t.by_address > 0 {
        tell!(
            "  of which {} matched by address only (no Message-ID of the letter: \
             kept as sent, never resent)",
            t.by_address
        );
    }
    tell!("soft bounces       {}", t.soft);
    tell!("replies            {}", t.replied);
    tell!("automatic replies  {}", t.auto_replied);
    tell!("already recorded   {}", t.already);
    tell!(
        "not recorded       {} delayed, {} not understood, {} complaints, {} unmatched, \
         {} unrelated{}",
        t.delayed,
        t.not_understood,
        t.complaints,
        t.unmatched,
        t.unrelated,
        if t.older > 0 {
            format!(", {} before --since", t.older)
        } else {
            String::new()
        }
    );
    let new = t.hard + t.soft + t.replied + t.auto_replied;
    if new > 0 {
        tell!(
            "recorded {new} in {}; review with `repmail log`",
            log.display()
        );
    }
}
