//! Dispatch: pacing → bounded concurrency → one SMTP transport → one
//! classified outcome per message → the ledger.
//!
//! Concurrency lives in exactly one place, [`Dispatcher::run`]: a single
//! loop asks the schedule for the next letter, writes its `sending` row
//! (with those of any further letters that may start at once, in one
//! fsync), and starts the transaction; the same loop consumes finished
//! transactions and writes their outcome rows, which are fsynced with the
//! next `sending` rows, before any wait, or at the end (group commit).
//! Only this loop writes the ledger, so rows are never interleaved or lost.

pub mod connection;
mod outcome;
mod pipelining;
mod progress;
mod report;
mod run;
mod settings;
mod smtp;
mod wire;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::diagnose::Fault;
pub use crate::schedule::{DailyCap, Pacer, DAILY_WINDOW, WAIT_STEP};
pub use connection::{Failure, Reached, Step};
pub use outcome::{classify, counts_toward_streak, decide, Outcome};
pub use progress::{Observer, Progress, OUTLOOK_EVERY};
pub use report::{Report, SendError, Stop};
pub use settings::{backoff, Settings, AHEAD_HORIZON, AHEAD_PER_SLOT, FAILURE_STREAK_LIMIT};
pub use smtp::{is_loopback, Secret, SetupError, Transport};

use crate::contacts::Recipient;
use crate::ledger::{LedgerWriter, SyncDone};
use crate::render::Renderer;
use crate::schedule::{Hold, Next};
use run::{drain_finished, sleep_for, Run, Start, LAUNCH_WITHIN};
use settings::READY_PER_SLOT;

/// Runs the transactions of one `send`.
pub struct Dispatcher<'a> {
    /// Renders each letter just before its transaction.
    pub renderer: &'a Renderer,
    /// The SMTP transport.
    pub transport: Transport,
    /// The pacer.
    pub pacer: Pacer,
    /// The daily cap, if any, primed from the ledger.
    pub cap: Option<DailyCap>,
    /// Tries and backoff.
    pub settings: Settings,
}

