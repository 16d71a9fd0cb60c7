//! Crash torture and a bounded soak, against the real SMTP server on
//! loopback (tests/support).
//!
//! * `crash_torture_*`: a campaign of a few hundred recipients; `repmail
//!   send` is SIGKILLed at seeded random moments, run after run, until it
//!   finishes; torn ledger lines are injected between runs. After every run
//!   the ledger parses and nobody is stored twice; at the end every
//!   recipient is stored exactly once, except those the ledger reports
//!   unknown, each stored at most once.
//! * `soak_*`: thousands of messages at concurrency 4 against a server
//!   injecting seeded transient faults and drops; the ledger and the
//!   server's store agree exactly, and the process's memory does not grow
//!   with time.
//!
//! Both print their figures (`-- --nocapture`); docs/reliability.md
//! records them. `REPMAIL_TORTURE_SEED=N` replays another plan.

use crate::fixture;
use crate::support;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fixture::{Campaign, TEXT};
use repmail::ledger::{Ledger, State, Status};
use support::{Fault, FaultPlan, ServerOptions, Stage, TestServer};

/// Seed of every random choice (kill times, faults, torn lines).
const DEFAULT_SEED: u64 = 0x7265_706d_6169_6c21;

/// xorshift64*: small, deterministic, good enough to pick kill times.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }
}

fn seed() -> u64 {
    std::env::var("REPMAIL_TORTURE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

fn email(i: usize) -> String {
    let domain = ["example.org", "example.com", "house.test", "senate.test"][i % 4];
    format!("rep{i}@{domain}")
}

fn contacts(n: usize) -> String {
    let mut s = String::from("title,first_name,last_name,state,email\n");
    for i in 0..n {
        s.push_str(&format!("Senator,First{i},Last{i},Ohio,{}\n", email(i)));
    }
    s
}

const LOG: &str = "logs/torture.csv";

/// A relay's pace as a user would write it (burst 1): letters are
/// prepared ahead and launched moments before their pace allows, so the
/// kills land among those too.
fn config(port: u16, concurrency: u64, timeout_secs: u64) -> String {
    let rest = format!(
        "[rate]\nper_minute = 1000000\nconcurrency = {concurrency}\n\n\
         [retry]\nattempts = 3\nbackoff_secs = 0\n"
    );
    let smtp = format!("security = \"none\"\ntimeout_secs = {timeout_secs}");
    fixture::CampaignFile::new("torture")
        .loopback(port, &smtp)
        .sections(&rest)
        .build()
}

fn spawn_send(c: &Campaign, stderr_to: &Path) -> Child {
    let err = std::fs::File::create(stderr_to).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin("repmail"))
        .env_clear()
        .current_dir(std::env::temp_dir())
        .arg("--config")
        .arg(c.config())
        .args(["send", "--yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap()
}

/// Stored messages per recipient (lower-cased envelope address).
fn stored_counts(server: &TestServer) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for s in server.messages() {
        for r in &s.rcpts {
            *m.entry(r.to_lowercase()).or_insert(0) += 1;
        }
    }
    m
}

// ---------------------------------------------------------------------------
// Crash torture.

const TORTURE_RECIPIENTS: usize = 300;
/// Kills, over all rounds, before runs may finish on their own.
const MIN_KILLS: usize = 120;
/// Give up (a bug: no progress) after this many runs.
const MAX_RUNS: usize = 2_000;
/// Rounds (fresh campaigns) at most to reach `MIN_KILLS`.
const MAX_ROUNDS: usize = 20;

/// Which torn line is put into the ledger before a run: what a crash in
/// the middle of a write leaves (SIGKILL alone hardly ever tears a line,
/// since each row goes out in one `write`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tear {
    /// A crash while writing the next `sending` row: a prefix of it, no
    /// line break. Its transaction never started, so dropping it is right.
    PartialSending,
    /// A crash while writing the outcome (`sent`) row of the recipient
    /// whose `sending` row is last: a prefix of it. The outcome stays
    /// unknown.
    PartialOutcome,
    /// A crash while writing the last outcome row: that line cut short.
    /// The recipient's `sending` row is then its last: outcome unknown.
    CutOutcome,
}

impl Tear {
    fn name(self) -> &'static str {
        match self {
            Tear::PartialSending => "partial sending row",
            Tear::PartialOutcome => "partial outcome row",
            Tear::CutOutcome => "cut outcome row",
        }
    }
}

