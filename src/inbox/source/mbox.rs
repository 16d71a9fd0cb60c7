//! mbox files: messages one after the other, each starting with a
//! `From ` line. Read as mboxrd (RFC 4155 and the mboxrd convention): a
//! body line `>From ` (any number of `>`) loses one `>`, so messages
//! written by `preview --mbox` or most mail programs come back unchanged.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{RawMessage, SourceError};

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

/// The messages of one mbox file, read as a stream.
pub struct Mbox {
    path: PathBuf,
    reader: BufReader<File>,
    /// The `From ` line that starts the next message, already read.
    started: bool,
    index: usize,
    done: bool,
}

impl Mbox {
    /// Reads `file` (at `path`, for messages) as an mbox.
    pub fn new(path: &Path, file: File) -> Mbox {
        Mbox {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            started: false,
            index: 0,
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

impl Iterator for Mbox {
    type Item = Result<RawMessage, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_message() {
            Ok(Some(bytes)) => {
                self.index += 1;
                Some(Ok(RawMessage {
                    origin: format!("{}#{}", self.path.display(), self.index),
                    bytes,
                    received: None,
                }))
            }
            Ok(None) => None,
            Err(source) => {
                self.done = true;
                Some(Err(SourceError::Io {
                    path: self.path.clone(),
                    source,
                }))
            }
        }
    }
}
