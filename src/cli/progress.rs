//! How a running `send` shows itself: a progress bar on a terminal, one
//! line per outcome otherwise (for logs and scripts).

use std::io::IsTerminal;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use repmail::config::Rate;
use repmail::ledger::Status;
use repmail::schedule::{Forecast, Hold};
use repmail::send::{Observer, Progress};
use repmail::time::{humanize, local_and_utc, zone_and_utc};

use super::{terminal, Output};

/// Waits shorter than this are not shown: at a fast pace every letter
/// waits a moment, and a status flickering between letters says nothing.
const SHOWN_WAIT: Duration = Duration::from_secs(1);

/// What the run waits for, as the library said it ([`Progress::Waiting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownWait {
    pub hold: Hold,
    pub domain: Option<String>,
    pub until: Option<DateTime<Utc>>,
}

/// What the bar shows, kept apart from the bar so that the status line is
/// drawn afresh on every tick ("next in 8s" counts down while the run
/// sleeps) and can be tested as text.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub total: u64,
    pub sent: u64,
    pub failed: u64,
    pub deferred: u64,
    /// When the last letter would go, from the run's schedule
    /// ([`Progress::Outlook`]); `None` until the run said.
    pub finish: Option<DateTime<Utc>>,
    pub waiting: Option<ShownWait>,
    /// The paces and the cap, to name them: `[rate]`.
    pub per_minute: u32,
    pub per_domain_per_minute: Option<u32>,
    pub daily_cap: Option<u32>,
}

impl Shown {
    fn done(&self) -> u64 {
        self.sent + self.failed + self.deferred
    }

    /// The bar's text at `now`: the counts, the ETA from the schedule, and
    /// what the run waits for.
    pub fn status(&self, now: DateTime<Utc>) -> String {
        let remaining = self.total.saturating_sub(self.done());
        let mut s = format!(
            "sent {}  failed {}  deferred {}  remaining {remaining}",
            self.sent, self.failed, self.deferred
        );
        if let Some(eta) = self.eta(now).filter(|_| remaining > 0) {
            s.push_str(&format!("  ETA {eta}"));
        }
        if let Some(w) = self.wait_text(now) {
            s.push_str(&format!("  {w}"));
        }
        s
    }

    /// The time left until the last letter goes.
    pub fn eta(&self, now: DateTime<Utc>) -> Option<String> {
        let left = self.finish? - now;
        Some(humanize(left.to_std().unwrap_or_default()))
    }

    /// "waiting: council.example.org, 6 a minute, next in 8s"; `None`
    /// when nothing holds the run back (or only for a moment).
    pub fn wait_text(&self, now: DateTime<Utc>) -> Option<String> {
        let w = self.waiting.as_ref()?;
        let left = w.until.map(|t| (t - now).to_std().unwrap_or_default());
        if left.is_some_and(|l| l < SHOWN_WAIT) {
            return None;
        }
        let next = left.map_or_else(|| "later".to_string(), |l| format!("in {}", humanize(l)));
        Some(match (w.hold, &w.domain) {
            (Hold::Pace, Some(domain)) => format!(
                "waiting: {domain}, {} a minute, next {next}",
                self.per_domain_per_minute.unwrap_or(self.per_minute)
            ),
            (Hold::Pace, None) => {
                format!(
                    "waiting: the pace, {} a minute, next {next}",
                    self.per_minute
                )
            }
            (Hold::Backoff, _) => format!("waiting: a retry's backoff, next {next}"),
            (Hold::Window { zone }, _) => format!(
                "waiting: the sending window in {zone}, opens {}",
                w.until
                    .map_or_else(|| "later".into(), |t| zone_and_utc(t, zone))
            ),
            (Hold::DailyCap, _) => format!(
                "waiting: the daily cap{}, a place frees {}",
                self.daily_cap
                    .map(|c| format!(" of {c} a day"))
                    .unwrap_or_default(),
                w.until.map_or_else(|| "later".into(), local_and_utc)
            ),
            (Hold::InFlight, _) => return None,
        })
    }
}

