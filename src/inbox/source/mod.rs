//! Where incoming mail comes from. Every source yields the same stream of
//! [`RawMessage`]s to the same classifier, so classification is tested
//! without a server and the network is one source among others.

mod files;
pub mod imap;

use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::mbox::{is_mbox, MboxReader};

pub use files::{maildir, message_folder, one_file};

/// One message as it was stored, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Where it is, for messages to the user: a path, `path#n` for the
    /// n-th message of an mbox, or `folder UID n` over IMAP.
    pub origin: String,
    /// The message's bytes, exactly as stored.
    pub bytes: Vec<u8>,
    /// When the mailbox received it (IMAP INTERNALDATE), if it says.
    pub received: Option<chrono::DateTime<chrono::Utc>>,
}

/// A source that cannot be read. Names the path and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file system refused.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A path that is none of the kinds `--from` reads.
    #[error(
        "{} is neither a message file, an mbox file, a Maildir (with cur/ and new/) \
         nor a folder of .eml files; check the --from path",
        path.display()
    )]
    Unknown {
        /// The path.
        path: PathBuf,
    },
}

/// A stream of messages from one place.
pub type Messages = Box<dyn Iterator<Item = Result<RawMessage, SourceError>>>;

/// Opens `--from PATH`: a Maildir (a folder with `cur/` and `new/`), a
/// folder of `.eml` files, an mbox file (its first line starts `From `) or
/// one message file.
pub fn open(path: &Path) -> Result<Messages, SourceError> {
    let io = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        if path.join("cur").is_dir() && path.join("new").is_dir() {
            return maildir(path);
        }
        return message_folder(path);
    }
    if !meta.is_file() {
        return Err(SourceError::Unknown {
            path: path.to_path_buf(),
        });
    }
    if is_mbox(path).map_err(io)? {
        let file = std::fs::File::open(path).map_err(io)?;
        return Ok(mbox(path, file));
    }
    Ok(one_file(path))
}

/// The messages of an mbox file, each named `path#n`.
fn mbox(path: &Path, file: std::fs::File) -> Messages {
    let path = path.to_path_buf();
    Box::new(
        MboxReader::new(BufReader::new(file))
            .enumerate()
            .map(move |(i, read)| match read {
                Ok(bytes) => Ok(RawMessage {
                    origin: format!("{}#{}", path.display(), i + 1),
                    bytes,
                    received: None,
                }),
                Err(source) => Err(SourceError::Io {
                    path: path.clone(),
                    source,
                }),
            }),
    )
}