struct TortureStats {
    runs: usize,
    kills: usize,
    finished_runs: usize,
    torn: HashMap<&'static str, usize>,
}

/// Tears the end of the ledger the way a crash mid-write would; returns
/// which tear it made, if the file allowed one.
fn tear(path: &Path, rng: &mut Rng) -> Option<Tear> {
    let text = std::fs::read(path).ok()?;
    let body = text.strip_suffix(b"\n")?; // already torn: leave it
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let last = String::from_utf8_lossy(&body[start..]).into_owned();
    let fields: Vec<&str> = last.split(',').collect();
    let (kind, row) = match fields.get(3).copied() {
        Some("sent" | "deferred" | "failed") if rng.chance(50) => {
            let cut = start + rng.range(1, (body.len() - start) as u64) as usize;
            let f = std::fs::OpenOptions::new().write(true).open(path).ok()?;
            f.set_len(cut as u64).ok()?;
            return Some(Tear::CutOutcome);
        }
        Some("sending") if rng.chance(50) => (
            Tear::PartialOutcome,
            format!(
                "2030-01-01T00:00:00.000Z,torture,{},sent,{},250,{},2.0.0 Ok: queued\n",
                fields[2], fields[4], fields[6]
            ),
        ),
        _ => (
            Tear::PartialSending,
            format!(
                "2030-01-01T00:00:00.000Z,torture,{},sending,1,,<torn@example.org>,\n",
                email(rng.range(0, TORTURE_RECIPIENTS as u64) as usize)
            ),
        ),
    };
    // Any prefix but the whole line (a line with its LF was written).
    let cut = rng.range(1, row.len() as u64 - 1) as usize;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).ok()?;
    f.write_all(&row.as_bytes()[..cut]).ok()?;
    Some(kind)
}

/// What must hold after every run, killed or not: the ledger parses, no
/// recipient is stored twice, every stored one has a `sending` row, and
/// every `sent` one is stored.
fn check_invariants(server: &TestServer, log: &Path, run: usize) -> Ledger {
    let ledger =
        Ledger::read(log).unwrap_or_else(|e| panic!("run {run}: the ledger does not parse: {e}"));
    let stored = stored_counts(server);
    for (rcpt, n) in &stored {
        assert_eq!(*n, 1, "run {run}: {rcpt} stored {n} times");
        assert!(
            ledger.attempts(rcpt) >= 1,
            "run {run}: {rcpt} stored without a `sending` row"
        );
    }
    for e in ledger.latest() {
        if e.status == Status::Sent {
            assert_eq!(
                stored.get(&e.key()),
                Some(&1),
                "run {run}: {} is `sent` but not stored",
                e.email
            );
        }
    }
    ledger
}

#[test]
fn crash_torture_sigkill_at_random_points_never_duplicates_or_loses() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    // A fast machine finishes a campaign in fewer runs, so fewer kills land
    // while letters are still open: more rounds, each on a fresh server and
    // campaign and each checked in full, until enough kills have landed.
    let mut kills = 0;
    for round in 1.. {
        assert!(
            round <= MAX_ROUNDS,
            "{kills} kills after {MAX_ROUNDS} rounds"
        );
        kills += torture_round(seed, round, &mut rng, MIN_KILLS.saturating_sub(kills));
        if kills >= MIN_KILLS {
            break;
        }
    }
}

