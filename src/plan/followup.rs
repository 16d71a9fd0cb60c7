//! Who is due for a follow-up stage (issue 21), from the delivery logs of
//! the first letter and of each stage before it.
//!
//! A recipient is due for stage `k` when the letter of stage `k - 1` was
//! accepted (`sent`) at least `after_days` whole days ago, nobody at the
//! office answered any letter of the chain (a `replied` row; an
//! `auto_replied` does not count), no letter of the chain bounced (any
//! `bounced` row, hard, soft or matched by address only) and stage `k`'s
//! own log does not keep it from a letter, as the first letter's log does
//! (`sent`, `failed`, outcome unknown).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use crate::config::{stage_log, Campaign};
use crate::contacts::{ContactReader, ContactRow, Recipient};
use crate::ledger::{recipient_key, Ledger, LedgerError, State, StateOf, Status};
use crate::problem::{Diagnostic, Problems};
use crate::render::thread::placeholder;
use crate::render::{Renderer, Thread, Threads};
use crate::schedule::Zones;

use super::{skip_for, Addressee, Resend, Selection, Skip};

mod check;
pub use check::{check_stages, undefined_in_stages};

/// The logs of a campaign, first letter first, then one per stage.
#[derive(Debug, Default)]
pub struct Chains {
    logs: Vec<Ledger>,
    /// Per log: each recipient's last `sent` row (time, Message-ID).
    sent: Vec<HashMap<String, (DateTime<Utc>, String)>>,
    /// Recipients with a `replied` row in any log.
    replied: HashSet<String>,
    /// Recipients with a `bounced` row in any log.
    bounced: HashSet<String>,
}

/// Why a recipient gets no letter of this stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Someone answered a letter of the chain: the chain ends.
    Replied,
    /// A letter of the chain bounced: the chain ends.
    Bounced,
    /// The letter before this stage was not accepted (not sent yet,
    /// failed, deferred or unknown).
    NotSent,
    /// This stage's own log keeps it from a letter (already sent, failed,
    /// outcome unknown).
    Stage(Skip),
}

impl Stopped {
    /// In words a coordinator understands.
    pub fn reason(self) -> &'static str {
        match self {
            Stopped::Replied => "answered",
            Stopped::Bounced => "bounced",
            Stopped::NotSent => "whose letter before was not sent",
            Stopped::Stage(s) => s.reason(),
        }
    }
}

/// Whether a recipient is due for a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Due now; the follow-up replies to this thread.
    Now(Thread),
    /// Due at this time (the letter before went less than `after_days`
    /// ago).
    At(DateTime<Utc>),
    /// Not in this stage.
    Never(Stopped),
}

impl Chains {
    /// Reads the campaign's log and the log of each of its stages.
    pub fn read(campaign: &Campaign) -> Result<Chains, LedgerError> {
        let main = &campaign.campaign.log;
        let first = Ledger::read(main)?;
        // Every log of the chain is this campaign's (issue 23, item 6).
        first.check_campaign(main, &campaign.campaign.name)?;
        let mut logs = vec![first];
        for stage in 1..=campaign.followups.len() {
            let path = stage_log(main, stage);
            let log = Ledger::read(&path)?;
            log.check_campaign(&path, &campaign.campaign.name)?;
            logs.push(log);
        }
        Ok(Chains::new(logs))
    }

    /// The chains of these logs: the first letter's, then stage 1's, …
    pub fn new(logs: Vec<Ledger>) -> Chains {
        let mut chains = Chains {
            sent: vec![HashMap::new(); logs.len()],
            ..Chains::default()
        };
        for (i, log) in logs.iter().enumerate() {
            for e in log.events() {
                let key = recipient_key(&e.email);
                match e.status {
                    Status::Sent => {
                        chains.sent[i].insert(key, (e.time, e.message_id.clone()));
                    }
                    Status::Replied => {
                        chains.replied.insert(key);
                    }
                    Status::Bounced => {
                        chains.bounced.insert(key);
                    }
                    _ => {}
                }
            }
        }
        chains.logs = logs;
        chains
    }

