//! Render: Tera templates + one recipient → a complete `lettre::Message`.
//!
//! `preview` writes exactly these bytes and `send` hands exactly these to
//! SMTP, so what the coordinator reviewed is what the senator receives.
//!
//! The letter source lives in the submodules: `letters` (the default
//! letter and its variants), `markdown` (one Markdown template → the HTML
//! part; `plain`, its text part), `sanitise` (the one HTML sanitiser every
//! HTML part passes; `removed` tells what it took out) and `attachments`
//! (the campaign's and each row's own).

pub mod attachments;
mod bidi;
mod body;
mod copies;
mod headers;
mod letters;
pub mod markdown;
mod mime;
mod plain;
mod qp;
mod removed;
pub mod sanitise;
pub mod size;
pub mod thread;
mod variables;

use lettre::message::Mailbox;
use lettre::{Address, Message};
use tera::Context;

use crate::config::Campaign;
use crate::contacts::Recipient;
use crate::problem::{Diagnostic, Problems};
use crate::text::one_line;
use attachments::File;
pub(crate) use letters::describe;
use letters::CompiledLetters;
pub use thread::{Thread, Threads};

const DISPLAY_NAME: &str = "contacts.name";
/// Before the subject of a `send --test-to` letter.
pub const TEST_PREFIX: &str = "[TEST] ";

/// Templates compiled once per run, plus the parts every message shares.
pub struct Renderer {
    letters: CompiledLetters,
    has_name: bool,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// `[sender] cc` and `bcc`, and `[contacts] cc_column`.
    copies: copies::CarbonCopies,
    domain: String,
    attachments: Vec<File>,
    /// Rows' own attachments, when `[contacts] attachments_column` is set.
    own: Option<(String, attachments::Own)>,
    vars: Context,
    /// The `[vars]` names, for [`Renderer::undefined`].
    var_names: Vec<String>,
    /// The contacts file as named in messages about a row.
    place: String,
    /// `send --test-to`: every letter goes to this address instead.
    test_to: Option<Address>,
    /// A follow-up stage's renderer: each recipient's earlier letters.
    threads: Option<Threads>,
}

/// One rendered letter.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The complete message, headers and body.
    pub message: Message,
    /// The To mailbox (display name and address).
    pub to: Mailbox,
    /// The decoded Subject.
    pub subject: String,
    /// The Message-ID, with angle brackets.
    pub message_id: String,
    /// The plain-text body as rendered (before transfer encoding), for
    /// showing on a terminal.
    pub text: String,
    /// The HTML body, if the letter has one.
    pub html: Option<String>,
    /// The `[variant.VALUE]` this letter came from; `None`: the default.
    pub variant: Option<String>,
    /// A `variant_by` value with no variant of its own (the row got the
    /// default letter), for `check` to list.
    pub unknown_variant: Option<String>,
    /// Attached file names, the campaign's first, then the row's own.
    pub attachments: Vec<String>,
    /// Problems that do not stop this letter (attachments over
    /// [`attachments::WARN_BYTES`]).
    pub warnings: Vec<Diagnostic>,
}

impl Renderer {
    /// Makes every letter a test letter to `to`: its To, and `[TEST]`
    /// before the subject (`send --test-to`).
    pub fn redirect_to(&mut self, to: Address) {
        self.test_to = Some(to);
    }

