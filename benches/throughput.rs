//! Throughput benchmark: render-only, then the whole send path (plan →
//! render → unpaced dispatch → SMTP → fsynced ledger) against the test SMTP
//! server on loopback, at concurrency 1 and 4.
//!
//! ```sh
//! cargo bench --bench throughput              # N = 500
//! REPMAIL_BENCH_N=2000 cargo bench --bench throughput
//! ```
//!
//! Figures, not assertions: it prints a table. It does check that every
//! message reached the server and that the ledger holds both rows of each,
//! so a figure cannot come from messages that were never delivered.
//!
//! When cargo runs it without `--bench` (`cargo test --benches` or
//! `--all-targets`), it does a quick smoke run over a few recipients instead
//! of measuring.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use repmail::config::Campaign;
use repmail::contacts::Recipient;
use repmail::ledger::{Ledger, LedgerWriter};
use repmail::plan::{prepare, Resend, Selection};
use repmail::render::Renderer;
use repmail::send::{Dispatcher, Pacer, Progress, Settings, Transport};
use support::{ServerOptions, TestServer};

const DEFAULT_N: usize = 500;
const SMOKE_N: usize = 20;
/// The render-only loop repeats over the recipients until this much time has
/// passed, so its figure is not a few milliseconds of noise.
const RENDER_MIN_TIME: Duration = Duration::from_millis(500);
const CONCURRENCIES: [u32; 2] = [1, 4];

const STATES: [&str; 6] = [
    "Vermont",
    "Montana",
    "Oregon",
    "New Mexico",
    "Maine",
    "Wisconsin",
];
const DOMAINS: [&str; 3] = ["example.org", "example.com", "example.net"];

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let measuring = std::env::args().any(|a| a == "--bench");
    let n = if measuring {
        std::env::var("REPMAIL_BENCH_N")
            .ok()
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| {
                        panic!("REPMAIL_BENCH_N must be a positive number, not {v:?}")
                    })
            })
            .unwrap_or(DEFAULT_N)
    } else {
        SMOKE_N
    };

    let dir = tempfile::tempdir().expect("temp dir");
    write_contacts(&dir.path().join("contacts.csv"), n);

    if !measuring {
        println!("throughput bench: smoke run over {n} recipients (run `cargo bench --bench throughput` for figures)");
    } else {
        println!("repmail throughput: {n} recipients, letter templates/letter.txt.tera, SMTP sink = tests/support (mailin) on 127.0.0.1, pacing off");
        println!(
            "machine: {} cores; build: {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release (bench profile)"
            }
        );
        println!();
    }

    // Render only.
    let campaign = campaign(dir.path(), 1, 1, &dir.path().join("render.csv"));
    let (recipients, renderer) = plan(&campaign, n);
    let render = render_only(&renderer, &recipients, measuring);

    let mut rows = vec![format!(
        "{:<34} {:>9} {:>10.0} {:>9.3} {:>9.3} {:>10.0}",
        "render only (Tera + lettre)",
        render.letters,
        render.letters as f64 / render.time.as_secs_f64(),
        render.time.as_secs_f64(),
        render.time.as_secs_f64() * 1000.0 / render.letters as f64,
        render.bytes as f64 / render.formatted as f64,
    )];
    let formatted_rate = render.formatted as f64 / render.formatted_time.as_secs_f64();

    // Send with the ledger in the temp dir (on this machine's disk), at each
    // concurrency; then once more at the highest concurrency with the ledger
    // in /dev/shm (tmpfs: fsync costs next to nothing) to show what the
    // fsyncs cost. The dispatch loop is the ledger's only writer, so its
    // fsyncs are serial whatever the concurrency.
    let mut runs: Vec<(u32, &str, PathBuf)> = CONCURRENCIES
        .iter()
        .map(|&c| (c, "temp dir", dir.path().to_path_buf()))
        .collect();
    let shm = measuring
        .then(|| tempfile::tempdir_in("/dev/shm").ok())
        .flatten();
    if let Some(d) = &shm {
        runs.push((CONCURRENCIES[1], "/dev/shm", d.path().to_path_buf()));
    }
    for (c, label, ledger_dir) in &runs {
        let run = send_run(dir.path(), ledger_dir, n, *c);
        rows.push(format!(
            "{:<34} {:>9} {:>10.0} {:>9.3} {:>9.2} {:>10.0}",
            format!("send, concurrency {c}, ledger {label}"),
            run.sent,
            run.sent as f64 / run.time.as_secs_f64(),
            run.time.as_secs_f64(),
            run.time.as_secs_f64() * 1000.0 / run.sent as f64,
            run.bytes as f64 / run.sent as f64,
        ));
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<34} {:>9} {:>10} {:>9} {:>9} {:>10}",
        "", "messages", "msg/s", "wall s", "ms/msg", "avg bytes"
    );
    for r in &rows {
        let _ = writeln!(out, "{r}");
    }
    let _ = writeln!(
        out,
        "\nrender + format to bytes (what preview --out writes): {formatted_rate:.0} msg/s"
    );
    let _ = writeln!(
        out,
        "every send run: all {n} messages checked at the server (one per recipient) and \
         {} ledger rows checked",
        2 * n
    );
    let _ = write!(
        out,
        "the ledger writes and fsyncs two rows per message (`sending` before the transaction, \
         the outcome after), in the one dispatch loop: that is the durability guarantee, and \
         on a slow disk it bounds throughput"
    );
    if shm.is_some() {
        let _ = write!(
            out,
            "; the /dev/shm row (tmpfs, fsync is nearly free) shows what the fsyncs cost here"
        );
    }
    out.push('\n');
    print!("{out}");
}