    /// The log of `stage` (0: the first letter).
    pub fn log(&self, stage: usize) -> Option<&Ledger> {
        self.logs.get(stage)
    }

    /// Every log, first letter first.
    pub fn logs(&self) -> &[Ledger] {
        &self.logs
    }

    /// Whether `email` is due for `stage` (1-based) at `now`, the letter
    /// before it having to be `after_days` old.
    pub fn due(
        &self,
        email: &str,
        stage: usize,
        after_days: u32,
        now: DateTime<Utc>,
        resend: Resend,
    ) -> Due {
        let key = recipient_key(email);
        if self.replied.contains(&key) {
            return Due::Never(Stopped::Replied);
        }
        if self.bounced.contains(&key) {
            return Due::Never(Stopped::Bounced);
        }
        let (Some(before), Some(this)) = (self.logs.get(stage - 1), self.logs.get(stage)) else {
            return Due::Never(Stopped::NotSent);
        };
        if let Some(skip) = skip_for(this.state_of(email), resend) {
            return Due::Never(Stopped::Stage(skip));
        }
        if before.state_of(email) != Some(State::Sent) {
            return Due::Never(Stopped::NotSent);
        }
        let Some(&(previous, _)) = self.sent[stage - 1].get(&key) else {
            return Due::Never(Stopped::NotSent);
        };
        let at = previous + Duration::days(i64::from(after_days));
        if now < at {
            return Due::At(at);
        }
        let mut message_ids = Vec::with_capacity(stage);
        for sent in &self.sent[..stage] {
            match sent.get(&key) {
                Some((_, id)) if !id.trim().is_empty() => message_ids.push(id.trim().to_string()),
                // A letter sent with no Message-ID recorded (a log edited
                // by hand): the thread skips it rather than name nothing.
                _ => {}
            }
        }
        let first = self.sent[0].get(&key).map_or(previous, |(t, _)| *t);
        Due::Now(Thread {
            message_ids,
            first_sent_on: first,
            previous_sent_on: previous,
        })
    }
}

/// The threads of stage `stage` for `preview --stage`: each recipient's
/// recorded letters where the logs have them (due or not), else a
/// stand-in dated `now`.
pub fn preview_threads(chains: &Chains, stage: usize, domain: &str, now: DateTime<Utc>) -> Threads {
    let mut threads = Threads::everyone(placeholder(stage, domain, now));
    let Some(before) = chains.sent.get(stage.wrapping_sub(1)) else {
        return threads;
    };
    for (key, &(previous, _)) in before {
        let ids = chains.sent[..stage]
            .iter()
            .filter_map(|s| s.get(key))
            .map(|(_, id)| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .collect();
        let first = chains.sent[0].get(key).map_or(previous, |(t, _)| *t);
        threads.insert(
            key,
            Thread {
                message_ids: ids,
                first_sent_on: first,
                previous_sent_on: previous,
            },
        );
    }
    threads
}

/// The log files a campaign's daily cap counts: the first letter's and
/// each stage's (a follow-up is a message like any other).
pub fn all_logs(campaign: &Campaign) -> Vec<std::path::PathBuf> {
    let main = &campaign.campaign.log;
    std::iter::once(main.to_path_buf())
        .chain((1..=campaign.followups.len()).map(|k| stage_log(main, k)))
        .collect()
}

/// Reads the stage logs of `campaign` (not the first letter's), for the
/// daily cap of a first-letter run.
pub fn stage_ledgers(campaign: &Campaign) -> Result<Vec<Ledger>, LedgerError> {
    all_logs(campaign)
        .iter()
        .skip(1)
        .map(|p| {
            let log = Ledger::read(p)?;
            log.check_campaign(p, &campaign.campaign.name)?;
            Ok(log)
        })
        .collect()
}

/// The plan of one follow-up stage.
#[derive(Debug, Default)]
pub struct StagePlan {
    /// The stage (1-based).
    pub stage: usize,
    /// Due now, in file order.
    pub to_send: Vec<Recipient>,
    /// Due later: when each becomes due.
    pub waiting: Vec<(Addressee, DateTime<Utc>)>,
    /// Not in this stage, and why.
    pub stopped: Vec<(Addressee, Stopped)>,
    /// Due now but beyond `--limit`.
    pub later: Vec<Addressee>,
    /// Problems found; any error means nothing may be sent.
    pub problems: Vec<Diagnostic>,
}

impl StagePlan {
    /// When the next recipient not yet due becomes due.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.waiting.iter().map(|(_, t)| *t).min()
    }

    /// How many were stopped for this reason.
    pub fn stopped_by(&self, why: Stopped) -> usize {
        self.stopped.iter().filter(|(_, s)| *s == why).count()
    }

    /// Whether any problem is an error (then nothing may be sent).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Diagnostic::is_error)
    }
}

