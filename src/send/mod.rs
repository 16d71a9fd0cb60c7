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
mod pace;
mod smtp;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt as _;
use tokio::sync::watch;

pub use crate::schedule::{DailyCap, DAILY_WINDOW};
pub use connection::{Auth, Failure, NoAuth, Password};
pub use outcome::{classify, Fault, Outcome};
pub use pace::Pacer;
pub use smtp::{is_loopback, Secret, SetupError, Transport};

use crate::config::Retry;
use crate::contacts::Recipient;
use crate::ledger::{Event, LedgerError, LedgerWriter, Status};
use crate::render::Renderer;
use crate::schedule::{Held, Hold, Next, Schedule};

/// Consecutive failed transactions (of any recipients) that stop the run:
/// a provider that throttles or blocks the account fails everything.
pub const FAILURE_STREAK_LIMIT: u32 = 10;

/// What the run tells its observer (the CLI's progress bar or log lines).
#[derive(Debug)]
pub enum Progress<'a> {
    /// A transaction is starting.
    Sending {
        /// The recipient.
        email: &'a str,
        /// The try within this run (1-based).
        try_in_run: u32,
    },
    /// A transaction ended and its row is in the ledger.
    Done {
        /// The outcome row.
        event: &'a Event,
        /// When a transient failure will be retried in this run.
        retry_in: Option<Duration>,
    },
    /// `--wait`: nothing may go before `until` because of `hold` (a
    /// closed window or the daily cap). Sent once per new wait.
    Waiting {
        /// What holds the letters back.
        hold: Hold,
        /// When the next letter may go (`None`: not foreseeable).
        until: Option<DateTime<Utc>>,
    },
}

/// Receives [`Progress`]; the library never prints.
pub trait Observer {
    /// Called from the dispatch loop; keep it quick.
    fn progress(&mut self, p: Progress<'_>);
}

impl<F: FnMut(Progress<'_>)> Observer for F {
    fn progress(&mut self, p: Progress<'_>) {
        self(p)
    }
}

/// Why a run ended before every recipient had an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C.
    Interrupted,
    /// `daily_cap` reached; more may go at `frees_at`.
    DailyCap {
        /// The cap.
        cap: u32,
        /// When the oldest counted send leaves the 24 h window.
        frees_at: Option<DateTime<Utc>>,
    },
    /// The sending window holds the remaining letters back (a run
    /// without `--wait`).
    Window {
        /// The letters held, by zone, soonest opening first.
        held: Vec<Held>,
    },
    /// A run-level fault.
    Fault {
        /// Which.
        fault: Fault,
        /// The server's reply or the error.
        detail: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Recipients the server accepted.
    pub sent: usize,
    /// Recipients with a permanent failure.
    pub failed: usize,
    /// Recipients whose last try was transient (retried next run).
    pub deferred: usize,
    /// Planned recipients never tried (stopped early).
    pub not_attempted: usize,
    /// Transactions in all (tries).
    pub transactions: usize,
    /// Why the run stopped early, if it did.
    pub stop: Option<Stop>,
}

/// A failure that leaves the ledger untrustworthy: the run stops at once.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Writing the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Settings of one dispatch run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Tries and backoff.
    pub retry: Retry,
}

#[derive(Debug)]
struct Job {
    recipient: Recipient,
    tries: u32,
}

/// The longest single sleep of a wait for a window or the daily cap: the
/// wait is re-checked against the wall clock this often, so a machine that
/// slept (a closed laptop) carries on as soon as it wakes.
pub const WAIT_STEP: Duration = Duration::from_secs(1);

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

/// A transaction that ended: the job, its envelope recipient and
/// Message-ID, and the transaction's result.
struct Finished {
    job: Job,
    email: String,
    message_id: String,
    result: Result<lettre::transport::smtp::response::Response, Failure>,
}

/// A job whose `sending` row is written: its transaction starts once the
/// row is committed.
struct Start {
    job: Job,
    email: String,
    letter: crate::render::Rendered,
}