    /// Compiles the campaign's templates and reads its attachments,
    /// reporting every problem at once.
    pub fn new(campaign: &Campaign) -> Result<Renderer, Problems> {
        let mut problems = Vec::new();
        let c = &campaign.campaign;
        let mut letters = CompiledLetters::new(campaign, &mut problems);
        if let Some(name) = &campaign.contacts.name {
            letters::add(&mut letters.plain, DISPLAY_NAME, name, &mut problems);
            letters.sources.push(variables::TemplateSource::setting(
                &campaign.path,
                DISPLAY_NAME,
                name,
                false,
            ));
        }

        // The campaign's own files obey the same rule as a cell's (see
        // `attachments::confine`): the path is taken back to what the
        // campaign file wrote, relative to its folder.
        let base = campaign.base_dir();
        let mut attachments = Vec::new();
        for path in &c.attachments {
            let written = path.strip_prefix(base).unwrap_or(path);
            match File::read(base, written) {
                Ok(file) => attachments.push(file),
                Err(e) => problems.push(Diagnostic::error(
                    format!("{}: campaign.attachments", campaign.path.display()),
                    format!("{e}; fix the path or remove it from `attachments`"),
                )),
            }
        }
        let own = campaign
            .contacts
            .attachments_column
            .clone()
            .map(|column| (column, attachments::Own::new(campaign.base_dir())));

        let mut vars = Context::new();
        for (k, v) in &campaign.vars {
            vars.insert(k.clone(), v);
        }
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        Ok(Renderer {
            letters,
            has_name: campaign.contacts.name.is_some(),
            from: campaign.sender.from.clone(),
            reply_to: campaign.sender.reply_to.clone(),
            copies: copies::CarbonCopies::new(campaign),
            domain: campaign.sender.domain().to_string(),
            attachments,
            own,
            vars,
            var_names: campaign.vars.keys().cloned().collect(),
            place: campaign.contacts.path.display().to_string(),
            test_to: None,
            threads: None,
        })
    }

    /// Every variable of every template (subjects, bodies, variants,
    /// `[contacts] name`) that neither a column of `columns` nor a
    /// `[vars]` name fills: one error each, with its place and the
    /// closest name, all at once (see [`variables`]).
    pub fn undefined(&self, columns: &crate::contacts::Columns) -> Vec<Diagnostic> {
        let mut known: Vec<&str> = columns
            .names
            .iter()
            .chain(&columns.snake)
            .chain(&self.var_names)
            .map(String::as_str)
            .collect();
        // A follow-up's letter also has its thread's dates.
        if self.threads.is_some() {
            known.extend(Thread::VARIABLES);
        }
        known.sort_unstable();
        known.dedup();
        self.letters
            .sources
            .iter()
            .flat_map(|s| variables::undefined(s, &self.letters.variables_of(s), &known))
            .collect()
    }

    /// The campaign's values, then the row's.
    fn context(&self, r: &Recipient) -> Context {
        let mut ctx = self.vars.clone();
        // A column beats a campaign-wide value of the same name: it is the
        // more specific one.
        for (name, value) in r.variables() {
            ctx.insert(name.to_string(), value);
        }
        ctx
    }

    /// The subject of the recipient's first letter, as [`Renderer::render`]
    /// makes it (its variant's, on one line), without the rest of the
    /// letter: the delivery report shows it per recipient (issue 24, item
    /// 9), where rendering every body would be waste.
    pub fn subject(&self, r: &Recipient) -> Result<String, Diagnostic> {
        let at = || format!("{}:{}", self.place, r.line);
        let choice = self
            .letters
            .pick(r)
            .map_err(|e| Diagnostic::error(at(), e))?;
        self.letters
            .plain
            .render(self.letters.subject(choice.letter), &self.context(r))
            .map(|s| one_line(&s))
            .map_err(|e| Diagnostic::error(at(), describe(&e)))
    }

