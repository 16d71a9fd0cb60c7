//! Dispatch: pacing → bounded concurrency → one SMTP transport → one
//! classified outcome per message → the ledger.
//!
//! Concurrency lives in exactly one place, [`Dispatcher::run`]: a single
//! loop takes the next job, waits for the pacer, writes the `sending` row,
//! and starts the transaction; the same loop consumes finished
//! transactions and writes their outcome rows. Only this loop writes the
//! ledger, so rows are never interleaved or lost.

pub mod connection;
mod outcome;
mod pace;
mod smtp;

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;

pub use crate::schedule::{DailyCap, DAILY_WINDOW};
pub use connection::{Auth, Failure, NoAuth, Password};
pub use outcome::{classify, Fault, Outcome};
pub use pace::{estimate, Pacer};
pub use smtp::{is_loopback, password_from_env, Secret, SetupError, Transport};

use crate::config::Retry;
use crate::contacts::Recipient;
use crate::ledger::{Event, LedgerError, LedgerWriter, Status};
use crate::render::Renderer;

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

struct Job {
    recipient: Recipient,
    tries: u32,
    not_before: Instant,
}

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

/// What to do with the next job when the daily cap is near.
enum CapCheck {
    Go,
    /// Sends in flight may take the last places: wait for their outcome.
    WaitForInFlight,
    /// The cap is reached.
    Reached,
}

/// The state the dispatch loop carries from one transaction to the next.
struct Run<'l> {
    ledger: &'l mut LedgerWriter,
    campaign: String,
    queue: VecDeque<Job>,
    retries: Vec<Job>,
    report: Report,
    /// Consecutive failed transactions, and the recipients that streak
    /// marked `failed` (re-marked `deferred` if the streak stops the run).
    streak: u32,
    streak_failed: Vec<String>,
    delivered_once: bool,
    cap: Option<DailyCap>,
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
        let now = Instant::now();
        let mut run = Run {
            campaign: ledger.campaign().to_string(),
            ledger,
            queue: recipients
                .into_iter()
                .map(|recipient| Job {
                    recipient,
                    tries: 0,
                    not_before: now,
                })
                .collect(),
            retries: Vec::new(),
            report: Report::default(),
            streak: 0,
            streak_failed: Vec::new(),
            delivered_once: false,
            cap,
            settings,
        };
        let mut in_flight = FuturesUnordered::new();
        // Ctrl-C is a change to true; a closed channel (no handler) is not.
        let mut stopping = *stop.borrow();
        if stopping {
            run.report.stop = Some(Stop::Interrupted);
        }

        loop {
            let mut next = if run.report.stop.is_none() {
                run.next_job()
            } else {
                None
            };
            let mut cap_wait = false;
            if next.is_some() {
                match run.cap_check(in_flight.len()) {
                    CapCheck::Go => {}
                    CapCheck::WaitForInFlight => {
                        run.put_back(next.take());
                        cap_wait = true;
                    }
                    CapCheck::Reached => run.put_back(next.take()),
                }
            }

            let Some(job) = next else {
                if in_flight.is_empty() && (run.report.stop.is_some() || run.retries.is_empty()) {
                    break;
                }
                // Nothing to start now: wait for a transaction to finish, a
                // backoff to end, or Ctrl-C.
                let wake = run.retries.iter().map(|j| j.not_before).min();
                let wake = wake.filter(|_| !cap_wait && run.report.stop.is_none());
                tokio::select! {
                    Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                        run.finish(done, observer)?;
                    }
                    _ = sleep_until(wake), if wake.is_some() => {}
                    Ok(()) = stop.changed(), if !stopping => {
                        stopping = true;
                        run.report.stop.get_or_insert(Stop::Interrupted);
                    }
                }
                continue;
            };

            // Wait for the pacer, but keep consuming finished transactions
            // (their rows must be written promptly) and honour Ctrl-C.
            let domain = job.recipient.email.domain().to_string();
            let permit = {
                let ready = pacer.ready(&domain);
                tokio::pin!(ready);
                loop {
                    tokio::select! {
                        permit = &mut ready => break Some(permit),
                        Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                            run.finish(done, observer)?;
                            if run.report.stop.is_some() { break None; }
                        }
                        Ok(()) = stop.changed(), if !stopping => {
                            stopping = true;
                            run.report.stop.get_or_insert(Stop::Interrupted);
                            break None;
                        }
                    }
                }
            };
            let Some(permit) = permit else {
                run.put_back(Some(job));
                continue;
            };

            let letter = match renderer.render(&job.recipient) {
                Ok(l) => l,
                Err(d) => {
                    // Validated in the plan; a failure here is still the
                    // recipient's, never a reason to stop everyone.
                    let email = job.recipient.email.to_string();
                    let attempt = run.ledger.ledger().attempts(&email) + 1;
                    let ev = Event::new(&run.campaign, &email, Status::Failed, attempt)
                        .with_detail(d.message);
                    run.ledger.append(&ev)?;
                    run.report.failed += 1;
                    observer.progress(Progress::Done {
                        event: &ev,
                        retry_in: None,
                    });
                    continue;
                }
            };
            // The envelope recipient: the representative, or the tester of
            // `--test-to`.
            let email = letter.to.email.to_string();
            let attempt = run.ledger.ledger().attempts(&email) + 1;
            // The `sending` row is durable before the first byte goes out:
            // after a crash the ledger says "outcome unknown", never
            // "not sent" for a letter that may have been delivered.
            let ev = Event::new(&run.campaign, &email, Status::Sending, attempt)
                .with_message_id(&letter.message_id);
            run.ledger.append(&ev)?;
            let job = Job {
                tries: job.tries + 1,
                ..job
            };
            observer.progress(Progress::Sending {
                email: &email,
                try_in_run: job.tries,
            });
            run.report.transactions += 1;
            let transport = &transport;
            in_flight.push(async move {
                let _permit = permit;
                let result = transport.send(&letter.message).await;
                Finished {
                    job,
                    email,
                    message_id: letter.message_id,
                    result,
                }
            });
        }

        transport.close().await;
        let mut report = run.report;
        report.not_attempted = run.queue.len();
        // Retries still waiting when the run stopped end deferred: their
        // last row says so and the next run retries them.
        report.deferred += run.retries.len();
        Ok(report)
    }
}

