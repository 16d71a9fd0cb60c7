//! What `send` shows around a run: the plan before it, the question, and
//! the summary after it with the exit code it earns.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::bail;
use chrono::Utc;
use lettre::Address;
use repmail::config::Campaign;
use repmail::credentials::Readiness;
use repmail::plan::{SendPlan, Skip};
use repmail::schedule::Hold;
use repmail::send::{DailyCap, Fault, Report, Stop};

use super::super::{Exit, Output};
use super::{SendArgs, Tally};
use repmail::time::{humanize, local_and_utc, zone_and_utc};

pub(in crate::cli) fn print_plan(
    campaign: &Campaign,
    tally: &Tally,
    cap: Option<&DailyCap>,
    estimate: &repmail::schedule::Estimate,
    dry_run: bool,
    out: Output,
) {
    if out.quiet {
        return;
    }
    let count = |k: Skip| tally.skipped(k);
    let n = tally.to_send;
    tell!(
        "campaign   {} ({})",
        campaign.campaign.name,
        campaign.path.display()
    );
    match &tally.test {
        Some(test) => {
            tell!(
                "to send    {n} test letter{}",
                if n == 1 { "" } else { "s" }
            );
            tell!("test       {test}");
        }
        None => tell!("to send    {n} letter{}", if n == 1 { "" } else { "s" }),
    }
    tell!(
        "skipped    {} already sent, {} failed, {} unknown, {} bounced",
        count(Skip::Sent),
        count(Skip::Failed),
        count(Skip::Unknown),
        count(Skip::Bounced)
    );
    for (i, line) in super::super::hint::unknown(&tally.unknown, &campaign.path)
        .iter()
        .enumerate()
    {
        let label = if i == 0 { "unknown   " } else { "         " };
        tell!("{label} {line}");
    }
    if tally.later > 0 && tally.limited {
        tell!("later      {} beyond --limit", tally.later);
    }
    match &campaign.smtp {
        Some(s) => {
            if let Some(p) = s.provider {
                tell!(
                    "provider   {} (preset `{}`; keys you write win)",
                    p.label,
                    p.name
                );
            }
            tell!("server     {}:{} ({})", s.host, s.port, s.security.as_str());
            tell!(
                "account    {}",
                s.username.as_deref().unwrap_or("(no login)")
            );
            match super::super::signin::describe(s) {
                Some(Readiness::Ready(how)) => {
                    tell!("sign-in    {} {how}", s.auth.as_str())
                }
                Some(Readiness::Missing(why) | Readiness::NotNow(why)) => {
                    tell!("sign-in    {} NOT READY: {why}", s.auth.as_str())
                }
                None => {}
            }
        }
        None if dry_run => tell!("server     (no [smtp] section yet: `send` will need one)"),
        None => {}
    }
    if let (Some(inbox), true) = (&campaign.inbox, dry_run) {
        match super::super::signin::describe_inbox(inbox) {
            Readiness::Ready(how) => tell!(
                "mailbox    {}:{}, sign-in {} {how}",
                inbox.host,
                inbox.port,
                inbox.auth.as_str()
            ),
            Readiness::Missing(why) | Readiness::NotNow(why) => tell!(
                "mailbox    {}:{}, sign-in {} NOT READY: {why}",
                inbox.host,
                inbox.port,
                inbox.auth.as_str()
            ),
        }
    }
    tell!("from       {}", campaign.sender.from);
    let r = &campaign.rate;
    let mut pace = format!(
        "{} per minute, burst {}, {} at a time",
        r.per_minute, r.burst, r.concurrency
    );
    if let Some(d) = r.per_domain_per_minute {
        pace.push_str(&format!(", {d} per minute per domain"));
    }
    if let Some(c) = cap {
        pace.push_str(&format!(
            ", at most {} per 24 h ({} used)",
            c.cap(),
            c.used()
        ));
    }
    tell!("pace       {pace}");
    if let Some(w) = &r.window {
        let zones = match &campaign.contacts.timezone_column {
            Some(c) => format!("each recipient's zone (column `{c}`, else {})", r.timezone),
            None => r.timezone.to_string(),
        };
        tell!("window     {w} in {zones}");
    }
    let est = humanize(estimate.duration());
    if estimate.waits() {
        // Name only what holds letters back in the estimate: a window or
        // a cap that is set but never binds is not news.
        let held = |f: fn(&Hold) -> bool| {
            estimate
                .batches
                .iter()
                .any(|b| b.after.as_ref().is_some_and(f))
        };
        let window = held(|h| matches!(h, Hold::Window { .. }));
        let capped = held(|h| matches!(h, Hold::DailyCap | Hold::InFlight));
        let what = match (window, capped) {
            (true, true) => "the sending window and the daily cap",
            (true, false) => "the sending window",
            (false, true) => "the daily cap",
            (false, false) => "the pace",
        };
        tell!(
            "duration   about {est} in all, held back by {what} (last letter {})",
            local_and_utc(estimate.finish)
        );
    } else if estimate.duration() < std::time::Duration::from_secs(1) {
        // "about 0s" reads like a fault.
        tell!("duration   under a second at this pace");
    } else {
        tell!("duration   about {est} at this pace");
    }
}

