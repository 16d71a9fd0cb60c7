//! `preview`'s outputs: the letters exactly as `send` would hand them to
//! SMTP, written as one `.eml` file each ([`eml`]), one mbox file
//! ([`mbox`]) or a gallery of pages for a browser ([`gallery`]). Each is a
//! [`Destination`], as `review`'s formats are each an `Exporter`: the
//! command hands every letter to each destination the user asked for.
//!
//! Nothing here prints: a destination says what it wrote ([`Written`]) and
//! the command words it.

pub mod eml;
pub mod gallery;
pub mod mbox;

use std::io;
use std::path::PathBuf;

use crate::contacts::Recipient;
use crate::render::Rendered;

pub use eml::EmlFolder;
pub use gallery::Gallery;
pub use mbox::MboxFile;

/// Where `preview` writes the letters.
pub trait Destination {
    /// Writes the letter to `recipient`.
    fn add(&mut self, recipient: &Recipient, letter: &Rendered) -> Result<(), PreviewError>;

    /// Finishes writing; says what was written.
    fn finish(self: Box<Self>) -> Result<Written, PreviewError>;
}

/// What a destination wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// `.eml` files, one per letter, in `dir`.
    Eml {
        /// Files written.
        files: usize,
        /// The folder.
        dir: PathBuf,
    },
    /// Letters in one mbox, at `to` (`-`: standard output).
    Mbox {
        /// Letters written.
        letters: usize,
        /// The file, or `-`.
        to: PathBuf,
    },
    /// A gallery of `letters` pages; `index` is the page to open.
    Gallery {
        /// Letter pages written.
        letters: usize,
        /// Its `index.html`.
        index: PathBuf,
    },
}

/// A destination that cannot be written: what it was doing, and why.
#[derive(Debug, thiserror::Error)]
#[error("{doing}")]
pub struct PreviewError {
    doing: String,
    #[source]
    source: io::Error,
}

impl PreviewError {
    pub(crate) fn new(doing: impl Into<String>, source: io::Error) -> PreviewError {
        PreviewError {
            doing: doing.into(),
            source,
        }
    }

    /// Whether the reader went away (`preview --mbox - | head`): the
    /// reader being done, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        self.source.kind() == io::ErrorKind::BrokenPipe
    }
}
