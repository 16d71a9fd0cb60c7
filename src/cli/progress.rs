//! How a running `send` shows itself: a progress bar on a terminal, one
//! line per outcome otherwise (for logs and scripts).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use repmail::ledger::Status;
use repmail::schedule::Hold;
use repmail::send::{Observer, Progress};
use repmail::time::{humanize, local_and_utc, zone_and_utc};

use super::{terminal, Output};

pub struct Display {
    bar: Option<ProgressBar>,
    out: Output,
    seconds_per_message: f64,
    total: u64,
    sent: u64,
    failed: u64,
    deferred: u64,
}

impl Display {
    /// `total` planned messages at `per_minute` (for the ETA at the
    /// configured pace, which is what bounds the run — not the link).
    pub fn new(total: usize, per_minute: u32, out: Output) -> Display {
        let bar = (std::io::stderr().is_terminal() && !out.quiet).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let d = Display {
            bar,
            out,
            seconds_per_message: 60.0 / f64::from(per_minute.max(1)),
            total: total as u64,
            sent: 0,
            failed: 0,
            deferred: 0,
        };
        d.update();
        d
    }

    fn update(&self) {
        if let Some(bar) = &self.bar {
            let done = self.sent + self.failed + self.deferred;
            let remaining = self.total.saturating_sub(done);
            let eta = Duration::from_secs_f64(remaining as f64 * self.seconds_per_message);
            bar.set_position(done);
            bar.set_message(format!(
                "sent {}  failed {}  deferred {}  remaining {}  ETA {}",
                self.sent,
                self.failed,
                self.deferred,
                remaining,
                humanize(eta)
            ));
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            // The bar prints past the line macros: clean the line here.
            Some(bar) if self.out.verbose > 0 => bar.println(terminal::line(&text)),
            Some(_) => {}
            None if !self.out.quiet => tell!("{text}"),
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Display {
    fn progress(&mut self, p: Progress<'_>) {
        match p {
            Progress::Sending { email, try_in_run } => {
                if self.out.verbose > 1 {
                    self.line(format!("sending  {email} (try {try_in_run})"));
                }
            }
            Progress::Waiting { hold, until } => {
                let until = until.map_or_else(
                    || "later".into(),
                    |t| match hold {
                        Hold::Window { zone } => zone_and_utc(t, zone),
                        _ => local_and_utc(t),
                    },
                );
                let what = match hold {
                    Hold::Window { zone } => format!("the sending window in {zone} to open"),
                    Hold::DailyCap => "the daily cap to free a place".to_string(),
                    _ => "the next letter".to_string(),
                };
                let text =
                    format!("waiting for {what}: {until} (Ctrl-C stops; the next run resumes)");
                match &self.bar {
                    Some(bar) => bar.set_message(terminal::line(&text).into_owned()),
                    None if !self.out.quiet => tell!("{text}"),
                    None => {}
                }
            }
            Progress::Done { event, retry_in } => {
                match event.status {
                    Status::Sent => self.sent += 1,
                    Status::Failed => self.failed += 1,
                    Status::Deferred if retry_in.is_none() => self.deferred += 1,
                    _ => {}
                }
                let code = event.smtp_code.map(|c| format!(" {c}")).unwrap_or_default();
                let retry = retry_in
                    .map(|d| format!(" (retry in {})", humanize(d)))
                    .unwrap_or_default();
                let detail = if event.status == Status::Sent {
                    String::new()
                } else {
                    format!(": {}", event.detail)
                };
                self.line(format!(
                    "{:<8} {}{code}{retry}{detail}",
                    event.status.as_str(),
                    event.email
                ));
                self.update();
            }
        }
    }
}
