//! Every mistake in the campaign file at once: a pass over the parsed
//! document, with spans, before it is read into the typed sections. serde
//! stops at the first unknown key or wrong value; a user fixing a file
//! should not have to run `check` once per typo.
//!
//! The known keys come from the sections' own serde derives (the field
//! names serde asks for), so a field added to a section is known here
//! without being listed twice; a section added to the file must be added to
//! [`SECTIONS`], and a test fails until it is.

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use std::path::Path;

use crate::problem::suggest::did_you_mean;

use super::campaign::Campaign;
use super::error::ConfigError;
use super::fields::{check_value, fields};
use super::followup::RawFollowup;
use super::letter::RawVariant;
use super::mailbox::{RawInbox, RawSent};
use super::place::{entry_span, key_span, line_at, line_of};
use super::raw::{RawCampaign, RawContacts, RawRate, RawRetry, RawSender, RawSmtp};

/// Most problems listed at once; beyond that the file needs another look.
const MOST: usize = 50;

/// Reads the campaign with `typed`, but first finds every unknown key and
/// wrong value; then every unusable value (a bad address, an unknown
/// encoding…): each is blanked out in turn and the file read again.
pub(super) fn parse_all(
    path: &Path,
    text: &str,
    typed: fn(&Path, &str) -> Result<Campaign, ConfigError>,
) -> Result<Campaign, ConfigError> {
    let found = check(text);
    if !found.is_empty() {
        return Err(many(path, found));
    }
    let mut text = text.to_string();
    let mut found = Vec::new();
    let mut reported: Vec<String> = Vec::new();
    while found.len() < MOST {
        match typed(path, &text) {
            Ok(c) if found.is_empty() => return Ok(c),
            Ok(_) => break,
            Err(ConfigError::Invalid { key, message, .. }) => {
                // Blanking it did not help (the key is not a plain entry):
                // say it once and stop.
                let again = reported.contains(&key);
                if again {
                    break;
                }
                reported.push(key.clone());
                found.push(ConfigProblem {
                    line: line_of(&text, &key).unwrap_or(1),
                    message: format!("key `{key}`: {message}"),
                });
                let Some(span) = entry_span(&text, &key) else {
                    break;
                };
                // Spaces keep every other key on its own line.
                let blank: String = text[span.clone()]
                    .chars()
                    .map(|c| if c == '\n' { c } else { ' ' })
                    .collect();
                text.replace_range(span, &blank);
            }
            Err(e) if found.is_empty() => return Err(e),
            // A required key blanked out: what follows is of our making.
            Err(_) => break,
        }
    }
    Err(many(path, found))
}

fn many(path: &Path, found: Vec<ConfigProblem>) -> ConfigError {
    let mut problems: Vec<ConfigError> = found
        .into_iter()
        .map(|f| ConfigError::Parse {
            path: path.to_path_buf(),
            line: f.line,
            message: f.message,
        })
        .collect();
    if problems.len() == 1 {
        return problems.remove(0);
    }
    ConfigError::Many {
        path: path.to_path_buf(),
        problems,
    }
}

/// One problem: the 1-based line and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Line of the key.
    pub line: usize,
    /// What is wrong, naming the key.
    pub message: String,
}

/// How a section's keys are known.
#[derive(Clone, Copy)]
enum Keys {
    /// The fields of the struct serde reads the section into, and a check
    /// of one key's value against that struct.
    Struct {
        fields: fn() -> &'static [&'static str],
        check: fn(&str, &Spanned<DeValue<'_>>) -> Option<String>,
    },
    /// A table of such sections under names the user chooses (e.g.
    /// `[variant.<value>]`, read as a map of structs): each one's keys
    /// are checked like a [`Keys::Struct`] section.
    Tables {
        fields: fn() -> &'static [&'static str],
        check: fn(&str, &Spanned<DeValue<'_>>) -> Option<String>,
    },
    /// Any key (`[vars]`: the campaign's own template values).
    Any,
}

impl Keys {
    fn fields(self) -> Option<&'static [&'static str]> {
        match self {
            Keys::Struct { fields, .. } | Keys::Tables { fields, .. } => Some(fields()),
            Keys::Any => None,
        }
    }
}

