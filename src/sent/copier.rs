//! Making the copies: one task for the run with one IMAP connection,
//! fed through a channel by [`Sink`] the moment the SMTP server accepts a
//! letter, so a slow or absent IMAP server never holds up the sending.
//!
//! At most one copy per letter, across crashes and resumes: before each
//! APPEND the folder is searched for the letter's Message-ID (RFC 3501
//! 6.4.4, `HEADER`), so a copy made just before a crash, whose `copied`
//! row never reached the log, is found instead of made twice.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use futures::TryStreamExt as _;
use tokio::sync::mpsc;

use super::spool::{self, Pending};
use crate::config::Inbox;
use crate::imap::{connect, protocol, ImapError, Login, Session};

/// Longest wait for one IMAP step: a server that stops answering costs
/// the copies, never the run.
const STEP: Duration = Duration::from_secs(30);

/// Hands accepted letters to the copier; cheap to clone, never blocks.
#[derive(Clone)]
pub struct Sink {
    tx: mpsc::UnboundedSender<Job>,
    spool: PathBuf,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("spool", &self.spool).finish()
    }
}

enum Job {
    Letter(Pending),
    Finish,
}

impl Sink {
    /// A sink that only keeps the letters in the spool, for a run whose
    /// copies cannot be made (no sign-in): the next run makes them.
    pub fn spool_only(spool: PathBuf) -> Sink {
        let (tx, _) = mpsc::unbounded_channel();
        Sink { tx, spool }
    }

    /// The server accepted `bytes` for `email`: keep them in the spool (so
    /// a crash or a failed copy leaves them for the next run) and queue
    /// the copy. A spool that cannot be written still queues the copy.
    pub fn accepted(&self, email: &str, message_id: &str, bytes: &[u8]) {
        let p = Pending {
            email: email.to_string(),
            message_id: message_id.to_string(),
            bytes: bytes.to_vec(),
        };
        let _ = spool::keep(&self.spool, &p);
        let _ = self.tx.send(Job::Letter(p));
    }
}

/// A letter whose copy is in the folder (made now, or found there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The recipient.
    pub email: String,
    /// The letter's Message-ID.
    pub message_id: String,
    /// Where the copy is.
    pub folder: String,
    /// Whether it was already there (made by a run that crashed before
    /// recording it).
    pub found: bool,
}

/// What the copier did in a run.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// Copies in the folder.
    pub copied: Vec<Copied>,
    /// Letters still without a copy (left in the spool for the next run).
    pub missing: Vec<Pending>,
    /// Why the last copy failed, if any did.
    pub error: Option<String>,
}

/// The copier task of a run.
pub struct Copier {
    tx: mpsc::UnboundedSender<Job>,
    task: tokio::task::JoinHandle<CopyReport>,
}

impl Copier {
    /// Starts the task on the current runtime, first with `waiting`
    /// (letters a previous run left in the spool). `folder`: the folder
    /// written in `[sent]`, else the one marked `\Sent`.
    pub fn start(
        inbox: Inbox,
        login: Login,
        folder: Option<String>,
        spool: PathBuf,
        waiting: Vec<Pending>,
    ) -> (Copier, Sink) {
        let (tx, rx) = mpsc::unbounded_channel();
        for p in waiting {
            let _ = tx.send(Job::Letter(p));
        }
        let mut worker = Worker {
            inbox,
            login,
            folder,
            session: None,
            report: CopyReport::default(),
            done: HashSet::new(),
            resting: false,
        };
        let task = tokio::spawn(async move {
            worker.work(rx).await;
            worker.report
        });
        let sink = Sink {
            tx: tx.clone(),
            spool,
        };
        (Copier { tx, task }, sink)
    }

    /// Waits for the queued copies, tries the failed ones once more, and
    /// says what was done.
    pub async fn finish(self) -> CopyReport {
        let _ = self.tx.send(Job::Finish);
        self.task
            .await
            .unwrap_or_else(|e| match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => CopyReport::default(),
            })
    }
}

struct Worker {
    inbox: Inbox,
    login: Login,
    folder: Option<String>,
    session: Option<(Session, String)>,
    report: CopyReport,
    /// Message-IDs with their copy, so none is queued twice in a run.
    done: HashSet<String>,
    /// After a failure the server is left alone until the end of the run:
    /// a server that drops packets would otherwise cost a sign-in timeout
    /// per letter, and the run's end would wait for all of them (a failed
    /// copy must never slow the sending; the spool keeps the letter).
    resting: bool,
}

