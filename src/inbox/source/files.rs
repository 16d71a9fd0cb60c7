//! Messages stored one per file: a single file, a folder of `.eml` files,
//! a Maildir (`cur/` and `new/`; `tmp/` holds mail still being written).

use std::path::{Path, PathBuf};

use super::{Messages, RawMessage, SourceError};

/// One message file.
pub fn one_file(path: &Path) -> Messages {
    Box::new(std::iter::once(read(path.to_path_buf())))
}

/// Every `.eml` file in the folder (not in subfolders), by name.
pub fn message_folder(dir: &Path) -> Result<Messages, SourceError> {
    let files = list(dir, |p| {
        p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"))
    })?;
    if files.is_empty() {
        return Err(SourceError::Unknown {
            path: dir.to_path_buf(),
        });
    }
    Ok(Box::new(files.into_iter().map(read)))
}

/// Every message in a Maildir's `new/` and `cur/`, by name. File names
/// starting with a dot are not messages (Maildir convention).
pub fn maildir(dir: &Path) -> Result<Messages, SourceError> {
    let mut files = list(&dir.join("new"), |_| true)?;
    files.extend(list(&dir.join("cur"), |_| true)?);
    Ok(Box::new(files.into_iter().map(read)))
}

fn list(dir: &Path, wanted: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, SourceError> {
    let io = |source| SourceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && path.is_file() && wanted(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read(path: PathBuf) -> Result<RawMessage, SourceError> {
    match std::fs::read(&path) {
        Ok(bytes) => Ok(RawMessage {
            origin: path.display().to_string(),
            bytes,
            received: None,
        }),
        Err(source) => Err(SourceError::Io { path, source }),
    }
}
