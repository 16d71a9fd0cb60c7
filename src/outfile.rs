//! Files a command writes for the user (`preview --out`, the gallery,
//! `log --export`, `log --html`, `forms --html`): never one of the
//! campaign's own files under another name, never through a link someone
//! planted where the file goes (issue 23).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Whether `a` and `b` are the same file on disk: the same device and
/// inode, which a symbolic link to the file, a hard link to it (another
/// name, no link to follow) and `./x` vs `x` all share. A path that does
/// not exist is nobody's file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The first of `protected` that `path` is (see [`same_file`]).
pub fn is_one_of<'a, P: AsRef<Path>>(path: &Path, protected: &'a [P]) -> Option<&'a Path> {
    protected
        .iter()
        .map(AsRef::as_ref)
        .find(|p| same_file(p, path))
}

/// Creates `path` afresh: a file or a symbolic link (dangling or not)
/// already there is removed first, then the file is created with
/// `create_new` (`O_CREAT|O_EXCL`, which never follows a link). A link
/// planted in the output folder is replaced, its target never written; a
/// hard link planted there loses only its name here; one planted again in
/// between makes this fail rather than write through it. A device or a
/// pipe the user names (`--export /dev/stdout`) is written as it is.
/// Callers refuse the campaign's own files first ([`is_one_of`]).
pub fn create_fresh(path: &Path) -> io::Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => return Err(io::Error::other("a folder has that name")),
        Ok(m) if m.is_file() || m.is_symlink() => std::fs::remove_file(path)?,
        Ok(_) => return OpenOptions::new().write(true).open(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// [`create_fresh`], then writes `bytes`.
pub fn write_fresh(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    create_fresh(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_a_file_are_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.csv");
        std::fs::write(&log, "rows").unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&log, &hard).unwrap();
        let soft = dir.path().join("soft.csv");
        std::os::unix::fs::symlink(&log, &soft).unwrap();
        let other = dir.path().join("other.csv");
        std::fs::write(&other, "rows").unwrap();
        for p in [&log, &hard, &soft] {
            assert_eq!(is_one_of(p, &[&other, &log]), Some(log.as_path()));
        }
        assert!(is_one_of(&other, &[&log]).is_none());
        assert!(!same_file(
            &dir.path().join("none"),
            &dir.path().join("none")
        ));
    }

    #[test]
    fn a_planted_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let out = dir.path().join("a.eml");
        std::os::unix::fs::symlink(&target, &out).unwrap();
        write_fresh(&out, b"letter").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "letter");
        assert!(!std::fs::symlink_metadata(&out).unwrap().is_symlink());
        // A dangling link too; and a second run replaces its own file.
        let dangling = dir.path().join("b.eml");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        write_fresh(&dangling, b"x").unwrap();
        write_fresh(&dangling, b"y").unwrap();
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(std::fs::read_to_string(&dangling).unwrap(), "y");
        // A hard link planted there keeps its other name's contents.
        let hard = dir.path().join("c.eml");
        std::fs::hard_link(&target, &hard).unwrap();
        write_fresh(&hard, b"letter").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        // A device is written, not removed.
        write_fresh(Path::new("/dev/null"), b"x").unwrap();
        assert!(Path::new("/dev/null").exists());
    }
}