/// The sections of the campaign file. Keep in step with `RawFile` (a test
/// checks both ways): a struct section is `section::<RawX>()`, a map of
/// struct sections (`[variant.<value>]`) `tables::<RawX>()`, a free-form
/// one `Keys::Any`.
const SECTIONS: &[(&str, Keys)] = &[
    ("campaign", section::<RawCampaign>()),
    ("sender", section::<RawSender>()),
    ("contacts", section::<RawContacts>()),
    ("smtp", section::<RawSmtp>()),
    ("rate", section::<RawRate>()),
    ("retry", section::<RawRetry>()),
    ("vars", Keys::Any),
    ("variant", tables::<RawVariant>()),
    ("inbox", section::<RawInbox>()),
    ("sent", section::<RawSent>()),
    // An array of tables: the typed read (deny_unknown_fields) names a
    // wrong key in it.
    ("followup", section::<RawFollowup>()),
];

const fn section<T: DeserializeOwned>() -> Keys {
    Keys::Struct {
        fields: fields::<T>,
        check: check_value::<T>,
    }
}

/// For a section that is a map of `T` sections (`[variant.fa]`...).
const fn tables<T: DeserializeOwned>() -> Keys {
    Keys::Tables {
        fields: fields::<T>,
        check: check_value::<T>,
    }
}

/// Checks `text` (already known to be TOML) and returns every unknown key
/// and every value of the wrong type, in file order.
pub fn check(text: &str) -> Vec<ConfigProblem> {
    check_with(text, SECTIONS)
}

fn check_with(text: &str, sections: &[(&str, Keys)]) -> Vec<ConfigProblem> {
    let Ok(doc) = DeTable::parse(text) else {
        // A syntax error: the typed read reports it with its line.
        return Vec::new();
    };
    let line = |span: std::ops::Range<usize>| line_at(text, span.start);
    let mut found = Vec::new();
    for (key, value) in doc.get_ref() {
        let name: &str = key.get_ref();
        let Some((_, keys)) = sections.iter().find(|(s, _)| *s == name) else {
            found.push(ConfigProblem {
                line: line(key.span()),
                message: unknown_section(name),
            });
            continue;
        };
        let DeValue::Table(table) = value.get_ref() else {
            continue; // not a table: the typed read says what it should be
        };
        match *keys {
            Keys::Struct { fields, check } => {
                check_table(name, table, fields(), check, text, &mut found)
            }
            Keys::Tables { fields, check } => {
                for (sub, v) in table {
                    if let DeValue::Table(t) = v.get_ref() {
                        let name = format!("{name}.{}", sub.get_ref());
                        check_table(&name, t, fields(), check, text, &mut found);
                    }
                }
            }
            Keys::Any => {}
        }
    }
    found.sort_by_key(|f| f.line);
    found
}

