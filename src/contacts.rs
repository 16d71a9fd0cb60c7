//! Contacts: CSV rows → validated recipients, streamed one at a time.
//!
//! Spreadsheets come from anywhere: Excel writes Windows-1252 and, in
//! European locales, `;`; official sources publish contact-form URLs instead
//! of addresses. Every problem names the file and line and is reported, never
//! silently dropped; memory holds only a fingerprint of each address
//! already seen (to
//! send duplicates once), not the file.
//!
//! A row without an address is an [`Office`]: reached by its contact form,
//! or unreachable. A file with no address column but a contact-form column
//! is a campaign of form-only offices.

mod explain;
mod lines;
pub mod mojibake;
mod row;
mod sorting;

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::rc::Rc;
use std::sync::Arc;

use crate::config::Contacts;
use crate::problem::Diagnostic;
use crate::text::snake_case;
use explain::{csv_message, not_utf8};
use lines::{LfLines, LineIndex};
pub use row::{Columns, ContactRow, Office, Recipient};
use sorting::Sorter;

/// Longest header line examined to guess the delimiter.
const SNIFF_LIMIT: u64 = 1 << 20;

/// Column names (snake-cased) that hold a contact-form URL: a row with one
/// of these but no address is an office to reach another way.
const CONTACT_FORM_COLUMNS: [&str; 5] = ["contact_form", "contact_url", "form", "website", "url"];

/// Streams the contacts file, one [`ContactRow`] per data row.
pub struct ContactReader {
    place: String,
    csv: csv::Reader<Box<dyn Read>>,
    /// The header, and what each row's address cell makes of it.
    sorter: Sorter,
    record: csv::ByteRecord,
    utf8_only: bool,
    encoding: Option<&'static encoding_rs::Encoding>,
    done: bool,
    /// Where the line breaks are, to name rows by their line.
    lines: Rc<RefCell<LineIndex>>,
    /// A row held back while a warning about it goes first.
    pending: Option<ContactRow>,
    /// Garbled text is reported once per file, at its first row.
    garble_reported: bool,
}

impl ContactReader {
    /// Opens the contacts file and reads its header.
    ///
    /// Fails (with the file named and what to do) when the file is missing,
    /// empty, undecodable, or lacks the address column.
    pub fn open(cfg: &Contacts) -> Result<ContactReader, Diagnostic> {
        let place = cfg.path.display().to_string();
        let file = File::open(&cfg.path).map_err(|e| {
            Diagnostic::error(
                &place,
                format!("cannot open the contacts file: {e}; check `path` under [contacts]"),
            )
        })?;
        ContactReader::from_reader(Box::new(file), &place, cfg)
    }

