//! Plan: who gets a letter now — recipients, narrowed by the user's
//! selection and (for `send`) by what the ledger says.

use crate::config::Campaign;
use crate::contacts::{ContactReader, Recipient, Row};
use crate::diag::{Diagnostic, Problems};
use crate::render::{Rendered, Renderer};

/// Everything a command needs to walk the campaign: the contacts stream and
/// the compiled templates. Built once; problems in either are reported
/// together.
pub struct Prepared {
    /// The contacts, streamed.
    pub contacts: ContactReader,
    /// The compiled templates.
    pub renderer: Renderer,
    /// The contacts file as named in messages.
    pub place: String,
}

/// Opens the contacts and compiles the templates of `campaign`.
pub fn prepare(campaign: &Campaign) -> Result<Prepared, Problems> {
    let contacts = ContactReader::open(&campaign.contacts);
    let renderer = Renderer::new(campaign);
    match (contacts, renderer) {
        (Ok(contacts), Ok(renderer)) => Ok(Prepared {
            contacts,
            renderer,
            place: campaign.contacts.path.display().to_string(),
        }),
        (contacts, renderer) => {
            let mut all = Vec::new();
            if let Err(d) = contacts {
                all.push(d);
            }
            if let Err(Problems(p)) = renderer {
                all.extend(p);
            }
            Err(Problems(all))
        }
    }
}

/// The user's narrowing of the list: `--recipient`, `--limit`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these addresses (case-insensitive); empty means everyone.
    pub recipients: Vec<String>,
    /// At most this many letters.
    pub limit: Option<usize>,
}

impl Selection {
    /// Whether the recipient is among those selected.
    pub fn wants(&self, r: &Recipient) -> bool {
        self.recipients.is_empty()
            || self
                .recipients
                .iter()
                .any(|e| e.trim().eq_ignore_ascii_case(r.email.as_ref()))
    }
}

/// One step of walking the campaign.
#[derive(Debug)]
pub enum Item {
    /// A recipient and their letter.
    Letter(Box<Recipient>, Box<Rendered>),
    /// A problem with a row or its letter.
    Problem(Diagnostic),
}

impl Prepared {
    /// Renders every selected recipient, in file order, yielding problems
    /// as they are found. Streams: one row in memory at a time.
    pub fn letters(self, selection: Selection) -> impl Iterator<Item = Item> {
        let Prepared {
            contacts,
            renderer,
            place,
        } = self;
        let mut taken = 0usize;
        contacts.filter_map(move |row| match row {
            Row::Problem(d) => Some(Item::Problem(d)),
            Row::Recipient(r) => {
                if !selection.wants(&r) || selection.limit.is_some_and(|n| taken >= n) {
                    return None;
                }
                taken += 1;
                Some(match renderer.render(&r, &place) {
                    Ok(m) => Item::Letter(Box::new(r), Box::new(m)),
                    Err(d) => Item::Problem(d),
                })
            }
        })
    }
}
