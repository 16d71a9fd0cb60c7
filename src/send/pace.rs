//! How a run is paced: the schedule's rules from `[rate]`, the
//! concurrency cap, each recipient's zone, and whether holds by the window
//! or the daily cap are waited for (`send --wait`) or end the run.

use chrono::{DateTime, Utc};

use crate::config::Rate;
use crate::contacts::Recipient;
use crate::schedule::{self, DailyCap, Estimate, Pace, Rules, Zones};

/// The pacing of one run; the dispatch loop builds its schedule from it.
#[derive(Debug, Clone)]
pub struct Pacer {
    rules: Rules,
    concurrency: usize,
    zones: Zones,
    wait: bool,
}

impl Pacer {
    /// A pacer for `rate`. `unpaced` drops the rate limits but keeps the
    /// concurrency cap (benchmarks measure the machine, not the quota).
    pub fn new(rate: &Rate, unpaced: bool) -> Pacer {
        let rules = Rules {
            global: (!unpaced).then_some(Pace {
                per_minute: rate.per_minute,
                burst: rate.burst,
            }),
            // One at a time per domain: a provider's per-domain limit is a
            // steady pace, not a quota to spend at once.
            per_domain: rate
                .per_domain_per_minute
                .filter(|_| !unpaced)
                .map(|per_minute| Pace {
                    per_minute,
                    burst: 1,
                }),
            window: rate.window,
            wait_for_window: false,
        };
        Pacer {
            rules,
            concurrency: rate.concurrency.max(1) as usize,
            zones: Zones::fixed(rate.timezone),
            wait: false,
        }
    }

    /// Recipients' zones from their rows (`[contacts] timezone_column`).
    pub fn with_zones(mut self, zones: Zones) -> Pacer {
        self.zones = zones;
        self
    }

    /// `send --wait`: wait when the window or the daily cap holds letters
    /// back, instead of ending the run.
    pub fn with_wait(mut self, wait: bool) -> Pacer {
        self.wait = wait;
        self.rules.wait_for_window = wait;
        self
    }

    /// Whether the run waits for windows and the daily cap.
    pub fn waits(&self) -> bool {
        self.wait
    }

    /// Transactions in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The schedule's rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The recipient's zone (the default for a value `check` refuses).
    pub fn zone_of(&self, r: &Recipient) -> chrono_tz::Tz {
        self.zones.of_or_default(r)
    }

    /// When `recipients` would go from `start`: the run's own schedule on
    /// a simulated clock, waiting for windows and the daily cap.
    pub fn estimate(
        &self,
        cap: Option<DailyCap>,
        recipients: &[Recipient],
        start: DateTime<Utc>,
    ) -> Estimate {
        let letters = recipients
            .iter()
            .map(|r| (r.line, r.email.domain(), self.zone_of(r)));
        schedule::estimate(&self.rules, cap, letters, start)
    }
}
