//! Throughput benchmark: render-only, then the whole send path as `repmail
//! send` runs it (plan → render → the dispatcher with the pacer built from
//! `[rate]` → SMTP → fsynced ledger), with the `[rate]` a user of their own
//! relay would write (`per_minute = 1000000`, burst 1), against the test
//! SMTP server on loopback, side by side with a minimal baseline client on
//! the same server and number of connections, at concurrency 1 and 4.
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

// The test harness, shared with tests/it: the benchmark uses only its
// server and its library-level send, so the rest is dead code here.
#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use repmail::contacts::Recipient;
use repmail::ledger::Ledger;
use repmail::render::Renderer;
use repmail::send::Progress;
use support::library::{campaign, plan, run_dispatcher, write_contacts, Dispatched};
use support::{ServerOptions, TestServer};

const DEFAULT_N: usize = 500;
const SMOKE_N: usize = 20;
/// The render-only loop repeats over the recipients until this much time has
/// passed, so its figure is not a few milliseconds of noise.
const RENDER_MIN_TIME: Duration = Duration::from_millis(500);
const CONCURRENCIES: [u32; 2] = [1, 4];
/// The side-by-side runs: concurrency, and whether the server offers
/// PIPELINING (as Postfix, Exim and the big providers do; repmail then
/// sends each envelope as one group, lettre's own client does not). The
/// last row is a server that does not.
const SIDE_BY_SIDE: [(u32, bool); 3] = [(1, true), (4, true), (4, false)];
/// Runs of each side per concurrency when measuring.
const ROUNDS: usize = 5;

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
        println!("repmail throughput: {n} recipients, letter templates/letter.txt.tera, SMTP sink = tests/it/support (mailin) on 127.0.0.1, [rate] per_minute = 1000000 (burst 1)");
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

    // Side by side, at each concurrency: repmail's real send path (plan →
    // render → dispatch → SMTP → fsynced ledger, ledger in the temp dir on
    // this machine's disk) and a minimal baseline client (lettre's
    // connection used directly in a loop on a no-delay socket, letters
    // rendered beforehand, no ledger) against the same kind of server with
    // the same number of connections. Then repmail once more at each
    // concurrency with the ledger in /dev/shm (tmpfs: fsync costs next to
    // nothing) to show what the fsyncs cost.
    //
    // The machine's noise (a fsync that takes twice as long, a busy
    // neighbour) moves single runs by a third, so each side runs ROUNDS
    // times, alternating, and the table shows each side's median run and
    // the ratio of every round.
    let rounds = if measuring { ROUNDS } else { 1 };
    let mut side_by_side = Vec::new();
    for &(c, pipelining) in &SIDE_BY_SIDE {
        let (mut ours, mut base) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(send_run(dir.path(), dir.path(), n, c, pipelining));
            base.push(baseline_run(&recipients, &renderer, c, pipelining));
        }
        let ratios: Vec<f64> = ours
            .iter()
            .zip(&base)
            .map(|(o, b)| o.rate() / b.rate())
            .collect();
        side_by_side.push((c, pipelining, median(ours), median(base), ratios));
    }
    let shm = measuring
        .then(|| tempfile::tempdir_in("/dev/shm").ok())
        .flatten();
    // At each concurrency: with the fsync nearly free, what is left is the
    // CPU of rendering, the loop and the server.
    let shm_runs: Vec<(u32, SendFigures)> = shm.as_ref().map_or_else(Vec::new, |d| {
        CONCURRENCIES
            .iter()
            .map(|&c| (c, send_run(dir.path(), d.path(), n, c, true)))
            .collect()
    });
    for (c, _, ours, ..) in side_by_side.iter().filter(|s| s.1) {
        rows.push(send_row(
            &format!("send, concurrency {c}, ledger temp dir"),
            ours,
        ));
    }
    for (c, run) in &shm_runs {
        rows.push(send_row(
            &format!("send, concurrency {c}, ledger /dev/shm"),
            run,
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
        "\nside by side, {n} letters, same server, same number of connections, \
         median of {rounds} alternating rounds:"
    );
    let _ = writeln!(
        out,
        "{:<24} {:>14} {:>14} {:>16} {:>12} {:>14}  ratio per round",
        "concurrency, server",
        "repmail msg/s",
        "baseline msg/s",
        "repmail/baseline",
        "connections",
        "fsyncs/letter"
    );
    for (c, pipelining, ours, base, ratios) in &side_by_side {
        let per_round: Vec<String> = ratios.iter().map(|r| format!("{r:.2}x")).collect();
        let server = if *pipelining {
            "PIPELINING"
        } else {
            "no PIPELINING"
        };
        let _ = writeln!(
            out,
            "{:<24} {:>14.0} {:>14.0} {:>15.2}x {:>5} / {:<5} {:>14.2}  {}",
            format!("{c}, {server}"),
            ours.rate(),
            base.rate(),
            ours.rate() / base.rate(),
            ours.connections,
            base.connections,
            ours.fsyncs as f64 / ours.sent as f64,
            per_round.join(" "),
        );
    }
    let _ = writeln!(
        out,
        "baseline: lettre's AsyncSmtpConnection::send in a loop per connection, TCP_NODELAY, \
         letters rendered before the clock starts, no ledger, one command at a time (lettre does \
         not pipeline); connections: repmail / baseline, counted at the server; the server offers \
         PIPELINING (RFC 2920) as Postfix, Exim and the big providers do, except on the last row"
    );
    let _ = writeln!(
        out,
        "every send run: all {n} messages checked at the server (one per recipient) and \
         {} ledger rows checked",
        2 * n
    );
    let _ = write!(
        out,
        "the ledger writes two rows per message: `sending`, on disk before the transaction \
         starts, and the outcome, on disk with the next `sending` rows or at the end (group \
         commit: rows share one fsync); while every slot is busy the next letters' rows are \
         synced on another thread, their pace taken when they start"
    );
    if shm.is_some() {
        let _ = write!(
            out,
            "; the /dev/shm rows (tmpfs, fsync is nearly free) show what the fsyncs cost here"
        );
    }
    out.push('\n');
    print!("{out}");
}

fn send_row(label: &str, run: &SendFigures) -> String {
    format!(
        "{:<34} {:>9} {:>10.0} {:>9.3} {:>9.2} {:>10.0}",
        label,
        run.sent,
        run.sent as f64 / run.time.as_secs_f64(),
        run.time.as_secs_f64(),
        run.time.as_secs_f64() * 1000.0 / run.sent as f64,
        run.bytes as f64 / run.sent as f64,
    )
}

/// The baseline client: the same letters (rendered before the clock
/// starts) over `concurrency` lettre connections that it opens itself on
/// no-delay sockets, each sending its share in a plain loop. No pacing, no
/// ledger, no classification: what the wire and lettre allow.
fn baseline_run(
    recipients: &[Recipient],
    renderer: &Renderer,
    concurrency: u32,
    pipelining: bool,
) -> SendFigures {
    let server = TestServer::start(server_options(pipelining));
    let letters: Vec<(lettre::address::Envelope, Vec<u8>)> = recipients
        .iter()
        .map(|r| {
            let m = renderer.render(r).expect("render").message;
            (m.envelope().clone(), m.formatted())
        })
        .collect();
    let next = Arc::new(AtomicUsize::new(0));
    let letters = Arc::new(letters);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let addr = (server.host(), server.port());
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (next, letters) = (Arc::clone(&next), Arc::clone(&letters));
                tokio::spawn(async move {
                    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    tcp.set_nodelay(true).expect("nodelay");
                    let hello = ClientId::Domain("example.org".into());
                    let mut conn =
                        AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                            .await
                            .expect("greeting and EHLO");
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((envelope, bytes)) = letters.get(i) else {
                            break;
                        };
                        conn.send(envelope, bytes).await.expect("baseline send");
                    }
                    let _ = conn.quit().await;
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("baseline task");
        }
    });
    let time = start.elapsed();
    let messages = server.messages();
    assert_eq!(
        messages.len(),
        letters.len(),
        "the baseline delivered every letter"
    );
    SendFigures {
        sent: messages.len(),
        time,
        bytes: messages.iter().map(|m| m.message().len()).sum(),
        connections: server.connections(),
        fsyncs: 0,
    }
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

