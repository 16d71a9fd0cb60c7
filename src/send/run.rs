//! The state of one dispatch run and the steps the loop in
//! [`super::Dispatcher::run`] takes with it: prepare a letter (render, write
//! its `sending` row), launch its transaction, write its outcome, decide
//! what a hold means. The loop decides when; this file decides what.

mod finish;
mod sleep;
mod tell;

pub(super) use sleep::{sleep_for, LAUNCH_WITHIN};

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt as _;

use super::connection::{Failure, Reached, Step};
use super::outcome::counts_toward_streak;
use super::outcome::{decide, Outcome};
use super::progress::{Observer, Progress};
use super::report::{Report, SendError, Stop};
use super::settings::{backoff, Settings, FAILURE_STREAK_LIMIT};
use super::smtp::Transport;
use crate::contacts::Recipient;
use crate::diagnose::Fault;
use crate::ledger::{Event, LedgerWriter, Status};
use crate::render::Renderer;
use crate::schedule::Pacer;
use crate::schedule::{DailyCap, Hold, Schedule, Wait};

/// A recipient in the schedule, with the tries it had in this run.
#[derive(Debug)]
pub(super) struct Job {
    recipient: Recipient,
    tries: u32,
}

/// A transaction that ended: the job, its envelope recipient and
/// Message-ID, and the transaction's result.
pub(super) struct Finished {
    job: Job,
    email: String,
    message_id: String,
    result: Result<lettre::transport::smtp::response::Response, (Step, Failure)>,
}

/// A job whose `sending` row is written: its transaction starts once the
/// row is committed.
pub(super) struct Start {
    job: Job,
    email: String,
    letter: crate::render::Rendered,
    /// The `sending` row, as counted by [`LedgerWriter::rows`].
    pub(super) row: usize,
}

impl Start {
    /// The recipient's domain, where the schedule queued the letter.
    pub(super) fn domain(&self) -> &str {
        self.job.recipient.email.domain()
    }
}

/// The state the dispatch loop carries from one transaction to the next.
pub(super) struct Run<'l> {
    pub(super) ledger: &'l mut LedgerWriter,
    campaign: String,
    pub(super) schedule: Schedule<Job>,
    pub(super) pacer: Pacer,
    pub(super) report: Report,
    /// Consecutive failed transactions, and the recipients that streak
    /// marked `failed` (re-marked `deferred` if the streak stops the run).
    streak: u32,
    streak_failed: Vec<String>,
    delivered_once: bool,
    settings: Settings,
    /// When the last [`Progress::Outlook`] was made, and what it cost.
    outlook: Option<(Instant, Duration)>,
    /// The transactions under way: recipient, Message-ID, how far each
    /// got (for [`Run::quit`]).
    flying: Vec<(String, String, Arc<Reached>)>,
}

