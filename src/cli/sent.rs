//! The Sent copy in a `send` run: start the copier before the first
//! letter, record what it made once the sending is done, and say what is
//! still missing. A copy that fails never stops the run nor changes its
//! exit code: it is retried at the end and by the next run.

use std::path::PathBuf;

use repmail::config::Campaign;
use repmail::ledger::{Event, Ledger, LedgerWriter, Status};
use repmail::sent::{spool, Copier, Decision, Sink};

use super::Output;

/// The copier of a run and its spool.
pub struct Copies {
    copier: Option<Copier>,
    sink: Sink,
    spool: PathBuf,
}

impl Copies {
    /// Where the transport hands accepted letters.
    pub fn sink(&self) -> Sink {
        self.sink.clone()
    }
}

/// Starts the copies for this run, with the letters earlier runs left
/// without one, when `[sent]` asks for copies. Call inside the runtime.
/// A sign-in that cannot be had (no password) is reported; the letters
/// are still kept in the spool for a later run.
pub fn start(campaign: &Campaign, ledger: &Ledger, out: Output) -> Option<Copies> {
    let decision = repmail::sent::decide(
        &campaign.sent,
        campaign.smtp.as_ref(),
        campaign.inbox.as_ref(),
    );
    let (Decision::Append(folder), Some(inbox)) = (decision, &campaign.inbox) else {
        return None;
    };
    let spool = spool::dir_for(&campaign.campaign.log);
    let done = copied_ids(ledger);
    let mut waiting = Vec::new();
    for p in spool::pending(&spool) {
        if done.contains(&p.message_id) {
            // Recorded just before a crash took the file's removal.
            let _ = spool::forget(&spool, &p.message_id);
        } else {
            waiting.push(p);
        }
    }
    match super::signin::inbox_login(inbox) {
        Ok(login) => {
            if out.verbose > 0 && !waiting.is_empty() {
                tell!(
                    "sent copy  {} letters from earlier runs first",
                    waiting.len()
                );
            }
            let (copier, sink) =
                Copier::start(inbox.clone(), login, folder, spool.clone(), waiting);
            Some(Copies {
                copier: Some(copier),
                sink,
                spool,
            })
        }
        Err(e) => {
            say_err!(
                "warning: no copies in Sent this run: {e:#}; the letters are kept for the next run"
            );
            Some(Copies {
                copier: None,
                sink: Sink::spool_only(spool.clone()),
                spool,
            })
        }
    }
}

fn copied_ids(ledger: &Ledger) -> std::collections::HashSet<String> {
    ledger
        .events()
        .iter()
        .filter(|e| e.status == Status::Copied)
        .map(|e| e.message_id.clone())
        .collect()
}

/// Waits for the copies, writes a `copied` row for each, and says what is
/// missing. Drive it on the run's runtime.
pub fn finish(
    copies: Copies,
    runtime: &tokio::runtime::Runtime,
    writer: &mut LedgerWriter,
    campaign: &Campaign,
    out: Output,
) -> anyhow::Result<()> {
    let Copies {
        copier,
        sink,
        spool,
    } = copies;
    drop(sink);
    let Some(copier) = copier else {
        return Ok(());
    };
    let report = runtime.block_on(copier.finish());
    for c in &report.copied {
        let detail = if c.found {
            format!("in {} (already there)", c.folder)
        } else {
            format!("in {}", c.folder)
        };
        let ev = Event::new(&campaign.campaign.name, &c.email, Status::Copied, 0)
            .with_message_id(c.message_id.clone())
            .with_detail(detail);
        writer.append(&ev)?;
        let _ = spool::forget(&spool, &c.message_id);
    }
    if !out.quiet && !report.copied.is_empty() {
        let folder = report
            .copied
            .first()
            .map(|c| c.folder.as_str())
            .unwrap_or("");
        tell!("copies     {} in \"{folder}\"", report.copied.len());
    }
    if !report.missing.is_empty() {
        say_err!(
            "warning: {} letter{} sent without a copy in Sent yet ({}); they stay sent, and the next `repmail send` makes the copies",
            report.missing.len(),
            if report.missing.len() == 1 { "" } else { "s" },
            report.error.as_deref().unwrap_or("the IMAP server failed")
        );
    }
    Ok(())
}