impl Dispatcher<'_> {
    /// Sends to `recipients`, writing every event to `ledger`. Returns when
    /// all have an outcome, or on a stop (`stop` turning true, the daily
    /// cap, a run-level fault) after the transactions in flight finished.
    /// `stop` set (to true) a second time quits at once: the transactions
    /// in flight are not waited for; those whose letter's text had not
    /// begun are recorded as not sent ([`Reached`]), the others stay
    /// unknown.
    ///
    /// Drive it with `Runtime::block_on` of a multi-thread runtime (as the
    /// CLI does): transactions run as tasks on the workers, so the loop's
    /// fsyncs hold up only the loop.
    pub async fn run(
        self,
        recipients: Vec<Recipient>,
        ledger: &mut LedgerWriter,
        mut stop: watch::Receiver<bool>,
        observer: &mut dyn Observer,
    ) -> Result<Report, SendError> {
        let Dispatcher {
            renderer,
            transport,
            pacer,
            cap,
            settings,
        } = self;
        let transport = Arc::new(transport);
        let mut run = Run::new(ledger, pacer, cap, settings, recipients);
        let mut in_flight = FuturesUnordered::new();
        // Ctrl-C is a change to true; a closed channel (no handler) is not.
        // A second change (true again) quits at once.
        let mut stopping = *stop.borrow_and_update();
        let mut quitting = false;
        if stopping {
            run.report.stop = Some(Stop::Interrupted);
        }
        // Letters picked while every slot was busy, their `sending` rows
        // written: each is launched the moment a slot frees, its row is on
        // disk and its pace allows it within `LAUNCH_WITHIN` (taken then,
        // at the instant it allows: [`Schedule::start`]).
        let mut ahead: VecDeque<Start> = VecDeque::new();
        // When the first of them may start, if its pace holds it.
        let mut paced: Option<DateTime<Utc>> = None;
        // A sync of their rows on a blocking thread, while the loop goes on
        // starting the letters whose rows are on disk already.
        let mut syncing: Option<JoinHandle<SyncDone>> = None;

        // The last wait told to the observer, so each is told once.
        let mut told: Option<(Hold, Option<DateTime<Utc>>)> = None;
        loop {
            run.tell_outlook(observer);
            if run.report.stop.is_some() {
                for start in ahead.drain(..) {
                    run.withdraw(start, observer)?;
                }
            } else {
                let mut launched = false;
                paced = None;
                while let Some(first) = ahead.front().filter(|s| {
                    in_flight.len() < run.pacer.concurrency() && run.ledger.is_synced(s.row)
                }) {
                    // A pace that frees the letter within moments is
                    // waited for in its own task, not here: the loop goes
                    // on writing outcomes and preparing letters meanwhile.
                    let at = match run
                        .schedule
                        .start(first.domain(), Utc::now(), LAUNCH_WITHIN)
                    {
                        Ok(at) => at,
                        Err(until) => {
                            // Woken when it may be launched so.
                            paced = Some(until - LAUNCH_WITHIN);
                            break;
                        }
                    };
                    let start = ahead.pop_front().expect("checked above");
                    in_flight.push(run.launch(start, at, &transport, observer));
                    launched = true;
                }
                if launched {
                    continue;
                }
            }
            let next = if run.report.stop.is_some() {
                None
            } else if in_flight.len() >= run.pacer.concurrency() || !ahead.is_empty() {
                // Every slot is busy, or the letters prepared ahead (which
                // go first) wait for the disk: a transaction or the sync
                // must end first.
                Some(Next::Wait {
                    until: None,
                    hold: Hold::InFlight,
                })
            } else {
                Some(run.schedule.next(Utc::now(), in_flight.len()))
            };
            let for_a_slot = matches!(
                next,
                Some(Next::Wait {
                    hold: Hold::InFlight,
                    ..
                })
            );
            let wake = match next {
                Some(Next::Go(job)) => {
                    told = None;
                    // This job, and every further one the schedule lets go
                    // right now: their `sending` rows share one fsync
                    // (group commit), so concurrent transactions do not
                    // queue for the disk one by one. Transactions that
                    // ended meanwhile are taken in first: their outcome
                    // rows join this commit and their slots are free.
                    let mut batch = Vec::new();
                    if let Some(start) = run.prepare(job, renderer, observer)? {
                        batch.push(start);
                    }
                    loop {
                        drain_finished(&mut in_flight, &mut run, observer)?;
                        let busy = in_flight.len() + batch.len();
                        if run.report.stop.is_some() || busy >= run.pacer.concurrency() {
                            break;
                        }
                        let Next::Go(job) = run.schedule.next(Utc::now(), busy) else {
                            break;
                        };
                        if let Some(start) = run.prepare(job, renderer, observer)? {
                            batch.push(start);
                        }
                    }
                    // The `sending` rows are durable before the first byte
                    // goes out: after a crash the ledger says "outcome
                    // unknown", never "not sent" for a letter that may have
                    // been delivered. The same fsync commits the outcome
                    // rows written since the last one: a recipient's
                    // outcome is on disk before its next try.
                    // A transaction that ended meanwhile may have stopped
                    // the run (a refused sign-in, the quota): then the batch
                    // is withdrawn, not launched.
                    if run.report.stop.is_some() {
                        for start in batch.drain(..) {
                            run.withdraw(start, observer)?;
                        }
                    }
                    run.ledger.commit()?;
                    for start in batch {
                        // Their pace was taken by `next`, before now.
                        in_flight.push(run.launch(start, Utc::now(), &transport, observer));
                    }
                    continue;
                }
                Some(Next::Wait {
                    hold: Hold::InFlight,
                    ..
                }) if ahead.len() < AHEAD_PER_SLOT * run.pacer.concurrency()
                    && run.may_look_ahead() =>
                {
                    // Prepare the next letters now, so that their fsync
                    // (below, on another thread, with the outcome rows
                    // since the last one) overlaps the transactions in
                    // flight instead of following them. Topped up as they
                    // start: the slots that free during a sync find letters
                    // synced by the one before.
                    while ahead.len() < AHEAD_PER_SLOT * run.pacer.concurrency() {
                        let busy = in_flight.len() + ahead.len();
                        let Some(job) = run.schedule.pick(Utc::now(), busy, AHEAD_HORIZON) else {
                            break;
                        };
                        ahead.extend(run.prepare(job, renderer, observer)?);
                    }
                    None
                }
                None | Some(Next::Empty) => {
                    if in_flight.is_empty() {
                        break;
                    }
                    None
                }
                Some(Next::Wait { until, hold }) => run.on_hold(hold, until, &mut told, observer),
            };
            if run.report.stop.is_some() && in_flight.is_empty() {
                break;
            }
            // Nothing to start now: wait for a transaction to finish, the
            // sync, the hold to end, or Ctrl-C. Rows waiting for the disk go
            // there now (a hold may last hours). Only a slot awaited (at
            // most `timeout_secs`): the outcome rows share the next sync,
            // which starts once fewer than `READY_PER_SLOT` letters per slot
            // are ready on disk (so that each sync covers several letters,
            // not one, while the slots still find letters ready).
            if !for_a_slot {
                run.ledger.commit()?;
            } else if syncing.is_none() {
                let ready = ahead.iter().filter(|s| run.ledger.is_synced(s.row)).count();
                if ready < ahead.len() && ready < READY_PER_SLOT * run.pacer.concurrency() {
                    if let Some(pending) = run.ledger.start_sync()? {
                        syncing = Some(tokio::task::spawn_blocking(move || pending.run()));
                    }
                }
            }
            // A letter prepared ahead waits for its pace: wake for it.
            let wake = wake
                .or_else(|| paced.map(|t| (t - Utc::now()).to_std().unwrap_or_default()))
                .filter(|_| run.report.stop.is_none());
            tokio::select! {
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    run.finish(done, observer)?;
                }
                done = sync_end(&mut syncing), if syncing.is_some() => {
                    syncing = None;
                    run.ledger.finish_sync(done)?;
                }
                _ = sleep_for(wake), if wake.is_some() => {}
                Ok(()) = stop.changed(), if !quitting => {
                    quitting = stopping;
                    stopping = true;
                    run.report.stop.get_or_insert(Stop::Interrupted);
                }
            }
            if quitting {
                // Outcomes already in are written as they are; then the
                // rest, without waiting for the server.
                drain_finished(&mut in_flight, &mut run, observer)?;
                run.quit(ahead.drain(..), observer)?;
                break;
            }
        }
        debug_assert!(
            ahead.is_empty(),
            "a prepared letter neither sent nor withdrawn"
        );

        // Every outcome row on disk before the run reports its end.
        if syncing.is_some() {
            let done = sync_end(&mut syncing).await;
            run.ledger.finish_sync(done)?;
        }
        run.ledger.commit()?;
        if !quitting {
            transport.close().await;
        }
        let mut report = run.report;
        report.not_attempted = run.schedule.fresh_len();
        // Retries still waiting when the run stopped end deferred: their
        // last row says so and the next run retries them.
        report.deferred += run.schedule.retry_len();
        Ok(report)
    }
}

/// The end of the sync under way (never, if none is).
async fn sync_end(syncing: &mut Option<JoinHandle<SyncDone>>) -> SyncDone {
    match syncing.as_mut() {
        // A panic in the sync is a bug: surface it.
        Some(handle) => handle.await.unwrap_or_else(|e| match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => unreachable!("sync tasks are never cancelled"),
        }),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(30, 1), Duration::from_secs(30));
        assert_eq!(backoff(30, 2), Duration::from_secs(60));
        assert_eq!(backoff(30, 3), Duration::from_secs(120));
        assert_eq!(backoff(0, 5), Duration::ZERO);
    }
}
