//! The signals that stop a run: SIGINT (Ctrl-C), SIGTERM (systemd,
//! `timeout`, `kill`) and SIGHUP (the terminal closed). All three stop the
//! same way (DESIGN.md): no new transaction, those in flight finish or are
//! recorded, the log is flushed, how to resume is printed, exit 130. A
//! second one, of any kind, quits at once: the run stops waiting for the
//! server, records as not sent the letters whose text had not gone out,
//! names those left unknown, and the process ends within [`QUIT_GRACE`]
//! whatever happens (a third signal ends it at once).

use std::io::Write as _;

use tokio::signal::unix::{signal, Signal, SignalKind};

use super::exit::Exit;

/// How long a run told to quit at once (a second signal) may take to
/// write its last rows and say what is unknown before the process ends
/// anyway (a disk that hangs must not hold a user who pressed Ctrl-C
/// twice).
pub const QUIT_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// The three stopping signals, listened to from the moment this is made
/// (until then each keeps its default action: the process ends).
pub struct Stops {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Stops {
    /// Installs the handlers; `None` if the runtime cannot (no signal
    /// handling: the run is then never told to stop).
    pub fn listen() -> Option<Stops> {
        Some(Stops {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
        })
    }

    /// The next stopping signal's name.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "Ctrl-C",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

/// Turns the first stopping signal into `stop` turning true; the second
/// sets it again (the run quits at once) and ends the process with
/// [`Exit::Interrupted`] after [`QUIT_GRACE`] or a third signal, or at
/// once when no run listens any more. `stops` is made before the run
/// starts, so that no letter goes out before a signal would be heard.
pub async fn stop_on_signal(stops: Option<Stops>, stop: tokio::sync::watch::Sender<bool>) {
    let Some(mut stops) = stops else {
        // No signal handler: keep the channel open so the run is not
        // mistaken for an interrupted one.
        return std::future::pending().await;
    };
    let first = stops.next().await;
    let _ = stop.send(true);
    // Not eprintln!: after SIGHUP the terminal may be gone, and a failed
    // write must not end the task that handles the second signal.
    let _ = writeln!(
        std::io::stderr(),
        "\nstopping ({first}): finishing the messages in flight and saving the log (Ctrl-C again to quit at once)"
    );
    stops.next().await;
    if stop.send(true).is_ok() {
        let _ = writeln!(
            std::io::stderr(),
            "\nquitting: not waiting for the server; letters whose text had not gone out are recorded as not sent"
        );
        tokio::select! {
            _ = stops.next() => {}
            _ = tokio::time::sleep(QUIT_GRACE) => {}
        }
    }
    std::process::exit(Exit::Interrupted as i32);
}
