//! The ledger's durability, observed through the [`Durability`] seam: every
//! row is synced before `append` returns, rows written uncommitted are
//! synced by the next commit, and a failed sync stops all further writes.

use super::*;
use std::fs::File;
use std::sync::{Arc, Mutex};

/// Records the file's length at every sync: the bytes made durable.
#[derive(Debug, Clone, Default)]
struct Counting {
    synced: Arc<Mutex<Vec<u64>>>,
    fail: Arc<Mutex<bool>>,
}

impl Durability for Counting {
    fn sync(&self, file: &File) -> io::Result<()> {
        if *self.fail.lock().unwrap() {
            return Err(io::Error::other("disk full"));
        }
        self.synced.lock().unwrap().push(file.metadata()?.len());
        Ok(())
    }
}

impl Counting {
    fn last(&self) -> Option<u64> {
        self.synced.lock().unwrap().last().copied()
    }
    fn count(&self) -> usize {
        self.synced.lock().unwrap().len()
    }
}

/// A new log in a temp folder (kept while the `TempDir` lives), opened
/// through a counting seam.
fn counted() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Counting,
    LedgerWriter,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.csv");
    let seam = Counting::default();
    let w = LedgerWriter::open_with(&path, "c", Arc::new(seam.clone())).unwrap();
    (dir, path, seam, w)
}

fn len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

fn row(email: &str, status: Status) -> Event {
    Event::new("c", email, status, 1)
}

#[test]
fn every_appended_row_is_synced_before_append_returns() {
    let (_dir, path, seam, mut w) = counted();
    // The header of a new log is durable before anything else is written.
    assert_eq!(seam.last(), Some(len(&path)), "header synced");
    for (i, status) in [Status::Sending, Status::Sent, Status::Sending]
        .into_iter()
        .enumerate()
    {
        let before = seam.count();
        w.append(&row(&format!("r{i}@example.org"), status))
            .unwrap();
        assert_eq!(seam.count(), before + 1, "one sync per append");
        assert_eq!(seam.last(), Some(len(&path)), "row {i} synced whole");
        assert!(w.is_committed());
    }
}

#[test]
fn uncommitted_rows_share_the_next_sync_and_are_reported_until_then() {
    let (_dir, path, seam, mut w) = counted();
    let syncs = seam.count();
    let commits = w.commits();
    w.append_uncommitted(&row("a@example.org", Status::Sent))
        .unwrap();
    w.append_uncommitted(&row("b@example.org", Status::Sending))
        .unwrap();
    assert!(!w.is_committed(), "two rows wait for the disk");
    assert_eq!(seam.count(), syncs, "no sync yet");
    w.commit().unwrap();
    assert!(w.is_committed());
    assert_eq!(seam.count(), syncs + 1, "one sync for both rows");
    assert_eq!(seam.last(), Some(len(&path)));
    // Nothing waiting: a commit costs no sync.
    w.commit().unwrap();
    assert_eq!(seam.count(), syncs + 1);
    assert_eq!(w.commits(), commits + 1);
}

#[test]
fn dropping_the_writer_syncs_what_is_left() {
    let (_dir, path, seam, mut w) = counted();
    w.append_uncommitted(&row("a@example.org", Status::Sent))
        .unwrap();
    drop(w);
    assert_eq!(seam.last(), Some(len(&path)), "the last row synced on drop");
}

#[test]
fn a_failed_sync_stops_every_later_write() {
    let (_dir, _, seam, mut w) = counted();
    *seam.fail.lock().unwrap() = true;
    let err = w
        .append(&row("a@example.org", Status::Sending))
        .unwrap_err();
    assert!(err.to_string().contains("fsync"), "{err}");
    *seam.fail.lock().unwrap() = false;
    // Whether the row reached the disk is unknown: build on nothing.
    assert!(w.append(&row("b@example.org", Status::Sending)).is_err());
    // A later sync that "succeeds" must not make the rows look safe.
    assert!(w.commit().is_err(), "commit after a failed fsync");
    assert_eq!(
        seam.count(),
        1,
        "no sync after the failure (only the header's)"
    );
}

#[test]
fn a_row_is_synced_once_a_commit_covers_it_whatever_is_written_after() {
    let (_dir, path, _seam, mut w) = counted();
    w.append_uncommitted(&row("a@example.org", Status::Sending))
        .unwrap();
    let a = w.rows() - 1;
    assert!(!w.is_synced(a), "written, not synced");
    w.commit().unwrap();
    assert!(w.is_synced(a));
    // The letter prepared ahead: its row is synced while the outcome row
    // written after it waits for the next commit.
    w.append_uncommitted(&row("a@example.org", Status::Sent))
        .unwrap();
    let sent = w.rows() - 1;
    assert!(w.is_synced(a), "a later row does not unsync an earlier one");
    assert!(!w.is_synced(sent));
    assert!(!w.is_committed());
    w.commit().unwrap();
    assert!(w.is_synced(sent));
    // A log read back: rows from earlier runs count and are on disk.
    drop(w);
    let w = LedgerWriter::open_with(&path, "c", Arc::new(Counting::default())).unwrap();
    assert_eq!(w.rows(), 2);
    assert!(w.is_synced(1) && !w.is_synced(2));
}

#[test]
fn a_sync_on_another_thread_covers_the_rows_written_before_it_started() {
    let (_dir, _, seam, mut w) = counted();
    assert!(w.start_sync().unwrap().is_none(), "nothing waits");
    w.append_uncommitted(&row("a@example.org", Status::Sending))
        .unwrap();
    let a = w.rows() - 1;
    let syncs = seam.count();
    let pending = w.start_sync().unwrap().expect("a row waits");
    // Written while the sync runs: not covered by it.
    w.append_uncommitted(&row("b@example.org", Status::Sending))
        .unwrap();
    let b = w.rows() - 1;
    let done = std::thread::spawn(move || pending.run()).join().unwrap();
    assert!(!w.is_synced(a), "not before the result is in");
    w.finish_sync(done).unwrap();
    assert!(w.is_synced(a) && !w.is_synced(b));
    assert!(!w.is_committed());
    assert_eq!(seam.count(), syncs + 1, "one sync, on the other thread");
    // The next sync takes the rest.
    let pending = w.start_sync().unwrap().expect("b waits");
    w.finish_sync(pending.run()).unwrap();
    assert!(w.is_synced(b) && w.is_committed());
}

#[test]
fn a_commit_while_a_sync_is_under_way_syncs_again_and_a_failed_sync_stops_the_writer() {
    let (_dir, _, seam, mut w) = counted();
    w.append_uncommitted(&row("a@example.org", Status::Sending))
        .unwrap();
    let pending = w.start_sync().unwrap().expect("a row waits");
    let before = seam.count();
    w.commit().unwrap();
    assert_eq!(
        seam.count(),
        before + 1,
        "the commit did not trust the sync under way"
    );
    assert!(w.is_committed());
    *seam.fail.lock().unwrap() = true;
    assert!(w.finish_sync(pending.run()).is_err());
    *seam.fail.lock().unwrap() = false;
    assert!(w.append(&row("b@example.org", Status::Sending)).is_err());
    assert!(w.start_sync().is_err(), "no sync after a failed one");
}

#[test]
fn the_writer_knows_its_campaign_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.csv");
    let w = LedgerWriter::open_with(&path, "hrf-2026", Arc::new(Counting::default())).unwrap();
    assert_eq!((w.campaign(), w.path()), ("hrf-2026", path.as_path()));
}