    /// Like [`ContactReader::open`] over any byte source; `place` names it
    /// in messages.
    pub fn from_reader(
        source: Box<dyn Read>,
        place: &str,
        cfg: &Contacts,
    ) -> Result<ContactReader, Diagnostic> {
        let decoded: Box<dyn Read> = match cfg.encoding {
            Some(enc) => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(enc))
                    .build(source),
            ),
            None => source,
        };
        // Read the header line once to guess the delimiter, then hand the
        // same bytes back to the CSV reader so nothing is read twice.
        let lines = Rc::new(RefCell::new(LineIndex::default()));
        let mut buffered = BufReader::new(LfLines::new(BufReader::new(decoded), Rc::clone(&lines)));
        let mut first = Vec::new();
        (&mut buffered)
            .take(SNIFF_LIMIT)
            .read_until(b'\n', &mut first)
            .map_err(|e| Diagnostic::error(place, format!("cannot read the contacts file: {e}")))?;
        let delimiter = cfg.delimiter.unwrap_or_else(|| sniff_delimiter(&first));
        let stream: Box<dyn Read> = Box::new(Cursor::new(first).chain(buffered));
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(stream);

        let header = csv
            .byte_headers()
            .map_err(|e| Diagnostic::error(format!("{place}:1"), csv_message(&e)))?
            .clone();
        if header.is_empty() || (header.len() == 1 && header[0].iter().all(u8::is_ascii_whitespace))
        {
            return Err(Diagnostic::error(
                place,
                "the contacts file is empty; it needs a header row naming its columns (one of them the address column, e.g. `email`) and one row per recipient",
            ));
        }
        let mut names = Vec::with_capacity(header.len());
        for raw in header.iter() {
            let name = std::str::from_utf8(raw).map_err(|_| not_utf8(place, 1))?;
            // csv strips a UTF-8 BOM itself, but only for UTF-8 input read
            // directly; a decoded stream may still carry one.
            names.push(name.trim_start_matches('\u{feff}').trim().to_string());
        }
        let names = row::number_repeats(names, &cfg.email_column, &CONTACT_FORM_COLUMNS)
            .map_err(|message| Diagnostic::error(format!("{place}:1"), message))?;
        let snake: Vec<String> = names.iter().map(|n| snake_case(n)).collect();
        let mut columns = Columns {
            snake,
            names,
            email: None,
            contact_form: None,
        };
        columns.contact_form = CONTACT_FORM_COLUMNS
            .iter()
            .find_map(|c| columns.snake.iter().position(|s| s == c));
        columns.email = columns.index(&cfg.email_column);
        if columns.email.is_none() {
            // Without an address column, a contact-form column still makes
            // a campaign: offices reached by their forms (US Congress
            // publishes only those). But a header that looks like the
            // address column means the setting is wrong, not that the
            // campaign is forms-only (issue 24, item 1): that is an error.
            let near = columns.closest_header(&cfg.email_column, &[columns.contact_form]);
            if let Some(near) = near {
                return Err(Diagnostic::error(
                    format!("{place}:1"),
                    format!(
                        "no `{}` column, the address column `email_column` names; the header has `{near}`: if that is the address column, set `email_column = \"{}\"` under [contacts] (the header has: {})",
                        cfg.email_column,
                        near.escape_debug(),
                        columns.names.join(", "),
                    ),
                ));
            }
            if columns.contact_form.is_none() {
                return Err(Diagnostic::error(
                    format!("{place}:1"),
                    format!(
                        "no `{}` column (the header has: {}); name the address column with `email_column` under [contacts] (a file of offices reached only by web forms needs a `contact_form` column instead)",
                        cfg.email_column,
                        columns.names.join(", "),
                    ),
                ));
            }
        }

        Ok(ContactReader {
            place: place.to_string(),
            csv,
            sorter: Sorter::new(Arc::new(columns), cfg.email_column.clone()),
            record: csv::ByteRecord::new(),
            utf8_only: cfg.encoding.is_none(),
            encoding: cfg.encoding,
            done: false,
            lines,
            pending: None,
            garble_reported: false,
        })
    }

    /// The header row.
    pub fn columns(&self) -> &Arc<Columns> {
        &self.sorter.columns
    }

    /// The line a record starts on. csv's own line count leaves out blank
    /// lines and takes a record's position before skipping them, so it can
    /// name a line above the row; the byte offset is exact.
    fn line_at(&self, p: &csv::Position) -> u64 {
        self.lines.borrow_mut().line_at(p.byte())
    }

    fn row(&mut self) -> Option<ContactRow> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                // A broken quote or an I/O error leaves the reader in no
                // state to go on: report it and stop.
                self.done = true;
                let line = e.position().map(|p| self.line_at(p)).unwrap_or(0);
                return Some(ContactRow::Problem(Diagnostic::error(
                    format!("{}:{line}", self.place),
                    csv_message(&e),
                )));
            }
        }
        let line = self.record.position().map(|p| self.line_at(p)).unwrap_or(0);
        let at = format!("{}:{line}", self.place);
        let width = self.sorter.columns.names.len();
        // A blank line between rows is noise, not a recipient.
        if self
            .record
            .iter()
            .all(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            return self.row();
        }
        if self.record.len() != width {
            return Some(ContactRow::Problem(Diagnostic::error(
                at,
                explain::field_count(self.record.len(), width),
            )));
        }
        let mut values = Vec::with_capacity(width);
        for field in self.record.iter() {
            match std::str::from_utf8(field) {
                Ok(s) => values.push(s.trim().to_string()),
                Err(_) if self.utf8_only => {
                    self.done = true;
                    return Some(ContactRow::Problem(not_utf8(&self.place, line)));
                }
                // A decoder already produced UTF-8; keep going lossily.
                Err(_) => values.push(String::from_utf8_lossy(field).trim().to_string()),
            }
        }
        if let Some(warning) = self.garbled(&values, &at) {
            self.pending = Some(self.sorter.sort(values, line, at));
            return Some(ContactRow::Problem(warning));
        }
        Some(self.sorter.sort(values, line, at))
    }

    /// The first garbled value of the file, once.
    fn garbled(&mut self, values: &[String], at: &str) -> Option<Diagnostic> {
        if self.garble_reported {
            return None;
        }
        let (value, garble) = values
            .iter()
            .find_map(|v| mojibake::garble(v, self.encoding).map(|g| (v, g)))?;
        self.garble_reported = true;
        Some(mojibake::warning(at, value, &garble, self.encoding))
    }
}

