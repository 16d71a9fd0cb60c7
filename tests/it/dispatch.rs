//! The dispatcher driven through the library, at a relay's pace, against
//! the real SMTP server on loopback: the next letter is prepared while
//! every slot is busy (its `sending` row synced while the transactions in
//! flight go on; its pace taken when it starts). Every letter still goes
//! exactly once, and a letter prepared for a transaction that never starts
//! is never left `sending`. (The other send tests drive the CLI, through
//! the same loop.)

use crate::support;

use std::path::Path;

use repmail::ledger::{Event, Ledger, State, Status};
use repmail::send::{Fault as RunFault, Progress, Report, Stop, AHEAD_PER_SLOT};
use support::library::{campaign, plan, run_dispatcher, write_contacts, DOMAINS};
use support::{Fault, FaultPlan, ServerOptions, Stage, TestServer};

const WITHDRAWN: &str = "not sent: the run stopped before this letter's transaction started";

fn email(i: usize) -> String {
    format!("rep{i}@{}", DOMAINS[i % DOMAINS.len()])
}

/// How the run is told to stop: never, or Ctrl-C after this many outcomes.
#[derive(Clone, Copy)]
enum Interrupt {
    Never,
    AfterOutcomes(usize),
}

/// Sends `n` letters to `server` through the dispatcher at the campaign's
/// (relay) pace; the report and the ledger read back.
fn dispatch(
    dir: &Path,
    server: &TestServer,
    n: usize,
    concurrency: u32,
    interrupt: Interrupt,
) -> (Report, Ledger) {
    write_contacts(&dir.join("contacts.csv"), n);
    let ledger_path = dir.join("log.csv");
    let campaign = campaign(dir, server.port(), concurrency, &ledger_path);
    let (recipients, renderer) = plan(&campaign, n);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut outcomes = 0;
    let mut observer = |p: Progress<'_>| {
        if let Progress::Done { .. } = p {
            outcomes += 1;
            if matches!(interrupt, Interrupt::AfterOutcomes(k) if k == outcomes) {
                let _ = stop_tx.send(true);
            }
        }
    };
    let report = run_dispatcher(
        &campaign,
        &renderer,
        recipients,
        &ledger_path,
        stop_rx,
        &mut observer,
    )
    .report;
    (report, Ledger::read(&ledger_path).expect("read the ledger"))
}

/// Where in the file the row of `email` with `status` is (first one).
fn position(ledger: &Ledger, email: &str, status: Status) -> usize {
    ledger
        .events()
        .iter()
        .position(|e| e.email == email && e.status == status)
        .unwrap_or_else(|| panic!("no {status} row for {email}"))
}

fn stored(server: &TestServer, email: &str) -> usize {
    server.messages_to(email).len()
}

#[test]
fn at_a_relays_pace_the_next_letter_is_prepared_during_the_transaction_before_and_each_goes_once() {
    for concurrency in [1, 4] {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(ServerOptions::plain());
        let n = 12;
        let (report, ledger) = dispatch(dir.path(), &server, n, concurrency, Interrupt::Never);
        assert_eq!((report.sent, report.transactions), (n, n), "{report:?}");
        assert!(report.stop.is_none(), "{report:?}");
        assert_eq!(
            server.messages().len(),
            n,
            "c{concurrency}: one message each"
        );
        for i in 0..n {
            assert_eq!(
                stored(&server, &email(i)),
                1,
                "c{concurrency}: {}",
                email(i)
            );
            assert_eq!(ledger.state(&email(i)).map(|s| s.0), Some(State::Sent));
        }
        assert!(server.connections() <= concurrency as usize);
        if concurrency == 1 {
            // The sign of the overlap: the next `sending` row is written
            // while the letter before is still in flight, once the server
            // accepted a letter (the first one goes alone).
            assert!(
                position(&ledger, &email(0), Status::Sent)
                    < position(&ledger, &email(1), Status::Sending)
            );
            for i in 1..n - 1 {
                assert!(
                    position(&ledger, &email(i + 1), Status::Sending)
                        < position(&ledger, &email(i), Status::Sent),
                    "letter {} was not prepared during letter {i}'s transaction: {:#?}",
                    i + 1,
                    ledger.events()
                );
            }
        }
    }
}