impl<'l> Run<'l> {
    /// A run over `recipients`, in file order, under the pacer's rules and
    /// the daily cap.
    pub(super) fn new(
        ledger: &'l mut LedgerWriter,
        pacer: Pacer,
        cap: Option<DailyCap>,
        settings: Settings,
        recipients: Vec<Recipient>,
    ) -> Run<'l> {
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
        Run {
            campaign: ledger.campaign().to_string(),
            ledger,
            schedule,
            pacer,
            report: Report::default(),
            streak: 0,
            streak_failed: Vec::new(),
            delivered_once: false,
            settings,
            outlook: None,
            flying: Vec::new(),
        }
    }

    /// Whether the next letters ([`super::AHEAD_PER_SLOT`] per slot) may be
    /// prepared while every slot is busy, their `sending` rows synced while
    /// the transactions in flight go on, so that the disk and the wire no
    /// longer take turns ([`Schedule::pick`]: their pace is taken when they
    /// start). Only once the server accepted a letter in this run: until
    /// then the first transactions may well end it (a refused sign-in, an
    /// untrusted certificate), and a letter prepared for nothing would be
    /// written `sending` then withdrawn. The price: a crash while letters
    /// wait leaves them `unknown` though they never went out, which
    /// `--resend-unknown` answers.
    pub(super) fn may_look_ahead(&self) -> bool {
        self.delivered_once
    }

    /// A letter prepared ahead whose transaction will not start (the run
    /// stops): its last row must not say `sending`, or the next run would
    /// call it unknown. Deferred: certainly not sent, tried again next run.
    pub(super) fn withdraw(
        &mut self,
        start: Start,
        observer: &mut dyn Observer,
    ) -> Result<(), SendError> {
        // One below its `sending` row's: the ledger takes the try back
        // (as for a refused sign-in), since no transaction started.
        let attempt = self
            .ledger
            .ledger()
            .attempts(&start.email)
            .saturating_sub(1);
        self.write_untried(
            &start.email,
            &start.letter.message_id,
            attempt,
            "not sent: the run stopped before this letter's transaction started",
            observer,
        )
    }

    /// Writes a letter certainly not sent as `deferred` with `attempt` (the
    /// try taken back: nothing reached the server it could deliver).
    fn write_untried(
        &mut self,
        email: &str,
        message_id: &str,
        attempt: u32,
        detail: &str,
        observer: &mut dyn Observer,
    ) -> Result<(), SendError> {
        let ev = Event::new(&self.campaign, email, Status::Deferred, attempt)
            .with_message_id(message_id)
            .with_detail(detail);
        self.ledger.append_uncommitted(&ev)?;
        self.report.deferred += 1;
        observer.progress(Progress::Done {
            event: &ev,
            retry_in: None,
        });
        Ok(())
    }

    /// A run told to quit at once (a second Ctrl-C) does not wait for its
    /// transactions: each one that has not begun its letter's text is
    /// withdrawn and written `deferred` (certainly not sent: the next run
    /// sends it, no `--resend-unknown` needed); one whose text began keeps
    /// its `sending` row, since the server may have the letter: `unknown`.
    /// The letters prepared ahead are withdrawn as on any stop.
    pub(super) fn quit(
        &mut self,
        ahead: impl IntoIterator<Item = Start>,
        observer: &mut dyn Observer,
    ) -> Result<(), SendError> {
        for start in ahead {
            self.withdraw(start, observer)?;
        }
        for (email, message_id, reached) in std::mem::take(&mut self.flying) {
            if !reached.withdraw() {
                continue;
            }
            // Not a try: nothing about the letter reached the server that
            // it could deliver (as for a refused sign-in).
            let attempt = self.ledger.ledger().attempts(&email).saturating_sub(1);
            self.write_untried(
                &email,
                &message_id,
                attempt,
                "not sent: the run was stopped at once before the letter's text went out",
                observer,
            )?;
        }
        Ok(())
    }

    /// Renders the job's letter and writes its `sending` row (committed by
    /// the caller before the transaction starts). A letter that does not
    /// render is the recipient's failure, written here: `None`.
    pub(super) fn prepare(
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
        let row = self.ledger.rows() - 1;
        Ok(Some(Start {
            job,
            email,
            letter,
            row,
        }))
    }

    /// Starts a prepared transaction as a task of its own, so it goes on
    /// while the loop waits for the disk. Its pace is taken, at `at`: the
    /// task begins the transaction then ([`LAUNCH_WITHIN`] at most from
    /// now), or at once if `at` has passed.
    pub(super) fn launch(
        &mut self,
        start: Start,
        at: DateTime<Utc>,
        transport: &Arc<Transport>,
        observer: &mut dyn Observer,
    ) -> impl std::future::Future<Output = Finished> {
        // The promise the whole resume design rests on; tests run debug
        // builds, so a change that breaks it fails them all.
        debug_assert!(
            self.ledger.is_synced(start.row),
            "a transaction is starting before its `sending` row is on disk"
        );
        let Start {
            job, email, letter, ..
        } = start;
        observer.progress(Progress::Sending {
            email: &email,
            try_in_run: job.tries,
        });
        self.report.transactions += 1;
        let transport = Arc::clone(transport);
        let reached = Arc::new(Reached::default());
        self.flying.push((
            email.clone(),
            letter.message_id.clone(),
            Arc::clone(&reached),
        ));
        // The wall clock read first: the task's deadline on the monotonic
        // clock comes no sooner than `at`.
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        debug_assert!(wait <= LAUNCH_WITHIN.to_std().unwrap_or_default());
        let not_before = Instant::now() + wait;
        let task = tokio::spawn(async move {
            sleep::yield_until(not_before).await;
            // The pace's promise, checked where the transaction begins
            // (tests run debug builds: the torture and the soak go through
            // here at a relay's pace).
            debug_assert!(
                Utc::now() >= at,
                "a transaction is beginning before its pace allows it"
            );
            // Boxed: the transaction's future (lettre's inside) is several
            // KB, which tokio would copy a few times over when spawning a
            // task that holds it inline (callgrind, 2026-12-05: a tenth of
            // the dispatch loop's instructions per letter at a relay's pace).
            let result = Box::pin(transport.send_watched(&letter.message, &reached)).await;
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

    /// Acts on a hold as the pacer decides ([`Pacer::on_hold`]): ends the
    /// run on a window or the daily cap it does not wait for, tells the
    /// observer once what a `--wait` waits for. Returns how long to sleep
    /// before asking the schedule again.
    pub(super) fn on_hold(
        &mut self,
        hold: Hold,
        until: Option<DateTime<Utc>>,
        told: &mut Option<(Hold, Option<DateTime<Utc>>)>,
        observer: &mut dyn Observer,
    ) -> Option<Duration> {
        let now = Utc::now();
        match self.pacer.on_hold(hold, until, now) {
            Wait::Sleep(left) => {
                // A pace or a backoff: said, for a display to show what
                // the run waits for (a slot: only the server's reply).
                if hold != Hold::InFlight {
                    self.tell_wait(hold, until, told, observer);
                }
                left
            }
            Wait::Stop => {
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
            Wait::Told(step) => {
                self.tell_wait(hold, until, told, observer);
                Some(step)
            }
        }
    }
}

/// Writes the outcome rows of every transaction that has already ended,
/// without waiting for any other.
pub(super) fn drain_finished<F: std::future::Future<Output = Finished>>(
    in_flight: &mut FuturesUnordered<F>,
    run: &mut Run<'_>,
    observer: &mut dyn Observer,
) -> Result<(), SendError> {
    while let Some(Some(done)) = in_flight.next().now_or_never() {
        run.finish(done, observer)?;
    }
    Ok(())
}
