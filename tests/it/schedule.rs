//! The schedule against the real SMTP test server (tests/support): no
//! head-of-line blocking, the estimate, sending windows in recipients'
//! zones, and `send --wait` with the daily cap and Ctrl-C.
//!
//! Timing is read from arrival times at the server, with tolerances
//! proportional to the interval; a slow machine makes runs longer, which
//! the checks allow, never shorter than the pace.

use crate::fixture;
use crate::support;

use std::io::Read;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Timelike, Utc};
use fixture::{stderr, stdout, Campaign, CampaignFile, TEXT};
use repmail::ledger::{Ledger, State, Status};
use support::{ServerOptions, TestServer};

/// Share of the expected span by which a paced run may differ from it
/// (scheduling jitter on a loaded 2-core machine); a head-of-line blocked
/// run takes twice as long and fails.
const PACE_SLACK: f64 = 0.25;

/// How much earlier than a window's opening an arrival may be stamped:
/// the test converts the opening from the wall clock to the monotonic
/// clock, which costs a few milliseconds.
const CLOCK_SLACK: Duration = Duration::from_millis(50);

const PASSWORD: &str = "unused-here";

fn campaign(server: &TestServer, rest: &str, contacts: &str) -> Campaign {
    CampaignFile::new("sched")
        .loopback(server.port(), "security = \"none\"")
        .sections(rest)
        .write(TEXT, contacts.as_bytes())
}

/// Contacts for `emails`, with a `tz` column from `zones`.
fn contacts(emails: &[(&str, &str)]) -> String {
    let mut s = String::from("title,first_name,last_name,state,email,tz\n");
    for (i, (e, tz)) in emails.iter().enumerate() {
        s.push_str(&format!("Senator,First{i},Last{i},Ohio,{e},{tz}\n"));
    }
    s
}

fn ledger(c: &Campaign) -> Ledger {
    Ledger::read(&c.path("logs/sched.csv")).unwrap()
}

fn domain(rcpt: &str) -> &str {
    rcpt.rsplit('@').next().unwrap()
}

#[test]
fn a_slow_domain_does_not_hold_the_other_back_and_the_estimate_holds() {
    let server = TestServer::start(ServerOptions::plain());
    // File order A×5, B×5; one letter a second per domain, fast globally.
    let list: Vec<String> = (0..5)
        .map(|i| format!("a{i}@example.org"))
        .chain((0..5).map(|i| format!("b{i}@example.com")))
        .collect();
    let rows: Vec<(&str, &str)> = list.iter().map(|e| (e.as_str(), "")).collect();
    let rest =
        "[rate]\nper_minute = 60000\nburst = 100\nper_domain_per_minute = 60\nconcurrency = 2\n";
    let c = campaign(&server, rest, &contacts(&rows));
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut arrivals: Vec<(Instant, String)> = server
        .messages()
        .into_iter()
        .map(|m| (m.arrived, domain(&m.rcpts[0]).to_string()))
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), 10);
    let interval = Duration::from_secs(1);
    // Interleaved: B's first letter does not wait for A's five.
    let first_b = arrivals
        .iter()
        .position(|(_, d)| d == "example.com")
        .unwrap();
    assert!(first_b <= 2, "B first arrived {first_b}th: {arrivals:?}");
    let b_in_first_half = arrivals[..5]
        .iter()
        .filter(|(_, d)| d == "example.com")
        .count();
    assert!(b_in_first_half >= 2, "{arrivals:?}");
    // The whole run takes one domain's time (4 intervals), not two
    // domains' (8); and each domain's pace held.
    let span = arrivals[9].0 - arrivals[0].0;
    let one_domain = interval * 4;
    assert!(
        span <= one_domain.mul_f64(1.0 + PACE_SLACK),
        "10 letters in {span:?}"
    );
    for d in ["example.org", "example.com"] {
        let times: Vec<Instant> = arrivals
            .iter()
            .filter(|(_, x)| x == d)
            .map(|(t, _)| *t)
            .collect();
        let dspan = *times.last().unwrap() - times[0];
        assert!(
            dspan >= one_domain.mul_f64(1.0 - PACE_SLACK),
            "{d}: {dspan:?}"
        );
    }
    // The plan's estimate (printed before sending) matches the run.
    let plan = stdout(&out);
    let est = plan
        .lines()
        .find_map(|l| l.strip_prefix("duration   about "))
        .and_then(|l| l.split_once("s at this pace"))
        .map(|(n, _)| n.parse::<u64>().unwrap())
        .unwrap_or_else(|| panic!("no estimate in: {plan}"));
    let est = Duration::from_secs(est);
    let diff = est.abs_diff(span);
    assert!(
        diff <= one_domain.mul_f64(PACE_SLACK) + interval,
        "estimate {est:?}, run {span:?}"
    );
}

