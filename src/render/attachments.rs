//! Attachments: the campaign's (the same for everyone, read once) and each
//! row's own, named in `[contacts] attachments_column`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lettre::message::header::ContentType;

/// A letter's attachments above this size get a warning from `check`:
/// providers cap whole messages at 20–25 MB (Gmail 25 MB, Microsoft 365
/// 20 MB by default, per their help pages as of 2026), and base64 makes a
/// file a third larger.
pub const WARN_BYTES: u64 = 10 * 1024 * 1024;

/// Per-recipient files are cached up to this many bytes in total: a brief
/// per state is read once, not once per letter, while ten thousand
/// distinct files are not all held in memory.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// One file to attach.
#[derive(Debug, Clone)]
pub struct File {
    /// The name the recipient sees.
    pub name: String,
    /// Its MIME type, from the extension.
    pub content_type: ContentType,
    /// Its contents.
    pub bytes: Arc<Vec<u8>>,
}

impl File {
    /// Reads `path`.
    pub fn read(path: &Path) -> std::io::Result<File> {
        Ok(File::new(path, Arc::new(std::fs::read(path)?)))
    }

    fn new(path: &Path, bytes: Arc<Vec<u8>>) -> File {
        File {
            name: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "attachment".into()),
            content_type: content_type(path),
            bytes,
        }
    }
}

/// Files read so far and their total size.
type Cache = (usize, HashMap<PathBuf, Arc<Vec<u8>>>);

/// Reads rows' own attachments, keeping recently used files in memory.
#[derive(Default)]
pub struct Own {
    base: PathBuf,
    cache: Mutex<Cache>,
}

impl Own {
    /// Files named in cells are relative to `base` (the campaign file's
    /// folder).
    pub fn new(base: &Path) -> Own {
        Own {
            base: base.to_path_buf(),
            cache: Mutex::default(),
        }
    }

    /// The files a cell names (`a.pdf; briefs/b.pdf`); an error names the
    /// file and why it cannot be read.
    pub fn files(&self, cell: &str) -> Result<Vec<File>, String> {
        let mut out = Vec::new();
        for name in cell.split(';').map(str::trim).filter(|n| !n.is_empty()) {
            let path = self.base.join(name);
            out.push(
                self.read(&path)
                    .map_err(|e| format!("cannot read attachment {}: {e}", path.display()))?,
            );
        }
        Ok(out)
    }

    fn read(&self, path: &Path) -> std::io::Result<File> {
        if let Some(bytes) = self.lock().1.get(path) {
            return Ok(File::new(path, bytes.clone()));
        }
        if std::fs::metadata(path)?.is_dir() {
            return Err(std::io::Error::other("it is a folder, not a file"));
        }
        let bytes = Arc::new(std::fs::read(path)?);
        let mut cache = self.lock();
        if cache.0 + bytes.len() <= CACHE_BYTES {
            cache.0 += bytes.len();
            cache.1.insert(path.to_path_buf(), bytes.clone());
        }
        Ok(File::new(path, bytes))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic elsewhere cannot leave the cache half-written: entries
        // are inserted whole.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The MIME type for a file name's extension.
pub fn content_type(path: &Path) -> ContentType {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mime = match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        "html" | "htm" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    };
    ContentType::parse(mime).unwrap_or(ContentType::TEXT_PLAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_files_relative_to_the_campaign() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("briefs")).unwrap();
        std::fs::write(dir.path().join("briefs/ca.pdf"), b"%PDF ca").unwrap();
        std::fs::write(dir.path().join("all.txt"), b"x").unwrap();
        let own = Own::new(dir.path());
        let files = own.files(" briefs/ca.pdf ; ;all.txt").unwrap();
        let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ca.pdf", "all.txt"]);
        assert_eq!(files[0].bytes.as_slice(), b"%PDF ca");
        assert!(own.files("").unwrap().is_empty());
        let err = own.files("briefs/nope.pdf").unwrap_err();
        assert!(err.contains("nope.pdf"), "{err}");
        assert!(own.files("briefs").unwrap_err().contains("folder"));
    }
}
