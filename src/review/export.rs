//! The follow-up list: the selected recipients' rows of the contacts file,
//! with its original header, ready to be the contacts file of a follow-up
//! campaign (or to be printed for calling their offices).

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{self, Write};
use std::rc::Rc;

use crate::config::Contacts;

use super::{ContactList, Exported, Review, Standing};
use crate::ledger::recipient_key;

/// How the exported file is written: the delimiter and encoding the
/// campaign's `[contacts]` settings name, so a follow-up campaign can copy
/// those settings and change only `path`.
#[derive(Debug, Clone, Copy)]
pub struct ExportFormat {
    /// Field delimiter; a comma unless the campaign sets one (a detected
    /// delimiter is detected again in the export, so a comma is safe).
    pub delimiter: u8,
    /// The campaign's `encoding`; `None` writes UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

impl ExportFormat {
    /// What reads back with the same `[contacts]` settings.
    pub fn of(contacts: &Contacts) -> ExportFormat {
        ExportFormat {
            delimiter: contacts.delimiter.unwrap_or(b','),
            encoding: contacts.encoding,
        }
    }
}

impl Review {
    /// Writes the contacts rows of the recipients this review holds (the
    /// follow-up list), in contacts order, and says what it wrote, as
    /// [`Walk::export`](super::Walk::export) does from the files. Offices
    /// without an address are in the review only when their status is
    /// selected (no other filter can match them).
    pub fn export(
        &self,
        list: &ContactList,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> io::Result<Exported> {
        let mut keys: HashSet<String> = self
            .rows
            .iter()
            .filter(|r| !r.email.is_empty())
            .map(|r| recipient_key(&r.email))
            .collect();
        let addressed = keys.len();
        // Offices without an address are in the review only when their
        // status is selected (no other filter can match them); one with a
        // form by its form, as the review decided (still to reach, or
        // reached).
        let office_rows: Vec<_> = self.rows.iter().filter(|r| r.email.is_empty()).collect();
        keys.extend(
            office_rows
                .iter()
                .filter_map(|r| r.form.as_deref().map(recipient_key)),
        );
        let offices: Vec<Standing> = [Standing::Unreachable]
            .into_iter()
            .filter(|o| self.rows.iter().any(|r| r.status == o.as_str()))
            .collect();
        let written = export_contacts(list, &keys, &offices, format, out)?;
        Ok(Exported {
            written,
            missing: (addressed + office_rows.len()).saturating_sub(written),
            statuses: self.rows.iter().map(|r| r.status).collect(),
        })
    }
}

/// Writes the header and the rows of the recipients whose key (see
/// [`crate::ledger::recipient_key`]) is in `keys`, of the offices whose
/// contact form's key is in `keys` (a review row of an office carries its
/// form: whether it is still to reach or reached, `form_sent`, is the
/// review's to decide, not this file's), and of the offices with neither
/// address nor form when `offices` holds [`Standing::Unreachable`], in
/// contacts order; returns how many rows were written. Values are as read
/// (trimmed).
pub fn export_contacts(
    list: &ContactList,
    keys: &HashSet<String>,
    offices: &[Standing],
    format: ExportFormat,
    out: &mut dyn Write,
) -> io::Result<usize> {
    let mut w = Records::new(format, &list.columns.names, out)?;
    let mut rows: Vec<(u64, &[String])> = list
        .recipients
        .iter()
        .filter(|r| keys.contains(&r.key()))
        .map(|r| (r.line, r.values.as_slice()))
        .collect();
    rows.extend(
        list.offices
            .iter()
            .filter(|(o, _)| match &o.form {
                Some(form) => keys.contains(&crate::ledger::recipient_key(form)),
                None => offices.contains(&Standing::Unreachable),
            })
            .map(|(o, _)| (o.line, o.values.as_slice())),
    );
    rows.sort_by_key(|(line, _)| *line);
    let mut written = 0;
    for (_, values) in rows {
        w.write(values)?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

/// Writes contacts rows in an [`ExportFormat`] one by one: each record is
/// quoted by the `csv` crate and encoded on its way out, so an export
/// holds one row at a time (issue 23).
pub struct Records<'a> {
    format: ExportFormat,
    out: &'a mut dyn Write,
    csv: csv::Writer<Shared>,
    buf: Shared,
}

/// The bytes the `csv` writer wrote since the last record was passed on.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> Records<'a> {
    /// Writes the header `names` and returns the writer of the rows.
    pub fn new(
        format: ExportFormat,
        names: &[String],
        out: &'a mut dyn Write,
    ) -> io::Result<Records<'a>> {
        let buf = Shared::default();
        let csv = csv::WriterBuilder::new()
            .delimiter(format.delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(buf.clone());
        let mut records = Records {
            format,
            out,
            csv,
            buf,
        };
        records.write(names)?;
        Ok(records)
    }

    /// Writes one row.
    pub fn write(&mut self, values: &[String]) -> io::Result<()> {
        self.csv.write_record(values)?;
        self.csv.flush()?;
        let mut buf = self.buf.0.borrow_mut();
        match self.format.encoding {
            Some(enc) if enc != encoding_rs::UTF_8 => {
                let text = String::from_utf8_lossy(&buf);
                let (encoded, _, _) = enc.encode(&text);
                self.out.write_all(&encoded)?;
            }
            _ => self.out.write_all(&buf)?,
        }
        buf.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{ContactReader, ContactRow};

    fn contacts_cfg(delimiter: Option<u8>, encoding: Option<&'static str>) -> Contacts {
        Contacts {
            path: "contacts.csv".into(),
            email_column: "E-mail".into(),
            name: None,
            delimiter,
            encoding: encoding.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes())),
            attachments_column: None,
            timezone_column: None,
            cc_column: None,
            roster: None,
        }
    }