impl Worker {
    async fn work(&mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        while let Some(job) = rx.recv().await {
            match job {
                Job::Letter(p) => self.copy(p).await,
                Job::Finish => break,
            }
        }
        // The end of the run: each failed copy once more, on a new
        // connection, until one fails (the rest wait in the spool for the
        // next run).
        self.resting = false;
        let retry = std::mem::take(&mut self.report.missing);
        for p in retry {
            self.copy(p).await;
        }
        if let Some((mut s, _)) = self.session.take() {
            let _ = tokio::time::timeout(STEP, s.logout()).await;
        }
    }

    async fn copy(&mut self, p: Pending) {
        if self.done.contains(&p.message_id) {
            return;
        }
        if self.resting {
            self.report.missing.push(p);
            return;
        }
        match self.try_copy(&p).await {
            Ok((folder, found)) => {
                self.done.insert(p.message_id.clone());
                self.report.copied.push(Copied {
                    email: p.email,
                    message_id: p.message_id,
                    folder,
                    found,
                })
            }
            Err(e) => {
                // A broken connection is not used again, nor is a new one
                // tried before the end of the run.
                self.session = None;
                self.resting = true;
                self.report.error = Some(e.to_string());
                self.report.missing.push(p);
            }
        }
    }

    async fn try_copy(&mut self, p: &Pending) -> Result<(String, bool), ImapError> {
        if self.session.is_none() {
            let mut s = timed("sign-in", connect(&self.inbox, &self.login)).await?;
            let folder = match &self.folder {
                Some(f) => f.clone(),
                None => timed("LIST", sent_folder(&mut s)).await?,
            };
            self.session = Some((s, folder));
        }
        let Some((session, folder)) = self.session.as_mut() else {
            unreachable!("connected above")
        };
        let folder = folder.clone();
        timed("EXAMINE", async {
            session
                .examine(&folder)
                .await
                .map_err(|e| protocol(format!("EXAMINE {folder} (the Sent folder)"), e))
        })
        .await?;
        let id = p.message_id.replace(['"', '\\', '\r', '\n'], "");
        let found = timed("SEARCH", async {
            session
                .uid_search(format!("HEADER Message-ID \"{id}\""))
                .await
                .map_err(|e| protocol(format!("SEARCH in {folder}"), e))
        })
        .await?;
        if !found.is_empty() {
            return Ok((folder, true));
        }
        timed("APPEND", async {
            session
                .append(&folder, Some("(\\Seen)"), None, &p.bytes)
                .await
                .map_err(|e| protocol(format!("APPEND to {folder}"), e))
        })
        .await?;
        Ok((folder, false))
    }
}

async fn timed<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, ImapError>>,
) -> Result<T, ImapError> {
    tokio::time::timeout(STEP, f).await.unwrap_or_else(|_| {
        Err(protocol(
            what,
            format!("no answer within {} s", STEP.as_secs()),
        ))
    })
}

/// The folder with the `\Sent` attribute (RFC 6154 section 2), asked
/// with `LIST ... RETURN (SPECIAL-USE)` (RFC 6154 section 5.1), else a
/// plain LIST (servers may show the attributes there too); none: an
/// error naming the folders there are.
async fn sent_folder(session: &mut Session) -> Result<String, ImapError> {
    use async_imap::types::NameAttribute;
    let mut names: Vec<(String, bool)> = Vec::new();
    for pattern in ["\"*\" RETURN (SPECIAL-USE)", "\"*\""] {
        let listed: Result<Vec<_>, _> = match session.list(Some(""), Some(pattern)).await {
            Ok(stream) => stream.try_collect().await,
            Err(e) => Err(e),
        };
        if let Ok(listed) = listed {
            names = listed
                .iter()
                .map(|n| {
                    let sent = n.attributes().contains(&NameAttribute::Sent);
                    (n.name().to_string(), sent)
                })
                .collect();
            if let Some((name, _)) = names.iter().find(|(_, sent)| *sent) {
                return Ok(name.clone());
            }
        }
    }
    let all: Vec<String> = names.into_iter().map(|(n, _)| format!("\"{n}\"")).collect();
    Err(protocol(
        "finding the Sent folder",
        format!(
            "no folder is marked \\Sent; the folders are {}: write the one to use as `folder` under [sent]",
            if all.is_empty() { "(none listed)".to_string() } else { all.join(", ") }
        ),
    ))
}
