//! `preview --html DIR`: every letter as a page to open in a browser,
//! offline, and an index linking to them.
//!
//! Letter pages are written as letters are rendered (the index keeps one
//! short row per letter), so 10,000 letters need no more memory than the
//! index. The HTML part is shown as a mail client shows it, inside an
//! `<iframe sandbox srcdoc=…>`: the sandbox (no `allow-*` token) runs no
//! script and submits no form, and the Content-Security-Policy the frame
//! inherits from its page (CSP Level 3, "about:srcdoc" documents inherit
//! their creator's policy container), repeated inside the frame, fetches
//! nothing — an `<img src=https://…>` in a letter stays a blank box.

use std::io;
use std::path::{Path, PathBuf};

use lettre::message::header;
use lettre::message::Mailboxes;
use serde::Serialize;

use super::{Destination, PreviewError, Written};
use crate::contacts::Recipient;
use crate::pages::{render, Context, Page};
use crate::render::Rendered;

/// Put first in a letter's HTML before it goes into the frame, in case a
/// browser does not apply the page's policy to a `srcdoc` frame.
const FRAME_CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";

/// The gallery being written.
pub struct Gallery {
    dir: PathBuf,
    rows: Vec<IndexRow>,
    /// The last letter's page, written once it is known whether a next
    /// letter follows (its "next" link).
    pending: Option<(String, Context)>,
}

#[derive(Serialize)]
struct IndexRow {
    page: String,
    line: u64,
    to: String,
    subject: String,
    variant: String,
    attachments: String,
}

#[derive(Serialize)]
struct Header {
    name: &'static str,
    value: String,
}

impl Gallery {
    /// Creates `dir` and its `letters/` folder.
    pub fn create(dir: &Path) -> Result<Gallery, PreviewError> {
        std::fs::create_dir_all(dir.join("letters")).map_err(|e| {
            PreviewError::new(
                format!("cannot create the gallery folder {}", dir.display()),
                e,
            )
        })?;
        Ok(Gallery {
            dir: dir.to_path_buf(),
            rows: Vec::new(),
            pending: None,
        })
    }

    /// Writes the page of one letter, from CSV line `line`. Pages are named
    /// by their number in the gallery, never by a value from the CSV.
    pub fn add(&mut self, line: u64, letter: &Rendered) -> io::Result<()> {
        let n = self.rows.len() + 1;
        let page = format!("letters/{n:05}.html");
        let variant = letter
            .variant
            .clone()
            .unwrap_or_else(|| match &letter.unknown_variant {
                Some(v) => format!("default ({v})"),
                None => "default".into(),
            });
        let headers = letter.message.headers();
        let raw = |name: &str| {
            headers
                .get_raw(name)
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        let from = headers
            .get::<header::From>()
            .map(|f| Mailboxes::from(f).to_string())
            .unwrap_or_else(|| raw("From"));
        let mut shown = vec![
            Header {
                name: "From",
                value: from,
            },
            Header {
                name: "To",
                value: letter.to.to_string(),
            },
        ];
        if let Some(r) = headers.get::<header::ReplyTo>() {
            shown.push(Header {
                name: "Reply-To",
                value: Mailboxes::from(r).to_string(),
            });
        }
        shown.push(Header {
            name: "Subject",
            value: letter.subject.clone(),
        });
        shown.push(Header {
            name: "Date",
            value: raw("Date"),
        });
        shown.push(Header {
            name: "Message-ID",
            value: letter.message_id.clone(),
        });

        let mut ctx = Context::new();
        ctx.insert("n", &n);
        ctx.insert("line", &line);
        ctx.insert("headers", &shown);
        ctx.insert("variant", &variant);
        ctx.insert("subject", &letter.subject);
        ctx.insert(
            "frame",
            &letter.html.as_ref().map(|h| format!("{FRAME_CSP}{h}")),
        );
        ctx.insert("text", &letter.text);
        ctx.insert("attachments", &letter.attachments);
        ctx.insert("prev", &(n > 1).then(|| format!("{:05}.html", n - 1)));
        self.flush(Some(format!("{n:05}.html")))?;
        self.pending = Some((page.clone(), ctx));
        self.rows.push(IndexRow {
            page,
            line,
            to: letter.to.to_string(),
            subject: letter.subject.clone(),
            variant,
            attachments: letter.attachments.join(", "),
        });
        Ok(())
    }

    fn flush(&mut self, next: Option<String>) -> io::Result<()> {
        if let Some((page, mut ctx)) = self.pending.take() {
            ctx.insert("next", &next);
            crate::outfile::write_fresh(
                &self.dir.join(page),
                render(Page::GalleryLetter, &ctx)?.as_bytes(),
            )?;
        }
        Ok(())
    }

    /// Writes the last letter page and `index.html`; returns its path.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        self.flush(None)?;
        let mut ctx = Context::new();
        ctx.insert("rows", &self.rows);
        let html = render(Page::GalleryIndex, &ctx)?;
        let path = self.dir.join("index.html");
        crate::outfile::write_fresh(&path, html.as_bytes())?;
        Ok(path)
    }
}

impl Destination for Gallery {
    fn add(&mut self, recipient: &Recipient, letter: &Rendered) -> Result<(), PreviewError> {
        Gallery::add(self, recipient.line, letter)
            .map_err(|e| PreviewError::new("cannot write the gallery", e))
    }

    fn finish(self: Box<Self>) -> Result<Written, PreviewError> {
        let letters = self.rows.len();
        let index =
            Gallery::finish(*self).map_err(|e| PreviewError::new("cannot write the gallery", e))?;
        Ok(Written::Gallery { letters, index })
    }
}