pub(in crate::cli) fn confirm(
    args: &SendArgs,
    n: usize,
    test_to: Option<&Address>,
) -> anyhow::Result<()> {
    if args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("not on a terminal, so there is no one to confirm: review the plan with `send --dry-run`, then run `send --yes`");
    }
    // The prompt stays on the line of the answer: the one write without a
    // line break, of repmail's own words only.
    let s = if n == 1 { "" } else { "s" };
    let _ = match test_to {
        Some(to) => write!(
            std::io::stderr().lock(),
            "Send {n} test letter{s} to {to}? [y/N] "
        ),
        None => write!(std::io::stderr().lock(), "Send {n} letter{s}? [y/N] "),
    };
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        bail!("not confirmed; nothing was sent")
    }
}

pub(in crate::cli) fn summarize(
    report: &Report,
    plan: &SendPlan,
    campaign: &Campaign,
    log: &Path,
    resume: &str,
    out: Output,
) -> Exit {
    let line = format!(
        "{} sent, {} failed, {} deferred, {} not attempted ({} transaction{})",
        report.sent,
        report.failed,
        report.deferred,
        report.not_attempted,
        report.transactions,
        super::super::check::plural(report.transactions)
    );
    match &report.stop {
        Some(Stop::Fault { fault, detail }) => {
            let e = repmail::diagnose::explain(*fault, detail, campaign.smtp.as_ref());
            if *fault == Fault::Quota {
                let when = (Utc::now() + chrono::Duration::hours(24))
                    .with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M");
                say_err!("stopped: {}", e.what);
                if let Some(said) = &e.server_said {
                    say_err!("  server said: {said}");
                }
                say_err!("{line}");
                say_err!("{}", e.todo);
                say_err!("The quota frees up within 24 hours: run `{resume}` after {when}");
                return Exit::Incomplete;
            }
            say_err!("error: run stopped: {}", e.what);
            if !e.todo.is_empty() {
                say_err!("  what to do: {}", e.todo);
            }
            match &e.server_said {
                Some(said) => say_err!("  server said: {said}"),
                None => say_err!("  detail: {detail}"),
            }
            say_err!("{line}");
            say_err!("No recipient was marked failed because of this; fix it, then resume with `{resume}`");
            Exit::Error
        }
        Some(Stop::Interrupted) => {
            say_err!("interrupted: {line}");
            say_err!(
                "The log is saved ({}). Resume with `{resume}`",
                log.display()
            );
            Exit::Interrupted
        }
        Some(Stop::DailyCap { cap, frees_at }) => {
            let when = frees_at
                .map(local_and_utc)
                .unwrap_or_else(|| "in 24 hours".into());
            say_err!("daily cap of {cap} reached: {line}");
            say_err!(
                "The next letter may go at {when}; run `{resume}` then{}",
                wait_hint(resume)
            );
            Exit::Incomplete
        }
        Some(Stop::Window { held }) => {
            say_err!("outside the sending window: {line}");
            for h in held {
                say_err!(
                    "  {} letter{} to recipients in {}: the window opens {}",
                    h.letters,
                    if h.letters == 1 { "" } else { "s" },
                    h.zone,
                    zone_and_utc(h.opens, h.zone)
                );
            }
            say_err!("Run `{resume}` then{}", wait_hint(resume));
            Exit::Incomplete
        }
        None => {
            if !out.quiet || report.failed + report.deferred > 0 {
                tell!("{line}");
            }
            final_exit(plan, report)
        }
    }
}

/// ", or `… --wait` to wait for it", unless the command already waits.
fn wait_hint(resume: &str) -> String {
    if resume.ends_with(" --wait") {
        String::new()
    } else {
        format!(", or `{resume} --wait` to wait for it")
    }
}

/// 3 when any recipient is left failed, deferred or unknown.
pub(in crate::cli) fn final_exit(plan: &SendPlan, report: &Report) -> Exit {
    let left_over = plan
        .skipped
        .iter()
        .filter(|(_, s)| *s != Skip::Sent)
        .count();
    if report.failed + report.deferred + report.not_attempted + left_over > 0 {
        Exit::Incomplete
    } else {
        Exit::Ok
    }
}