impl Iterator for ContactReader {
    type Item = ContactRow;

    fn next(&mut self) -> Option<ContactRow> {
        if let Some(row) = self.pending.take() {
            return Some(row);
        }
        if self.done {
            return None;
        }
        self.row()
    }
}

/// Picks the delimiter that occurs most often (outside quotes) in the
/// header line; `,` when there is none.
fn sniff_delimiter(line: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if b == *d {
                    *n += 1;
                }
            }
        }
    }
    // Ties go to the earlier entry: `,` is the most common.
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

#[cfg(test)]
mod tests {
    use super::sorting::looks_like_a_host;
    use super::*;
    use std::path::PathBuf;

    fn cfg() -> Contacts {
        Contacts {
            path: PathBuf::from("c.csv"),
            email_column: "email".into(),
            name: None,
            delimiter: None,
            encoding: None,
            attachments_column: None,
            timezone_column: None,
            cc_column: None,
            roster: None,
        }
    }

    fn rows(data: &[u8], cfg: &Contacts) -> Result<Vec<ContactRow>, Diagnostic> {
        Ok(
            ContactReader::from_reader(Box::new(Cursor::new(data.to_vec())), "c.csv", cfg)?
                .collect(),
        )
    }

    fn emails(rows: &[ContactRow]) -> Vec<String> {
        rows.iter()
            .filter_map(|r| match r {
                ContactRow::Recipient(r) => Some(r.email.to_string()),
                ContactRow::Problem(_) | ContactRow::Office(_) => None,
            })
            .collect()
    }

    fn problems(rows: &[ContactRow]) -> Vec<String> {
        rows.iter()
            .filter_map(|r| match r {
                ContactRow::Problem(d) => Some(d.to_string()),
                ContactRow::Office(o) => o.warning.as_ref().map(ToString::to_string),
                ContactRow::Recipient(_) => None,
            })
            .collect()
    }

    #[test]
    fn detects_semicolons_and_bom() {
        let r = rows(
            b"\xef\xbb\xbfFirst Name;email\nAnn;ann@example.org\n",
            &cfg(),
        )
        .unwrap();
        assert_eq!(emails(&r), ["ann@example.org"]);
        let ContactRow::Recipient(rec) = &r[0] else {
            panic!()
        };
        assert_eq!(rec.get("first_name"), Some("Ann"));
        let vars: Vec<_> = rec.variables().collect();
        assert!(vars.contains(&("First Name", "Ann")));
        assert!(vars.contains(&("first_name", "Ann")));
    }

    #[test]
    fn duplicates_are_warned_case_insensitively() {
        let r = rows(b"email\nA@example.org\na@EXAMPLE.org\n", &cfg()).unwrap();
        assert_eq!(emails(&r).len(), 1);
        let p = problems(&r);
        assert!(p[0].starts_with("warning: c.csv:3: duplicate"), "{p:?}");
    }

