//! `repmail send` and `send --dry-run`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use chrono::Utc;
use clap::Args;
use lettre::Address;
use repmail::config::Campaign;
use repmail::ledger::{recipient_key, Ledger, LedgerWriter};
use repmail::plan::{Resend, Selection, SendPlan, Skip};
use repmail::problem::Diagnostic;
use repmail::schedule::Zones;
use repmail::send::{DailyCap, Pacer, Report};

use super::report::{prepare, ProblemGroups};
use super::{Exit, Output};

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Plan and render everything, show who would be sent now; connect to nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Send again to recipients whose last try failed permanently
    #[arg(long)]
    pub retry_failed: bool,
    /// Send again to recipients whose outcome is unknown after a crash (they may get it twice)
    #[arg(long)]
    pub resend_unknown: bool,
    /// Send at most N letters in this run
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only this recipient (repeatable)
    #[arg(long, value_name = "EMAIL")]
    pub recipient: Vec<String>,
    /// Deliver the selected letters (default: the first) to ADDR instead, marked [TEST];
    /// recorded in a separate test log, never in the campaign's
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["retry_failed", "resend_unknown"])]
    pub test_to: Option<String>,
    /// When the sending window or the daily cap holds letters back, wait (saying until when) and carry on
    #[arg(long)]
    pub wait: bool,
    /// Send only this stage: 0 the first letter, 1 the first [[followup]], … (default: every stage that is due)
    #[arg(long, value_name = "N", conflicts_with = "test_to")]
    pub stage: Option<usize>,
}

/// How many recipients the plan puts where: what the plan's summary says.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub to_send: usize,
    /// By reason, in the order of [`SKIPS`].
    pub skipped: [usize; 4],
    pub later: usize,
    /// Whether the user gave `--limit` (else "later" means nothing).
    pub limited: bool,
    /// Recipients left `unknown` by an earlier run, to name them.
    pub unknown: Vec<String>,
    /// A `--test-to` run: what the test is (address, whose letter).
    pub test: Option<String>,
}

const SKIPS: [Skip; 4] = [Skip::Sent, Skip::Failed, Skip::Unknown, Skip::Bounced];

impl Tally {
    fn of(plan: &SendPlan) -> Tally {
        let mut tally = Tally {
            to_send: plan.to_send.len(),
            later: plan.later.len(),
            ..Tally::default()
        };
        for (r, why) in &plan.skipped {
            tally.skip(&r.email, *why);
        }
        tally
    }

    /// Sets what the plan says of a `--test-to` run to `to`; `first` is
    /// the first letter's recipient and CSV line.
    pub fn test(&mut self, to: Option<&Address>, first: Option<(&Address, u64)>) {
        self.test = to.map(|to| {
            let whose = first
                .map(|(r, line)| format!("the letter of {r} (line {line})"))
                .unwrap_or_else(|| "no letter".to_string());
            format!("to {to} only, marked [TEST]: {whose}; the campaign's log is not touched")
        });
    }

    pub fn skip(&mut self, email: &Address, why: Skip) {
        if why == Skip::Unknown {
            self.unknown.push(email.to_string());
        }
        if let Some(i) = SKIPS.iter().position(|s| *s == why) {
            self.skipped[i] += 1;
        }
    }

    fn skipped(&self, why: Skip) -> usize {
        SKIPS
            .iter()
            .position(|s| *s == why)
            .map_or(0, |i| self.skipped[i])
    }
}

/// The logs of this run: the one it writes, and the other one of the
/// campaign (test or real), which shares the daily cap.
struct Logs {
    this: PathBuf,
    other: PathBuf,
}

pub fn run(config: &Path, args: &SendArgs, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    super::followup::run(config, campaign, args, out)
}

