//! Writing the delivery log: one writer at a time (an exclusive lock),
//! every row whole or not at all, and every row on disk before the
//! transaction it announces starts. A sync may run on another thread
//! ([`LedgerWriter::start_sync`]) while the dispatch loop goes on with the
//! rows already on disk.

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::SecondsFormat;

use super::{csv_line, scan, Event, Ledger, LedgerError, HEADER};

/// How written rows reach the disk. A seam so that tests can see every
/// sync (a crash test cannot: SIGKILL keeps the page cache, so a missing
/// fsync only shows after a power loss).
pub trait Durability: fmt::Debug + Send + Sync {
    /// Makes everything written to `file` so far survive a power loss.
    /// May run on another thread than the writes ([`PendingSync`]).
    fn sync(&self, file: &File) -> io::Result<()>;
}

/// The real thing: `fsync` (data only; the file's size is data).
#[derive(Debug, Default)]
pub struct Fsync;

impl Durability for Fsync {
    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }
}

/// A sync started by [`LedgerWriter::start_sync`], to be run on a thread
/// that may block.
#[derive(Debug)]
pub struct PendingSync {
    file: File,
    durability: Arc<dyn Durability>,
    rows: usize,
}

impl PendingSync {
    /// Waits for the disk (blocking).
    pub fn run(self) -> SyncDone {
        SyncDone {
            rows: self.rows,
            result: self.durability.sync(&self.file),
        }
    }
}

/// What a [`PendingSync`] did, for [`LedgerWriter::finish_sync`].
#[derive(Debug)]
pub struct SyncDone {
    rows: usize,
    result: io::Result<()>,
}

/// Appends events to a log while holding an exclusive lock on it.
///
/// Dropping the writer closes the file, which releases the lock.
#[derive(Debug)]
pub struct LedgerWriter {
    durability: Arc<dyn Durability>,
    file: File,
    path: PathBuf,
    campaign: String,
    ledger: Ledger,
    /// Set when a failed write could not be undone or an fsync failed: the
    /// file's end is then unknown and nothing more may be appended.
    poisoned: bool,
    /// The file's length: where a failed write is cut back to. Known
    /// without asking the file system, since no one else writes (the lock).
    len: u64,
    /// Bytes written that no sync, finished or under way, covers yet.
    dirty: bool,
    /// Rows (as counted by [`LedgerWriter::rows`]) known to be on disk.
    synced: usize,
    /// Fsyncs of rows so far (the benchmark's figure of group commit).
    commits: u64,
}

impl LedgerWriter {
    /// Opens (creating it and its folder if needed) and locks the log of
    /// `campaign`. Refuses at once with [`LedgerError::Locked`] if another
    /// process holds the lock. Under the lock, reads the log, cuts off a
    /// torn last line and writes the header into an empty file.
    ///
    /// The contents read under the lock are available from
    /// [`LedgerWriter::ledger`]; plan from those, not from an earlier
    /// [`Ledger::read`], which another run may have outdated.
    pub fn open(path: &Path, campaign: &str) -> Result<LedgerWriter, LedgerError> {
        LedgerWriter::open_with(path, campaign, Arc::new(Fsync))
    }

    /// [`LedgerWriter::open`] with another way to reach the disk (tests).
    pub fn open_with(
        path: &Path,
        campaign: &str,
        durability: Arc<dyn Durability>,
    ) -> Result<LedgerWriter, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .map_err(|e| LedgerError::io("create the folder of", path, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| LedgerError::io("open", path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LedgerError::Locked {
                    path: path.to_path_buf(),
                })
            }
            Err(TryLockError::Error(e)) => return Err(LedgerError::io("lock", path, e)),
        }

