//! A roster on disk: the contacts file, written whole or not at all, and
//! beside it a small state file that remembers the source and when it was
//! fetched (for `check`'s staleness warning and `roster update`).
//!
//! Why a state file and not a comment line in the CSV: the contacts file
//! is opened by spreadsheets and other tools, which would take a comment
//! line for a row, and repmail's own reader requires the header first.
//! Why not the file's modification time: editing the CSV by hand (fixing a
//! name, removing a row) would make an old roster look fresh.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::diff::Entry;
use super::{Roster, RosterError, COLUMNS};
use crate::problem::Diagnostic;

/// A roster older than this makes `check` warn.
pub const STALE_AFTER_DAYS: i64 = 30;

/// What the state file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The source's name.
    pub source: String,
    /// When the roster was fetched.
    pub fetched: DateTime<Utc>,
    /// How many members it had.
    pub members: usize,
}

/// The state file as written (the time as RFC 3339 text).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetched {
    source: String,
    fetched: String,
    members: usize,
}

/// The state file of the contacts file `path`: `il.csv` → `il.csv.roster.json`.
pub fn state_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".roster.json");
    path.with_file_name(name)
}

/// Writes `roster` to `path` and its state file, each through a
/// temporary file in the same folder renamed into place: a reader (or a
/// crash) sees the old file or the new one, never half of one.
pub fn write(path: &Path, roster: &Roster, now: DateTime<Utc>) -> Result<(), RosterError> {
    let mut csv = csv::WriterBuilder::new().from_writer(Vec::new());
    let header: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .chain(roster.extra.iter().copied())
        .collect();
    let failed = |e: csv::Error| RosterError::File {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    csv.write_record(&header).map_err(failed)?;
    for m in &roster.members {
        let common = [
            &m.title,
            &m.name,
            &m.given_name,
            &m.family_name,
            &m.chamber,
            &m.district,
            &m.party,
            &m.email,
            &m.contact_form,
            &roster.source,
            &m.source_id,
            &m.salutation,
        ];
        let record = common.into_iter().chain(m.extra.iter());
        csv.write_record(record).map_err(failed)?;
    }
    let bytes = csv.into_inner().map_err(|e| RosterError::File {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    let state = RawFetched {
        source: roster.source.clone(),
        fetched: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        members: roster.members.len(),
    };
    let state_json = serde_json::to_string_pretty(&state).unwrap_or_default() + "\n";
    replace(path, &bytes)?;
    replace(&state_path(path), state_json.as_bytes())
}

/// Replaces `path` with `bytes` through a temporary file beside it.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), RosterError> {
    let err = |p: &Path, e: std::io::Error| RosterError::File {
        path: p.to_path_buf(),
        why: e.to_string(),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| err(&dir, e))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(path.file_name().unwrap_or_default());
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f: File = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(err(path, e));
    }
    Ok(())
}

/// The state file of `path`, if there is one.
pub fn read_state(path: &Path) -> Result<Option<Fetched>, RosterError> {
    let state = state_path(path);
    match fs::read_to_string(&state) {
        Ok(text) => {
            let raw: Result<RawFetched, String> =
                serde_json::from_str(&text).map_err(|e| e.to_string());
            let parsed = raw.and_then(|r| {
                let at = DateTime::parse_from_rfc3339(&r.fetched)
                    .map_err(|e| format!("`fetched`: {e}"))?;
                Ok(Fetched {
                    source: r.source,
                    fetched: at.with_timezone(&Utc),
                    members: r.members,
                })
            });
            parsed.map(Some).map_err(|why| RosterError::File {
                path: state,
                why: format!("{why}; delete it and run `repmail roster update --write`"),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RosterError::File {
            path: state,
            why: e.to_string(),
        }),
    }
}

/// `check`'s word on the roster behind a campaign's contacts (`roster` is
/// its `[contacts] roster` key): a warning when it is older than
/// [`STALE_AFTER_DAYS`], or when its fetch time is unknown.
pub fn staleness(path: &Path, roster: &str, now: DateTime<Utc>) -> Option<Diagnostic> {
    let place = path.display().to_string();
    let update = "run `repmail roster update` to see who joined, left or changed address (`--write` applies it)";
    match read_state(path) {
        Ok(Some(f)) => {
            let days = (now - f.fetched).num_days();
            (days > STALE_AFTER_DAYS).then(|| {
                Diagnostic::warning(
                    place,
                    format!(
                        "the roster `{roster}` was fetched {days} days ago ({}); members resign and addresses change: {update}",
                        f.fetched.format("%Y-%m-%d")
                    ),
                )
            })
        }
        Ok(None) => Some(Diagnostic::warning(
            place,
            format!(
                "[contacts] roster = \"{roster}\", but when it was fetched is unknown (no {}); {update}",
                state_path(path).display()
            ),
        )),
        Err(e) => Some(Diagnostic::warning(place, e.to_string())),
    }
}

/// Reads back a roster file (a campaign's contacts) for `roster update`.
pub fn read_entries(path: &Path) -> Result<Vec<Entry>, RosterError> {
    let fail = |why: String| RosterError::File {
        path: path.to_path_buf(),
        why,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
    let header = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            fail(format!(
                "no `{name}` column: this file was not written by `repmail roster fetch`, so `roster update` cannot match its rows to the publisher's"
            ))
        })
    };
    let (id, name, district, email, form) = (
        column("source_id")?,
        column("name")?,
        column("district")?,
        column("email")?,
        column("contact_form")?,
    );
    let mut entries = Vec::new();
    for record in reader.records() {
        let r = record.map_err(|e| fail(e.to_string()))?;
        let get = |i: usize| r.get(i).unwrap_or("").trim().to_string();
        entries.push(Entry {
            source_id: get(id),
            name: get(name),
            district: get(district),
            email: get(email),
            contact_form: get(form),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::Member;

    fn roster() -> Roster {
        Roster {
            source: "openstates/il".into(),
            extra: vec!["phone"],
            members: vec![Member {
                name: "مریم رضایی".into(),
                email: "m@example.org".into(),
                source_id: "ocd-person/1".into(),
                extra: vec!["555".into()],
                ..Member::default()
            }],
        }
    }

    #[test]
    fn writes_whole_and_remembers_when() {
        let dir = std::env::temp_dir().join(format!("repmail-roster-{}", std::process::id()));
        let path = dir.join("il.csv");
        let now = Utc::now();
        write(&path, &roster(), now).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("title,name,given_name,family_name,chamber,district,party,email,contact_form,source,source_id,salutation,phone"));
        assert!(text.contains("مریم رضایی"));
        let state = read_state(&path).unwrap().unwrap();
        assert_eq!((state.source.as_str(), state.members), ("openstates/il", 1));
        assert!(staleness(&path, "openstates/il", now).is_none());
        let later = now + chrono::Duration::days(STALE_AFTER_DAYS + 1);
        let w = staleness(&path, "openstates/il", later).unwrap();
        assert!(w.to_string().contains("31 days ago"), "{w}");
        let entries = read_entries(&path).unwrap();
        assert_eq!(entries[0].source_id, "ocd-person/1");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
