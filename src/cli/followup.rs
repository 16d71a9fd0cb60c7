//! `send` over the stages of a campaign (issue 21): the first letter, then
//! each `[[followup]]` stage that is due, one after the other, each under
//! the same pace, daily cap, window and retries, each writing its own log
//! (`config::stage_log`). `--stage N` sends one stage.

use std::path::Path;

use chrono::{DateTime, Utc};
use repmail::config::{stage_log, Campaign};
use repmail::ledger::{Ledger, LedgerWriter};
use repmail::plan::followup::{plan_stage, Chains, StagePlan, Stopped};
use repmail::plan::{Resend, Selection, SendPlan};
use repmail::schedule::Zones;
use repmail::send::{DailyCap, Pacer};

use super::send::{
    check_plan, deliver, resume_command, run_first, summarize, test_log_path, CopiesLog, Delivery,
    SendArgs,
};
use super::{Exit, Output};
use repmail::time::local_and_utc;

/// Every stage `args` asks for, in order; stops at the first stage that
/// does not finish (an error, an interrupt): a later stage waits for the
/// next run.
pub fn run(
    config: &Path,
    campaign: Campaign,
    args: &SendArgs,
    out: Output,
) -> anyhow::Result<Exit> {
    let n = campaign.followups.len();
    let stages = match args.stage {
        Some(k) if k > n => anyhow::bail!(
            "--stage {k}: the campaign has {n} follow-up stage{} ([[followup]] tables in {}); use 0 for the first letter{}",
            if n == 1 { "" } else { "s" },
            campaign.path.display(),
            if n > 0 { format!(", 1 to {n} for a follow-up") } else { String::new() }
        ),
        Some(0) => return run_first(config, &campaign, args, out),
        Some(k) => k..=k,
        None => {
            let first = run_first(config, &campaign, args, out)?;
            // Test letters are first letters only; a run that stopped
            // leaves the follow-ups for the next one.
            if n == 0 || args.test_to.is_some() || matches!(first, Exit::Error | Exit::Interrupted) {
                return Ok(first);
            }
            let rest = run_stages(config, &campaign, args, 1..=n, out)?;
            return Ok(worse(first, rest));
        }
    };
    run_stages(config, &campaign, args, stages, out)
}

fn run_stages(
    config: &Path,
    campaign: &Campaign,
    args: &SendArgs,
    stages: std::ops::RangeInclusive<usize>,
    out: Output,
) -> anyhow::Result<Exit> {
    let mut exit = Exit::Ok;
    for k in stages {
        let this = if args.dry_run {
            dry_run(campaign, args, k, out)?
        } else {
            send_stage(config, campaign, args, k, out)?
        };
        exit = worse(exit, this);
        if matches!(exit, Exit::Error | Exit::Interrupted) {
            break;
        }
    }
    Ok(exit)
}

/// The exit code of two runs: the more serious one.
fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Incomplete => 1,
        Exit::Usage => 2,
        Exit::Error => 3,
        Exit::Interrupted => 4,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn selection(args: &SendArgs) -> (Selection, Resend) {
    (
        Selection {
            recipients: args.recipient.clone(),
            limit: args.limit,
        },
        Resend {
            failed: args.retry_failed,
            unknown: args.resend_unknown,
        },
    )
}

/// The logs read with the one being written, `this` (stage `k`), taken
/// from its writer (read under its lock).
fn chains(campaign: &Campaign, main: &Ledger, k: usize, this: &Ledger) -> anyhow::Result<Chains> {
    let mut logs = vec![main.clone()];
    for j in 1..=campaign.followups.len() {
        logs.push(if j == k {
            this.clone()
        } else {
            let path = stage_log(&campaign.campaign.log, j);
            Ledger::read(&path)?
        });
    }
    Ok(Chains::new(logs))
}

/// Every log's `sent` rows of the last 24 h: the first letters', each
/// stage's and the test letters' (`send --test-to`).
fn daily_cap(campaign: &Campaign, chains: &Chains) -> anyhow::Result<Option<DailyCap>> {
    let Some(c) = campaign.rate.daily_cap else {
        return Ok(None);
    };
    let tests = Ledger::read(&test_log_path(&campaign.campaign.log))?;
    let refs: Vec<&Ledger> = chains.logs().iter().chain([&tests]).collect();
    Ok(Some(DailyCap::from_ledgers(c, &refs, Utc::now())))
}

fn print_stage(plan: &StagePlan, after_days: u32, out: Output) {
    if out.quiet {
        return;
    }
    let n = plan.to_send.len();
    tell!(
        "follow-up  stage {} ({after_days} days after the letter before): {n} due now",
        plan.stage
    );
    tell!(
        "           not sent: {} answered, {} bounced, {} whose letter before was not sent, {} already had it",
        plan.stopped_by(Stopped::Replied),
        plan.stopped_by(Stopped::Bounced),
        plan.stopped_by(Stopped::NotSent),
        plan.stopped
            .iter()
            .filter(|(_, s)| matches!(s, Stopped::Stage(_)))
            .count()
    );
    if let Some(next) = plan.next_due() {
        tell!(
            "           {} more become due, the next {}",
            plan.waiting.len(),
            when(next)
        );
    }
    if !plan.later.is_empty() {
        tell!("           {} beyond --limit", plan.later.len());
    }
}

fn when(t: DateTime<Utc>) -> String {
    local_and_utc(t)
}

fn after_days(campaign: &Campaign, k: usize) -> u32 {
    campaign.followups[k - 1].after_days
}