    fn list(bytes: &[u8], cfg: &Contacts) -> ContactList {
        let reader =
            ContactReader::from_reader(Box::new(io::Cursor::new(bytes.to_vec())), "c.csv", cfg)
                .unwrap();
        let columns = reader.columns().clone();
        let mut recipients = Vec::new();
        let mut offices = Vec::new();
        let mut skipped = 0;
        for row in reader {
            match row {
                ContactRow::Recipient(r) => recipients.push(r),
                ContactRow::Office(o) => offices.push((o, String::new())),
                ContactRow::Problem(_) => skipped += 1,
            }
        }
        let names = vec![String::new(); recipients.len()];
        ContactList {
            columns,
            recipients,
            names,
            offices,
            skipped,
        }
    }

    const CONTACTS: &str = "Title;First Name;E-mail;Note\n\
        Senator;Ann;ann@example.org;\"likes; semicolons\"\n\
        Senator;Bob;;no address\n\
        Representative;José;JOSE@example.com;\n\
        Senator;Ann again;ANN@example.org;duplicate\n";

    #[test]
    fn selected_rows_with_the_original_header() {
        let cfg = contacts_cfg(Some(b';'), None);
        let list = list(CONTACTS.as_bytes(), &cfg);
        assert_eq!(list.skipped, 1);
        let keys: HashSet<String> = ["jose@example.com".to_string()].into();
        let mut out = Vec::new();
        let n = export_contacts(&list, &keys, &[], ExportFormat::of(&cfg), &mut out).unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "Title;First Name;E-mail;Note\nRepresentative;José;JOSE@example.com;\n"
        );
        // The office without an address, in its place, when selected.
        let mut with_office = Vec::new();
        let n = export_contacts(
            &list,
            &keys,
            &[Standing::Unreachable],
            ExportFormat::of(&cfg),
            &mut with_office,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(with_office).unwrap(),
            "Title;First Name;E-mail;Note\nSenator;Bob;;no address\nRepresentative;José;JOSE@example.com;\n"
        );
        // And it reads back as the same recipient with the same settings.
        let again = self::list(&out, &cfg);
        assert_eq!(again.recipients.len(), 1);
        assert_eq!(again.recipients[0].values, list.recipients[1].values);
    }

    #[test]
    fn keeps_the_campaigns_encoding_and_quotes_as_needed() {
        let cfg = contacts_cfg(None, Some("windows-1252"));
        let (source, _, _) = encoding_rs::WINDOWS_1252.encode(
            "Title,First Name,E-mail,Note\nRepresentative,José,jose@example.com,\"a, b\"\n",
        );
        let list = list(&source, &cfg);
        let keys: HashSet<String> = ["jose@example.com".to_string()].into();
        let mut out = Vec::new();
        export_contacts(&list, &keys, &[], ExportFormat::of(&cfg), &mut out).unwrap();
        assert_eq!(
            out,
            source.as_ref(),
            "byte-identical to the Windows-1252 source"
        );
    }
}
