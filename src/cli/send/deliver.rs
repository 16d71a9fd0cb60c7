//! The sending phase every run shares once it has letters to send: the
//! first letters and each follow-up stage.

use anyhow::Context as _;
use lettre::Address;
use repmail::config::Campaign;
use repmail::ledger::LedgerWriter;
use repmail::render::Renderer;
use repmail::send::{self, DailyCap, Dispatcher, Pacer, Report, Settings, Transport};

use super::super::progress::Display;
use super::super::Output;
use super::{confirm, SendArgs};

/// A run with letters to send: the first letters, or one follow-up stage.
pub(in crate::cli) struct Delivery<'a> {
    pub(in crate::cli) campaign: &'a Campaign,
    pub(in crate::cli) args: &'a SendArgs,
    pub(in crate::cli) renderer: &'a Renderer,
    pub(in crate::cli) pacer: Pacer,
    pub(in crate::cli) cap: Option<DailyCap>,
    /// `--test-to`: the address every letter goes to instead.
    pub(in crate::cli) test_to: Option<&'a Address>,
}

/// Where a run's Sent copies record their `copied` rows.
pub(in crate::cli) enum CopiesLog<'w> {
    /// No copies: test letters are not the campaign's letters.
    Off,
    /// The run's own log (the first letters).
    Own,
    /// The first letter's log: a follow-up's copies share its spool (one
    /// per campaign).
    Main(&'w mut LedgerWriter),
}

/// What every run does once it has letters to send: the password before
/// any connection (a failing command stops the run with nothing sent),
/// the transport with its Sent copies, the prompt, the dispatch, then the
/// copies' last step. `writer` is the log the letters' rows go to.
pub(in crate::cli) fn deliver(
    delivery: Delivery<'_>,
    to_send: Vec<repmail::contacts::Recipient>,
    writer: &mut LedgerWriter,
    mut copies_log: CopiesLog<'_>,
    out: Output,
) -> anyhow::Result<Report> {
    let campaign = delivery.campaign;
    let smtp = campaign.smtp.as_ref().ok_or(send::SetupError::NoSmtp)?;
    let password = crate::cli::signin::secret(smtp)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The connections live on the runtime: the transport is built and
    // dropped inside it. Built before the prompt so a setting it refuses
    // is reported before the user confirms.
    let _inside = runtime.enter();
    let transport = Transport::new(smtp, password, campaign.sender.domain())?;
    let copies = match &copies_log {
        CopiesLog::Off => None,
        CopiesLog::Own => crate::cli::sent::start(campaign, writer.ledger(), out),
        CopiesLog::Main(main) => crate::cli::sent::start(campaign, main.ledger(), out),
    };
    let transport = match &copies {
        Some(c) => transport.with_copies(c.sink()),
        None => transport,
    };
    confirm(delivery.args, to_send.len(), delivery.test_to)?;
    let dispatcher = Dispatcher {
        renderer: delivery.renderer,
        transport,
        pacer: delivery.pacer,
        cap: delivery.cap,
        settings: Settings {
            retry: campaign.retry.clone(),
        },
    };
    let report = dispatch(&runtime, dispatcher, to_send, writer, campaign, out)?;
    if let Some(copies) = copies {
        let log = match &mut copies_log {
            CopiesLog::Main(main) => &mut **main,
            _ => writer,
        };
        crate::cli::sent::finish(copies, &runtime, log, campaign, out)?;
    }
    Ok(report)
}

/// Sends `to_send` through `dispatcher` on `runtime`, with the progress
/// display and the stop signals (Ctrl-C, SIGTERM and SIGHUP: the same clean
/// stop, heard from before the first letter). Every run goes this way: the
/// first letters and each follow-up stage.
fn dispatch(
    runtime: &tokio::runtime::Runtime,
    dispatcher: Dispatcher<'_>,
    to_send: Vec<repmail::contacts::Recipient>,
    writer: &mut LedgerWriter,
    campaign: &Campaign,
    out: Output,
) -> Result<Report, send::SendError> {
    let mut display = Display::new(to_send.len(), &campaign.rate, out);
    let stops = crate::cli::signals::Stops::listen();
    let report = runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(crate::cli::signals::stop_on_signal(stops, stop_tx));
        dispatcher.run(to_send, writer, stop_rx, &mut display).await
    });
    display.finish();
    report
}