fn dry_run(campaign: &Campaign, args: &SendArgs, k: usize, out: Output) -> anyhow::Result<Exit> {
    let (selection, resend) = selection(args);
    let chains = Chains::read(campaign)?;
    let (plan, _) = plan_stage(campaign, k, &chains, &selection, resend, Utc::now())
        .map_err(|p| report_problems(p, out))?;
    check_plan(&plan.problems, &[], |_| true, campaign, out)?;
    print_stage(&plan, after_days(campaign, k), out);
    if !out.quiet {
        for r in &plan.to_send {
            tell!("would send  line {:>5}  {}  (stage {k})", r.line, r.email);
        }
        for (r, t) in &plan.waiting {
            tell!("due later  line {:>5}  {}  {}", r.line, r.email, when(*t));
        }
    }
    Ok(Exit::Ok)
}

fn report_problems(p: repmail::problem::Problems, out: Output) -> anyhow::Error {
    let mut problems = super::report::ProblemGroups::default();
    for d in p.0 {
        problems.add(d);
    }
    problems.print(out.quiet);
    anyhow::anyhow!("nothing was sent: fix the errors above, then run send again")
}

fn send_stage(
    config: &Path,
    campaign: &Campaign,
    args: &SendArgs,
    k: usize,
    out: Output,
) -> anyhow::Result<Exit> {
    let (selection, resend) = selection(args);
    let name = &campaign.campaign.name;
    // The first letter's log is locked too: no other `send` of this
    // campaign runs meanwhile, and its answers are read under the lock.
    let mut main = LedgerWriter::open(&campaign.campaign.log, name)?;
    let mut writer = LedgerWriter::open(&stage_log(&campaign.campaign.log, k), name)?;
    let chains = chains(campaign, main.ledger(), k, writer.ledger())?;
    let (plan, renderer) = plan_stage(campaign, k, &chains, &selection, resend, Utc::now())
        .map_err(|p| report_problems(p, out))?;
    check_plan(&plan.problems, &[], |_| true, campaign, out)?;
    print_stage(&plan, after_days(campaign, k), out);
    // As for the first letters: an earlier run's unknown letters, by name,
    // with what to do.
    let unknown = super::send::unknown_of(writer.ledger());
    if !out.quiet {
        for line in super::hint::unknown_in_stage(&unknown, config, k) {
            tell!("           {line}");
        }
    }
    let cap = daily_cap(campaign, &chains)?;
    if plan.to_send.is_empty() {
        return Ok(Exit::Ok);
    }
    let pacer = Pacer::new(&campaign.rate)
        .with_zones(Zones::new(campaign))
        .with_wait(args.wait);
    let delivery = Delivery {
        campaign,
        args,
        renderer: &renderer,
        pacer,
        cap,
        test_to: None,
    };
    // A follow-up gets its copy in Sent as the first letter does; the
    // copies and their `copied` rows are the first letter's log's (one
    // spool per campaign).
    let copies = CopiesLog::Main(&mut main);
    let report = deliver(delivery, plan.to_send.clone(), &mut writer, copies, out)?;
    drop(main);
    let resume = format!("{} --stage {k}", resume_command(config, args));
    let exit = summarize(
        &report,
        &SendPlan::default(),
        campaign,
        writer.path(),
        &resume,
        out,
    );
    // After any stop, the letters whose fate nobody knows, by name.
    let unknown = super::send::unknown_in(writer.path());
    for line in super::hint::unknown_in_stage(&unknown, config, k) {
        say_err!("{line}");
    }
    Ok(exit)
}

/// The renderer of stage `k` for `preview --stage K`.
pub fn preview_renderer(
    campaign: &Campaign,
    k: usize,
    out: Output,
) -> anyhow::Result<repmail::render::Renderer> {
    let n = campaign.followups.len();
    if k > n {
        anyhow::bail!(
            "--stage {k}: the campaign has {n} follow-up stage{} ([[followup]] tables in {})",
            if n == 1 { "" } else { "s" },
            campaign.path.display()
        );
    }
    let chains = Chains::read(campaign)?;
    let mut renderer =
        repmail::render::Renderer::for_stage(campaign, k).map_err(|p| report_problems(p, out))?;
    renderer.set_threads(repmail::plan::followup::preview_threads(
        &chains,
        k,
        campaign.sender.domain(),
        Utc::now(),
    ));
    Ok(renderer)
}

/// `log`'s lines about the follow-ups: per stage, letters accepted and
/// offices that answered after them; with `--recipient`, each one's chain.
/// Nothing for a campaign without stages.
pub fn print_log(campaign: &Campaign, recipients: &[String]) -> anyhow::Result<()> {
    if campaign.followups.is_empty() {
        return Ok(());
    }
    let chains = Chains::read(campaign)?;
    say!("");
    say!("by stage   letters accepted, then answered (rate)");
    for c in chains.counts() {
        let name = match c.stage {
            0 => "first".to_string(),
            k => format!("follow-up {k}"),
        };
        let rate = c.rate().map_or("-".to_string(), |r| format!("{r:.0}%"));
        say!(
            "  {name:<12} {:>6} sent  {:>6} answered  ({rate})",
            c.sent,
            c.answered
        );
    }
    if recipients.is_empty() {
        return Ok(());
    }
    let all = chains.chains();
    for r in recipients {
        let key = repmail::ledger::recipient_key(r);
        let Some(chain) = all.get(&key) else {
            say!("{r}: no letter recorded");
            continue;
        };
        let mut parts: Vec<String> = chain
            .sent
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                t.map(|t| {
                    let what = if i == 0 {
                        "first letter".to_string()
                    } else {
                        format!("follow-up {i}")
                    };
                    format!("{what} {}", t.format("%Y-%m-%d"))
                })
            })
            .collect();
        if let Some(t) = chain.answered {
            parts.push(format!("answered {}", t.format("%Y-%m-%d")));
        }
        say!("{r}: {}", parts.join(" → "));
    }
    Ok(())
}
