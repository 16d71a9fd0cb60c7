//! What the run tells its observer besides outcomes: what it waits for,
//! and the letters left for an ETA (issue 24, item 2).

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::Run;
use crate::schedule::Hold;
use crate::send::progress::{Observer, Progress, OUTLOOK_EVERY};

impl Run<'_> {
    /// Tells the observer what the run waits for, once per new wait.
    pub(super) fn tell_wait(
        &self,
        hold: Hold,
        until: Option<DateTime<Utc>>,
        told: &mut Option<(Hold, Option<DateTime<Utc>>)>,
        observer: &mut dyn Observer,
    ) {
        if *told == Some((hold, until)) {
            return;
        }
        *told = Some((hold, until));
        let domain = self
            .schedule
            .waiting()
            .filter(|w| w.hold == hold && w.until == until)
            .and_then(|w| w.domain.as_deref());
        observer.progress(Progress::Waiting {
            hold,
            domain,
            until,
        });
    }

    /// Gives an observer that wants it the letters left, to estimate when
    /// they would go ([`crate::schedule::Schedule::forecast`]), at most
    /// every [`OUTLOOK_EVERY`] and at most a twentieth of the time.
    pub(in crate::send) fn tell_outlook(&mut self, observer: &mut dyn Observer) {
        if !observer.wants_outlook() {
            return;
        }
        let started = Instant::now();
        if let Some((at, cost)) = self.outlook {
            if started - at < OUTLOOK_EVERY.max(cost * 20) {
                return;
            }
        }
        let forecast = self.schedule.forecast(Utc::now());
        self.outlook = Some((started, started.elapsed()));
        observer.progress(Progress::Outlook {
            forecast: Box::new(forecast),
        });
    }
}
