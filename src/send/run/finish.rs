//! A finished transaction: its outcome row written, and what the run does
//! next (retry, stop, go on).

use super::*;

impl Run<'_> {
    /// Writes the outcome row of a finished transaction and decides what
    /// next.
    pub(in crate::send) fn finish(
        &mut self,
        done: Finished,
        observer: &mut dyn Observer,
    ) -> Result<(), SendError> {
        let Finished {
            job,
            email,
            message_id,
            result,
        } = done;
        if let Some(i) = self.flying.iter().position(|(e, ..)| *e == email) {
            self.flying.swap_remove(i);
        }
        let step = result.as_ref().err().map(|(step, _)| *step);
        let outcome = decide(result, self.delivered_once);
        // A try not counted (a sign-in fault) takes its `sending` row's
        // count back: the row's `attempt` is the tries before it.
        let attempt = self
            .ledger
            .ledger()
            .attempts(&email)
            .saturating_sub(u32::from(!outcome.counts_a_try()));
        let (status, detail) = outcome.row();
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
                let wait = backoff(self.settings.retry.backoff_secs, job.tries);
                let not_before = chrono::TimeDelta::from_std(wait)
                    .ok()
                    .and_then(|w| Utc::now().checked_add_signed(w));
                let retried = not_before.is_some()
                    && job.tries < self.settings.retry.attempts
                    && self.report.stop.is_none();
                if counts_toward_streak(step, &outcome, retried) {
                    self.streak += 1;
                }
                match not_before {
                    Some(not_before) if retried => {
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
