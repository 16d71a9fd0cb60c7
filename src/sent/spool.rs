//! Letters waiting for their copy in Sent: one file each, next to the
//! delivery log (`logs/NAME.sent-copies/`), holding the exact bytes the
//! SMTP server accepted. Written the moment the server accepts a letter,
//! removed once its `copied` row is in the log, so a copy that could not
//! be made (the IMAP server down, a crash) is made by the next run from
//! the same bytes: a letter rendered again would not be the same letter
//! (its Date, its MIME boundaries).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One letter waiting for its copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The recipient, as in the log.
    pub email: String,
    /// The letter's Message-ID, as in the log.
    pub message_id: String,
    /// The bytes the server accepted.
    pub bytes: Vec<u8>,
}

/// The spool folder of the delivery log at `log`.
pub fn dir_for(log: &Path) -> PathBuf {
    let stem = log
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".into());
    log.with_file_name(format!("{stem}.sent-copies"))
}

/// A file name for a Message-ID: its letters and digits, and a hash so two
/// ids that differ only in other characters never share a file.
fn file_name(message_id: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    message_id.hash(&mut h);
    let clean: String = message_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .take(80)
        .collect();
    format!("{clean}-{:016x}.letter", h.finish())
}

/// Keeps `p` until its copy is made: first line `email TAB message-id`,
/// then the bytes. Written to a temporary name and renamed, so a crash
/// never leaves half a letter under the real name.
pub fn keep(dir: &Path, p: &Pending) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = file_name(&p.message_id);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(format!("{}\t{}\n", one_line(&p.email), one_line(&p.message_id)).as_bytes())?;
    f.write_all(&p.bytes)?;
    drop(f);
    std::fs::rename(tmp, dir.join(name))
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n', '\t'], " ")
}

/// Forgets `message_id`'s letter (its copy is made and recorded).
pub fn forget(dir: &Path, message_id: &str) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(file_name(message_id))) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Every letter waiting, oldest file first; unreadable files skipped.
pub fn pending(dir: &Path) -> Vec<Pending> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "letter"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, p)| {
            let data = std::fs::read(p).ok()?;
            let nl = data.iter().position(|&b| b == b'\n')?;
            let head = std::str::from_utf8(&data[..nl]).ok()?;
            let (email, id) = head.split_once('\t')?;
            Some(Pending {
                email: email.to_string(),
                message_id: id.to_string(),
                bytes: data[nl + 1..].to_vec(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_letters_read_back_byte_for_byte_and_go_when_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir_for(&dir.path().join("logs/c.csv"));
        assert!(spool.ends_with("logs/c.sent-copies"));
        let a = Pending {
            email: "a@example.org".into(),
            message_id: "<1.x@example.org>".into(),
            bytes: b"Subject: a\r\n\r\nline\r\n.\r\n\n\x00end".to_vec(),
        };
        keep(&spool, &a).unwrap();
        assert_eq!(pending(&spool), vec![a.clone()]);
        forget(&spool, &a.message_id).unwrap();
        forget(&spool, &a.message_id).unwrap();
        assert!(pending(&spool).is_empty());
    }
}
