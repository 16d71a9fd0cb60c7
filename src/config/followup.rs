//! `[[followup]]`: the stages of a campaign's follow-up letters (issue 21),
//! in order; stage 1 follows the first letter, stage 2 the first
//! follow-up, and so on.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::check::Validator;
use super::error::ConfigError;
use super::letter::Letter;

/// The longest wait a stage may name. A year is far past any follow-up a
/// coordinator means; a larger number is a typo (a date, a count of hours).
pub const MAX_AFTER_DAYS: u32 = 365;

/// One follow-up stage.
#[derive(Debug, Clone)]
pub struct Followup {
    /// Whole days after the letter before it was accepted (`sent`).
    pub after_days: u32,
    /// The stage's letter (variants are not applied to follow-ups).
    pub letter: Letter,
    /// Subject template; by default "Re: " + the letter before it's.
    pub subject: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFollowup {
    after_days: Option<i64>,
    subject: Option<String>,
    letter: Option<PathBuf>,
    text: Option<PathBuf>,
    html: Option<PathBuf>,
}

/// "Re: " before `subject`, unless it already starts with one: mail
/// programs do not stack them, and "Re: Re: " reads as a long thread.
pub fn reply_subject(subject: &str) -> String {
    if subject.trim_start().to_ascii_lowercase().starts_with("re:") {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    }
}

/// The delivery log of stage `stage` (1-based) beside the campaign's log:
/// `logs/name.csv` → `logs/name.followup-1.csv`. Each stage has a log of
/// its own in the same eight-column format; see docs/design.md
/// "Follow-ups (issue 21)" for why not a ninth column.
pub fn stage_log(log: &Path, stage: usize) -> PathBuf {
    log_beside(log, &format!("followup-{stage}"))
}

/// A log of its own beside the campaign's: `logs/name.csv` with `tag` →
/// `logs/name.TAG.csv` (a follow-up stage's, the test letters').
pub fn log_beside(log: &Path, tag: &str) -> PathBuf {
    let stem = log
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = log
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".into());
    log.with_file_name(format!("{stem}.{tag}.{ext}"))
}

impl Validator<'_> {
    pub(super) fn followups(
        &self,
        raw: Vec<RawFollowup>,
        first_subject: &str,
    ) -> Result<Vec<Followup>, ConfigError> {
        let mut out: Vec<Followup> = Vec::new();
        for (i, f) in raw.into_iter().enumerate() {
            let table = format!("followup[{}]", i + 1);
            let after_days = match f.after_days {
                None => {
                    return Err(self.invalid(
                        &format!("{table}.after_days"),
                        "missing: how many days after the letter before it this one goes, e.g. `after_days = 10`",
                    ))
                }
                Some(n) if n < 1 || n > i64::from(MAX_AFTER_DAYS) => {
                    return Err(self.invalid(
                        &format!("{table}.after_days"),
                        format!("{n} is not a number of days from 1 to {MAX_AFTER_DAYS}"),
                    ))
                }
                Some(n) => n as u32,
            };
            let letter = self.letter(&table, f.letter, f.text, f.html)?;
            let before = out.last().map_or(first_subject, |p| p.subject.as_str());
            let subject =
                match f.subject {
                    Some(s) if s.trim().is_empty() => return Err(self.invalid(
                        &format!("{table}.subject"),
                        "is empty; remove it to get \"Re: \" + the subject of the letter before",
                    )),
                    Some(s) => s,
                    None => reply_subject(before),
                };
            out.push(Followup {
                after_days,
                letter,
                subject,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Campaign;

    const BASE: &str = "[campaign]\nname = \"t\"\nsubject = \"Human rights, {{ state }}\"\ntext = \"l.tera\"\n\n[sender]\nfrom = \"a@example.org\"\n\n[contacts]\npath = \"c.csv\"\n";

    fn parse(extra: &str) -> Result<Campaign, String> {
        Campaign::parse(Path::new("x.toml"), &format!("{BASE}{extra}")).map_err(|e| e.to_string())
    }

    #[test]
    fn stages_in_order_with_their_default_subjects() {
        let c = parse(
            "[[followup]]\nafter_days = 10\nletter = \"f1.md.tera\"\n\n[[followup]]\nafter_days = 7\ntext = \"f2.txt\"\n",
        )
        .unwrap();
        assert_eq!(c.followups.len(), 2);
        assert_eq!(c.followups[0].after_days, 10);
        assert_eq!(c.followups[0].subject, "Re: Human rights, {{ state }}");
        // Not "Re: Re: …".
        assert_eq!(c.followups[1].subject, "Re: Human rights, {{ state }}");
        assert!(parse("").unwrap().followups.is_empty());
    }

    #[test]
    fn bad_stages_are_refused_naming_the_key() {
        for (extra, want) in [
            (
                "[[followup]]\nafter_days = 0\ntext = \"f.txt\"\n",
                "followup[1].after_days",
            ),
            (
                "[[followup]]\nafter_days = -3\ntext = \"f.txt\"\n",
                "followup[1].after_days",
            ),
            ("[[followup]]\ntext = \"f.txt\"\n", "followup[1].after_days"),
            (
                "[[followup]]\nafter_days = 400\ntext = \"f.txt\"\n",
                "from 1 to 365",
            ),
            ("[[followup]]\nafter_days = 3\n", "followup[1].letter"),
            (
                "[[followup]]\nafter_days = 3\ntext = \"f.txt\"\nsubject = \" \"\n",
                "followup[1].subject",
            ),
            (
                "[[followup]]\nafter_days = 3\ntext = \"f.txt\"\nafterdays = 3\n",
                "afterdays",
            ),
        ] {
            let err = parse(extra).unwrap_err();
            assert!(err.contains(want), "{extra}: {err}");
        }
    }
}