pub struct Display {
    bar: Option<ProgressBar>,
    out: Output,
    shown: Arc<Mutex<Shown>>,
    /// To the thread that estimates the run's forecasts, if anything
    /// shows an ETA.
    forecasts: Option<SyncSender<Box<Forecast>>>,
}

impl Display {
    /// `total` planned messages under `rate`.
    pub fn new(total: usize, rate: &Rate, out: Output) -> Display {
        let shown = Arc::new(Mutex::new(Shown {
            total: total as u64,
            per_minute: rate.per_minute,
            per_domain_per_minute: rate.per_domain_per_minute,
            daily_cap: rate.daily_cap,
            ..Shown::default()
        }));
        let bar = (std::io::stderr().is_terminal() && !out.quiet).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let drawn = Arc::clone(&shown);
            let status = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let text = lock(&drawn).status(Utc::now());
                let _ = w.write_str(&terminal::line(&text));
            };
            bar.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {status}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key("status", status),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let mut d = Display {
            bar,
            out,
            shown,
            forecasts: None,
        };
        if d.wants_outlook() {
            d.forecasts = Some(estimator(Arc::clone(&d.shown)));
        }
        d
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        lock(&self.shown)
    }

    fn update(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.shown().done());
        }
    }

    /// Shows the line `text` makes, if lines are shown: made only then,
    /// since this runs on the send loop's thread for every letter.
    fn line(&self, text: impl FnOnce() -> String) {
        match &self.bar {
            // The bar prints past the line macros: clean the line here.
            Some(bar) if self.out.verbose > 0 => bar.println(terminal::line(&text())),
            Some(_) => {}
            None if !self.out.quiet => tell!("{}", text()),
            None => {}
        }
    }

    pub fn finish(&mut self) {
        // The estimating thread ends with its channel.
        self.forecasts = None;
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Without a bar: a wait for a window or the daily cap (`--wait`) is
    /// a line; so, with `-v`, is a wait for a pace long enough to notice.
    fn tell_wait(&self, hold: Hold, until: Option<DateTime<Utc>>) {
        if self.bar.is_some() || self.out.quiet {
            return;
        }
        let now = Utc::now();
        match hold {
            Hold::Window { .. } | Hold::DailyCap => {
                let until = until.map_or_else(
                    || "later".into(),
                    |t| match hold {
                        Hold::Window { zone } => zone_and_utc(t, zone),
                        _ => local_and_utc(t),
                    },
                );
                let what = match hold {
                    Hold::Window { zone } => format!("the sending window in {zone} to open"),
                    _ => "the daily cap to free a place".to_string(),
                };
                tell!("waiting for {what}: {until} (Ctrl-C stops; the next run resumes)");
            }
            _ if self.out.verbose > 0 => {
                let shown = self.shown();
                if let Some(text) = shown.wait_text(now) {
                    match shown.eta(now) {
                        Some(eta) => tell!("{text}; ETA {eta}"),
                        None => tell!("{text}"),
                    }
                }
            }
            _ => {}
        }
    }
}

/// A thread that estimates each forecast it gets (the plan's simulation
/// of the letters left) and sets the ETA from it, off the dispatch loop's
/// thread; a forecast that comes while it is busy is dropped, and it rests
/// four times as long as it worked, so a long list costs at most a fifth
/// of a core.
fn estimator(shown: Arc<Mutex<Shown>>) -> SyncSender<Box<Forecast>> {
    let (tx, rx) = sync_channel::<Box<Forecast>>(1);
    std::thread::spawn(move || {
        for forecast in rx {
            let started = Instant::now();
            let finish = forecast.estimate().finish;
            lock(&shown).finish = Some(finish);
            std::thread::sleep(started.elapsed() * 4);
        }
    });
    tx
}