/// A window of `minutes` opening at the next full minute (UTC), and how
/// long until it opens.
fn window_opening_soon(minutes: i64) -> (String, chrono::DateTime<Utc>) {
    let now = Utc::now();
    let open = (now + TimeDelta::minutes(1))
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    let close = open + TimeDelta::minutes(minutes);
    (
        format!("{}-{}", open.format("%H:%M"), close.format("%H:%M")),
        open,
    )
}

#[test]
fn nothing_goes_before_the_window_opens_and_wait_carries_on_after() {
    let server = TestServer::start(ServerOptions::plain());
    let (window, opens) = window_opening_soon(30);
    let rows = [
        ("r0@example.org", ""),
        ("r1@example.com", ""),
        ("r2@example.net", ""),
    ];
    // A daily cap far above the letters: set, but it holds nothing back.
    let rest = format!(
        "[rate]\nper_minute = 60000\nburst = 100\ndaily_cap = 450\nwindow = \"{window}\"\n"
    );
    let c = campaign(&server, &rest, &contacts(&rows));
    let opens_instant = Instant::now() + (opens - Utc::now()).to_std().unwrap_or_default();
    let out = fixture::send_yes(&c, PASSWORD, &["--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("waiting for the sending window in UTC to open")
            && said.contains(&format!("{} UTC", opens.format("%H:%M"))),
        "{said}"
    );
    let msgs = server.messages();
    assert_eq!(msgs.len(), 3);
    for m in &msgs {
        assert!(
            m.arrived + CLOCK_SLACK >= opens_instant,
            "{} arrived {:?} before the opening",
            m.rcpts[0],
            opens_instant - m.arrived
        );
    }
}

#[test]
fn only_recipients_inside_their_hours_are_sent_the_others_reported_with_zone_and_opening() {
    let server = TestServer::start(ServerOptions::plain());
    // Office hours from an hour ago to an hour from now in UTC: open for
    // UTC, closed for UTC+12 (Etc/GMT-12), where it is 12 hours later.
    let now = Utc::now().with_second(0).unwrap();
    let window = format!(
        "{}-{}",
        (now - TimeDelta::hours(1)).format("%H:%M"),
        (now + TimeDelta::hours(1)).format("%H:%M")
    );
    let rows = [
        ("in0@example.org", "UTC"),
        ("out0@example.com", "Etc/GMT-12"),
        ("in1@example.org", ""),
        ("out1@example.com", "Etc/GMT-12"),
    ];
    // A daily cap far above the letters: set, but it holds nothing back.
    let rest = format!(
        "[rate]\nper_minute = 60000\nburst = 100\ndaily_cap = 450\nwindow = \"{window}\"\n"
    );
    let c = CampaignFile::new("sched")
        .contacts_lines("timezone_column = \"tz\"")
        .loopback(server.port(), "security = \"none\"")
        .sections(&rest)
        .write(TEXT, contacts(&rows).as_bytes());
    // The dry run shows when each batch would go: two now, two at the
    // opening in UTC+12.
    let opening = now + TimeDelta::hours(11);
    let dry = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let plan = stdout(&dry);
    let batches: Vec<&str> = plan.lines().filter(|l| l.starts_with("would go")).collect();
    assert_eq!(batches.len(), 2, "{plan}");
    // Only what holds letters back is named: the window, not the cap that
    // never binds (issue 24, item 9; the newcomer's walk).
    assert!(
        plan.contains("held back by the sending window (last letter"),
        "{plan}"
    );
    assert!(
        batches[0].starts_with("would go   2 letters from"),
        "{plan}"
    );
    assert!(
        batches[1].contains("2 letters")
            && batches[1].contains("window opens")
            && batches[1].contains("Etc/GMT-12")
            && batches[1].contains(&format!("({} UTC)", opening.format("%H:%M"))),
        "{plan}"
    );
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let mut sent: Vec<String> = server
        .messages()
        .into_iter()
        .map(|m| m.rcpts[0].clone())
        .collect();
    sent.sort();
    assert_eq!(sent, ["in0@example.org", "in1@example.org"]);
    // The window opens in UTC+12 at an hour ago + 24 h − 12 h, UTC.
    let err = stderr(&out);
    assert!(
        err.contains("2 letters to recipients in Etc/GMT-12: the window opens")
            && err.contains(&format!("{} UTC", opening.format("%H:%M"))),
        "{err}"
    );
    assert!(err.contains("--wait"), "{err}");
    // Held letters are untouched in the ledger: the next run sends them.
    let l = ledger(&c);
    assert!(l.state("out0@example.com").is_none(), "{:?}", l.events());
    // An invalid zone is an error naming the line, and nothing is sent.
    let bad = contacts(&[("x@example.org", "Mars/Olympus")]);
    c.write("contacts.csv", bad.as_bytes());
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("contacts.csv:2"), "{}", stderr(&out));
    assert!(stderr(&out).contains("Mars/Olympus"), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn wait_at_the_daily_cap_says_until_when_and_ctrl_c_exits_130_then_the_next_run_resumes() {
    let server = TestServer::start(ServerOptions::plain());
    let rows = [
        ("c0@example.org", ""),
        ("c1@example.com", ""),
        ("c2@example.net", ""),
        ("c3@example.org", ""),
    ];
    let rest = "[rate]\nper_minute = 60000\nburst = 100\ndaily_cap = 2\n";
    let c = campaign(&server, rest, &contacts(&rows));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("repmail"))
        .env_clear()
        .arg("--config")
        .arg(c.config())
        .args(["send", "--yes", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read what it says while it runs.
    let mut pipe = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut said = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !said.contains("waiting for the daily cap") && Instant::now() < deadline {
        if let Ok(s) = rx.recv_timeout(Duration::from_millis(100)) {
            said.push_str(&s);
        }
    }
    assert!(
        said.contains("waiting for the daily cap to free a place"),
        "{said}"
    );
    // Until 24 h after the first send, in UTC too.
    let first = ledger(&c)
        .events()
        .iter()
        .find(|e| e.status == Status::Sent)
        .map(|e| e.time)
        .unwrap();
    let frees = first + TimeDelta::hours(24);
    assert!(
        said.contains(&format!("{} UTC", frees.format("%H:%M"))),
        "{said}"
    );
    // Still waiting a moment later: nothing more goes.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.messages().len(), 2);
    assert!(child.try_wait().unwrap().is_none(), "it kept waiting");
    let asked = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    // "At once": long before the cap frees, within a generous bound.
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Resume with `repmail --config") && err.contains("send --wait`"),
        "{err}"
    );
    // The ledger is intact: two sent, the others untouched.
    let l = ledger(&c);
    assert_eq!(l.latest().count(), 2, "{:?}", l.events());
    assert!(
        l.latest().all(|e| e.status == Status::Sent),
        "{:?}",
        l.events()
    );
    // The next run (the cap raised) sends the other two, nobody twice.
    let config = std::fs::read_to_string(c.config())
        .unwrap()
        .replace("daily_cap = 2", "daily_cap = 10");
    std::fs::write(c.config(), config).unwrap();
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let l = ledger(&c);
    for (e, _) in rows {
        assert_eq!(server.messages_to(e).len(), 1, "{e}");
        assert_eq!(l.state(e).map(|(s, _)| s), Some(State::Sent), "{e}");
    }
}
