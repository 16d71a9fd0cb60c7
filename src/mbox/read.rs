//! Reading mbox files as mboxrd: messages one after the other, each
//! starting with a `From ` line after a blank line (or at the start). A
//! body line `>From ` (any number of `>`) loses one `>`, so messages
//! written by `preview --mbox` or most mail programs come back unchanged.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// Whether the file starts like an mbox (`From ` on its first line).
pub fn is_mbox(path: &Path) -> io::Result<bool> {
    let mut head = [0u8; 5];
    let mut file = File::open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(&head[..read] == b"From ")
}

/// The messages of one mbox, read as a stream: each item is one message's
/// bytes; the stream ends after the first read error.
pub struct MboxReader<R: BufRead> {
    reader: R,
    /// The `From ` line that starts the next message, already read.
    started: bool,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    /// Reads `reader` as an mbox.
    pub fn new(reader: R) -> MboxReader<R> {
        MboxReader {
            reader,
            started: false,
            done: false,
        }
    }

    fn next_message(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut message = Vec::new();
        let mut line = Vec::new();
        let mut blank_before = true;
        loop {
            line.clear();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                self.done = true;
                return Ok(self.started.then_some(message).filter(|m| !m.is_empty()));
            }
            if line.starts_with(b"From ") && blank_before {
                if self.started {
                    // The blank line before a separator belongs to it.
                    trim_separator_blank(&mut message);
                    return Ok(Some(message));
                }
                self.started = true;
                continue;
            }
            blank_before = line == b"\n" || line == b"\r\n";
            if !self.started {
                continue;
            }
            let quoted = line.iter().take_while(|&&b| b == b'>').count();
            if quoted > 0 && line[quoted..].starts_with(b"From ") {
                message.extend_from_slice(&line[1..]);
            } else {
                message.extend_from_slice(&line);
            }
        }
    }
}

fn trim_separator_blank(message: &mut Vec<u8>) {
    if message.ends_with(b"\r\n\r\n") {
        message.truncate(message.len() - 2);
    } else if message.ends_with(b"\n\n") {
        message.truncate(message.len() - 1);
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_message() {
            Ok(Some(bytes)) => Some(Ok(bytes)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mbox::MboxWriter;
    use chrono::{TimeZone, Utc};

    #[test]
    fn what_the_writer_writes_reads_back_unchanged() {
        let messages: [&[u8]; 2] = [
            b"Subject: x\r\n\r\nFrom here\r\n>From there\r\nFromage\r\n",
            b"Subject: y\r\n\r\n\r\ntwo\r\n",
        ];
        let when = Utc.with_ymd_and_hms(2026, 12, 1, 9, 5, 7).unwrap();
        let mut w = MboxWriter::new(Vec::new());
        for m in messages {
            w.append("letters@example.org", when, m).unwrap();
        }
        let file = w.finish().unwrap();
        let read: Vec<Vec<u8>> = MboxReader::new(&file[..]).map(Result::unwrap).collect();
        let lf = |m: &[u8]| String::from_utf8(m.to_vec()).unwrap().replace("\r\n", "\n");
        assert_eq!(read.len(), 2);
        // The last message keeps the blank line that ends it in the file
        // (the reader trims it only before a `From ` line): the same
        // message to a mail parser.
        for (got, sent) in read.iter().zip(messages) {
            assert_eq!(lf(got).trim_end(), lf(sent).trim_end());
        }
    }
}
