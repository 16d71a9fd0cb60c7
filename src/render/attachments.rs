//! Attachments: the campaign's (the same for everyone, read once) and each
//! row's own, named in `[contacts] attachments_column`.
//!
//! Both kinds name files through [`confine`]: only regular files inside the
//! campaign folder can be attached. A contacts file is often a shared
//! spreadsheet edited by many volunteers; a cell must not reach
//! `/etc/passwd`, `~/.ssh` or `/proc/self/environ` (issue 23).

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

/// Why a file named in the campaign or a cell may not be attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `/etc/passwd`, `C:\x`: a campaign names its files relative to its folder.
    #[error("`{0}` is an absolute path; name a file inside the campaign folder {1}, relative to it (copy the file there)")]
    Absolute(String, String),
    /// `../x`: climbs out of the campaign folder.
    #[error("`{0}` climbs out of the campaign folder with `..`; name a file inside {1} (copy the file there)")]
    Climbs(String, String),
    /// A symbolic link (at any component) leads out of the folder.
    #[error("`{0}` leads out of the campaign folder through a symbolic link (to {2}); put the file itself inside {1}")]
    Outside(String, String, String),
    /// A folder, a device, a FIFO, a socket.
    #[error("`{0}` is not a regular file (a folder, a device or a pipe); name a file")]
    NotAFile(String),
    /// It does not exist or cannot be read.
    #[error("cannot read attachment `{0}`: {1}; check the name and that the file is in the campaign folder")]
    Unreadable(String, String),
}

/// Resolves `name` (from a contacts cell or `[campaign] attachments`)
/// against the campaign folder `base` and confines it there: the one place
/// that decides which files may leave the machine in a letter. Returns the
/// canonical path of a regular file inside `base`.
///
/// Refuses absolute paths and `..` before touching the disk, then
/// canonicalises (resolving every symbolic link, at any component) and
/// checks the result still lies under the canonical `base`, then that it is
/// a regular file (not `/proc`, `/dev`, a FIFO — which would block the run —
/// or a folder). The file is read from the canonical path, so a link is
/// followed only when it stays inside the folder.
pub fn confine(base: &Path, name: &Path) -> Result<PathBuf, Refused> {
    // `--config repmail.toml` has the folder "" (the current one).
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let shown = name.display().to_string();
    // The folder as the user can find it, even for `--config repmail.toml`.
    let root = base.canonicalize();
    let folder = root.as_deref().unwrap_or(base).display().to_string();
    if name.is_absolute() || name.has_root() {
        return Err(Refused::Absolute(shown, folder));
    }
    if name
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Refused::Climbs(shown, folder));
    }
    let unreadable = |e: std::io::Error| Refused::Unreadable(shown.clone(), e.to_string());
    let root = root.map_err(unreadable)?;
    let real = base.join(name).canonicalize().map_err(unreadable)?;
    if !real.starts_with(&root) {
        return Err(Refused::Outside(shown, folder, real.display().to_string()));
    }
    if !std::fs::metadata(&real).map_err(unreadable)?.is_file() {
        return Err(Refused::NotAFile(shown));
    }
    Ok(real)
}

impl File {
    /// Reads `name` (as written in the campaign file) inside the campaign
    /// folder `base`, through [`confine`].
    pub fn read(base: &Path, name: &Path) -> Result<File, Refused> {
        let path = confine(base, name)?;
        let bytes = std::fs::read(&path)
            .map_err(|e| Refused::Unreadable(name.display().to_string(), e.to_string()))?;
        Ok(File::new(&path, Arc::new(bytes)))
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

    /// The files a cell names (`a.pdf; briefs/b.pdf`), each through
    /// [`confine`]; an error names the file and why it may not be attached.
    pub fn files(&self, cell: &str) -> Result<Vec<File>, Refused> {
        let mut out = Vec::new();
        for name in cell.split(';').map(str::trim).filter(|n| !n.is_empty()) {
            let path = confine(&self.base, Path::new(name))?;
            out.push(
                self.read(&path)
                    .map_err(|e| Refused::Unreadable(name.to_string(), e.to_string()))?,
            );
        }
        Ok(out)
    }

    /// Reads a path [`confine`] returned (cached by its canonical path).
    fn read(&self, path: &Path) -> std::io::Result<File> {
        if let Some(bytes) = self.lock().1.get(path) {
            return Ok(File::new(path, bytes.clone()));
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
        let err = own.files("briefs/nope.pdf").unwrap_err().to_string();
        assert!(err.contains("nope.pdf"), "{err}");
        assert!(matches!(
            own.files("briefs").unwrap_err(),
            Refused::NotAFile(_)
        ));
    }

    #[test]
    fn nothing_outside_the_campaign_folder_is_attached() {
        let outer = tempfile::tempdir().unwrap();
        let base = outer.path().join("campaign");
        std::fs::create_dir_all(base.join("briefs")).unwrap();
        std::fs::write(outer.path().join("secret.txt"), b"secret").unwrap();
        std::fs::write(base.join("briefs/ok.txt"), b"ok").unwrap();
        let link = |target: &Path, at: &str| {
            std::os::unix::fs::symlink(target, base.join(at)).unwrap();
        };
        link(&outer.path().join("secret.txt"), "leak.txt");
        link(outer.path(), "up");
        link(&base.join("briefs/ok.txt"), "inside.txt");
        let own = Own::new(&base);
        let refused = |cell: &str| own.files(cell).unwrap_err();
        assert!(matches!(refused("../secret.txt"), Refused::Climbs(..)));
        assert!(matches!(
            refused("briefs/../../secret.txt"),
            Refused::Climbs(..)
        ));
        assert!(matches!(refused("/etc/passwd"), Refused::Absolute(..)));
        assert!(matches!(refused("leak.txt"), Refused::Outside(..)));
        // A link in a middle component is resolved too.
        assert!(matches!(refused("up/secret.txt"), Refused::Outside(..)));
        assert!(matches!(
            refused("/proc/self/environ"),
            Refused::Absolute(..)
        ));
        // procfs files pass `is_file` (they are "regular", of length 0):
        // only the folder check keeps them out, through a link as well.
        link(Path::new("/proc/self/environ"), "environ");
        assert!(matches!(refused("environ"), Refused::Outside(..)));
        assert!(matches!(
            confine(Path::new("/"), Path::new("dev/null")),
            Err(Refused::NotAFile(_))
        ));
        let fifo = base.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(matches!(refused("pipe"), Refused::NotAFile(_)));
        }
        // A link that stays inside is fine.
        assert_eq!(own.files("inside.txt").unwrap()[0].bytes.as_slice(), b"ok");
        let err = refused("leak.txt").to_string();
        assert!(
            err.contains("symbolic link") && err.contains("leak.txt"),
            "{err}"
        );
    }
}
