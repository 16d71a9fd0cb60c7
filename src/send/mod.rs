//! Dispatch: pacing → bounded concurrency → one SMTP transport → one
//! classified outcome per message → the ledger.
//!
//! Concurrency lives in exactly one place, [`Dispatcher::run`]: a single
//! loop takes the next job, waits for the pacer, writes the `sending` row,
//! and starts the transaction; the same loop consumes finished
//! transactions and writes their outcome rows. Only this loop writes the
//! ledger, so rows are never interleaved or lost.

mod outcome;
mod pace;
mod smtp;

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;

pub use outcome::{classify, Fault, Outcome};
pub use pace::{estimate, DailyCap, Pacer, DAILY_WINDOW};
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
    /// The whole-transaction timeout, for messages.
    pub timeout_secs: u64,
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
    /// Tries, backoff, timeout.
    pub settings: Settings,
}

/// A transaction that ended: the job, its envelope recipient and
/// Message-ID, and lettre's result (`None`: timed out).
struct Finished {
    job: Job,
    email: String,
    message_id: String,
    result:
        Option<Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error>>,
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
            mut cap,
            settings,
        } = self;
        let campaign = ledger.campaign().to_string();
        let now = Instant::now();
        let mut queue: VecDeque<Job> = recipients
            .into_iter()
            .map(|recipient| Job {
                recipient,
                tries: 0,
                not_before: now,
            })
            .collect();
        let mut retries: Vec<Job> = Vec::new();
        let mut in_flight: FuturesUnordered<_> = FuturesUnordered::new();
        let mut report = Report::default();
        let mut streak = 0u32;
        let mut delivered_once = false;
        let mut stopping = *stop.borrow();
        if stopping {
            report.stop = Some(Stop::Interrupted);
        }

        loop {
            // Next job: a retry whose backoff is over, else the next planned
            // recipient.
            let mut next = None;
            if report.stop.is_none() {
                let now = Instant::now();
                if let Some(i) = retries.iter().position(|j| j.not_before <= now) {
                    next = Some(retries.remove(i));
                } else {
                    next = queue.pop_front();
                }
                if let (Some(c), Some(_)) = (cap.as_mut(), &next) {
                    if !c.allows(Utc::now(), in_flight.len()) {
                        put_back(next.take(), &mut queue, &mut retries);
                        report.stop = Some(Stop::DailyCap {
                            cap: c.cap(),
                            frees_at: c.frees_at(),
                        });
                    }
                }
            }

            let Some(job) = next else {
                if in_flight.is_empty() && (report.stop.is_some() || retries.is_empty()) {
                    break;
                }
                // Nothing to start now: wait for a transaction to finish, a
                // backoff to end, or Ctrl-C.
                let wake = retries.iter().map(|j| j.not_before).min();
                tokio::select! {
                    Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                        finish(done, &campaign, ledger, &mut report, &mut streak, &mut delivered_once,
                               &mut retries, cap.as_mut(), &settings, observer)?;
                    }
                    _ = sleep_until(wake), if wake.is_some() && report.stop.is_none() => {}
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        report.stop.get_or_insert(Stop::Interrupted);
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
                            finish(done, &campaign, ledger, &mut report, &mut streak, &mut delivered_once,
                                   &mut retries, cap.as_mut(), &settings, observer)?;
                            if report.stop.is_some() { break None; }
                        }
                        _ = stop.changed(), if !stopping => {
                            stopping = true;
                            report.stop.get_or_insert(Stop::Interrupted);
                            break None;
                        }
                    }
                }
            };
            let Some(permit) = permit else {
                put_back(Some(job), &mut queue, &mut retries);
                continue;
            };

            let letter = match renderer.render(&job.recipient) {
                Ok(l) => l,
                Err(d) => {
                    let email = job.recipient.email.to_string();
                    let attempt = ledger.ledger().attempts(&email) + 1;
                    // Validated in the plan; a failure here is still the
                    // recipient's, never a reason to stop everyone.
                    let ev = Event::new(&campaign, &email, Status::Failed, attempt)
                        .with_detail(d.message);
                    ledger.append(&ev)?;
                    report.failed += 1;
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
            let attempt = ledger.ledger().attempts(&email) + 1;
            // The `sending` row is durable before the first byte goes out:
            // after a crash the ledger says "outcome unknown", never
            // "not sent" for a letter that may have been delivered.
            let ev = Event::new(&campaign, &email, Status::Sending, attempt)
                .with_message_id(&letter.message_id);
            ledger.append(&ev)?;
            let job = Job {
                tries: job.tries + 1,
                ..job
            };
            observer.progress(Progress::Sending {
                email: &email,
                try_in_run: job.tries,
            });
            report.transactions += 1;
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

        report.not_attempted = queue.len();
        // Retries still waiting when the run stopped end deferred: their
        // last row says so and the next run retries them.
        report.deferred += retries.len();
        Ok(report)
    }
}

