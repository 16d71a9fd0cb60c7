//! `repmail send --dry-run`: the plan, the estimate and a line per letter,
//! over a list of any length in bounded memory.
//!
//! A real `send` keeps its plan (every recipient with its row) because the
//! dispatcher needs it; a dry run only talks about it. So it walks the
//! contacts three times instead of keeping them (issue 23: a million rows
//! held 1.7 GB): once to count, find the problems and queue each letter's
//! line, domain and zone for the estimate; once to print each letter to
//! send; once to print each recipient skipped, as the run's summary says
//! them in that order. The log is read as a [`Digest`] (a state per
//! recipient), not as every event. Each walk decides the same: the same
//! file, the same log, the same [`walk_send`].

use std::collections::HashSet;
use std::path::Path;

use chrono::Utc;
use chrono_tz::Tz;
use lettre::Address;
use repmail::config::Campaign;
use repmail::ledger::{recipient_key, Digest, Ledger};
use repmail::plan::{walk_send, Prepared, Resend, Selection, SendStep};
use repmail::schedule::{DailyCap, Hold, Zones, DAILY_WINDOW};
use repmail::send::Pacer;

use super::report::prepare;
use super::send::{check_plan, print_plan, Tally};
use super::{Exit, Output};
use repmail::time::{humanize, local_and_utc, zone_and_utc};

/// What a dry run needs to know besides the contacts.
pub struct DryRun<'a> {
    pub campaign: &'a Campaign,
    pub selection: &'a Selection,
    pub resend: Resend,
    /// `--test-to`: planned against no log, letters addressed there.
    pub test_to: Option<Address>,
    pub this_log: &'a Path,
    pub other_log: &'a Path,
    pub wait: bool,
    /// Whether the user gave `--limit`.
    pub limit_given: bool,
}

impl DryRun<'_> {
    pub fn run(&self, prepared: Prepared, out: Output) -> anyhow::Result<Exit> {
        let now = Utc::now();
        let since = now - chrono::Duration::from_std(DAILY_WINDOW).unwrap_or_default();
        // Test letters do not consult the campaign's state.
        let digest = match self.test_to {
            Some(_) => Digest::default(),
            None => {
                let digest = Digest::read(self.this_log, since)?;
                digest.check_campaign(self.this_log, &self.campaign.campaign.name)?;
                digest
            }
        };
        let pacer = Pacer::new(&self.campaign.rate)
            .with_zones(Zones::new(self.campaign))
            .with_wait(self.wait);

        // Walk 1: counts, problems, and each letter for the estimate.
        let mut tally = Tally::default();
        let mut problems = Vec::new();
        let wanted: HashSet<String> = self
            .selection
            .recipients
            .iter()
            .map(|w| recipient_key(w))
            .collect();
        let mut found = HashSet::new();
        let mut first: Option<(Address, u64)> = None;
        let mut domains: Vec<String> = Vec::new();
        let mut letters: Vec<(u64, u32, Tz)> = Vec::new();
        self.walk(prepared, &digest, |step| {
            let r = match &step {
                // Its warnings (size, what the HTML sanitiser removed) are
                // shown as `send` shows them.
                SendStep::Send(r, letter) => {
                    problems.extend(letter.warnings.iter().cloned());
                    r
                }
                SendStep::Skip(r, _) | SendStep::Later(r) => r,
                SendStep::Problem(d) => {
                    problems.push(d.clone());
                    return;
                }
            };
            if !wanted.is_empty() {
                found.insert(r.key());
            }
            match step {
                SendStep::Send(r, _) => {
                    tally.to_send += 1;
                    if first.is_none() {
                        first = Some((r.email.clone(), r.line));
                    }
                    let domain = r.email.domain();
                    let at = match domains.iter().rposition(|d| d == domain) {
                        Some(i) => i,
                        None => {
                            domains.push(domain.to_string());
                            domains.len() - 1
                        }
                    };
                    letters.push((r.line, at as u32, pacer.zone_of(&r)));
                }
                SendStep::Skip(r, why) => tally.skip(&r.email, why),
                SendStep::Later(_) => tally.later += 1,
                SendStep::Problem(_) => {}
            }
        });
        check_plan(
            &problems,
            &self.selection.recipients,
            |key| found.contains(key),
            self.campaign,
            out,
        )?;
        let cap = self.campaign.rate.daily_cap.map(|c| {
            let other = Ledger::read(self.other_log).unwrap_or_default();
            let mut sent = digest.sent();
            sent.extend(other.sent_since(since));
            // Follow-ups count against the cap (issue 21).
            for stage in repmail::plan::followup::stage_ledgers(self.campaign).unwrap_or_default() {
                sent.extend(stage.sent_since(since));
            }
            DailyCap::new(c, sent)
        });
        let estimate = repmail::schedule::estimate(
            pacer.rules(),
            cap.clone(),
            letters
                .iter()
                .map(|&(line, d, zone)| (line, domains[d as usize].as_str(), zone)),
            now,
        );
        drop(letters);
        tally.limited = self.limit_given;
        tally.test(
            self.test_to.as_ref(),
            first.as_ref().map(|(a, line)| (a, *line)),
        );
        print_plan(self.campaign, &tally, cap.as_ref(), &estimate, true, out);
        if !out.quiet {
            print_batches(&estimate, out);
            // Walk 2: the letters; walk 3: who is skipped.
            self.walk(prepare(self.campaign, out)?, &digest, |step| {
                if let SendStep::Send(r, l) = step {
                    tell!("would send  line {:>5}  {}  {}", r.line, l.to, l.subject);
                }
            });
            self.walk(prepare(self.campaign, out)?, &digest, |step| {
                if let SendStep::Skip(r, why) = step {
                    tell!(
                        "skip        line {:>5}  {}: {}",
                        r.line,
                        r.email,
                        why.reason()
                    );
                }
            });
            tell!("dry run: nothing was sent, no connection was made");
        }
        Ok(Exit::Ok)
    }

    /// One walk over the contacts, each step handed to `each`.
    fn walk(&self, prepared: Prepared, digest: &Digest, mut each: impl FnMut(SendStep)) {
        let Prepared {
            contacts,
            mut renderer,
            zones,
        } = prepared;
        if let Some(to) = &self.test_to {
            renderer.redirect_to(to.clone());
        }
        for step in walk_send(
            contacts,
            &renderer,
            &zones,
            digest,
            self.selection,
            self.resend,
        ) {
            each(step);
        }
    }
}

/// When letters would go, one line per batch between windows (or daily
/// cap waits).
fn print_batches(estimate: &repmail::schedule::Estimate, out: Output) {
    if out.quiet || !estimate.waits() {
        return;
    }
    for b in &estimate.batches {
        let why = match b.after {
            Some(Hold::Window { zone }) => {
                format!(" (window opens {})", zone_and_utc(b.start, zone))
            }
            Some(Hold::DailyCap) => " (daily cap frees)".to_string(),
            _ => String::new(),
        };
        let over = (b.end - b.start).to_std().unwrap_or_default();
        tell!(
            "would go   {} letter{} from {}, over {}{why}",
            b.letters,
            if b.letters == 1 { "" } else { "s" },
            local_and_utc(b.start),
            humanize(over),
        );
    }
}
