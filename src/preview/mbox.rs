//! `preview --mbox FILE`: every letter in one mboxrd file (`-`: standard
//! output, handed in by the command), written as letters are rendered.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::{Destination, PreviewError, Written};
use crate::contacts::Recipient;
use crate::mbox::MboxWriter;
use crate::outfile;
use crate::render::Rendered;

/// Enough for a few letters per write, whatever their number: the file
/// grows as letters are rendered, memory does not.
const BUFFER: usize = 256 * 1024;

/// An mbox being written.
pub struct MboxFile {
    writer: MboxWriter<Box<dyn Write>>,
    /// The file, or `-`, for messages.
    to: PathBuf,
}

impl MboxFile {
    /// Creates `file` afresh (never written through a link).
    pub fn create(file: &Path) -> Result<MboxFile, PreviewError> {
        let f = outfile::create_fresh(file).map_err(|e| {
            PreviewError::new(format!("cannot create the mbox file {}", file.display()), e)
        })?;
        Ok(MboxFile::over(Box::new(f), file))
    }

    /// Writes into `out` (standard output for `-`), named `to` in messages.
    pub fn over(out: Box<dyn Write>, to: &Path) -> MboxFile {
        MboxFile {
            writer: MboxWriter::new(Box::new(BufWriter::with_capacity(BUFFER, out))),
            to: to.to_path_buf(),
        }
    }

    fn failed(&self, e: std::io::Error) -> PreviewError {
        PreviewError::new(
            format!("cannot write the mbox file {}", self.to.display()),
            e,
        )
    }
}

impl Destination for MboxFile {
    fn add(&mut self, _recipient: &Recipient, letter: &Rendered) -> Result<(), PreviewError> {
        let envelope = letter.message.envelope();
        let sender = envelope.from().map(|a| a.to_string()).unwrap_or_default();
        self.writer
            .append(&sender, Utc::now(), &letter.message.formatted())
            .map_err(|e| self.failed(e))
    }

    fn finish(self: Box<Self>) -> Result<Written, PreviewError> {
        let letters = self.writer.written();
        let to = self.to.clone();
        let failed =
            |e| PreviewError::new(format!("cannot write the mbox file {}", to.display()), e);
        self.writer.finish().map_err(failed)?;
        Ok(Written::Mbox {
            letters,
            to: self.to,
        })
    }
}
