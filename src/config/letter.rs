//! The letter keys of the campaign file: `letter` or `text`/`html`, under
//! `[campaign]` and each `[variant.VALUE]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::check::Validator;
use super::error::ConfigError;

/// A letter's template files: one Markdown file making both parts, or a
/// plain-text file with an optional HTML alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Letter {
    /// `letter = "…md.tera"`.
    Markdown(PathBuf),
    /// `text = "…"`, optionally `html = "…"`.
    Parts {
        /// Plain-text body template.
        text: PathBuf,
        /// Optional HTML body template.
        html: Option<PathBuf>,
    },
}

/// Text direction of a letter: `dir` of its HTML part, and whether its
/// text part isolates left-to-right runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left (Persian, Arabic, Hebrew, Urdu…).
    Rtl,
}

/// `[variant.VALUE]`: the letter for rows whose `variant_by` column holds
/// VALUE.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Subject template; the campaign's when not given.
    pub subject: String,
    /// The letter's template files.
    pub letter: Letter,
    /// Language tag for the HTML part (`lang`); defaults to VALUE when it
    /// looks like a language tag.
    pub lang: Option<String>,
    /// Text direction; defaults from the language (fa, ar, he, ur… are
    /// right to left).
    pub direction: Direction,
}

/// Languages written right to left (primary subtags), for a variant's
/// default direction: Arabic, Persian, Hebrew, Urdu, Pashto, Sindhi,
/// Uyghur, Yiddish, Dhivehi, Central Kurdish, Syriac, N'Ko.
const RTL_LANGUAGES: &[&str] = &[
    "ar", "fa", "he", "iw", "ur", "ps", "sd", "ug", "yi", "dv", "ckb", "syr", "nqo", "prs",
];

/// The direction a language is written in (`fa-IR` → right to left).
pub fn direction_of(lang: &str) -> Direction {
    let primary = lang
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if RTL_LANGUAGES.contains(&primary.as_str()) {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVariant {
    pub(super) subject: Option<String>,
    pub(super) letter: Option<PathBuf>,
    pub(super) text: Option<PathBuf>,
    pub(super) html: Option<PathBuf>,
    pub(super) lang: Option<String>,
    pub(super) direction: Option<Direction>,
}

impl Validator<'_> {
    /// `letter`, or `text` with an optional `html`, under `table`.
    pub(super) fn letter(
        &self,
        table: &str,
        letter: Option<PathBuf>,
        text: Option<PathBuf>,
        html: Option<PathBuf>,
    ) -> Result<Letter, ConfigError> {
        match (letter, text, html) {
            (Some(md), None, None) => Ok(Letter::Markdown(self.resolve(&md))),
            (Some(_), text, _) => Err(self.invalid(
                &format!("{table}.letter"),
                format!(
                    "`letter` makes both the text and the HTML part; remove `{}` from [{table}] or remove `letter`",
                    if text.is_some() { "text" } else { "html" }
                ),
            )),
            (None, Some(text), html) => Ok(Letter::Parts {
                text: self.resolve(&text),
                html: html.as_deref().map(|p| self.resolve(p)),
            }),
            (None, None, Some(_)) => Err(self.invalid(
                &format!("{table}.text"),
                "`html` needs a plain-text `text` beside it (or write one Markdown `letter` instead)",
            )),
            (None, None, None) => Err(self.invalid(
                &format!("{table}.letter"),
                "no letter: add `letter = \"letter.md.tera\"` (Markdown, makes both parts) or `text = \"letter.txt.tera\"`",
            )),
        }
    }

    pub(super) fn variants(
        &self,
        raw: BTreeMap<String, RawVariant>,
        subject: &str,
    ) -> Result<BTreeMap<String, Variant>, ConfigError> {
        let mut out = BTreeMap::new();
        for (value, v) in raw {
            let table = format!("variant.{value}");
            if value.trim().is_empty() {
                return Err(self.invalid(&table, "a variant needs a non-empty value"));
            }
            let letter = self.letter(&table, v.letter, v.text, v.html)?;
            let lang = v
                .lang
                .or_else(|| crate::text::is_language_tag(&value).then(|| value.clone()));
            if let Some(l) = &lang {
                if !crate::text::is_language_tag(l) {
                    return Err(self.invalid(
                        &format!("{table}.lang"),
                        format!("`{l}` is not a language tag; write e.g. \"fa\" or \"en-GB\""),
                    ));
                }
            }
            let direction = v
                .direction
                .unwrap_or_else(|| lang.as_deref().map_or(Direction::Ltr, direction_of));
            out.insert(
                value,
                Variant {
                    subject: v.subject.unwrap_or_else(|| subject.to_string()),
                    letter,
                    lang,
                    direction,
                },
            );
        }
        Ok(out)
    }
}
