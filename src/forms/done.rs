//! `repmail forms --done KEY…` (issue 24, item 7): the offices a volunteer
//! reached by their contact form, recorded as `form_sent` rows in the
//! delivery log, so `log`, the report and the kit count them as reached
//! and every volunteer sees the same list.
//!
//! A KEY is an office's line in the contacts file (what `repmail forms`
//! and the kit show) or its contact form's address as the file gives it.
//! The row is keyed by the form's address, not the line: lines move when
//! the file is edited, the form stays the office's (docs/design.md,
//! "Offices reached by their form").

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::config::Campaign;
use crate::contacts::{ContactReader, ContactRow};
use crate::ledger::{recipient_key, Event, LedgerError, LedgerWriter, State, Status};
use crate::problem::Diagnostic;
use crate::review::Namer;

/// One office reached by its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachedByForm {
    /// Its line in the contacts file.
    pub line: u64,
    /// Its name (`[contacts] name`), else "contacts line N".
    pub name: String,
    /// Its contact form, as the contacts give it.
    pub form: String,
    /// `None`: recorded now. `Some(time)`: already recorded then, nothing
    /// written (marking twice is a no-op).
    pub before: Option<DateTime<Utc>>,
}

/// Why nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum DoneError {
    /// The contacts file cannot be read at all.
    #[error("{0}")]
    Contacts(Diagnostic),
    /// Some KEYs name no office with a form: one message each, all at once.
    #[error("{}", .0.join("\n"))]
    Keys(Vec<String>),
    /// The delivery log cannot be read or written (in use by a `send`,
    /// another campaign's, unreadable).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What a contacts line holds, as far as a KEY is concerned.
enum Place {
    Office {
        name: String,
        form: Option<String>,
    },
    Addressed {
        name: String,
        email: String,
        form: Option<String>,
    },
}

/// Records each office named by `keys` as reached by its form. Every KEY
/// is checked before anything is written: one bad KEY and the log is left
/// as it was. An office already recorded is reported, not written again.
/// Offices sharing one form address share its record (the record is of
/// the form).
pub fn mark_done(campaign: &Campaign, keys: &[String]) -> Result<Vec<ReachedByForm>, DoneError> {
    let contacts = &campaign.contacts;
    let file = contacts.path.display().to_string();
    let reader = ContactReader::open(contacts).map_err(DoneError::Contacts)?;
    let namer = Namer::new(campaign);
    let mut lines: Vec<(u64, Place)> = Vec::new();
    for row in reader {
        let named = |name: String, line: u64| {
            if name.is_empty() {
                format!("contacts line {line}")
            } else {
                name
            }
        };
        match row {
            ContactRow::Office(o) => lines.push((
                o.line,
                Place::Office {
                    name: named(namer.name(o.variables()), o.line),
                    form: o.form.clone(),
                },
            )),
            ContactRow::Recipient(r) => {
                let form = r
                    .columns
                    .contact_form
                    .and_then(|i| r.values.get(i))
                    .filter(|v| !v.trim().is_empty())
                    .cloned();
                lines.push((
                    r.line,
                    Place::Addressed {
                        name: named(namer.name(r.variables()), r.line),
                        email: r.email.to_string(),
                        form,
                    },
                ));
            }
            ContactRow::Problem(_) => {}
        }
    }

    let mut chosen: Vec<(u64, String, String)> = Vec::new();
    let mut errors = Vec::new();
    for key in keys {
        match resolve(key, &lines, &file) {
            Ok(found) => {
                for (line, name, form) in found {
                    if !chosen.iter().any(|(l, ..)| *l == line) {
                        chosen.push((line, name, form));
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(DoneError::Keys(errors));
    }

    let name = &campaign.campaign.name;
    let mut writer = LedgerWriter::open(&campaign.campaign.log, name)?;
    let mut recorded = HashSet::new();
    let mut out = Vec::new();
    for (line, office, form) in chosen {
        let key = recipient_key(&form);
        let before = match writer.ledger().state(&key) {
            // Recorded by an earlier call, not by this one for an office
            // sharing the form.
            Some((State::FormSent, row)) if !recorded.contains(&key) => Some(row.time),
            _ => None,
        };
        if before.is_none() && recorded.insert(key) {
            let event = Event::new(name.as_str(), form.trim(), Status::FormSent, 0).with_detail(
                format!("reached by its contact form (contacts line {line}: {office})"),
            );
            writer.append(&event)?;
        }
        out.push(ReachedByForm {
            line,
            name: office,
            form,
            before,
        });
    }
    Ok(out)
}

/// The offices one KEY names, or why it names none.
fn resolve(
    key: &str,
    lines: &[(u64, Place)],
    file: &str,
) -> Result<Vec<(u64, String, String)>, String> {
    let key = key.trim();
    let how = "a KEY is an office's line in the contacts file or its contact form's \
               address; `repmail forms` lists each office with both";
    if key.is_empty() {
        return Err(format!("an empty KEY names no office; {how}"));
    }
    if let Ok(line) = key.parse::<u64>() {
        return match lines.iter().find(|(l, _)| *l == line) {
            Some((
                _,
                Place::Office {
                    name,
                    form: Some(form),
                },
            )) => Ok(vec![(line, name.clone(), form.clone())]),
            Some((_, Place::Office { name, form: None })) => Err(format!(
                "{file}:{line} ({name}) has no contact form: nothing to record; \
                 add the office's form or address to the file"
            )),
            Some((_, Place::Addressed { name, email, .. })) => {
                Err(addressed(file, line, name, email))
            }
            None => Err(format!(
                "{file}:{line} is not a contact (the header is line 1; a row with a \
                 problem that `repmail check` reports is no office either); {how}"
            )),
        };
    }
    let wanted = form_key(key);
    let mut found = Vec::new();
    for (line, place) in lines {
        match place {
            Place::Office {
                name,
                form: Some(form),
            } if form_key(form) == wanted => {
                found.push((*line, name.clone(), form.clone()));
            }
            Place::Addressed {
                name,
                email,
                form: Some(form),
            } if form_key(form) == wanted => {
                return Err(addressed(file, *line, name, email));
            }
            _ => {}
        }
    }
    if found.is_empty() {
        let offices = lines
            .iter()
            .filter(|(_, p)| matches!(p, Place::Office { form: Some(_), .. }))
            .count();
        return Err(format!(
            "no office in {file} has the contact form `{key}` ({offices} office{} \
             {} one); {how}",
            if offices == 1 { "" } else { "s" },
            if offices == 1 { "has" } else { "have" },
        ));
    }
    Ok(found)
}

fn addressed(file: &str, line: u64, name: &str, email: &str) -> String {
    format!(
        "{file}:{line} ({name}) has the address {email}: it gets the letter by email \
         (`repmail send`), so it is not marked as reached by its form"
    )
}

/// A form's address as KEYs are compared: trimmed, case ignored (as the
/// log's keys), one trailing `/` ignored (`…/contact` and `…/contact/`
/// are the same page to whoever types it).
fn form_key(form: &str) -> String {
    let key = recipient_key(form);
    key.strip_suffix('/').map(str::to_string).unwrap_or(key)
}