/// The example campaign's columns, `n` rows, addresses on reserved domains.
fn write_contacts(path: &Path, n: usize) {
    let mut csv = String::from(
        "title,first_name,last_name,chamber,state,district,party,email,contact_form\n",
    );
    for i in 0..n {
        let (title, chamber, district) = if i % 4 == 0 {
            ("Senator", "Senate", String::new())
        } else {
            (
                "Representative",
                "House of Representatives",
                (i % 12 + 1).to_string(),
            )
        };
        let _ = writeln!(
            csv,
            "{title},First{i},Last{i},{chamber},{},{district},Independent,rep{i}@{},",
            STATES[i % STATES.len()],
            DOMAINS[i % DOMAINS.len()],
        );
    }
    std::fs::write(path, csv).expect("write contacts");
}

fn campaign(dir: &Path, port: u16, concurrency: u32, ledger: &Path) -> Campaign {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/letter.txt.tera");
    let toml = format!(
        r#"[campaign]
name = "bench"
subject = "Human rights first: a letter to {{{{ title }}}} {{{{ last_name }}}}"
text = {template:?}
log = {ledger:?}

[sender]
from = "Society of Social Democracy for Iran <letters@example.org>"
reply_to = "board@example.org"

[contacts]
path = "contacts.csv"
name = "{{{{ first_name }}}} {{{{ last_name }}}}"

[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout_secs = 30

[rate]
per_minute = 1000000
burst = 1000000
concurrency = {concurrency}

[retry]
attempts = 1
backoff_secs = 0

[vars]
organization = "Society of Social Democracy for Iran"
letter_date = "December 20, 2020"
"#,
        template = template.display().to_string(),
        ledger = ledger.display().to_string(),
    );
    Campaign::parse(&dir.join("repmail.toml"), &toml).expect("benchmark campaign is valid")
}

/// The send plan against an empty ledger: what `send` would send.
fn plan(campaign: &Campaign, n: usize) -> (Vec<Recipient>, Renderer) {
    let prepared = prepare(campaign).unwrap_or_else(|p| panic!("prepare: {p:?}"));
    let (plan, renderer) =
        prepared.plan_send(&Ledger::default(), &Selection::default(), Resend::default());
    assert!(!plan.has_errors(), "plan problems: {:?}", plan.problems);
    assert_eq!(
        plan.to_send.len(),
        n,
        "every generated recipient is planned"
    );
    (plan.to_send, renderer)
}

struct RenderFigures {
    /// Letters rendered to a `lettre::Message`, and how long that took.
    letters: usize,
    time: Duration,
    /// Letters rendered and formatted to bytes, how long, and their size.
    formatted: usize,
    formatted_time: Duration,
    bytes: usize,
}

fn render_only(renderer: &Renderer, recipients: &[Recipient], measuring: bool) -> RenderFigures {
    // Warm up (first use of the templates and allocator), untimed.
    for r in recipients.iter().take(50) {
        std::hint::black_box(renderer.render(r).expect("render"));
    }
    // Render to a lettre Message (what the dispatcher does per transaction).
    let start = Instant::now();
    let mut letters = 0usize;
    loop {
        for r in recipients {
            let m = renderer.render(r).expect("render");
            std::hint::black_box(&m);
            letters += 1;
        }
        if !measuring || start.elapsed() >= RENDER_MIN_TIME {
            break;
        }
    }
    let time = start.elapsed();

    // Render and format to the bytes that go on the wire.
    let start = Instant::now();
    let mut formatted = 0usize;
    let mut bytes = 0usize;
    loop {
        for r in recipients {
            let m = renderer.render(r).expect("render");
            bytes += std::hint::black_box(m.message.formatted()).len();
            formatted += 1;
        }
        if !measuring || start.elapsed() >= RENDER_MIN_TIME {
            break;
        }
    }
    RenderFigures {
        letters,
        time,
        formatted,
        formatted_time: start.elapsed(),
        bytes,
    }
}

struct SendFigures {
    sent: usize,
    time: Duration,
    bytes: usize,
}

/// One `send` of all `n` recipients to a fresh server, with a fresh ledger
/// in `ledger_dir`. Times the dispatch (connections, SMTP, ledger), not the
/// setup.
fn send_run(dir: &Path, ledger_dir: &Path, n: usize, concurrency: u32) -> SendFigures {
    let server = TestServer::start(ServerOptions::plain());
    let ledger_path = ledger_dir.join(format!("bench-c{concurrency}.csv"));
    let _ = std::fs::remove_file(&ledger_path);
    let campaign = campaign(dir, server.port(), concurrency, &ledger_path);
    let (recipients, renderer) = plan(&campaign, n);
    let smtp = campaign.smtp.clone().expect("[smtp] is set");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (report, time) = {
        // lettre's pool lives on the runtime: build and drop the transport
        // inside it.
        let _inside = rt.enter();
        let transport = Transport::new(&smtp, None, campaign.sender.domain()).expect("transport");
        let mut writer = LedgerWriter::open(&ledger_path, &campaign.campaign.name).expect("ledger");
        let dispatcher = Dispatcher {
            renderer: &renderer,
            transport,
            pacer: Pacer::new(&campaign.rate, true),
            cap: None,
            settings: Settings {
                retry: campaign.retry.clone(),
            },
        };
        let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let start = Instant::now();
        let report = rt
            .block_on(dispatcher.run(
                recipients.clone(),
                &mut writer,
                stop_rx,
                &mut |_p: Progress<'_>| {},
            ))
            .expect("dispatch");
        (report, start.elapsed())
    };
    drop(rt);

    assert_eq!(report.sent, n, "all sent: {report:?}");
    assert_eq!(report.transactions, n, "one transaction each: {report:?}");
    assert!(report.stop.is_none(), "run stopped: {report:?}");
    let messages = server.messages();
    assert_eq!(messages.len(), n, "the server stored every message");
    let stored: HashSet<String> = messages
        .iter()
        .flat_map(|m| m.rcpts.iter().map(|r| r.to_ascii_lowercase()))
        .collect();
    let wanted: HashSet<String> = recipients
        .iter()
        .map(|r| r.email.to_string().to_ascii_lowercase())
        .collect();
    assert_eq!(stored, wanted, "each recipient got exactly its letter");
    let ledger = Ledger::read(&ledger_path).expect("read ledger");
    assert_eq!(
        ledger.events().len(),
        2 * n,
        "sending + sent row per message"
    );
    let bytes = messages.iter().map(|m| m.message().len()).sum();
    let _ = std::fs::remove_file(&ledger_path);
    SendFigures {
        sent: messages.len(),
        time,
        bytes,
    }
}