/// One campaign killed at random points until every recipient has its
/// letter; always kills while fewer than `must_kills` runs were killed.
/// Returns the kills.
fn torture_round(seed: u64, round: usize, rng: &mut Rng, must_kills: usize) -> usize {
    let n = TORTURE_RECIPIENTS;
    // Delays widen the windows a kill can land in: in the middle of a
    // transaction before anything is stored (RCPT) and after the message is
    // stored but before the client hears so (end of DATA). Some 451s leave
    // `deferred` rows to resume from.
    let mut opts = ServerOptions::plain();
    for i in 0..n {
        let plan = match i % 10 {
            0 => FaultPlan::always(Stage::DataEnd, Fault::Delay(Duration::from_millis(40))),
            3 => FaultPlan::always(Stage::Rcpt, Fault::Delay(Duration::from_millis(25))),
            6 => FaultPlan::first(1, Stage::Rcpt, Fault::Reply(451)),
            _ => continue,
        };
        opts = opts.with_fault(&email(i), plan);
    }
    let server = TestServer::start(opts);
    let c = Campaign::with(&config(server.port(), 1, 5), TEXT, contacts(n).as_bytes());
    let log = c.path(LOG);
    // A crash while the very first run wrote its header.
    c.write(LOG, b"time,campaign,em");
    let err_file = c.path("stderr.txt");

    let mut stats = TortureStats {
        runs: 0,
        kills: 0,
        finished_runs: 0,
        torn: HashMap::new(),
    };
    let started = Instant::now();
    loop {
        stats.runs += 1;
        assert!(stats.runs <= MAX_RUNS, "no progress after {MAX_RUNS} runs");
        // Vary the concurrency from run to run: up to four in flight when
        // the kill lands.
        let concurrency = rng.range(1, 5);
        c.write(
            "repmail.toml",
            config(server.port(), concurrency, 5).as_bytes(),
        );
        if stats.runs > 1 && rng.chance(30) {
            if let Some(kind) = tear(&log, rng) {
                *stats.torn.entry(kind.name()).or_insert(0) += 1;
            }
        }

        let mut child = spawn_send(&c, &err_file);
        let must_kill = stats.kills < must_kills || rng.chance(70);
        // Mostly short delays (start-up, the first ledger writes), some
        // longer ones (mid-run, several transactions in flight).
        let delay = if rng.chance(40) {
            rng.range(0, 20)
        } else {
            rng.range(20, 150)
        };
        let deadline = Instant::now() + Duration::from_millis(delay);
        let mut exited = None;
        while must_kill && Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                exited = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let status = match exited {
            Some(s) => s,
            None if must_kill => {
                child.kill().unwrap(); // SIGKILL
                stats.kills += 1;
                child.wait().unwrap()
            }
            None => child.wait().unwrap(),
        };
        let ledger = check_invariants(&server, &log, stats.runs);
        if status.code().is_none() {
            continue; // killed
        }
        stats.finished_runs += 1;
        let code = status.code().unwrap();
        let err = std::fs::read_to_string(&err_file).unwrap_or_default();
        assert!(
            code == 0 || code == 3,
            "run {}: exit {code}: {err}",
            stats.runs
        );
        let open = (0..n).any(|i| {
            !matches!(
                ledger.state(&email(i)).map(|(s, _)| s),
                Some(State::Sent | State::Unknown)
            )
        });
        if !open {
            break;
        }
    }

    // The end: every recipient sent and stored once, or unknown (the run
    // was killed mid-transaction) and stored at most once; a further run
    // sends nothing. Nothing here panics before the figures are printed,
    // so each figure below can really be non-zero.
    let ledger = check_invariants(&server, &log, stats.runs);
    let before = server.messages().len();
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
    let resent_by_plain_run = server.messages().len() - before;
    let stored = stored_counts(&server);
    let (mut sent, mut unknown_stored) = (0, 0);
    let mut unknown_not_stored = Vec::new();
    let mut sent_but_not_stored_once = Vec::new();
    let mut open = Vec::new();
    for i in 0..n {
        let e = email(i);
        let count = stored.get(&e).copied().unwrap_or(0);
        match ledger.state(&e).map(|(s, _)| s) {
            Some(State::Sent) if count == 1 => sent += 1,
            Some(State::Sent) => sent_but_not_stored_once.push(format!("{e} stored {count}x")),
            Some(State::Unknown) if count == 1 => unknown_stored += 1,
            Some(State::Unknown) if count == 0 => unknown_not_stored.push(e),
            other => open.push(format!("{e}: {other:?}, stored {count}x")),
        }
    }
    // The user's way out for unknowns the server never got: resend just
    // those. Afterwards every recipient must hold exactly one letter.
    if !unknown_not_stored.is_empty() {
        let mut args = vec!["send", "--yes", "--resend-unknown"];
        for e in &unknown_not_stored {
            args.extend(["--recipient", e.as_str()]);
        }
        let out = c.cmd(&args).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
    }
    let stored = stored_counts(&server);
    let duplicates = stored.values().filter(|&&v| v > 1).count();
    let lost: Vec<String> = (0..n)
        .map(email)
        .filter(|e| stored.get(e).copied().unwrap_or(0) == 0)
        .collect();
    println!(
        "crash torture: seed {seed:#x}, round {round}, {n} recipients, {} runs, {} SIGKILLs survived, {} runs finished on their own, torn lines injected {:?}; \
         end: {sent} sent, {unknown_stored} unknown (stored once), {} unknown (not stored, then resent), \
         {duplicates} duplicates, {} lost; {} messages stored; {:.1} s",
        stats.runs,
        stats.kills,
        stats.finished_runs,
        stats.torn,
        unknown_not_stored.len(),
        lost.len(),
        server.messages().len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(resent_by_plain_run, 0, "a final run sends nothing");
    assert!(
        sent_but_not_stored_once.is_empty(),
        "the ledger says sent, the server disagrees: {sent_but_not_stored_once:?}"
    );
    assert!(open.is_empty(), "recipients left open: {open:?}");
    assert_eq!(duplicates, 0, "letters stored twice: {stored:?}");
    assert!(lost.is_empty(), "never delivered: {lost:?}");
    stats.kills
}

// ---------------------------------------------------------------------------
// Bounded soak.

const SOAK_MESSAGES: usize = 3_000;
const SOAK_CONCURRENCY: u64 = 4;
/// Share of recipients (percent) whose first tries meet a fault.
const SOAK_FAULT_PERCENT: u64 = 10;
/// How much the resident set may grow from the early part of the run to
/// the late part. Legitimate growth is the ledger held in memory (two rows
/// per message, a few hundred bytes each: about 2 MB for the whole soak);
/// a leak of one rendered letter per message (2 KB or more) would exceed
/// the tolerance between the early samples and the end.
const RSS_TOLERANCE_KB: u64 = 4 * 1024;
const RSS_SAMPLE_EVERY: Duration = Duration::from_millis(50);

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Seeded faults for about `SOAK_FAULT_PERCENT` % of the recipients, each
/// for their first one or two tries (within the three a run allows):
/// throttling replies, a lost connection at any stage, slow replies.
fn soak_faults(n: usize, rng: &mut Rng) -> (ServerOptions, usize) {
    let mut opts = ServerOptions::plain();
    let mut faulty = 0;
    for i in 0..n {
        if !rng.chance(SOAK_FAULT_PERCENT) {
            continue;
        }
        faulty += 1;
        let stage = [Stage::Rcpt, Stage::DataStart, Stage::DataEnd][rng.range(0, 3) as usize];
        let fault = match rng.range(0, 6) {
            0 => Fault::Reply(421),
            1 => Fault::Reply(451),
            2 => Fault::Reply(452),
            3 | 4 => Fault::Drop,
            _ => Fault::Delay(Duration::from_millis(rng.range(5, 40))),
        };
        let times = rng.range(1, 3) as u32;
        opts = opts.with_fault(&email(i), FaultPlan::first(times, stage, fault));
    }
    (opts, faulty)
}

#[test]
fn soak_thousands_of_messages_with_faults_agree_with_the_ledger_in_flat_memory() {
    let seed = seed();
    let mut rng = Rng::new(seed ^ 0x50a4);
    let n = SOAK_MESSAGES;
    let (opts, faulty) = soak_faults(n, &mut rng);
    let server = TestServer::start(opts);
    let c = Campaign::with(
        &config(server.port(), SOAK_CONCURRENCY, 5),
        TEXT,
        contacts(n).as_bytes(),
    );
    let log = c.path(LOG);
    let err_file = c.path("stderr.txt");
    let started = Instant::now();
    // (progress: messages stored, RSS in kB) of the first run.
    let mut samples: Vec<(usize, u64)> = Vec::new();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 5, "the soak did not finish in 5 runs");
        let mut child = spawn_send(&c, &err_file);
        let pid = child.id();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if runs == 1 {
                if let Some(kb) = rss_kb(pid) {
                    samples.push((server.messages().len(), kb));
                }
            }
            std::thread::sleep(RSS_SAMPLE_EVERY);
        };
        let err = std::fs::read_to_string(&err_file).unwrap_or_default();
        // A streak of faults may stop a run (exit 1): the next resumes.
        assert!(
            matches!(status.code(), Some(0 | 1 | 3)),
            "run {runs}: {status:?}: {err}"
        );
        if status.code() == Some(0) {
            break;
        }
    }
    let elapsed = started.elapsed();

    // The ledger and the store agree exactly.
    let ledger = Ledger::read(&log).unwrap();
    let stored = stored_counts(&server);
    let duplicates = stored.values().filter(|&&v| v > 1).count();
    let mut lost = 0;
    for i in 0..n {
        let e = email(i);
        let state = ledger.state(&e).map(|(s, _)| s);
        let count = stored.get(&e).copied().unwrap_or(0);
        if state != Some(State::Sent) || count != 1 {
            lost += 1;
            eprintln!("{e}: ledger {state:?}, stored {count}");
        }
    }
    let sent_rows = ledger
        .events()
        .iter()
        .filter(|e| e.status == Status::Sent)
        .count();
    let deferred_rows = ledger
        .events()
        .iter()
        .filter(|e| e.status == Status::Deferred)
        .count();

    // Memory: compare the early part of the run with the late part.
    let part = |lo: usize, hi: usize| -> Vec<u64> {
        samples
            .iter()
            .filter(|(p, _)| *p >= n * lo / 100 && *p < n * hi / 100)
            .map(|(_, kb)| *kb)
            .collect()
    };
    let early = part(10, 30);
    let late = part(70, 101);
    let max = |v: &[u64]| v.iter().copied().max().unwrap_or(0);
    let peak = max(&samples.iter().map(|s| s.1).collect::<Vec<_>>());
    println!(
        "soak: seed {seed:#x}, {n} messages at concurrency {SOAK_CONCURRENCY}, {faulty} recipients with injected faults, \
         {runs} run(s), {:.1} s; {} stored, {sent_rows} sent rows, {deferred_rows} deferred rows, \
         {duplicates} duplicates, {lost} lost; RSS kB: {} samples, early (10-30 %) max {}, late (70-100 %) max {}, peak {peak}, tolerance {RSS_TOLERANCE_KB}",
        elapsed.as_secs_f64(),
        server.messages().len(),
        samples.len(),
        max(&early),
        max(&late),
    );
    let every: Vec<String> = samples
        .iter()
        .step_by((samples.len() / 12).max(1))
        .map(|(p, kb)| format!("{p}:{kb}"))
        .collect();
    println!("soak: RSS samples (stored:kB) {}", every.join(" "));
    assert_eq!(duplicates, 0);
    assert_eq!(lost, 0);
    assert_eq!(server.messages().len(), n);
    assert_eq!(sent_rows, n, "one sent row per recipient");
    assert!(
        !early.is_empty() && !late.is_empty(),
        "too few memory samples: {samples:?}"
    );
    assert!(
        max(&late) <= max(&early) + RSS_TOLERANCE_KB,
        "memory grew from {} kB to {} kB",
        max(&early),
        max(&late)
    );
}