fn lock(shown: &Mutex<Shown>) -> std::sync::MutexGuard<'_, Shown> {
    // A panic while drawing leaves plain numbers: still fine to show.
    shown.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Observer for Display {
    fn wants_outlook(&self) -> bool {
        !self.out.quiet && (self.bar.is_some() || self.out.verbose > 0)
    }

    fn progress(&mut self, p: Progress<'_>) {
        match p {
            Progress::Sending { email, try_in_run } => {
                self.shown().waiting = None;
                if self.out.verbose > 1 {
                    self.line(|| format!("sending  {email} (try {try_in_run})"));
                }
            }
            Progress::Waiting {
                hold,
                domain,
                until,
            } => {
                self.shown().waiting = Some(ShownWait {
                    hold,
                    domain: domain.map(str::to_owned),
                    until,
                });
                self.tell_wait(hold, until);
            }
            Progress::Outlook { forecast } => {
                if let Some(tx) = &self.forecasts {
                    // Busy with the last one: this one is dropped.
                    let _ = tx.try_send(forecast);
                }
            }
            Progress::Done { event, retry_in } => {
                {
                    let mut shown = self.shown();
                    match event.status {
                        Status::Sent => shown.sent += 1,
                        Status::Failed => shown.failed += 1,
                        Status::Deferred if retry_in.is_none() => shown.deferred += 1,
                        _ => {}
                    }
                }
                self.line(|| {
                    let code = event.smtp_code.map(|c| format!(" {c}")).unwrap_or_default();
                    let retry = retry_in
                        .map(|d| format!(" (retry in {})", humanize(d)))
                        .unwrap_or_default();
                    let detail = if event.status == Status::Sent {
                        String::new()
                    } else {
                        format!(": {}", event.detail)
                    };
                    format!(
                        "{:<8} {}{code}{retry}{detail}",
                        event.status.as_str(),
                        event.email
                    )
                });
                self.update();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// Five letters to one council at 6 a minute, the account at 600: one
    /// sent, the next held 10 s by the council's pace (issue 24, item 2).
    fn one_of_five_sent() -> Shown {
        Shown {
            total: 5,
            sent: 1,
            finish: Some(t0() + chrono::TimeDelta::seconds(40)),
            waiting: Some(ShownWait {
                hold: Hold::Pace,
                domain: Some("council.example.org".into()),
                until: Some(t0() + chrono::TimeDelta::seconds(10)),
            }),
            per_minute: 600,
            per_domain_per_minute: Some(6),
            ..Shown::default()
        }
    }

    #[test]
    fn the_status_says_what_the_run_waits_for_and_the_eta_is_the_schedules() {
        let shown = one_of_five_sent();
        let now = t0() + chrono::TimeDelta::seconds(2);
        assert_eq!(
            shown.status(now),
            "sent 1  failed 0  deferred 0  remaining 4  ETA 38s  \
             waiting: council.example.org, 6 a minute, next in 8s"
        );
        // A moment's wait is not worth a word.
        let now = t0() + chrono::TimeDelta::milliseconds(9_500);
        assert_eq!(shown.wait_text(now), None);
        // The account's pace, a window, the cap.
        let mut other = one_of_five_sent();
        let w = other.waiting.as_mut().unwrap();
        w.domain = None;
        assert_eq!(
            other.wait_text(t0()).unwrap(),
            "waiting: the pace, 600 a minute, next in 10s"
        );
        other.waiting.as_mut().unwrap().hold = Hold::Window { zone: Tz::UTC };
        assert!(other
            .wait_text(t0())
            .unwrap()
            .starts_with("waiting: the sending window in UTC, opens Tue 2026-12-01 12:00 UTC"));
        other.waiting.as_mut().unwrap().hold = Hold::DailyCap;
        other.daily_cap = Some(100);
        assert!(other
            .wait_text(t0())
            .unwrap()
            .starts_with("waiting: the daily cap of 100 a day, a place frees "));
        // Until the run said when it ends, no ETA at all (not a guess).
        other.finish = None;
        assert!(!other.status(t0()).contains("ETA"));
    }

    #[test]
    fn humanizes() {
        assert_eq!(humanize(Duration::from_secs(5)), "5s");
        assert_eq!(humanize(Duration::from_secs(125)), "2m 5s");
        assert_eq!(humanize(Duration::from_secs(3725)), "1h 2m");
    }
}
