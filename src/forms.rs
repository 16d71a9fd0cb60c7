//! The forms kit: the offices that take only a web form, each with its
//! personalised letter, for a volunteer to paste into the form; then the
//! offices with neither address nor form. US Congress publishes no email
//! addresses at all, so for such a list this is the whole campaign.
//!
//! Each letter is rendered by the same templates as an emailed one (the
//! subject and the text part), so what is pasted is what would be sent.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, Utc};

use lettre::Address;
use serde::Serialize;

use crate::config::Campaign;
use crate::contacts::{ContactRow, Office};
use crate::ledger::{recipient_key, Status};
use crate::pages::{self, Context, Page};
use crate::problem::{Diagnostic, Problems};
use crate::render::Renderer;

mod done;
pub use done::{mark_done, DoneError, ReachedByForm};

/// The To address an office's letter is rendered for. Never shown or
/// used: the letter goes into a form. `.invalid` is reserved (RFC 2606).
const NOWHERE: &str = "office@form.invalid";

/// One office to reach by its contact form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormLetter {
    /// Its line in the contacts file.
    pub line: u64,
    /// Its name: the To display name from `[contacts] name`, else the
    /// contacts line.
    pub name: String,
    /// The form's address as the contacts give it.
    pub form: String,
    /// The same, when it is a web address a page may link to (`http`
    /// or `https`); anything else is shown as text only.
    pub link: Option<String>,
    /// The personalised subject.
    pub subject: String,
    /// The personalised letter (the text part).
    pub text: String,
    /// When the delivery log recorded it as reached by its form
    /// (`repmail forms --done`), as people read it; `None`: not yet.
    pub done: Option<String>,
}

/// An office with neither an address nor a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreachable {
    /// Its line in the contacts file.
    pub line: u64,
    /// Its name, as for [`FormLetter::name`].
    pub name: String,
}

/// Everything the kit holds, in contacts order.
#[derive(Debug, Default)]
pub struct Kit {
    /// The campaign's name.
    pub campaign: String,
    /// The offices to reach by form, with their letters.
    pub forms: Vec<FormLetter>,
    /// The offices that cannot be reached.
    pub unreachable: Vec<Unreachable>,
    /// Rows the kit could not use (a letter that does not render, a broken
    /// row); any error means the kit is incomplete.
    pub problems: Vec<Diagnostic>,
    /// Recipients with an address (they get the email, not the kit).
    pub emailed: usize,
    /// The `form_sent` rows of the delivery log: when each form (by its
    /// ledger key) was recorded as reached.
    reached: HashMap<String, DateTime<Utc>>,
}

impl Kit {
    /// Reads the contacts of `campaign` and renders each form-only office's
    /// letter. Fails only when the contacts or templates cannot be used.
    pub fn build(campaign: &Campaign) -> Result<Kit, Problems> {
        let prepared = crate::plan::prepare(campaign)?;
        let mut kit = Kit {
            campaign: campaign.campaign.name.clone(),
            reached: reached(&campaign.campaign.log)?,
            ..Kit::default()
        };
        for row in prepared.contacts {
            match row {
                ContactRow::Recipient(_) => kit.emailed += 1,
                ContactRow::Office(o) => kit.add(&prepared.renderer, o),
                // Warnings about other rows (duplicates, garbled names)
                // are `check`'s to show; errors make the kit incomplete.
                ContactRow::Problem(d) if d.is_error() => kit.problems.push(d),
                ContactRow::Problem(_) => {}
            }
        }
        Ok(kit)
    }

    fn add(&mut self, renderer: &Renderer, office: Office) {
        let placeholder: Address = NOWHERE.parse().expect("a valid address");
        let letter = match renderer.render(&office.as_recipient(placeholder)) {
            Ok(l) => l,
            Err(d) => {
                self.problems.push(d);
                return;
            }
        };
        let name = letter
            .to
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("contacts line {}", office.line));
        match office.form {
            Some(form) => self.forms.push(FormLetter {
                line: office.line,
                name,
                link: crate::text::web_link(&form),
                done: self
                    .reached
                    .get(&recipient_key(&form))
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                form,
                subject: letter.subject,
                text: paste_ready(&letter.text),
            }),
            None => self.unreachable.push(Unreachable {
                line: office.line,
                name,
            }),
        }
    }

    /// Whether any row could not be used.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Diagnostic::is_error)
    }

    /// How many offices the log records as reached by their form.
    pub fn done(&self) -> usize {
        self.forms.iter().filter(|f| f.done.is_some()).count()
    }
}

