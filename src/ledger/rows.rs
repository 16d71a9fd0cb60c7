//! The log read as a stream with each row's place in the file, and a
//! reader that reads one row again from its place: what lets `repmail log`
//! keep a number per recipient instead of every event with its strings
//! (issue 23: a million recipients held 1.7 GB).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{parse_event, parse_line, scan_lines, Event, LedgerError};

/// Whether the log was read to its end cleanly or its last line was torn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Walked {
    /// The last line was torn (a crash while writing it) and left out.
    pub torn_tail: bool,
}

/// Reads the log at `path` as [`super::Ledger::read`] does (a missing file
/// is an empty log, a torn last line is left out, any other unreadable line
/// is an error naming it), handing each event with the offset its line
/// starts at to `sink`. Nothing is kept.
pub fn for_each_row(path: &Path, sink: impl FnMut(Event, u64)) -> Result<Walked, LedgerError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Walked::default()),
        Err(e) => return Err(LedgerError::io("read", path, e)),
    };
    let lines = scan_lines(path, BufReader::with_capacity(64 * 1024, file), sink)?;
    Ok(Walked {
        torn_tail: lines.torn_tail,
    })
}

/// Reads rows of a log by the offsets [`for_each_row`] gave. Rows asked
/// for in file order (the usual case: the log is written in the contacts'
/// order) come from one buffered window; a jump reads a new window.
#[derive(Debug)]
pub struct RowReader {
    path: PathBuf,
    file: Option<File>,
    window: Vec<u8>,
    /// The file offset of `window[0]`.
    start: u64,
}

/// How much of the file one read brings in.
const WINDOW: usize = 64 * 1024;

impl RowReader {
    /// A reader of the log at `path`; the file is opened on the first read.
    pub fn new(path: &Path) -> RowReader {
        RowReader {
            path: path.to_path_buf(),
            file: None,
            window: Vec::new(),
            start: 0,
        }
    }

    /// The event whose line starts at `offset`. The log only grows (a
    /// `send` may be appending meanwhile), so an offset read once stays a
    /// row; a file changed by hand since is an error naming it.
    pub fn read(&mut self, offset: u64) -> io::Result<Event> {
        let line = self.line(offset)?;
        let raw = line.strip_suffix(b"\r").unwrap_or(line);
        parse_line(raw)
            .and_then(|fields| parse_event(&fields))
            .map_err(|problem| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} changed while it was read ({problem}); run again",
                        self.path.display()
                    ),
                )
            })
    }

    /// The bytes of the line at `offset`, without its `\n`.
    fn line(&mut self, offset: u64) -> io::Result<&[u8]> {
        let within = offset >= self.start && offset < self.start + self.window.len() as u64;
        let found = within && {
            let from = (offset - self.start) as usize;
            self.window[from..].contains(&b'\n')
        };
        if !found {
            self.fill(offset)?;
        }
        let from = (offset - self.start) as usize;
        let rest = &self.window[from..];
        let end = rest.iter().position(|&b| b == b'\n').ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} ended inside a row; run again", self.path.display()),
            )
        })?;
        Ok(&rest[..end])
    }

    /// Reads a window starting at `offset`, growing it until it holds a
    /// whole line (a row is one line, though a long reply can be long).
    fn fill(&mut self, offset: u64) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(File::open(&self.path)?),
        };
        file.seek(SeekFrom::Start(offset))?;
        self.start = offset;
        self.window.clear();
        loop {
            let had = self.window.len();
            let n = file
                .by_ref()
                .take(WINDOW.max(had) as u64)
                .read_to_end(&mut self.window)?;
            if n == 0 || self.window[had..].contains(&b'\n') {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Ledger, HEADER};

    #[test]
    fn rows_read_again_by_offset_equal_the_ledgers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        let mut text = HEADER.join(",") + "\r\n";
        for i in 0..3000 {
            let detail = if i % 7 == 0 {
                format!("\"long, {}\"", "x".repeat(70_000 * usize::from(i == 7)))
            } else {
                format!("reply {i}")
            };
            text.push_str(&format!(
                "2026-12-01T10:00:00.000Z,t,r{i}@example.org,sent,1,250,<{i}@example.org>,{detail}\n"
            ));
            if i % 100 == 0 {
                text.push('\n');
            }
        }
        std::fs::write(&path, text).unwrap();
        let ledger = Ledger::read(&path).unwrap();
        let mut offsets = Vec::new();
        for_each_row(&path, |_, at| offsets.push(at)).unwrap();
        assert_eq!(offsets.len(), ledger.events().len());
        let mut reader = RowReader::new(&path);
        // In order, backwards and at random: each is the same row.
        let order = (0..offsets.len())
            .chain((0..offsets.len()).rev())
            .chain((0..offsets.len()).map(|i| i * 7919 % offsets.len()));
        for i in order {
            assert_eq!(
                reader.read(offsets[i]).unwrap(),
                ledger.events()[i],
                "row {i}"
            );
        }
    }
}
