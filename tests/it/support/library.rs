//! A campaign driven through the library, as the CLI drives it, for tests
//! and benchmarks that need the dispatcher itself: generated contacts in the
//! US Congress layout, a campaign to a loopback server at a relay's pace,
//! its plan.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use super::CampaignFile;
use repmail::config::Campaign;
use repmail::contacts::Recipient;
use repmail::ledger::{Ledger, LedgerWriter};
use repmail::plan::{prepare, Resend, Selection};
use repmail::render::Renderer;
use repmail::send::{Dispatcher, Observer, Pacer, Report, Settings, Transport};

pub const STATES: [&str; 6] = [
    "Vermont",
    "Montana",
    "Oregon",
    "New Mexico",
    "Maine",
    "Wisconsin",
];
pub const DOMAINS: [&str; 3] = ["example.org", "example.com", "example.net"];

/// `n` representatives, spread over three reserved domains.
pub fn write_contacts(path: &Path, n: usize) {
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

/// A campaign to `127.0.0.1:port` in plain SMTP, at `concurrency`, one
/// try per recipient, its ledger at `ledger`, its contacts `contacts.csv`
/// in `dir`. Its `[rate]` is what a user sending through their own relay
/// would write: `per_minute = 1000000` (one every 60 µs), the default
/// burst of 1.
pub fn campaign(dir: &Path, port: u16, concurrency: u32, ledger: &Path) -> Campaign {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/letter.txt.tera");
    let toml = CampaignFile::new("bench")
        .subject("Human rights first: a letter to {{ title }} {{ last_name }}")
        .text(&template.display().to_string())
        .campaign_lines(&format!("log = {:?}", ledger.display().to_string()))
        .from("Society of Social Democracy for Iran <letters@example.org>")
        .reply_to("board@example.org")
        .loopback(port, "security = \"none\"\ntimeout_secs = 30")
        .vars(
            "organization = \"Society of Social Democracy for Iran\"\n\
             letter_date = \"December 20, 2020\"",
        )
        .sections(&format!(
            "[rate]\nper_minute = 1000000\nconcurrency = {concurrency}\n\n\
             [retry]\nattempts = 1\nbackoff_secs = 0\n"
        ))
        .build();
    Campaign::parse(&dir.join("repmail.toml"), &toml).expect("benchmark campaign is valid")
}

/// The plan of a fresh ledger: every one of the `n` recipients, and the
/// renderer.
pub fn plan(campaign: &Campaign, n: usize) -> (Vec<Recipient>, Renderer) {
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

/// What [`run_dispatcher`] did.
pub struct Dispatched {
    pub report: Report,
    /// The ledger's fsyncs (the benchmark's figure; no test reads it).
    #[allow(dead_code)]
    pub commits: u64,
    /// How long `Dispatcher::run` took (building the runtime and the
    /// transport not counted; the benchmark's figure, no test reads it).
    #[allow(dead_code)]
    pub time: Duration,
}

/// Sends `recipients` of `campaign` through the dispatcher as the CLI
/// drives it (`repmail send`: a two-worker runtime, the transport built and
/// dropped inside it, the pacer from the campaign's `[rate]`), writing the
/// ledger at `ledger`; `stop` is its Ctrl-C.
pub fn run_dispatcher(
    campaign: &Campaign,
    renderer: &Renderer,
    recipients: Vec<Recipient>,
    ledger: &Path,
    stop: tokio::sync::watch::Receiver<bool>,
    observer: &mut dyn Observer,
) -> Dispatched {
    let smtp = campaign.smtp.clone().expect("[smtp] is set");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let _inside = rt.enter();
    let transport = Transport::new(&smtp, None, campaign.sender.domain()).expect("transport");
    let mut writer = LedgerWriter::open(ledger, &campaign.campaign.name).expect("ledger");
    let dispatcher = Dispatcher {
        renderer,
        transport,
        pacer: Pacer::new(&campaign.rate),
        cap: None,
        settings: Settings {
            retry: campaign.retry.clone(),
        },
    };
    let start = Instant::now();
    let report = rt
        .block_on(dispatcher.run(recipients, &mut writer, stop, observer))
        .expect("dispatch");
    Dispatched {
        report,
        commits: writer.commits(),
        time: start.elapsed(),
    }
}
