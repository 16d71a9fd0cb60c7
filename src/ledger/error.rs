//! What went wrong with a delivery log: every message names the file (and
//! the line, where there is one) and says what to do.

use std::io;
use std::path::{Path, PathBuf};

/// What went wrong with a delivery log. Every message names the file (and
/// the line, where there is one) and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The file system refused an operation.
    #[error("cannot {op} the delivery log {}: {source}; {}", path.display(), what_to_do(op))]
    Io {
        /// What was being done, e.g. "open", "write to".
        op: &'static str,
        /// The delivery log.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A line that is not the last one cannot be read. (A bad last line is
    /// a torn write and is ignored instead.)
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        /// The delivery log.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and what to do about it.
        message: String,
    },
    /// Another writer holds the lock.
    #[error(
        "the delivery log {} is in use: another `repmail send` of this campaign \
         is running. Wait for it to finish (or stop it), then run again",
        path.display()
    )]
    Locked {
        /// The delivery log.
        path: PathBuf,
    },
    /// The log holds rows of another campaign (issue 23): its `sent` rows
    /// are not this campaign's letters, and reading them as such would skip
    /// or resend the wrong people.
    #[error(
        "the delivery log {} holds rows of the campaign `{theirs}` (line {line}), \
         not of this campaign `{ours}`. Two campaigns cannot share one log: \
         set `[campaign] log` to a file of its own in the campaign file. \
         If you renamed the campaign, put `name = \"{theirs}\"` back: the log \
         is how repmail knows who already has the letter",
        path.display()
    )]
    OtherCampaign {
        /// The delivery log.
        path: PathBuf,
        /// The campaign that is running.
        ours: String,
        /// The campaign named in the log.
        theirs: String,
        /// The first line naming it (1-based, the header is line 1).
        line: usize,
    },
}

impl LedgerError {
    pub(super) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        LedgerError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What to do when the file system refuses `op` on the log: reading it, or
/// changing it (nothing half-written stays: a row that failed is cut back).
fn what_to_do(op: &str) -> &'static str {
    if op == "read" {
        "check that the file is there and can be read (`[campaign] log` names it), then run again"
    } else {
        "check that its folder exists and can be written and that the disk has room, then run again: the rows already saved are kept"
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Ledger, LedgerWriter};

    #[test]
    fn a_refused_file_operation_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the log's folder should be: nothing can be made there.
        let file = dir.path().join("contacts.csv");
        std::fs::write(&file, "email\n").unwrap();
        let e = LedgerWriter::open(&file.join("log.csv"), "hrf").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("contacts.csv"), "{text}");
        assert!(
            text.contains("check that its folder exists and can be written"),
            "{text}"
        );
        // A folder where the log should be: it cannot be read.
        let e = Ledger::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("check that the file is there and can be read"),
            "{e}"
        );
    }
}