/// The test server, offering PIPELINING or not.
fn server_options(pipelining: bool) -> ServerOptions {
    if pipelining {
        ServerOptions::plain()
    } else {
        ServerOptions::plain().without_pipelining()
    }
}

/// The run with the median rate (the upper one of an even count).
fn median(mut runs: Vec<SendFigures>) -> SendFigures {
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

impl SendFigures {
    fn rate(&self) -> f64 {
        self.sent as f64 / self.time.as_secs_f64()
    }
}

struct SendFigures {
    sent: usize,
    time: Duration,
    bytes: usize,
    /// TCP connections the server accepted.
    connections: usize,
    /// Ledger fsyncs (repmail only).
    fsyncs: u64,
}

/// One `send` of all `n` recipients to a fresh server, with a fresh ledger
/// in `ledger_dir`. Times the dispatch (connections, SMTP, ledger), not the
/// setup.
fn send_run(
    dir: &Path,
    ledger_dir: &Path,
    n: usize,
    concurrency: u32,
    pipelining: bool,
) -> SendFigures {
    let server = TestServer::start(server_options(pipelining));
    let ledger_path = ledger_dir.join(format!("bench-c{concurrency}.csv"));
    let _ = std::fs::remove_file(&ledger_path);
    let campaign = campaign(dir, server.port(), concurrency, &ledger_path);
    let (recipients, renderer) = plan(&campaign, n);
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let Dispatched {
        report,
        commits: fsyncs,
        time,
    } = run_dispatcher(
        &campaign,
        &renderer,
        recipients.clone(),
        &ledger_path,
        stop_rx,
        &mut |_p: Progress<'_>| {},
    );

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
        connections: server.connections(),
        fsyncs,
    }
}