/// The `form_sent` rows of the log at `path`, by form: the kit shows them
/// done whichever browser or volunteer opens it. Read as a stream, so a
/// large log of emailed letters costs no memory here.
fn reached(path: &Path) -> Result<HashMap<String, DateTime<Utc>>, Problems> {
    let mut reached = HashMap::new();
    crate::ledger::for_each_row(path, |event, _| {
        if event.status == Status::FormSent {
            reached.insert(event.key(), event.time);
        }
    })
    .map_err(|e| {
        Problems(vec![Diagnostic::error(
            path.display().to_string(),
            e.to_string(),
        )])
    })?;
    Ok(reached)
}

/// What the page shows of one office: its place in the kit, and whether
/// its form may be a link.
#[derive(Serialize)]
struct OfficeView<'a> {
    n: usize,
    has_link: bool,
    #[serde(flatten)]
    letter: &'a FormLetter,
}

/// Writes the kit as one self-contained page (`src/pages/templates/forms.html`):
/// every value escaped, nothing loaded from the network.
pub fn write_html(kit: &Kit, out: &mut dyn Write) -> io::Result<()> {
    let forms: Vec<OfficeView> = kit
        .forms
        .iter()
        .enumerate()
        .map(|(i, letter)| OfficeView {
            n: i + 1,
            has_link: letter.link.is_some(),
            letter,
        })
        .collect();
    let mut ctx = Context::new();
    ctx.insert("title", &format!("Contact forms: {}", kit.campaign));
    ctx.insert("generated", &crate::time::human_time(chrono::Utc::now()));
    ctx.insert("forms_count", &forms.len());
    ctx.insert("done_count", &kit.done());
    ctx.insert("forms", &forms);
    ctx.insert("unreachable_count", &kit.unreachable.len());
    ctx.insert("unreachable", &kit.unreachable);
    let page = pages::render(Page::Forms, &ctx)?;
    out.write_all(page.as_bytes())?;
    out.flush()
}

/// The text part as a web form wants it (issue 24, item 7): a form's box
/// wraps lines itself, so the 72-column breaks of an email would show as
/// ragged lines. A paragraph of prose is joined into one line; a block of
/// short lines (an address, a signature: the same rule as Markdown
/// letters, `render::markdown::SHORT_LINE`) and list items keep their
/// lines; paragraphs stay apart.
pub fn paste_ready(text: &str) -> String {
    let short = crate::render::markdown::SHORT_LINE;
    let mut out = String::with_capacity(text.len());
    for (i, paragraph) in text.trim_end().split("\n\n").enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        let lines: Vec<&str> = paragraph.lines().collect();
        if lines.iter().all(|l| l.chars().count() < short) {
            out.push_str(paragraph);
            continue;
        }
        let item = |l: &str| {
            let t = l.trim_start();
            t.starts_with("- ")
                || t.starts_with("> ")
                || t.split_once(". ")
                    .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        for (j, line) in lines.iter().enumerate() {
            if j > 0 {
                out.push(if item(line) { '\n' } else { ' ' });
            }
            out.push_str(if j > 0 && !item(line) {
                line.trim_start()
            } else {
                line
            });
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::paste_ready;
    use crate::text::web_link;

    #[test]
    fn paste_ready_text_joins_prose_and_keeps_blocks_and_items() {
        let text = "Dear Senator Smith,\n\nAs a group we would like to bring to your attention some extremely\nimportant issues regarding the current and future relationship.\n\n1. To provide moral support to the struggle of the people for\n   freedom and justice.\n2. To continue the pressure.\n\nTest Group\n5 December 2026\n";
        assert_eq!(
            paste_ready(text),
            "Dear Senator Smith,\n\nAs a group we would like to bring to your attention some extremely important issues regarding the current and future relationship.\n\n1. To provide moral support to the struggle of the people for freedom and justice.\n2. To continue the pressure.\n\nTest Group\n5 December 2026\n"
        );
    }

    #[test]
    fn only_web_addresses_become_links() {
        for ok in [
            "https://senator.example.org/contact",
            "HTTP://x.example.org/a?b=1&c=<d>",
        ] {
            assert!(web_link(ok).is_some(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "https://x.example.org/a b",
            "//x.example.org",
            "see website",
        ] {
            assert_eq!(web_link(bad), None, "{bad}");
        }
    }
}