async fn sleep_until(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

impl Run<'_> {
    /// A retry whose backoff is over, else the next planned recipient.
    fn next_job(&mut self) -> Option<Job> {
        let now = Instant::now();
        match self.retries.iter().position(|j| j.not_before <= now) {
            Some(i) => Some(self.retries.remove(i)),
            None => self.queue.pop_front(),
        }
    }

    /// Returns a job that was taken but not started to where it came from.
    fn put_back(&mut self, job: Option<Job>) {
        match job {
            Some(j) if j.tries > 0 => self.retries.push(j),
            Some(j) => self.queue.push_front(j),
            None => {}
        }
    }

    /// Whether one more transaction fits under the daily cap. Transactions
    /// in flight count as sent until they end (the cap is never exceeded),
    /// but only a cap reached by `sent` rows stops the run.
    fn cap_check(&mut self, in_flight: usize) -> CapCheck {
        let Some(c) = self.cap.as_mut() else {
            return CapCheck::Go;
        };
        let now = Utc::now();
        if !c.allows(now, 0) {
            self.report.stop = Some(Stop::DailyCap {
                cap: c.cap(),
                frees_at: c.frees_at(),
            });
            CapCheck::Reached
        } else if !c.allows(now, in_flight) {
            CapCheck::WaitForInFlight
        } else {
            CapCheck::Go
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
        self.ledger.append(&ev)?;

        let mut retry_in = None;
        match outcome {
            Outcome::Sent { .. } => {
                self.streak = 0;
                self.streak_failed.clear();
                self.delivered_once = true;
                self.report.sent += 1;
                if let Some(c) = self.cap.as_mut() {
                    c.record(ev.time);
                }
            }
            Outcome::Permanent { .. } => {
                self.streak += 1;
                self.streak_failed.push(email.clone());
                self.report.failed += 1;
            }
            Outcome::Transient { .. } => {
                self.streak += 1;
                let wait = backoff(self.settings.retry.backoff_secs, job.tries);
                let not_before = Instant::now().checked_add(wait);
                match not_before {
                    Some(not_before)
                        if job.tries < self.settings.retry.attempts
                            && self.report.stop.is_none() =>
                    {
                        retry_in = Some(wait);
                        self.retries.push(Job { not_before, ..job });
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
            self.ledger.append(&ev)?;
            self.report.failed -= 1;
            self.report.deferred += 1;
        }
        Ok(())
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
