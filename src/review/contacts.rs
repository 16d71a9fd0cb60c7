//! The campaign's contacts as the review needs them: every addressable row
//! in file order (the export copies them) and each one's To display name
//! (the HTML page shows it), and the offices without an address, which
//! the review lists as `form` or `unreachable`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::Campaign;
use crate::contacts::{Columns, ContactReader, ContactRow, Office, Recipient};
use crate::problem::Diagnostic;
use crate::text::one_line;

/// The campaign's addressable contacts, in file order.
#[derive(Debug)]
pub struct ContactList {
    /// The header row as written.
    pub columns: Arc<Columns>,
    /// Every recipient with a valid, first-seen address.
    pub recipients: Vec<Recipient>,
    /// The To display name of each recipient (empty without
    /// `[contacts] name`, or when it cannot be rendered).
    pub names: Vec<String>,
    /// The rows without an address, in file order, each with its To
    /// display name (as [`ContactList::names`]).
    pub offices: Vec<(Office, String)>,
    /// Rows that are neither (an invalid or duplicate address, a broken
    /// row): `check` lists them; the review leaves them out.
    pub skipped: usize,
}

impl ContactList {
    /// Each recipient's subject as the campaign renders it now, by ledger
    /// key (see [`crate::ledger::recipient_key`]): the delivery log does
    /// not record subjects, and the page should show what a recipient got,
    /// not the template (docs/design.md, "The report's subject"). `None`
    /// when the templates cannot be used at all (`check` says why); a row
    /// whose subject does not render is left out.
    pub fn subjects(&self, campaign: &Campaign) -> Option<HashMap<String, String>> {
        let renderer = crate::render::Renderer::new(campaign).ok()?;
        Some(
            self.recipients
                .iter()
                .filter_map(|r| Some((r.key(), renderer.subject(r).ok()?)))
                .collect(),
        )
    }
}

/// Reads the campaign's contacts. Only a file that cannot be opened at all
/// is an error; problem rows are counted in [`ContactList::skipped`].
pub fn load_contacts(campaign: &Campaign) -> Result<ContactList, Diagnostic> {
    let reader = ContactReader::open(&campaign.contacts)?;
    Ok(collect(reader, &Namer::new(campaign)))
}

/// Every row of `reader`, named by `namer`.
pub(super) fn collect(reader: ContactReader, namer: &Namer) -> ContactList {
    let columns = Arc::clone(reader.columns());
    let mut list = ContactList {
        columns,
        recipients: Vec::new(),
        names: Vec::new(),
        offices: Vec::new(),
        skipped: 0,
    };
    for row in reader {
        match row {
            ContactRow::Recipient(r) => {
                list.names.push(namer.name(r.variables()));
                list.recipients.push(r);
            }
            ContactRow::Office(o) => {
                let name = namer.name(o.variables());
                list.offices.push((o, name));
            }
            ContactRow::Problem(_) => list.skipped += 1,
        }
    }
    list
}

/// Renders `[contacts] name` for the review. Best effort: a name is a
/// courtesy here, and `check` is where a broken template is reported.
pub(crate) struct Namer {
    tera: Option<tera::Tera>,
    vars: tera::Context,
}

const NAME_TEMPLATE: &str = "contacts.name";

impl Namer {
    /// Names from this template alone (no campaign variables).
    #[cfg(test)]
    pub(super) fn template(source: &str) -> Namer {
        let mut tera = tera::Tera::new();
        tera.add_raw_template(NAME_TEMPLATE, source).unwrap();
        Namer {
            tera: Some(tera),
            vars: tera::Context::new(),
        }
    }

    pub(crate) fn new(campaign: &Campaign) -> Namer {
        let tera = campaign.contacts.name.as_ref().and_then(|source| {
            let mut tera = tera::Tera::new();
            tera.add_raw_template(NAME_TEMPLATE, source).ok()?;
            Some(tera)
        });
        let mut vars = tera::Context::new();
        for (k, v) in &campaign.vars {
            vars.insert(k.clone(), v);
        }
        Namer { tera, vars }
    }

    pub(crate) fn name<'a>(&self, variables: impl Iterator<Item = (&'a str, &'a str)>) -> String {
        let Some(tera) = &self.tera else {
            return String::new();
        };
        let mut ctx = self.vars.clone();
        for (name, value) in variables {
            ctx.insert(name.to_string(), value);
        }
        tera.render(NAME_TEMPLATE, &ctx)
            .map(|n| one_line(&n))
            .unwrap_or_default()
    }
}