/// The state the dispatch loop carries from one transaction to the next.
struct Run<'l> {
    ledger: &'l mut LedgerWriter,
    campaign: String,
    schedule: Schedule<Job>,
    pacer: Pacer,
    report: Report,
    /// Consecutive failed transactions, and the recipients that streak
    /// marked `failed` (re-marked `deferred` if the streak stops the run).
    streak: u32,
    streak_failed: Vec<String>,
    delivered_once: bool,
    settings: Settings,
}

impl Dispatcher<'_> {
    /// Sends to `recipients`, writing every event to `ledger`. Returns when
    /// all have an outcome, or on a stop (`stop` turning true, the daily
    /// cap, a run-level fault) after the transactions in flight finished.
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
        let mut schedule = Schedule::new(pacer.rules().clone(), cap);
        for recipient in recipients {
            let zone = pacer.zone_of(&recipient);
            let (line, domain) = (recipient.line, recipient.email.domain().to_string());
            schedule.push(
                line,
                &domain,
                zone,
                Job {
                    recipient,
                    tries: 0,
                },
            );
        }
        let mut run = Run {
            campaign: ledger.campaign().to_string(),
            ledger,
            schedule,
            pacer,
            report: Report::default(),
            streak: 0,
            streak_failed: Vec::new(),
            delivered_once: false,
            settings,
        };
        let mut in_flight = FuturesUnordered::new();
        // Ctrl-C is a change to true; a closed channel (no handler) is not.
        let mut stopping = *stop.borrow();
        if stopping {
            run.report.stop = Some(Stop::Interrupted);
        }

        // The last wait told to the observer, so each is told once.
        let mut told: Option<(Hold, Option<DateTime<Utc>>)> = None;
        loop {
            let next = if run.report.stop.is_some() {
                None
            } else if in_flight.len() >= run.pacer.concurrency() {
                // Every slot is busy: a transaction must end first.
                Some(Next::Wait {
                    until: None,
                    hold: Hold::InFlight,
                })
            } else {
                Some(run.schedule.next(Utc::now(), in_flight.len()))
            };
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
                    run.ledger.commit()?;
                    for start in batch {
                        in_flight.push(run.launch(start, &transport, observer));
                    }
                    continue;
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
            // hold to end, or Ctrl-C; outcome rows waiting for the next
            // batch's fsync go to disk now (a hold may last hours).
            run.ledger.commit()?;
            let wake = wake.filter(|_| run.report.stop.is_none());
            tokio::select! {
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    run.finish(done, observer)?;
                }
                _ = sleep_for(wake), if wake.is_some() => {}
                Ok(()) = stop.changed(), if !stopping => {
                    stopping = true;
                    run.report.stop.get_or_insert(Stop::Interrupted);
                }
            }
        }

        // Every outcome row on disk before the run reports its end.
        run.ledger.commit()?;
        transport.close().await;
        let mut report = run.report;
        report.not_attempted = run.schedule.fresh_len();
        // Retries still waiting when the run stopped end deferred: their
        // last row says so and the next run retries them.
        report.deferred += run.schedule.retry_len();
        Ok(report)
    }
}