/// The keys of one section table against the fields it may hold.
fn check_table(
    name: &str,
    table: &DeTable<'_>,
    fields: &[&str],
    check: fn(&str, &Spanned<DeValue<'_>>) -> Option<String>,
    text: &str,
    found: &mut Vec<ConfigProblem>,
) {
    for (k, v) in table {
        let k: &str = k.get_ref();
        let message = if !fields.contains(&k) {
            Some(unknown_key(name, k, fields))
        } else {
            check(k, v).map(|m| {
                let written = text.get(v.span()).unwrap_or_default().trim();
                format!("[{name}] {}", plain_words(k, written, &m))
            })
        };
        if let Some(message) = message {
            found.push(ConfigProblem {
                line: line_at(text, key_span(table, k).start),
                message,
            });
        }
    }
}

fn unknown_section(name: &str) -> String {
    // A key written above every section header, e.g. `per_minute = 20`
    // before `[rate]`: say where it belongs.
    let home = SECTIONS
        .iter()
        .find_map(|(s, keys)| keys.fields().filter(|f| f.contains(&name)).map(|_| *s));
    if let Some(section) = home {
        return format!(
            "`{name}` is outside any section; it belongs under [{section}]: move it below that header"
        );
    }
    let names: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
    format!(
        "unknown section or key `{name}`{}; the sections are {}",
        did_you_mean(name, &names),
        list(&names)
    )
}

fn unknown_key(section: &str, key: &str, fields: &[&str]) -> String {
    format!(
        "unknown key `{key}` in [{section}]{}; the keys there are {} (each is documented in the comments of the campaign file `repmail init` writes, and in the README)",
        did_you_mean(key, fields),
        list(fields)
    )
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value of the wrong type in plain words, with the key, the value as
/// written and what is expected: serde's `invalid type: string "one",
/// expected u32` becomes ``burst = "one"`: expected a whole number (0 or
/// more), not text``. The one place a value error is worded (issue 24,
/// item 9); a message of another shape (a custom check's own words, an
/// unknown variant) keeps its words after the key and value.
pub fn plain_words(key: &str, written: &str, message: &str) -> String {
    let shown = if written.is_empty() {
        format!("`{key}`")
    } else {
        format!("`{key} = {written}`")
    };
    let shape = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    let Some((found, expected)) = shape.and_then(|m| m.split_once(", expected ")) else {
        return format!("{shown}: {message}");
    };
    let expected = match expected.trim() {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" => "true or false".to_string(),
        "a string" => "text in double quotes".to_string(),
        "a sequence" => "a list in brackets, e.g. [\"a\", \"b\"]".to_string(),
        e if e.starts_with("struct ") || e == "a map" => "a table of keys".to_string(),
        e => e.to_string(),
    };
    // serde names what it found first: `string "one"`, `integer `5``.
    let not = [
        ("string", "text"),
        ("integer", "a whole number"),
        ("floating", "a decimal number"),
        ("boolean", "true or false"),
        ("sequence", "a list"),
        ("map", "a table"),
    ]
    .iter()
    .find(|(k, _)| found.trim_start_matches("a ").starts_with(k))
    .map_or("", |(_, w)| w);
    // A whole number where a whole number is expected is out of range:
    // "expected a whole number, not a whole number" says nothing.
    let not = match (not, expected.starts_with("a whole number")) {
        ("a whole number", true) if found.contains("`-") => "a negative number",
        ("a whole number", true) => "a number that large",
        (not, _) => not,
    };
    if !not.is_empty() || message.starts_with("invalid value") {
        let not = if not.is_empty() { "that value" } else { not };
        format!("{shown}: expected {expected}, not {not}")
    } else {
        format!("{shown}: expected {expected}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::RawFile;
    use super::*;

    const MINIMAL: &str = "[campaign]\nname = \"t\"\nsubject = \"Hi\"\ntext = \"l.tera\"\n\n[sender]\nfrom = \"a@example.org\"\n\n[contacts]\npath = \"c.csv\"\n";

    #[test]
    fn every_unusable_value_at_once_with_its_line() {
        let text = format!(
            "{MINIMAL}encoding = \"klingon\"\ndelimiter = \"::\"\n\n[rate]\nper_minute = 0\n"
        );
        let e = Campaign::parse(Path::new("x.toml"), &text).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("3 problems in x.toml"), "{s}");
        assert!(s.contains("x.toml:12: key `contacts.delimiter`"), "{s}");
        assert!(
            s.contains("x.toml:11: key `contacts.encoding`: unknown encoding `klingon`"),
            "{s}"
        );
        assert!(
            s.contains("x.toml:15: key `rate.per_minute`: must be at least 1"),
            "{s}"
        );
        // One problem is reported alone, with its line.
        let one = format!("{MINIMAL}\n[rate]\nper_minute = 0\n");
        let s = Campaign::parse(Path::new("x.toml"), &one)
            .unwrap_err()
            .to_string();
        assert_eq!(s, "x.toml:13: key `rate.per_minute`: must be at least 1");
        assert!(Campaign::parse(Path::new("x.toml"), MINIMAL).is_ok());
    }

    #[test]
    fn every_section_of_the_file_is_known_and_no_other() {
        let file = fields::<RawFile>();
        assert!(!file.is_empty(), "RawFile is read with deserialize_struct");
        for name in file {
            assert!(
                SECTIONS.iter().any(|(s, _)| s == name),
                "section [{name}] of RawFile is missing from keys::SECTIONS: add it, so its keys are checked"
            );
        }
        for (name, keys) in SECTIONS {
            assert!(file.contains(name), "[{name}] is not a section of RawFile");
            if let Some(fields) = keys.fields() {
                assert!(
                    !fields.is_empty(),
                    "[{name}] has no fields: is it a struct?"
                );
            }
        }
    }

    #[test]
    fn fields_come_from_the_derive() {
        assert_eq!(
            fields::<RawRetry>(),
            ["attempts", "backoff_secs"],
            "the keys are the struct's fields, as serde reads them"
        );
        assert!(fields::<RawContacts>().contains(&"email_column"));
    }

    #[test]
    fn a_value_error_is_said_in_plain_words() {
        assert_eq!(
            plain_words(
                "burst",
                "\"one\"",
                "invalid type: string \"one\", expected u32"
            ),
            "`burst = \"one\"`: expected a whole number (0 or more), not text"
        );
        assert_eq!(
            plain_words("burst", "-1", "invalid value: integer `-1`, expected u32"),
            "`burst = -1`: expected a whole number (0 or more), not a negative number"
        );
        assert_eq!(
            plain_words(
                "burst",
                "5000000000",
                "invalid value: integer `5000000000`, expected u32"
            ),
            "`burst = 5000000000`: expected a whole number (0 or more), not a number that large"
        );
        assert_eq!(
            plain_words(
                "cc",
                "\"a@example.org\"",
                "invalid type: string \"a@example.org\", expected a sequence"
            ),
            "`cc = \"a@example.org\"`: expected a list in brackets, e.g. [\"a\", \"b\"], not text"
        );
        assert_eq!(
            plain_words(
                "security",
                "\"ssl\"",
                "unknown variant `ssl`, expected one of `tls`"
            ),
            "`security = \"ssl\"`: unknown variant `ssl`, expected one of `tls`"
        );
    }

    #[test]
    fn every_unknown_key_and_bad_value_at_once() {
        let text = "\
[campaign]
name = \"x\"
subjcet = \"Hi\"
text = \"t.tera\"

[sender]
from = \"a@example.org\"

[contacts]
path = \"c.csv\"
emial_column = \"e\"

[rate]
per_minute = \"fast\"
burst = 2

[smtp]
host = \"h.example.org\"
security = \"ssl\"

[retyr]
attempts = 2
";
        let found = check(text);
        let lines: Vec<usize> = found.iter().map(|f| f.line).collect();
        assert_eq!(lines, [3, 11, 14, 19, 21], "{found:#?}");
        assert!(
            found[0]
                .message
                .contains("unknown key `subjcet` in [campaign] (did you mean `subject`?)"),
            "{found:#?}"
        );
        assert!(
            found[1].message.contains("(did you mean `email_column`?)"),
            "{found:#?}"
        );
        assert!(
            found[2]
                .message
                .starts_with("[rate] `per_minute = \"fast\"`: expected a whole number (0 or more)"),
            "{found:#?}"
        );
        assert!(
            found[3].message.contains("unknown variant `ssl`"),
            "{found:#?}"
        );
        assert!(
            found[4].message.contains("`retyr`")
                && found[4].message.contains("(did you mean `retry`?)"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_map_of_sections_checks_each_one() {
        // As `[variant.<value>]` will be: a map of structs.
        let sections = [("variant", tables::<RawSender>())];
        let text =
            "[variant.fa]\nfrom = \"a@example.org\"\nreplyto = \"b\"\n[variant.ar]\nfrom = 3\n";
        let found = check_with(text, &sections);
        let lines: Vec<usize> = found.iter().map(|f| f.line).collect();
        assert_eq!(lines, [3, 5], "{found:#?}");
        assert!(
            found[0]
                .message
                .contains("unknown key `replyto` in [variant.fa] (did you mean `reply_to`?)"),
            "{found:#?}"
        );
        assert!(
            found[1]
                .message
                .starts_with("[variant.ar] `from = 3`: expected"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_key_above_the_sections_is_told_where_it_belongs() {
        let found = check("per_minute = 3\n[rate]\nburst = 1\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("belongs under [rate]"),
            "{found:?}"
        );
    }

    #[test]
    fn vars_take_any_key() {
        assert!(check("[vars]\nanything = 1\nelse = \"x\"\n").is_empty());
    }
}
