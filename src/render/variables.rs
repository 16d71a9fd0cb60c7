//! Every template variable that no row can fill, found before any row is
//! rendered, so a campaign's typos come in one run (issue 24, item 4).
//!
//! Tera stops a render at its first undefined variable, so rendering
//! finds one typo per run. Instead each compiled template's variables
//! come from Tera itself (`Tera::get_template_variables`: the top-level
//! names, loop variables left out) and are compared with what a row
//! provides: the header's columns (as written and in snake_case) and the
//! `[vars]` names. Tera gives no place, so the line is found in the
//! source: the first `{{ … }}` that names the variable.
//!
//! A name used only in `{% … %}` tags is left alone: `{% if district %}`
//! over a file without that column is a deliberate guard (undefined is
//! false there), and so is an output guarded by an `if` on the same name.

use std::path::Path;

use crate::problem::suggest::closest;
use crate::problem::Diagnostic;

/// One template's source and where it came from.
pub struct TemplateSource {
    /// The name the template has in its Tera instance.
    pub name: String,
    /// Whether it lives in the Markdown instance.
    pub markdown: bool,
    /// Where a problem is reported: the file, or the campaign file and key.
    place: Place,
    text: String,
}

enum Place {
    /// A template file, named relative to the campaign folder.
    File,
    /// A setting of the campaign file (`campaign.subject`).
    Setting(String),
}

impl TemplateSource {
    /// A template file.
    pub fn file(name: &str, text: String, markdown: bool) -> TemplateSource {
        TemplateSource {
            name: name.to_string(),
            markdown,
            place: Place::File,
            text,
        }
    }

    /// A template held by a setting `key` of the campaign file at `path`.
    pub fn setting(path: &Path, key: &str, text: &str, markdown: bool) -> TemplateSource {
        TemplateSource {
            name: key.to_string(),
            markdown,
            place: Place::Setting(format!("{}: {key}", path.display())),
            text: text.to_string(),
        }
    }
}

/// The problems of `source`, whose variables are `used`, when a row
/// provides `known`: one error per undefined variable, each with its
/// place and the closest known name.
pub fn undefined(source: &TemplateSource, used: &[String], known: &[&str]) -> Vec<Diagnostic> {
    let mut found: Vec<(usize, &str)> = used
        .iter()
        .filter(|v| !known.contains(&v.as_str()))
        .filter(|v| !guarded(&source.text, v))
        .filter_map(|v| first_output(&source.text, v).map(|at| (at, v.as_str())))
        .collect();
    // In the order they appear, as a reader goes through the template.
    found.sort();
    found
        .into_iter()
        .map(|(at, v)| {
            let place = match &source.place {
                Place::File => format!("{}:{}", source.name, line_of(&source.text, at)),
                Place::Setting(p) => p.clone(),
            };
            let hint = match closest(v, known) {
                Some(n) => format!("did you mean `{n}`?"),
                None => "add the column to the contacts file, or the name under [vars]".to_string(),
            };
            Diagnostic::error(
                place,
                format!("`{{{{ {v} }}}}`: `{v}` is not a column of the contacts file nor a [vars] name; {hint}"),
            )
        })
        .collect()
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Tags between `open` and `close`: (offset of the inside, the inside).
fn tags<'a>(
    text: &'a str,
    open: &'a str,
    close: &'a str,
) -> impl Iterator<Item = (usize, &'a str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        let start = text[from..].find(open)? + from + open.len();
        let end = text[start..].find(close).map_or(text.len(), |e| e + start);
        from = end;
        Some((start, &text[start..end]))
    })
}

/// Offset of `name` as a whole word (not a field: no `.` before it) in
/// `inside`.
fn word(inside: &str, name: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    inside.match_indices(name).map(|(i, _)| i).find(|&i| {
        let before = inside[..i].chars().next_back();
        let after = inside[i + name.len()..].chars().next();
        !before.is_some_and(|c| ident(c) || c == '.') && !after.is_some_and(ident)
    })
}

/// Where `{{ … name … }}` first appears.
fn first_output(text: &str, name: &str) -> Option<usize> {
    tags(text, "{{", "}}").find_map(|(at, inside)| word(inside, name).map(|i| at + i))
}

/// Whether an `{% if %}`/`{% elif %}` tests `name`, or a `{% set %}`
/// defines it.
fn guarded(text: &str, name: &str) -> bool {
    tags(text, "{%", "%}").any(|(_, inside)| {
        let inside = inside.trim_start_matches(['-', '+']).trim_start();
        ["if ", "elif ", "set ", "set_global "]
            .iter()
            .any(|k| inside.starts_with(k))
            && word(inside, name).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_unknown_output_is_named_with_its_line_and_the_closest_name() {
        let text = "Dear {{ Title }} {{ lastname }},\n\n{% if district %}{{ district }}{% endif %}\nof {{ organisation | upper }} and {{ x.lastname }}\n";
        let src = TemplateSource::file("letter.md", text.into(), true);
        let used = vars(&["Title", "lastname", "district", "organisation", "x"]);
        let known = ["title", "last_name", "organization", "x"];
        let found = undefined(&src, &used, &known);
        let shown: Vec<String> = found.iter().map(|d| d.to_string()).collect();
        assert_eq!(found.len(), 3, "{shown:#?}");
        assert!(shown[0].contains("letter.md:1") && shown[0].contains("did you mean `title`?"));
        assert!(shown[1].contains("letter.md:1") && shown[1].contains("did you mean `last_name`?"));
        assert!(
            shown[2].contains("letter.md:4") && shown[2].contains("did you mean `organization`?"),
            "{shown:#?}"
        );
        assert!(found.iter().all(Diagnostic::is_error));
    }

    #[test]
    fn a_setting_is_named_by_its_key() {
        let src = TemplateSource::setting(
            Path::new("c.toml"),
            "campaign.subject",
            "On {{ topc }}",
            false,
        );
        let found = undefined(&src, &vars(&["topc"]), &["topic"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].place, "c.toml: campaign.subject");
        assert!(found[0].message.contains("did you mean `topic`?"));
    }
}