/// The recipients whose last row is the withdrawal.
fn withdrawn(ledger: &Ledger, n: usize) -> Vec<String> {
    (0..n)
        .map(email)
        .filter(|e| {
            ledger.state(e).is_some_and(|(s, ev): (State, &Event)| {
                s == State::Deferred && ev.detail == WITHDRAWN
            })
        })
        .collect()
}

#[test]
fn a_fault_that_stops_the_run_withdraws_the_letter_prepared_ahead_unsent() {
    let dir = tempfile::tempdir().unwrap();
    // Letter 4 meets the provider's daily quota: a run-level stop while
    // letter 5 waits, prepared, for the slot.
    let server = TestServer::start(ServerOptions::plain().with_fault(
        &email(4),
        FaultPlan::always(
            Stage::Rcpt,
            Fault::Say(550, "5.4.5 Daily user sending limit exceeded."),
        ),
    ));
    let n = 10;
    let (report, ledger) = dispatch(dir.path(), &server, n, 1, Interrupt::Never);
    assert!(
        matches!(
            &report.stop,
            Some(Stop::Fault {
                fault: RunFault::Quota,
                ..
            })
        ),
        "{report:?}"
    );
    // The letters prepared while letter 4 was in flight: the next ones in
    // file order, one to AHEAD_PER_SLOT of them.
    let gone = withdrawn(&ledger, n);
    let k = gone.len();
    assert!((1..=AHEAD_PER_SLOT).contains(&k), "{gone:?}");
    assert_eq!(gone, (5..5 + k).map(email).collect::<Vec<_>>());
    assert_eq!(
        (report.sent, report.deferred, report.not_attempted),
        (4, 1 + k, n - 5 - k),
        "{report:?}"
    );
    for e in &gone {
        assert_eq!(stored(&server, e), 0, "{e}: a withdrawn letter never went");
        // No transaction started: the try is taken back, as at a refused
        // sign-in.
        assert_eq!(
            ledger.attempts(e),
            0,
            "{e}: a withdrawn letter costs no try"
        );
        // Its `sending` row came first: it was ready to go.
        assert!(
            position(&ledger, e, Status::Sending) < position(&ledger, &email(4), Status::Deferred)
        );
    }
    for i in 5 + k..n {
        assert!(ledger.state(&email(i)).is_none(), "{} untouched", email(i));
    }
}

#[test]
fn ctrl_c_withdraws_the_letter_prepared_ahead_and_every_other_is_sent_once_or_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::plain());
    let n = 20;
    let (report, ledger) = dispatch(dir.path(), &server, n, 1, Interrupt::AfterOutcomes(3));
    assert_eq!(report.stop, Some(Stop::Interrupted), "{report:?}");
    let gone = withdrawn(&ledger, n);
    assert!(
        (1..=AHEAD_PER_SLOT).contains(&gone.len()),
        "the letters waiting ahead: {gone:?}"
    );
    for e in &gone {
        assert_eq!(stored(&server, e), 0, "{e}");
    }
    for e in (0..n).map(email).filter(|e| !gone.contains(e)) {
        match ledger.state(&e).map(|s| s.0) {
            Some(State::Sent) => assert_eq!(stored(&server, &e), 1, "{e}"),
            None => assert_eq!(stored(&server, &e), 0, "{e}"),
            other => panic!("{e}: {other:?}"),
        }
    }
    assert_eq!(
        report.sent + report.deferred + report.not_attempted,
        n,
        "{report:?}"
    );
    assert!(report.sent >= 3, "{report:?}");
}
