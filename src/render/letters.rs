//! The letters of a campaign, compiled: the default one and one per
//! `[variant.VALUE]`, and which one a row gets.
//!
//! Two Tera instances, because an escape function belongs to an instance:
//! `plain` holds subjects, the To name, text templates (not escaped) and
//! HTML templates (HTML-escaped); `markdown` holds Markdown letters, whose
//! values are backslash-escaped (see [`super::markdown::escape`]).

use std::collections::BTreeMap;
use std::path::Path;

use tera::{Context, Tera};

use super::markdown;
use super::sanitise;
use crate::config::{Campaign, Direction, Letter};
use crate::contacts::Recipient;
use crate::problem::Diagnostic;

/// One letter, ready to render.
pub(super) struct Compiled {
    subject: String,
    body: Body,
    lang: Option<String>,
    dir: Direction,
}

enum Body {
    Markdown(String),
    Parts { text: String, html: Option<String> },
}

/// Which letter a row got.
pub(super) struct Choice<'a> {
    pub letter: &'a Compiled,
    /// The matched `[variant.VALUE]`, if any.
    pub variant: Option<&'a str>,
    /// A non-empty value with no `[variant.VALUE]` (the row got the
    /// default letter).
    pub unknown: Option<String>,
}

/// A rendered body: the text part and, if any, the HTML part.
pub(super) struct Bodies {
    pub text: String,
    pub html: Option<String>,
    /// What the sanitiser removed from the HTML part, and the template it
    /// came from (for `check`).
    pub removed: Option<(String, Vec<String>)>,
}

pub(super) struct CompiledLetters {
    pub plain: Tera,
    markdown: Tera,
    /// Every template's source, for the variables check
    /// ([`super::variables`]).
    pub sources: Vec<super::variables::TemplateSource>,
    default: Compiled,
    /// Keyed by the value lower-cased: `FA` and `fa` pick the same letter.
    variants: BTreeMap<String, (String, Compiled)>,
    variant_by: Option<String>,
}

const SUBJECT: &str = "campaign.subject";

impl CompiledLetters {
    /// Compiles every letter, pushing each problem (naming the file or
    /// config key) to `problems`.
    pub fn new(campaign: &Campaign, problems: &mut Vec<Diagnostic>) -> CompiledLetters {
        let mut plain = Tera::new();
        let mut markdown = Tera::new();
        markdown.set_escape_fn(markdown::escape);
        let base = campaign.base_dir();
        let mut html_names = Vec::new();
        let mut md_names = Vec::new();
        let mut sources = Vec::new();
        let mut compile = |subject_name: String,
                           subject: &str,
                           letter: &Letter,
                           lang: Option<String>,
                           dir: Direction,
                           problems: &mut Vec<Diagnostic>| {
            add(&mut plain, &subject_name, subject, problems);
            sources.push(super::variables::TemplateSource::setting(
                &campaign.path,
                &subject_name,
                subject,
                false,
            ));
            let body = match letter {
                Letter::Markdown(path) => {
                    let name = template_name(base, path);
                    sources.extend(load(&mut markdown, &name, path, problems, true));
                    md_names.push(name.clone());
                    Body::Markdown(name)
                }
                Letter::Parts { text, html } => {
                    let text_name = template_name(base, text);
                    sources.extend(load(&mut plain, &text_name, text, problems, false));
                    let html = html.as_ref().map(|path| {
                        let name = template_name(base, path);
                        sources.extend(load(&mut plain, &name, path, problems, false));
                        html_names.push(name.clone());
                        name
                    });
                    Body::Parts {
                        text: text_name,
                        html,
                    }
                }
            };
            Compiled {
                subject: subject_name,
                body,
                lang,
                dir,
            }
        };
        let c = &campaign.campaign;
        let default = compile(
            SUBJECT.into(),
            &c.subject,
            &c.letter,
            None,
            Direction::Ltr,
            problems,
        );
        let mut variants = BTreeMap::new();
        for (value, v) in &campaign.variants {
            let dir = v.direction;
            let compiled = compile(
                format!("variant.{value}.subject"),
                &v.subject,
                &v.letter,
                v.lang.clone(),
                dir,
                problems,
            );
            variants.insert(value.trim().to_lowercase(), (value.clone(), compiled));
        }
        // Only HTML and Markdown bodies are escaped: `&` in a name must
        // stay `&` in the plain text and the Subject.
        plain.autoescape_on(html_names);
        markdown.autoescape_on(md_names);
        CompiledLetters {
            plain,
            markdown,
            sources,
            default,
            variants,
            variant_by: c.variant_by.clone(),
        }
    }

