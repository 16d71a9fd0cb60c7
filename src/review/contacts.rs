//! The campaign's contacts as the review needs them: every addressable row
//! in file order (the export copies them) and each one's To display name
//! (the HTML page shows it).

use std::sync::Arc;

use crate::config::Campaign;
use crate::contacts::{Columns, ContactReader, Recipient, Row as ContactRow};
use crate::diag::Diagnostic;
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
    /// Rows that are not recipients (no address, invalid or duplicate
    /// address): `check` lists them; the review leaves them out.
    pub skipped: usize,
}

/// Reads the campaign's contacts. Only a file that cannot be opened at all
/// is an error; problem rows are counted in [`ContactList::skipped`].
pub fn load_contacts(campaign: &Campaign) -> Result<ContactList, Diagnostic> {
    let reader = ContactReader::open(&campaign.contacts)?;
    let columns = Arc::clone(reader.columns());
    let namer = Namer::new(campaign);
    let mut list = ContactList {
        columns,
        recipients: Vec::new(),
        names: Vec::new(),
        skipped: 0,
    };
    for row in reader {
        match row {
            ContactRow::Recipient(r) => {
                list.names.push(namer.name(&r));
                list.recipients.push(r);
            }
            ContactRow::Problem(_) => list.skipped += 1,
        }
    }
    Ok(list)
}

/// Renders `[contacts] name` for the review. Best effort: a name is a
/// courtesy here, and `check` is where a broken template is reported.
struct Namer {
    tera: Option<tera::Tera>,
    vars: tera::Context,
}

const NAME_TEMPLATE: &str = "contacts.name";

impl Namer {
    fn new(campaign: &Campaign) -> Namer {
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

    fn name(&self, r: &Recipient) -> String {
        let Some(tera) = &self.tera else {
            return String::new();
        };
        let mut ctx = self.vars.clone();
        for (name, value) in r.variables() {
            ctx.insert(name.to_string(), value);
        }
        tera.render(NAME_TEMPLATE, &ctx)
            .map(|n| one_line(&n))
            .unwrap_or_default()
    }
}