/// Returns a job that was taken but not started to where it came from.
fn put_back(job: Option<Job>, queue: &mut VecDeque<Job>, retries: &mut Vec<Job>) {
    match job {
        Some(j) if j.tries > 0 => retries.push(j),
        Some(j) => queue.push_front(j),
        None => {}
    }
}

async fn sleep_until(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Writes the outcome row of a finished transaction and decides what next.
#[allow(clippy::too_many_arguments)]
fn finish(
    Finished {
        job,
        email,
        message_id,
        result,
    }: Finished,
    campaign: &str,
    ledger: &mut LedgerWriter,
    report: &mut Report,
    streak: &mut u32,
    delivered_once: &mut bool,
    retries: &mut Vec<Job>,
    cap: Option<&mut DailyCap>,
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<(), SendError> {
    let attempt = ledger.ledger().attempts(&email);
    let outcome = classify(result, settings.timeout_secs, *delivered_once);
    let (status, detail) = match &outcome {
        Outcome::Sent { .. } => (Status::Sent, outcome.detail().to_string()),
        Outcome::Transient { .. } => (Status::Deferred, outcome.detail().to_string()),
        Outcome::Permanent { .. } => (Status::Failed, outcome.detail().to_string()),
        // Not the recipient's fault and certainly not delivered: deferred,
        // so the next run tries again.
        Outcome::RunLevel { .. } => (
            Status::Deferred,
            format!("not sent, run stopped: {}", outcome.detail()),
        ),
    };
    let ev = Event::new(campaign, &email, status, attempt)
        .with_smtp_code(outcome.code())
        .with_message_id(message_id)
        .with_detail(detail);
    ledger.append(&ev)?;

    let mut retry_in = None;
    match outcome {
        Outcome::Sent { .. } => {
            *streak = 0;
            *delivered_once = true;
            report.sent += 1;
            if let Some(c) = cap {
                c.record(ev.time);
            }
        }
        Outcome::Permanent { .. } => {
            *streak += 1;
            report.failed += 1;
        }
        Outcome::Transient { .. } => {
            *streak += 1;
            if job.tries < settings.retry.attempts && report.stop.is_none() {
                let wait = backoff(settings.retry.backoff_secs, job.tries);
                retry_in = Some(wait);
                retries.push(Job {
                    not_before: Instant::now() + wait,
                    ..job
                });
            } else {
                report.deferred += 1;
            }
        }
        Outcome::RunLevel { fault, detail, .. } => {
            report.deferred += 1;
            report.stop.get_or_insert(Stop::Fault { fault, detail });
        }
    }
    if *streak >= FAILURE_STREAK_LIMIT && report.stop.is_none() {
        report.stop = Some(Stop::Fault {
            fault: Fault::Streak,
            detail: format!(
                "{FAILURE_STREAK_LIMIT} failed transactions in a row; the last: {}",
                ev.detail
            ),
        });
    }
    observer.progress(Progress::Done {
        event: &ev,
        retry_in,
    });
    Ok(())
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