    /// The letter for `r`.
    pub fn pick(&self, r: &Recipient) -> Result<Choice<'_>, String> {
        let default = Choice {
            letter: &self.default,
            variant: None,
            unknown: None,
        };
        let Some(column) = &self.variant_by else {
            return Ok(default);
        };
        let Some(value) = r.get(column) else {
            return Err(format!(
                "the contacts have no column `{column}` (campaign.variant_by); add it or fix `variant_by`"
            ));
        };
        let value = value.trim();
        if value.is_empty() {
            return Ok(default);
        }
        Ok(match self.variants.get(&value.to_lowercase()) {
            Some((name, letter)) => Choice {
                letter,
                variant: Some(name),
                unknown: None,
            },
            None => Choice {
                unknown: Some(value.to_string()),
                ..default
            },
        })
    }

    /// The letter's subject template name.
    pub fn subject<'a>(&self, letter: &'a Compiled) -> &'a str {
        &letter.subject
    }

    /// Renders the body of `letter`; the subject titles the HTML part.
    pub fn body(
        &self,
        letter: &Compiled,
        ctx: &Context,
        subject: &str,
    ) -> Result<Bodies, tera::Error> {
        let part = |name: &str, fragment: String| {
            let clean = sanitise::html_part(&fragment, letter.lang.as_deref(), letter.dir, subject);
            let removed = (!clean.removed.is_empty()).then(|| (name.to_string(), clean.removed));
            (Some(clean.html), removed)
        };
        match &letter.body {
            Body::Markdown(name) => {
                let source = self.markdown.render(name, ctx)?;
                let (html, removed) = part(
                    name,
                    markdown::body_html(&source, letter.lang.as_deref(), letter.dir),
                );
                Ok(Bodies {
                    text: text_part(markdown::to_text(&source), letter.dir),
                    html,
                    removed,
                })
            }
            Body::Parts { text, html } => {
                let (html, removed) = match html {
                    Some(n) => part(n, self.plain.render(n, ctx)?),
                    None => (None, None),
                };
                Ok(Bodies {
                    text: text_part(self.plain.render(text, ctx)?, letter.dir),
                    html,
                    removed,
                })
            }
        }
    }
}

/// A right-to-left text part gets its left-to-right runs isolated (see
/// [`super::bidi`]).
fn text_part(text: String, dir: Direction) -> String {
    match dir {
        Direction::Rtl => super::bidi::isolate_ltr(&text),
        Direction::Ltr => text,
    }
}

fn template_name(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn load(
    tera: &mut Tera,
    name: &str,
    path: &Path,
    problems: &mut Vec<Diagnostic>,
    markdown: bool,
) -> Option<super::variables::TemplateSource> {
    match std::fs::read_to_string(path) {
        Ok(source) => {
            add(tera, name, &source, problems);
            Some(super::variables::TemplateSource::file(
                name, source, markdown,
            ))
        }
        Err(e) => {
            problems.push(Diagnostic::error(
                path.display().to_string(),
                format!(
                "cannot read template: {e}; check `letter`, `text` or `html` in the campaign file"
            ),
            ));
            None
        }
    }
}

impl CompiledLetters {
    /// The variables a template uses (Tera's own list: loop variables left
    /// out), or none if it did not compile (its error is reported).
    pub fn variables_of(&self, source: &super::variables::TemplateSource) -> Vec<String> {
        let tera = if source.markdown {
            &self.markdown
        } else {
            &self.plain
        };
        tera.get_template_variables(&source.name)
            .map(|v| v.into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// Adds a template, reporting a syntax error with its place.
pub(super) fn add(tera: &mut Tera, name: &str, source: &str, problems: &mut Vec<Diagnostic>) {
    if let Err(e) = tera.add_raw_template(name, source) {
        problems.push(Diagnostic::error(name, describe(&e)));
    }
}

/// Tera's `Display` is a multi-line report; keep the message and its
/// template line, then the rest of the source chain, so nothing is lost.
pub(crate) fn describe(e: &tera::Error) -> String {
    let out = match e.kind() {
        tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => {
            let kind = if matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                "template syntax error"
            } else {
                "template error"
            };
            format!(
                "{kind} in {} line {}, column {}: {}",
                r.filename(),
                r.span().start_line,
                r.span().start_col + 1,
                r.message()
            )
        }
        _ => e.to_string(),
    };
    crate::text::with_causes(out, e)
}