        // Read only after locking: before, another writer could still be
        // appending.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| LedgerError::io("read", path, e))?;
        let scan = scan(path, &bytes)?;
        if scan.valid_len < bytes.len() {
            // The torn row's write never completed, so its transaction never
            // started (rows are fsynced first): dropping it loses nothing.
            file.set_len(scan.valid_len as u64)
                .and_then(|()| durability.sync(&file))
                .map_err(|e| LedgerError::io("cut off the torn last line of", path, e))?;
        }
        let mut ledger = scan.ledger;
        ledger.check_campaign(path, campaign)?;
        ledger.torn_tail = false;
        let len = scan.valid_len as u64;
        let mut writer = LedgerWriter {
            len,
            durability,
            file,
            path: path.to_path_buf(),
            campaign: campaign.to_string(),
            ledger,
            poisoned: false,
            dirty: false,
            synced: 0,
            commits: 0,
        };
        // What an earlier run wrote counts as on disk: it is what this run
        // found there.
        writer.synced = writer.rows();
        if !scan.has_header {
            writer.write_durably(&csv_line(HEADER))?;
            sync_parent_dir(path);
        }
        Ok(writer)
    }

    /// Writes one row and fsyncs it (with any uncommitted rows before it)
    /// before returning: once this returns `Ok`, the row survives a crash
    /// or power loss. After an error, stop the run; later appends on this
    /// writer are refused.
    pub fn append(&mut self, event: &Event) -> Result<(), LedgerError> {
        self.append_uncommitted(event)?;
        self.commit()
    }

    /// Writes one row into the file without waiting for the disk: it
    /// survives the process being killed, and [`LedgerWriter::commit`] (or
    /// the next [`LedgerWriter::append`], or dropping the writer) makes it
    /// survive a power loss too, in the same fsync as every row before it.
    pub fn append_uncommitted(&mut self, event: &Event) -> Result<(), LedgerError> {
        let event = event.normalized();
        let time = event.time.to_rfc3339_opts(SecondsFormat::Millis, true);
        let attempt = event.attempt.to_string();
        let code = event.smtp_code.map(|c| c.to_string()).unwrap_or_default();
        let line = csv_line([
            time.as_str(),
            &event.campaign,
            &event.email,
            event.status.as_str(),
            &attempt,
            &code,
            &event.message_id,
            &event.detail,
        ]);
        self.write_whole(&line)?;
        self.dirty = true;
        self.ledger.push(event);
        Ok(())
    }

    /// Fsyncs every row written so far (again, if only a sync under way
    /// covers some); nothing to do if none is waiting.
    pub fn commit(&mut self) -> Result<(), LedgerError> {
        self.refuse_if_poisoned("save (fsync)")?;
        if self.is_committed() {
            return Ok(());
        }
        // Where a failed write is cut back to must be the file's end
        // (checked where it costs nothing: in debug builds, the tests).
        debug_assert_eq!(
            self.file.metadata().ok().map(|m| m.len()),
            Some(self.len),
            "the writer lost track of the length of {}",
            self.path.display()
        );
        let rows = self.rows();
        self.dirty = false;
        let result = self.durability.sync(&self.file);
        self.finish_sync(SyncDone { rows, result })
    }

    /// Starts a sync of every row written so far, to run off the caller's
    /// thread ([`PendingSync::run`], e.g. in `spawn_blocking`) while it
    /// goes on; hand its result to [`LedgerWriter::finish_sync`]. Rows
    /// appended meanwhile wait for the next sync. `None`: nothing waits.
    pub fn start_sync(&mut self) -> Result<Option<PendingSync>, LedgerError> {
        self.refuse_if_poisoned("save (fsync)")?;
        if !self.dirty {
            return Ok(None);
        }
        let file = self
            .file
            .try_clone()
            .map_err(|e| LedgerError::io("save (fsync)", &self.path, e))?;
        self.dirty = false;
        Ok(Some(PendingSync {
            file,
            durability: Arc::clone(&self.durability),
            rows: self.rows(),
        }))
    }

    /// Records a finished sync: its rows are on disk, or, if it failed,
    /// nothing more may be written.
    pub fn finish_sync(&mut self, done: SyncDone) -> Result<(), LedgerError> {
        if let Err(e) = done.result {
            // After a failed fsync the kernel may have dropped the dirty
            // pages: whether the rows are on disk is unknown, so refuse to
            // build on them.
            self.poisoned = true;
            return Err(LedgerError::io("save (fsync)", &self.path, e));
        }
        self.synced = self.synced.max(done.rows);
        self.commits += 1;
        Ok(())
    }

    /// Whether every row written so far has been synced: what must hold
    /// when a transaction starts (its `sending` row on disk first).
    pub fn is_committed(&self) -> bool {
        !self.dirty && self.synced == self.rows()
    }

    /// Rows in the log: those read under the lock and every one appended
    /// since. The row just appended is `rows() - 1`.
    pub fn rows(&self) -> usize {
        self.ledger.events().len()
    }

    /// Whether row `row` (0-based, counted as [`LedgerWriter::rows`]) has
    /// been synced: what must hold when its transaction starts, even while
    /// later rows still wait for the next commit.
    pub fn is_synced(&self, row: usize) -> bool {
        row < self.synced
    }

    /// How many fsyncs this writer has done.
    pub fn commits(&self) -> u64 {
        self.commits
    }

    /// The log as read under the lock, plus every event appended since.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The campaign this writer was opened for.
    pub fn campaign(&self) -> &str {
        &self.campaign
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `bytes` whole and fsyncs, or leaves the file as it was.
    fn write_durably(&mut self, bytes: &[u8]) -> Result<(), LedgerError> {
        self.write_whole(bytes)?;
        self.dirty = true;
        self.commit()
    }

    /// After a failed write or fsync: a later fsync may "succeed" without
    /// the lost pages (the kernel dropped them), so the rows are never
    /// reported safe again.
    fn refuse_if_poisoned(&self, op: &'static str) -> Result<(), LedgerError> {
        if self.poisoned {
            return Err(LedgerError::io(
                op,
                &self.path,
                io::Error::other("an earlier write failed; stop and run again"),
            ));
        }
        Ok(())
    }

    /// Appends `bytes` whole, or leaves the file as it was.
    fn write_whole(&mut self, bytes: &[u8]) -> Result<(), LedgerError> {
        self.refuse_if_poisoned("write to")?;
        if let Err(e) = self.file.write_all(bytes) {
            // A half-written row would become a bad line in the middle of
            // the log as soon as anything followed it: take it back.
            if self.file.set_len(self.len).is_err() {
                self.poisoned = true;
            }
            return Err(LedgerError::io("write to", &self.path, e));
        }
        self.len += bytes.len() as u64;
        Ok(())
    }
}

impl Drop for LedgerWriter {
    /// Rows written but not yet fsynced go to disk before the lock is
    /// released (best effort: an error here has no one left to tell).
    fn drop(&mut self) {
        if !self.poisoned {
            let _ = self.commit();
        }
    }
}

/// Makes a newly created log's directory entry durable, so the file itself
/// cannot vanish in a power loss after rows were fsynced into it. Best
/// effort: not every platform can sync a directory.
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