    /// Renders the letter for one recipient. A problem names the variable,
    /// the template and the recipient's CSV line.
    pub fn render(&self, r: &Recipient) -> Result<Rendered, Diagnostic> {
        let mut ctx = self.context(r);
        let at = || format!("{}:{}", self.place, r.line);
        let thread = match &self.threads {
            None => None,
            Some(threads) => Some(threads.get(r.email.as_ref()).ok_or_else(|| {
                Diagnostic::error(
                    at(),
                    "no earlier letter to this recipient is recorded as sent, so there is no thread for its follow-up",
                )
            })?),
        };
        if let Some(t) = thread {
            t.fill(&mut ctx);
        }
        let run = |name: &str| {
            self.letters
                .plain
                .render(name, &ctx)
                .map_err(|e| Diagnostic::error(at(), describe(&e)))
        };
        let choice = self
            .letters
            .pick(r)
            .map_err(|e| Diagnostic::error(at(), e))?;

        let subject = one_line(&run(self.letters.subject(choice.letter))?);
        if subject.is_empty() {
            return Err(Diagnostic::error(
                at(),
                format!(
                    "the subject renders empty; check `subject` under [{}]",
                    choice
                        .variant
                        .map_or("campaign".to_string(), |v| format!("variant.{v}"))
                ),
            ));
        }
        let name = if self.has_name {
            Some(one_line(&run(DISPLAY_NAME)?)).filter(|n| !n.is_empty())
        } else {
            None
        };
        let (to, subject) = match &self.test_to {
            // A test letter shows whose letter it is but goes to the tester.
            Some(tester) => (
                Mailbox::new(name.map(|n| format!("{n} (test)")), tester.clone()),
                format!("{TEST_PREFIX}{subject}"),
            ),
            None => (Mailbox::new(name, r.email.clone()), subject),
        };
        let written = self
            .letters
            .body(choice.letter, &ctx, &subject)
            .map_err(|e| Diagnostic::error(at(), describe(&e)))?;
        let (text, html) = (written.text, written.html);
        let mut warnings = Vec::new();
        if let Some((template, removed)) = written.removed {
            warnings.push(Diagnostic::warning(
                at(),
                format!(
                    "the HTML part of `{template}` lost what a letter may not carry: {}; the letter is sent without them",
                    sanitise::summary(&removed)
                ),
            ));
        }
        warnings.extend(
            size::warnings(r, &text, html.as_deref())
                .into_iter()
                .map(|w| Diagnostic::warning(at(), w)),
        );
        // Encoded here, the text kept as written for `Rendered`.
        let text_part = body::encoded(&text);
        let html_part = html.as_deref().map(body::encoded);
        let message_id = headers::message_id(&self.domain).map_err(|e| {
            Diagnostic::error(
                at(),
                format!(
                    "cannot make the letter's Message-ID: the system's random source failed: {e}"
                ),
            )
        })?;

        let mut files: Vec<&File> = self.attachments.iter().collect();
        let own = match &self.own {
            Some((column, own)) => {
                let cell = r.get(column).ok_or_else(|| {
                    Diagnostic::error(
                        at(),
                        format!("the contacts have no column `{column}` (contacts.attachments_column); add it or fix the key"),
                    )
                })?;
                own.files(cell)
                    .map_err(|e| Diagnostic::error(at(), format!("column `{column}`: {e}")))?
            }
            None => Vec::new(),
        };
        files.extend(&own);
        let size: u64 = files.iter().map(|f| f.bytes.len() as u64).sum();
        if size > attachments::WARN_BYTES {
            warnings.push(Diagnostic::warning(
                at(),
                format!(
                    "this letter's attachments add up to {:.1} MB; providers refuse messages over 20-25 MB (and attachments grow by a third when sent): send a link instead or split the files",
                    size as f64 / 1_048_576.0
                ),
            ));
        }

        let mut builder = Message::builder()
            .from(self.from.clone())
            .raw_header(headers::subject(&subject))
            .date_now()
            .message_id(Some(message_id.clone()));
        builder = headers::to(builder, &self.from, &to);
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(t) = thread {
            // Message-IDs as the log holds them: written by `render`, so
            // one line each (the ledger keeps them so).
            if let Some(id) = t.in_reply_to() {
                builder = builder.in_reply_to(id.to_string());
            }
            builder = builder.references(t.references());
        }
        // A test letter goes to the tester alone: no copy to anyone.
        if self.test_to.is_none() {
            let copies = self.copies.of(r).map_err(|e| Diagnostic::error(at(), e))?;
            builder = copies.apply(builder, &self.from, &to);
        }
        let built = mime::assemble(builder, text_part, html_part, &files);
        let message =
            built.map_err(|e| Diagnostic::error(at(), format!("cannot build the message: {e}")))?;
        Ok(Rendered {
            message,
            to,
            subject,
            message_id,
            text,
            html,
            variant: choice.variant.map(str::to_string),
            unknown_variant: choice.unknown,
            attachments: files.iter().map(|f| f.name.clone()).collect(),
            warnings,
        })
    }
}