    #[test]
    fn bad_rows_name_their_line() {
        let data = b"name,email,contact_form\nA,bad-address@,\nB,b@example.org,x,y\nC,,https://c.example.org/form\n  x , x@example.org ,\n";
        let r = rows(data, &cfg()).unwrap();
        let p = problems(&r);
        assert!(
            p[0].starts_with("error: c.csv:2:") && p[0].contains("bad-address"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("error: c.csv:3:") && p[1].contains("4 fields"),
            "{p:?}"
        );
        assert!(
            p[2].starts_with("warning: c.csv:4:") && p[2].contains("contact form"),
            "{p:?}"
        );
        assert_eq!(offices(&r), [(4, Some("https://c.example.org/form"))]);
        assert_eq!(emails(&r), ["x@example.org"]);
    }

    fn offices(rows: &[ContactRow]) -> Vec<(u64, Option<&str>)> {
        rows.iter()
            .filter_map(|r| match r {
                ContactRow::Office(o) => Some((o.line, o.form.as_deref())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_cell_without_an_at_sign_is_no_address_but_a_typo_is_an_error() {
        let data = "name,email,contact_form\n\
            A,No email found,\n\
            B,n/a,https://b.example.org/form\n\
            C,-,\n\
            D, TBD ,\n\
            E,https://e.example.org/contact,\n\
            F,f@,\n\
            G,g@example.org,\n\
            H,h.example.org,\n";
        let r = rows(data.as_bytes(), &cfg()).unwrap();
        assert_eq!(emails(&r), ["g@example.org"]);
        assert_eq!(
            offices(&r),
            [
                (2, None),
                (3, Some("https://b.example.org/form")),
                (4, None),
                (5, None),
                (6, Some("https://e.example.org/contact")),
            ]
        );
        let p = problems(&r);
        assert_eq!(p.len(), 7, "{p:?}");
        assert!(
            p[0].starts_with("warning: c.csv:2:")
                && p[0].contains("`No email found`")
                && p[0].contains("unreachable"),
            "{p:?}"
        );
        assert!(
            p[1].contains("the office has a contact form: it gets no email"),
            "{p:?}"
        );
        assert!(p[3].contains("`TBD`"), "{p:?}");
        assert!(
            p[5].starts_with("error: c.csv:7:")
                && p[5].contains("`f@` is not a valid email address"),
            "{p:?}"
        );
        assert!(
            p[6].starts_with("error: c.csv:9:") && p[6].contains("lost it"),
            "{p:?}"
        );
        for placeholder in ["N.A.", "n/a", "No email found", "none", "www.", "-"] {
            assert!(!looks_like_a_host(placeholder), "{placeholder}");
        }
        assert!(looks_like_a_host("jane.doe.house.example.org"));
    }

    #[test]
    fn a_file_of_contact_forms_is_a_campaign_of_form_only_offices() {
        let data = "name,contact_form\nA,https://a.example.org/contact\nB,\n";
        let r = rows(data.as_bytes(), &cfg()).unwrap();
        assert_eq!(
            offices(&r),
            [(2, Some("https://a.example.org/contact")), (3, None)]
        );
        // The office with a form is the campaign; the one without is not.
        let p = problems(&r);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("warning: c.csv:3:")
                && p[0].contains("no contact form in column `contact_form`"),
            "{p:?}"
        );
        let ContactRow::Office(o) = &r[0] else {
            panic!()
        };
        assert_eq!(o.get("name"), Some("A"));
        assert!(o.columns.email.is_none());
    }

    #[test]
    fn a_missing_address_column_names_the_closest_header_and_is_never_forms_only() {
        // init's `contact_form` column kept, the address column renamed:
        // an error naming the header, not a forms-only campaign.
        let data = "name,E-mail Address,contact_form\nA,a@example.org,\n";
        let e = rows(data.as_bytes(), &cfg()).unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("c.csv:1")
                && s.contains("set `email_column = \"E-mail Address\"` under [contacts]"),
            "{s}"
        );
        // A typo of the configured name, with no form column.
        let e = rows(b"name,emial\nA,a@example.org\n".as_slice(), &cfg()).unwrap_err();
        assert!(
            e.to_string().contains("set `email_column = \"emial\"`"),
            "{e}"
        );
        // Nothing like an address column: the forms-only campaign stands.
        assert!(rows(
            b"name,contact_form\nA,https://a.example.org/\n".as_slice(),
            &cfg()
        )
        .is_ok());
    }

    #[test]
    fn two_addresses_in_one_cell_get_the_one_address_per_row_hint() {
        let r = rows(
            b"name,email\nA,a@example.org;b@example.org\n".as_slice(),
            &cfg(),
        )
        .unwrap();
        let p = problems(&r);
        assert!(
            p[0].starts_with("error: c.csv:2:") && p[0].contains("one address per row"),
            "{p:?}"
        );
    }

    #[test]
    fn field_counts_are_explained_by_their_case() {
        let r = rows(b"a,b,email\nx,y\nx,y,z@example.org,w\n", &cfg()).unwrap();
        let p = problems(&r);
        assert!(
            p[0].starts_with("error: c.csv:2:") && p[0].contains("a value is missing"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("error: c.csv:3:") && p[1].contains("delimiter unquoted"),
            "{p:?}"
        );
    }

    #[test]
    fn utf8_read_as_windows_1252_is_warned_once_at_its_line() {
        let data =
            "name,email\nAnn,ann@example.org\nJosé Núñez,jose@example.org\nمریم,m@example.org\n";
        let mut c = cfg();
        c.encoding = Some(encoding_rs::WINDOWS_1252);
        let r = rows(data.as_bytes(), &c).unwrap();
        // The warning, and every row still read.
        assert_eq!(emails(&r).len(), 3);
        let p = problems(&r);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("warning: c.csv:3:"), "{p:?}");
        assert!(
            p[0].contains("`José Núñez`") && p[0].contains("remove `encoding = \"windows-1252\"`"),
            "{p:?}"
        );
        // Read as what it is, it is clean.
        assert!(problems(&rows(data.as_bytes(), &cfg()).unwrap()).is_empty());
        // Windows-1252 read as UTF-8 because the setting says so.
        let mut c = cfg();
        c.encoding = Some(encoding_rs::UTF_8);
        let p = problems(&rows(b"name,email\nJos\xe9,j@example.org\n", &c).unwrap());
        assert!(
            p[0].starts_with("warning: c.csv:2:")
                && p[0].contains("set `encoding = \"windows-1252\"`"),
            "{p:?}"
        );
    }

    #[test]
    fn windows_1252_needs_encoding() {
        let data = b"name,email\nJos\xe9,jose@example.org\n";
        let p = problems(&rows(data, &cfg()).unwrap());
        assert!(p[0].contains("windows-1252"), "{p:?}");
        let mut c = cfg();
        c.encoding = Some(encoding_rs::WINDOWS_1252);
        let r = rows(data, &c).unwrap();
        let ContactRow::Recipient(rec) = &r[0] else {
            panic!("{r:?}")
        };
        assert_eq!(rec.get("name"), Some("José"));
    }

    #[test]
    fn missing_column_and_empty_file() {
        let e = rows(b"name,mail\nA,a@example.org\n", &cfg()).unwrap_err();
        assert!(e.to_string().contains("no `email` column"), "{e}");
        let e = rows(b"", &cfg()).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn crlf_and_cr_rows_are_named_by_their_own_line() {
        for (data, bad_line) in [
            (&b"a,email\r\nx,ann@example.org\r\n\r\ny,bad@\r\n"[..], 4),
            (b"a,email\rx,ann@example.org\r\ry,bad@\r", 4),
            (b"a,email\nx,ann@example.org\n\ny,bad@\n", 4),
            // BOM, a value spanning two lines, then a blank line.
            (
                b"\xef\xbb\xbfa,email\n\"x\r\n\",ann@example.org\r\n\r\ny,bad@\r\n",
                5,
            ),
        ] {
            let r = rows(data, &cfg()).unwrap();
            let ContactRow::Recipient(rec) = &r[0] else {
                panic!("{r:?}")
            };
            assert_eq!(rec.line, 2);
            let want = format!("error: c.csv:{bad_line}:");
            assert!(problems(&r)[0].starts_with(&want), "{r:?}");
        }
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter(b"email\n"), b',');
    }
}
