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
mod plain;
mod qp;
mod removed;
pub mod sanitise;
pub mod size;
pub mod thread;
mod variables;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use tera::Context;

use crate::config::Campaign;
use crate::contacts::Recipient;
use crate::diag::{Diagnostic, Problems};
use crate::text::one_line;
use attachments::File;
use letters::Letters;
pub use thread::{Thread, Threads};

const DISPLAY_NAME: &str = "contacts.name";
/// Before the subject of a `send --test-to` letter.
pub const TEST_PREFIX: &str = "[TEST] ";

/// Templates compiled once per run, plus the parts every message shares.
pub struct Renderer {
    letters: Letters,
    has_name: bool,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// `[sender] cc` and `bcc`, and `[contacts] cc_column`.
    copies: copies::Copies,
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
        let mut letters = Letters::new(campaign, &mut problems);
        if let Some(name) = &campaign.contacts.name {
            letters::add(&mut letters.plain, DISPLAY_NAME, name, &mut problems);
            letters.sources.push(variables::Source::setting(
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
            copies: copies::Copies::new(campaign),
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
        known.sort_unstable();
        known.dedup();
        self.letters
            .sources
            .iter()
            .flat_map(|s| variables::undefined(s, &self.letters.variables_of(s), &known))
            .collect()
    }

    /// Renders the letter for one recipient. A problem names the variable,
    /// the template and the recipient's CSV line.
    pub fn render(&self, r: &Recipient) -> Result<Rendered, Diagnostic> {
        let mut ctx = self.vars.clone();
        // A column beats a campaign-wide value of the same name: it is the
        // more specific one.
        for (name, value) in r.variables() {
            ctx.insert(name.to_string(), value);
        }
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
        let body = self
            .letters
            .body(choice.letter, &ctx, &subject)
            .map_err(|e| Diagnostic::error(at(), describe(&e)))?;
        let (text, html) = (body.text, body.html);
        let mut warnings = Vec::new();
        if let Some((template, removed)) = body.removed {
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
        let message_id = self.message_id().map_err(|e| {
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
        let built = match (html_part, files.is_empty()) {
            (None, true) => builder.singlepart(SinglePart::plain(text_part)),
            (Some(html), true) => {
                builder.multipart(MultiPart::alternative_plain_html(text_part, html))
            }
            (part, false) => {
                let mut mixed = match part {
                    Some(html) => MultiPart::mixed()
                        .multipart(MultiPart::alternative_plain_html(text_part, html)),
                    None => MultiPart::mixed().singlepart(SinglePart::plain(text_part)),
                };
                for file in &files {
                    mixed = mixed.singlepart(
                        Attachment::new(file.name.clone())
                            .body(file.bytes.as_ref().clone(), file.content_type.clone()),
                    );
                }
                builder.multipart(mixed)
            }
        };
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

    /// A Message-ID on the sender's domain: spam filters score one on the
    /// machine's host name (rspamd `MID_RHS_NOT_FQDN`). Unique per render so
    /// that a retry is a distinct message to the server.
    ///
    /// Its left side is the time, a counter and 128 bits from the operating
    /// system's CSPRNG (`getrandom`, already built for ring): the inbox
    /// trusts a returned Message-ID as proof that a report is about this
    /// letter (`inbox::evidence`), so nobody but the letter's recipient and
    /// its servers may be able to know or guess it (issue 23; before, it was
    /// the time, a counter and a hash of campaign, recipient and pid).
    fn message_id(&self) -> Result<String, getrandom::Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut random = [0u8; 16];
        getrandom::getrandom(&mut random)?;
        let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("<{nanos:x}.{n:x}.{random}@{}>", self.domain))
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