/// Plans follow-up stage `stage` (1-based) at `now`: who is due, each
/// letter rendered once to validate it. The renderer returned holds the
/// threads of those due, for the run to render them again.
pub fn plan_stage(
    campaign: &Campaign,
    stage: usize,
    chains: &Chains,
    selection: &Selection,
    resend: Resend,
    now: DateTime<Utc>,
) -> Result<(StagePlan, Renderer), Problems> {
    let after_days = campaign
        .followups
        .get(stage.wrapping_sub(1))
        .map(|f| f.after_days)
        .unwrap_or(u32::MAX);
    let mut renderer = Renderer::for_stage(campaign, stage)?;
    let zones = Zones::new(campaign);
    let contacts = ContactReader::open(&campaign.contacts).map_err(|d| Problems(vec![d]))?;
    let mut plan = StagePlan {
        stage,
        ..StagePlan::default()
    };
    let mut threads = Threads::default();
    let mut due = Vec::new();
    for row in contacts {
        let r = match row {
            ContactRow::Problem(d) => {
                plan.problems.push(d);
                continue;
            }
            ContactRow::Office(_) => continue,
            ContactRow::Recipient(r) => r,
        };
        if !selection.wants(&r) {
            continue;
        }
        match chains.due(r.email.as_ref(), stage, after_days, now, resend) {
            Due::Now(thread) => {
                if selection.limit.is_some_and(|n| due.len() >= n) {
                    plan.later.push(Addressee::of(r));
                    continue;
                }
                threads.insert(r.email.as_ref(), thread);
                due.push(r);
            }
            Due::At(t) => plan.waiting.push((Addressee::of(r), t)),
            Due::Never(why) => plan.stopped.push((Addressee::of(r), why)),
        }
    }
    renderer.set_threads(threads);
    for r in due {
        if let Err(d) = zones.of(&r) {
            plan.problems.push(d);
            continue;
        }
        match renderer.render(&r) {
            Ok(letter) => {
                plan.problems.extend(letter.warnings);
                plan.to_send.push(r);
            }
            Err(d) => plan.problems.push(d),
        }
    }
    Ok((plan, renderer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Event;

    const DAY: i64 = 86_400;

    fn at(now: DateTime<Utc>, secs_ago: i64) -> DateTime<Utc> {
        now - Duration::seconds(secs_ago)
    }

    fn row(email: &str, status: Status, time: DateTime<Utc>, id: &str, detail: &str) -> Event {
        let mut e = Event::new("t", email, status, 1)
            .with_message_id(id)
            .with_detail(detail);
        e.time = time;
        e
    }

    fn sent(email: &str, time: DateTime<Utc>, id: &str) -> Vec<Event> {
        vec![
            row(email, Status::Sending, time, id, ""),
            row(email, Status::Sent, time, id, "250 ok"),
        ]
    }

    fn due(chains: &Chains, email: &str, stage: usize, now: DateTime<Utc>) -> Due {
        chains.due(email, stage, 10, now, Resend::default())
    }

    #[test]
    fn due_exactly_after_days_after_the_letter_before_not_a_second_sooner() {
        let now = Utc::now();
        let sent_at = at(now, 10 * DAY);
        let main = Ledger::from_events(sent("a@example.org", sent_at, "<a0@x.example>"));
        let chains = Chains::new(vec![main, Ledger::default()]);
        assert!(matches!(due(&chains, "a@example.org", 1, now), Due::Now(_)));
        let early = now - Duration::seconds(1);
        assert_eq!(
            due(&chains, "a@example.org", 1, early),
            Due::At(sent_at + Duration::days(10))
        );
        assert_eq!(
            due(&chains, "b@example.org", 1, now),
            Due::Never(Stopped::NotSent)
        );
    }

    #[test]
    fn a_reply_to_any_stage_or_any_bounce_ends_the_chain_an_auto_reply_does_not() {
        let now = Utc::now();
        let old = at(now, 30 * DAY);
        let mut rows = Vec::new();
        for who in ["r", "o", "b", "h", "f"] {
            let email = format!("{who}@example.org");
            if who == "f" {
                rows.push(row(&email, Status::Sending, old, "<f0@x>", ""));
                rows.push(row(&email, Status::Failed, old, "<f0@x>", "550 no"));
            } else {
                rows.extend(sent(&email, old, &format!("<{who}0@x>")));
            }
        }
        rows.push(row("o@example.org", Status::AutoReplied, now, "", "away"));
        rows.push(row(
            "b@example.org",
            Status::Bounced,
            now,
            "",
            "5.1.1 gone (matched by address only)",
        ));
        rows.push(row(
            "h@example.org",
            Status::Bounced,
            now,
            "<h0@x>",
            "4.2.2 full",
        ));
        let main = Ledger::from_events(rows);
        // `r` answered the first follow-up: its `replied` row is in the
        // first letter's log all the same (the inbox writes there).
        let mut stage1 = sent("r@example.org", at(now, 20 * DAY), "<r1@x>");
        stage1.extend(sent("o@example.org", at(now, 20 * DAY), "<o1@x>"));
        let main = Ledger::from_events(main.events().iter().cloned().chain([row(
            "R@example.org",
            Status::Replied,
            now,
            "<r1@x>",
            "hi",
        )]));
        let chains = Chains::new(vec![main, Ledger::from_events(stage1), Ledger::default()]);
        assert_eq!(
            due(&chains, "r@example.org", 2, now),
            Due::Never(Stopped::Replied)
        );
        assert_eq!(
            due(&chains, "b@example.org", 1, now),
            Due::Never(Stopped::Bounced)
        );
        assert_eq!(
            due(&chains, "h@example.org", 1, now),
            Due::Never(Stopped::Bounced)
        );
        assert_eq!(
            due(&chains, "f@example.org", 1, now),
            Due::Never(Stopped::NotSent)
        );
        // Stage 1 already went to `o`: never twice.
        assert_eq!(
            due(&chains, "o@example.org", 1, now),
            Due::Never(Stopped::Stage(Skip::Sent))
        );
        match due(&chains, "o@example.org", 2, now) {
            Due::Now(t) => {
                assert_eq!(t.message_ids, ["<o0@x>", "<o1@x>"]);
                assert_eq!(t.first_sent_on, old);
                assert_eq!(t.previous_sent_on, at(now, 20 * DAY));
                assert_eq!(t.in_reply_to(), Some("<o1@x>"));
                assert_eq!(t.references(), "<o0@x> <o1@x>");
            }
            other => panic!("o is due for stage 2: {other:?}"),
        }
    }

    #[test]
    fn a_crash_mid_follow_up_leaves_it_unknown_not_due() {
        let now = Utc::now();
        let main = Ledger::from_events(sent("a@example.org", at(now, 11 * DAY), "<a0@x>"));
        let stage1 =
            Ledger::from_events([row("a@example.org", Status::Sending, now, "<a1@x>", "")]);
        let chains = Chains::new(vec![main, stage1]);
        assert_eq!(
            due(&chains, "a@example.org", 1, now),
            Due::Never(Stopped::Stage(Skip::Unknown))
        );
        let resend = Resend {
            unknown: true,
            ..Resend::default()
        };
        assert!(matches!(
            chains.due("a@example.org", 1, 10, now, resend),
            Due::Now(_)
        ));
    }
}
