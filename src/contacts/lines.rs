//! Line breaks as the csv reader should see them, and where each one is,
//! so every row is named by the line it starts on.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::rc::Rc;

/// Turns CRLF and lone CR line breaks into LF. The csv crate counts lines
/// by LF and takes a row's position before skipping the LF of a CRLF, so in
/// a file with CRLF breaks (what Excel writes) it would report every row at
/// the line before its own. A break inside a quoted value becomes LF too,
/// which changes nothing a letter shows: bodies are sent with CRLF and
/// headers take values on one line.
///
/// It also notes where each line break is, for [`LineIndex`].
pub(super) struct LfLines<R> {
    inner: R,
    after_cr: bool,
    /// Bytes handed out so far: the offsets the csv reader sees.
    offset: u64,
    lines: Rc<RefCell<LineIndex>>,
}

impl<R> LfLines<R> {
    /// Wraps `inner`, noting its line breaks in `lines`.
    pub(super) fn new(inner: R, lines: Rc<RefCell<LineIndex>>) -> Self {
        LfLines {
            inner,
            after_cr: false,
            offset: 0,
            lines,
        }
    }
}

/// The line breaks read but not yet passed by a record: memory stays
/// bounded by the read-ahead, however long the file.
#[derive(Default)]
pub(super) struct LineIndex {
    ahead: VecDeque<u64>,
    passed: u64,
}

impl LineIndex {
    /// The 1-based line of the record whose reading started at `byte`: the
    /// breaks before it, plus the blank lines the csv reader skipped there.
    pub(super) fn line_at(&mut self, mut byte: u64) -> u64 {
        while let Some(&at) = self.ahead.front() {
            if at < byte {
                self.passed += 1;
            } else if at == byte {
                self.passed += 1;
                byte += 1;
            } else {
                break;
            }
            self.ahead.pop_front();
        }
        self.passed + 1
    }
}

impl<R: BufRead> Read for LfLines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let (used, written) = {
                let buf = self.inner.fill_buf()?;
                if buf.is_empty() {
                    return Ok(0);
                }
                let (mut used, mut written) = (0, 0);
                while used < buf.len() && written < out.len() {
                    let b = buf[used];
                    used += 1;
                    if std::mem::take(&mut self.after_cr) && b == b'\n' {
                        continue;
                    }
                    self.after_cr = b == b'\r';
                    out[written] = if self.after_cr { b'\n' } else { b };
                    if out[written] == b'\n' {
                        let at = self.offset + written as u64;
                        self.lines.borrow_mut().ahead.push_back(at);
                    }
                    written += 1;
                }
                (used, written)
            };
            self.offset += written as u64;
            self.inner.consume(used);
            // Only the LF of a CRLF split across reads was consumed: read
            // on rather than report an end of file.
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn a_crlf_split_across_reads_is_one_line_break() {
        let lines = Rc::<RefCell<LineIndex>>::default();
        let mut lf = LfLines::new(
            BufReader::with_capacity(1, &b"a\r\nb\r"[..]),
            Rc::clone(&lines),
        );
        let mut out = String::new();
        lf.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a\nb\n");
        assert_eq!(lines.borrow().ahead, [1, 3]);
    }
}