/// The first letter's run (stage 0).
pub(super) fn run_first(
    config: &Path,
    campaign: &Campaign,
    args: &SendArgs,
    out: Output,
) -> anyhow::Result<Exit> {
    let campaign = campaign.clone();
    let prepared = prepare(&campaign, out)?;
    let test_to = args.test_to.as_deref().map(parse_test_to).transpose()?;
    let selection = Selection {
        recipients: args.recipient.clone(),
        // A test is one letter unless the user picks more.
        limit: args
            .limit
            .or((test_to.is_some() && args.recipient.is_empty()).then_some(1)),
    };
    let resend = Resend {
        failed: args.retry_failed,
        unknown: args.resend_unknown,
    };
    let real_log = campaign.campaign.log.clone();
    let logs = match &test_to {
        Some(_) => Logs {
            this: test_log_path(&real_log),
            other: real_log,
        },
        None => Logs {
            other: test_log_path(&real_log),
            this: real_log,
        },
    };

    if args.dry_run {
        let dry = super::dry_run::DryRun {
            campaign: &campaign,
            selection: &selection,
            resend,
            test_to,
            this_log: &logs.this,
            other_log: &logs.other,
            wait: args.wait,
            limit_given: args.limit.is_some(),
        };
        return dry.run(prepared, out);
    }
    // A real run locks its log first and plans from what it read under the
    // lock, so two runs can never plan from the same state.
    let mut writer = LedgerWriter::open(&logs.this, &campaign.campaign.name)?;
    let ledger = writer.ledger();
    // Test letters may be sent again and again: they do not consult the
    // campaign's state, and never touch its log.
    let empty = Ledger::default();
    let planned_against = if test_to.is_some() { &empty } else { ledger };
    let (plan, mut renderer) = prepared.plan_send(planned_against, &selection, resend);
    let known = |key: &str| {
        plan.to_send.iter().any(|r| r.key() == key)
            || plan.later.iter().any(|r| r.key() == key)
            || plan.skipped.iter().any(|(r, _)| r.key() == key)
    };
    check_plan(&plan.problems, &args.recipient, known, &campaign, out)?;
    // Follow-ups are messages like any other: the cap counts them.
    let stages = repmail::plan::followup::stage_ledgers(&campaign)?;
    let cap = campaign.rate.daily_cap.map(|c| {
        let other = Ledger::read(&logs.other).unwrap_or_default();
        let all: Vec<&Ledger> = [ledger, &other].into_iter().chain(&stages).collect();
        DailyCap::from_ledgers(c, &all, Utc::now())
    });
    let resume = resume_command(config, args);
    let is_test = test_to.is_some();
    if let Some(to) = &test_to {
        renderer.redirect_to(to.clone());
    }

    let pacer = Pacer::new(&campaign.rate)
        .with_zones(Zones::new(&campaign))
        .with_wait(args.wait);
    let estimate = pacer.estimate(cap.clone(), &plan.to_send, Utc::now());
    let mut tally = Tally::of(&plan);
    tally.limited = args.limit.is_some();
    tally.test(
        test_to.as_ref(),
        plan.to_send.first().map(|r| (&r.email, r.line)),
    );
    print_plan(&campaign, &tally, cap.as_ref(), &estimate, false, out);
    let writer = &mut writer;
    if plan.to_send.is_empty() {
        if !out.quiet {
            tell!("nothing to send now");
        }
        if !is_test {
            catch_up_copies(&campaign, writer, out)?;
        }
        return Ok(final_exit(&plan, &Report::default()));
    }

    let delivery = Delivery {
        campaign: &campaign,
        args,
        renderer: &renderer,
        pacer,
        cap,
        test_to: test_to.as_ref(),
    };
    // Test letters get no copy: they are not the campaign's letters.
    let copies = if is_test {
        CopiesLog::Off
    } else {
        CopiesLog::Own
    };
    let report = deliver(delivery, plan.to_send.clone(), writer, copies, out)?;
    let exit = summarize(&report, &plan, &campaign, writer.path(), &resume, out);
    // After any stop, the letters whose fate nobody knows, by name: this
    // run's and those an earlier run left.
    for line in super::hint::unknown(&unknown_in(writer.path()), config) {
        say_err!("{line}");
    }
    Ok(exit)
}

/// The recipients whose letter is `unknown` in the log at `path`.
pub(super) fn unknown_in(path: &Path) -> Vec<String> {
    Ledger::read(path)
        .map(|l| unknown_of(&l))
        .unwrap_or_default()
}

/// The recipients whose letter is `unknown` in `ledger`.
pub(super) fn unknown_of(ledger: &Ledger) -> Vec<String> {
    ledger
        .latest()
        .filter(|e| e.state() == Some(repmail::ledger::State::Unknown))
        .map(|e| e.email.clone())
        .collect()
}

/// A run with nothing to send still makes the copies earlier runs could
/// not.
fn catch_up_copies(
    campaign: &Campaign,
    writer: &mut LedgerWriter,
    out: Output,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let copies = {
        let _inside = runtime.enter();
        super::sent::start(campaign, writer.ledger(), out)
    };
    match copies {
        Some(c) => super::sent::finish(c, &runtime, writer, campaign, out),
        None => Ok(()),
    }
}

fn parse_test_to(a: &str) -> anyhow::Result<Address> {
    let parsed: Address = a
        .trim()
        .parse()
        .with_context(|| format!("--test-to {a}: not a valid email address"))?;
    repmail::address::sendable_address(&parsed)
        .map_err(|why| anyhow::anyhow!("--test-to {a}: {}", why.reason()))
}

/// Problems stop the run before anything is sent; so does a `--recipient`
/// that is not in the contacts (`known`: whether a key is among them).
pub(super) fn check_plan(
    found: &[Diagnostic],
    wanted: &[String],
    known: impl Fn(&str) -> bool,
    campaign: &Campaign,
    out: Output,
) -> anyhow::Result<()> {
    let mut problems = ProblemGroups::default();
    for d in found {
        problems.add(d.clone());
    }
    problems.print(out.quiet);
    if found.iter().any(Diagnostic::is_error) {
        bail!("nothing was sent: fix the errors above (`repmail check` lists them all), then run send again");
    }
    for w in wanted {
        if !known(&recipient_key(w)) {
            bail!(
                "{w} is not an addressable recipient in {}; check the address (or its row, with `repmail check`)",
                campaign.contacts.path.display()
            );
        }
    }
    Ok(())
}

/// The command that continues this run (a test run continues as a test).
pub(super) fn resume_command(config: &Path, args: &SendArgs) -> String {
    let mut cmd = super::hint::command(config, "send");
    if let Some(t) = &args.test_to {
        cmd.push_str(&format!(" --test-to {t}"));
    }
    // A run that waited resumes waiting.
    if args.wait {
        cmd.push_str(" --wait");
    }
    cmd
}

/// `logs/name.csv` → `logs/name.test.csv`.
pub(super) fn test_log_path(log: &Path) -> PathBuf {
    repmail::config::log_beside(log, "test")
}

mod deliver;
mod shown;
pub(super) use deliver::{deliver, CopiesLog, Delivery};
use shown::final_exit;
pub(super) use shown::{confirm, print_plan, summarize};