impl Run<'_> {
    /// Renders the job's letter and writes its `sending` row (committed by
    /// the caller before the transaction starts). A letter that does not
    /// render is the recipient's failure, written here: `None`.
    fn prepare(
        &mut self,
        job: Job,
        renderer: &Renderer,
        observer: &mut dyn Observer,
    ) -> Result<Option<Start>, SendError> {
        let letter = match renderer.render(&job.recipient) {
            Ok(l) => l,
            Err(d) => {
                // Validated in the plan; a failure here is still the
                // recipient's, never a reason to stop everyone.
                let email = job.recipient.email.to_string();
                let attempt = self.ledger.ledger().attempts(&email) + 1;
                let ev = Event::new(&self.campaign, &email, Status::Failed, attempt)
                    .with_detail(d.message);
                self.ledger.append_uncommitted(&ev)?;
                self.report.failed += 1;
                observer.progress(Progress::Done {
                    event: &ev,
                    retry_in: None,
                });
                return Ok(None);
            }
        };
        // The envelope recipient: the representative, or the tester of
        // `--test-to`.
        let email = letter.to.email.to_string();
        let attempt = self.ledger.ledger().attempts(&email) + 1;
        let ev = Event::new(&self.campaign, &email, Status::Sending, attempt)
            .with_message_id(&letter.message_id);
        self.ledger.append_uncommitted(&ev)?;
        let job = Job {
            tries: job.tries + 1,
            ..job
        };
        Ok(Some(Start { job, email, letter }))
    }

    /// Starts a prepared transaction as a task of its own, so it goes on
    /// while the loop waits for the disk.
    fn launch(
        &mut self,
        start: Start,
        transport: &Arc<Transport>,
        observer: &mut dyn Observer,
    ) -> impl std::future::Future<Output = Finished> {
        // The promise the whole resume design rests on; tests run debug
        // builds, so a change that breaks it fails them all.
        debug_assert!(
            self.ledger.is_committed(),
            "a transaction is starting before its `sending` row is on disk"
        );
        let Start { job, email, letter } = start;
        observer.progress(Progress::Sending {
            email: &email,
            try_in_run: job.tries,
        });
        self.report.transactions += 1;
        let transport = Arc::clone(transport);
        let task = tokio::spawn(async move {
            let result = transport.send(&letter.message).await;
            Finished {
                job,
                email,
                message_id: letter.message_id,
                result,
            }
        });
        async move {
            // A panic in a transaction is a bug: surface it.
            task.await.unwrap_or_else(|e| match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => unreachable!("transaction tasks are never cancelled"),
            })
        }
    }

    /// Decides what a hold means for the run: the pace and backoffs are
    /// waited for; a window or the daily cap ends the run unless it waits
    /// (`--wait`), then the observer is told once what it waits for.
    /// Returns how long to sleep before asking the schedule again.
    fn on_hold(
        &mut self,
        hold: Hold,
        until: Option<DateTime<Utc>>,
        told: &mut Option<(Hold, Option<DateTime<Utc>>)>,
        observer: &mut dyn Observer,
    ) -> Option<Duration> {
        let now = Utc::now();
        let left = until.map(|t| (t - now).to_std().unwrap_or_default());
        match hold {
            Hold::InFlight => None,
            Hold::Pace | Hold::Backoff => left,
            Hold::Window { .. } | Hold::DailyCap if !self.pacer.waits() => {
                self.report.stop = Some(match hold {
                    Hold::DailyCap => Stop::DailyCap {
                        cap: self.schedule.cap().map_or(0, DailyCap::cap),
                        frees_at: until,
                    },
                    _ => Stop::Window {
                        held: self.schedule.held_by_window(now),
                    },
                });
                None
            }
            Hold::Window { .. } | Hold::DailyCap => {
                if *told != Some((hold, until)) {
                    *told = Some((hold, until));
                    observer.progress(Progress::Waiting { hold, until });
                }
                // Short steps on the wall clock: tokio's timer does not
                // count time the machine spent asleep.
                Some(left.map_or(WAIT_STEP, |l| l.min(WAIT_STEP)))
            }
        }
    }

    /// Writes the outcome row of a finished transaction and decides what
    /// next.
    fn finish(&mut self, done: Finished, observer: &mut dyn Observer) -> Result<(), SendError> {
        let Finished {
            job,
            email,
            message_id,
            result,
        } = done;
        let attempt = self.ledger.ledger().attempts(&email);
        let outcome = classify(result, self.delivered_once);
        let (status, detail) = match &outcome {
            Outcome::Sent { .. } => (Status::Sent, outcome.detail().to_string()),
            Outcome::Transient { .. } => (Status::Deferred, outcome.detail().to_string()),
            Outcome::Permanent { .. } => (Status::Failed, outcome.detail().to_string()),
            // Not the recipient's fault and certainly not delivered:
            // deferred, so the next run tries again.
            Outcome::RunLevel { .. } => (
                Status::Deferred,
                format!("not sent, run stopped: {}", outcome.detail()),
            ),
        };
        let ev = Event::new(&self.campaign, &email, status, attempt)
            .with_smtp_code(outcome.code())
            .with_message_id(message_id)
            .with_detail(detail);
        self.ledger.append_uncommitted(&ev)?;

        let mut retry_in = None;
        match outcome {
            Outcome::Sent { .. } => {
                self.streak = 0;
                self.streak_failed.clear();
                self.delivered_once = true;
                self.report.sent += 1;
                self.schedule.record_sent(ev.time);
            }
            Outcome::Permanent { .. } => {
                self.streak += 1;
                self.streak_failed.push(email.clone());
                self.report.failed += 1;
            }
            Outcome::Transient { .. } => {
                self.streak += 1;
                let wait = backoff(self.settings.retry.backoff_secs, job.tries);
                let not_before = chrono::TimeDelta::from_std(wait)
                    .ok()
                    .and_then(|w| Utc::now().checked_add_signed(w));
                match not_before {
                    Some(not_before)
                        if job.tries < self.settings.retry.attempts
                            && self.report.stop.is_none() =>
                    {
                        retry_in = Some(wait);
                        let zone = self.pacer.zone_of(&job.recipient);
                        let (line, domain) =
                            (job.recipient.line, job.recipient.email.domain().to_string());
                        self.schedule
                            .push_retry(line, &domain, zone, not_before, job);
                    }
                    _ => self.report.deferred += 1,
                }
            }
            Outcome::RunLevel { fault, detail, .. } => {
                self.report.deferred += 1;
                self.report
                    .stop
                    .get_or_insert(Stop::Fault { fault, detail });
            }
        }
        observer.progress(Progress::Done {
            event: &ev,
            retry_in,
        });
        if self.streak >= FAILURE_STREAK_LIMIT && self.report.stop.is_none() {
            self.report.stop = Some(Stop::Fault {
                fault: Fault::Streak,
                detail: format!(
                    "{FAILURE_STREAK_LIMIT} failed transactions in a row; the last: {}",
                    ev.detail
                ),
            });
            self.unblame_streak()?;
        }
        Ok(())
    }

    /// A streak of failures is about the account or the provider (a 5xx
    /// "daily sending limit exceeded" looks permanent per message), so the
    /// recipients it marked `failed` are re-marked `deferred`: the next run
    /// tries them again instead of skipping them for good.
    fn unblame_streak(&mut self) -> Result<(), SendError> {
        for email in std::mem::take(&mut self.streak_failed) {
            let attempt = self.ledger.ledger().attempts(&email);
            let ev = Event::new(&self.campaign, &email, Status::Deferred, attempt).with_detail(
                "not counted as failed: the run stopped on a streak of failures (the provider may be refusing the account)",
            );
            self.ledger.append_uncommitted(&ev)?;
            self.report.failed -= 1;
            self.report.deferred += 1;
        }
        Ok(())
    }
}

/// Writes the outcome rows of every transaction that has already ended,
/// without waiting for any other.
fn drain_finished<F: std::future::Future<Output = Finished>>(
    in_flight: &mut FuturesUnordered<F>,
    run: &mut Run<'_>,
    observer: &mut dyn Observer,
) -> Result<(), SendError> {
    while let Some(Some(done)) = in_flight.next().now_or_never() {
        run.finish(done, observer)?;
    }
    Ok(())
}

async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// `base`, doubling after each try: 30 s, 60 s, 120 s…
pub fn backoff(base_secs: u64, tries: u32) -> Duration {
    Duration::from_secs(base_secs.saturating_mul(1u64 << tries.saturating_sub(1).min(16)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(30, 1), Duration::from_secs(30));
        assert_eq!(backoff(30, 2), Duration::from_secs(60));
        assert_eq!(backoff(30, 3), Duration::from_secs(120));
        assert_eq!(backoff(0, 5), Duration::ZERO);
    }
}
