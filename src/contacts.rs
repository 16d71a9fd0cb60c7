//! Contacts: CSV rows → validated recipients, streamed one at a time.
//!
//! Spreadsheets come from anywhere: Excel writes Windows-1252 and, in
//! European locales, `;`; official sources publish contact-form URLs instead
//! of addresses. Every problem names the file and line and is reported, never
//! silently dropped; memory holds only the set of addresses already seen (to
//! send duplicates once), not the file.

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::rc::Rc;
use std::sync::Arc;

use lettre::Address;

use crate::config::Contacts;
use crate::diag::Diagnostic;
use crate::text::{sendable_address, snake_case};

/// Longest header line examined to guess the delimiter.
const SNIFF_LIMIT: u64 = 1 << 20;

/// Column names (snake-cased) that hold a contact-form URL: a row with one
/// of these but no address is an office to reach another way.
const CONTACT_FORM_COLUMNS: [&str; 5] = ["contact_form", "contact_url", "form", "website", "url"];

/// The header row: names as written and their snake_case variables.
#[derive(Debug)]
pub struct Columns {
    /// Header names as written (trimmed).
    pub names: Vec<String>,
    /// `snake_case` of each name (the template variable).
    pub snake: Vec<String>,
    /// Index of the address column.
    pub email: usize,
    contact_form: Option<usize>,
}

impl Columns {
    /// Index of the column named `name`, as written or in snake_case.
    pub fn index(&self, name: &str) -> Option<usize> {
        let wanted = name.trim();
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(wanted))
            .or_else(|| {
                let snake = snake_case(wanted);
                self.snake.iter().position(|s| *s == snake)
            })
    }
}

/// One addressable row of the contacts file.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// 1-based line where the row starts.
    pub line: u64,
    /// The validated address.
    pub email: Address,
    /// Field values (trimmed), aligned with [`Columns::names`].
    pub values: Vec<String>,
    /// The file's header, shared by every row.
    pub columns: Arc<Columns>,
}

impl Recipient {
    /// The value of `column` (as written or snake_case), if the file has it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.index(column).map(|i| self.values[i].as_str())
    }

    /// The key the ledger and the duplicate check use: the address
    /// lower-cased (providers treat addresses case-insensitively).
    pub fn key(&self) -> String {
        crate::text::recipient_key(self.email.as_ref())
    }

    /// Pairs of (variable name, value): each column under its name as
    /// written and, when different, under its snake_case name.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        let cols = &self.columns;
        cols.names
            .iter()
            .zip(&cols.snake)
            .zip(&self.values)
            .flat_map(|((name, snake), value)| {
                let alias = (snake != name && !snake.is_empty()).then_some(snake.as_str());
                std::iter::once(name.as_str())
                    .chain(alias)
                    .map(move |n| (n, value.as_str()))
            })
    }
}

/// What one CSV row became.
#[derive(Debug)]
pub enum Row {
    /// A recipient to write to.
    Recipient(Recipient),
    /// A problem: an error (bad address, ragged row) or a warning
    /// (duplicate, no address).
    Problem(Diagnostic),
}

/// Streams the contacts file, one [`Row`] per data row.
pub struct ContactReader {
    place: String,
    csv: csv::Reader<Box<dyn Read>>,
    columns: Arc<Columns>,
    seen: HashSet<String>,
    record: csv::ByteRecord,
    utf8_only: bool,
    email_column: String,
    done: bool,
    /// Where the line breaks are, to name rows by their line.
    lines: Rc<RefCell<LineIndex>>,
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
        let mut buffered = BufReader::new(LfLines {
            inner: BufReader::new(decoded),
            after_cr: false,
            offset: 0,
            lines: Rc::clone(&lines),
        });
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
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|_| not_utf8(place, 1))?;
            // csv strips a UTF-8 BOM itself, but only for UTF-8 input read
            // directly; a decoded stream may still carry one.
            let name = name.trim_start_matches('\u{feff}').trim().to_string();
            if !name.is_empty() && names.contains(&name) {
                return Err(Diagnostic::error(
                    format!("{place}:1"),
                    format!(
                        "column {} repeats the header `{name}`; rename one of them",
                        i + 1
                    ),
                ));
            }
            names.push(name);
        }
        let snake: Vec<String> = names.iter().map(|n| snake_case(n)).collect();
        let mut columns = Columns {
            snake,
            names,
            email: 0,
            contact_form: None,
        };
        columns.email = columns.index(&cfg.email_column).ok_or_else(|| {
            Diagnostic::error(
                format!("{place}:1"),
                format!(
                    "no `{}` column (the header has: {}); name the address column with `email_column` under [contacts]",
                    cfg.email_column,
                    columns.names.join(", "),
                ),
            )
        })?;
        columns.contact_form = CONTACT_FORM_COLUMNS
            .iter()
            .find_map(|c| columns.snake.iter().position(|s| s == c));

        Ok(ContactReader {
            place: place.to_string(),
            csv,
            columns: Arc::new(columns),
            seen: HashSet::new(),
            record: csv::ByteRecord::new(),
            utf8_only: cfg.encoding.is_none(),
            email_column: cfg.email_column.clone(),
            done: false,
            lines,
        })
    }

    /// The header row.
    pub fn columns(&self) -> &Arc<Columns> {
        &self.columns
    }

    /// The line a record starts on. csv's own line count leaves out blank
    /// lines and takes a record's position before skipping them, so it can
    /// name a line above the row; the byte offset is exact.
    fn line_at(&self, p: &csv::Position) -> u64 {
        self.lines.borrow_mut().line_at(p.byte())
    }

    fn row(&mut self) -> Option<Row> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                // A broken quote or an I/O error leaves the reader in no
                // state to go on: report it and stop.
                self.done = true;
                let line = e.position().map(|p| self.line_at(p)).unwrap_or(0);
                return Some(Row::Problem(Diagnostic::error(
                    format!("{}:{line}", self.place),
                    csv_message(&e),
                )));
            }
        }
        let line = self.record.position().map(|p| self.line_at(p)).unwrap_or(0);
        let at = format!("{}:{line}", self.place);
        let width = self.columns.names.len();
        // A blank line between rows is noise, not a recipient.
        if self
            .record
            .iter()
            .all(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            return self.row();
        }
        if self.record.len() != width {
            return Some(Row::Problem(Diagnostic::error(
                at,
                format!(
                    "this row has {} fields but the header has {width}; a value probably contains the delimiter unquoted: put that value in double quotes",
                    self.record.len()
                ),
            )));
        }
        let mut values = Vec::with_capacity(width);
        for field in self.record.iter() {
            match std::str::from_utf8(field) {
                Ok(s) => values.push(s.trim().to_string()),
                Err(_) if self.utf8_only => {
                    self.done = true;
                    return Some(Row::Problem(not_utf8(&self.place, line)));
                }
                // A decoder already produced UTF-8; keep going lossily.
                Err(_) => values.push(String::from_utf8_lossy(field).trim().to_string()),
            }
        }
        let raw = &values[self.columns.email];
        if raw.is_empty() {
            let hint = self
                .columns
                .contact_form
                .map(|i| values[i].as_str())
                .filter(|v| !v.is_empty())
                .map(|url| format!(" but has a contact form ({url}): reach this office there"))
                .unwrap_or_else(|| "; add one to include this row".to_string());
            return Some(Row::Problem(Diagnostic::warning(
                at,
                format!(
                    "no address in column `{}`{hint}; the row is left out",
                    self.email_column
                ),
            )));
        }
        let email: Address = match raw.parse() {
            Ok(a) => a,
            Err(e) => {
                return Some(Row::Problem(Diagnostic::error(
                    at,
                    format!(
                        "`{}` is not a valid email address ({e}); correct it or remove the row",
                        raw.escape_debug()
                    ),
                )))
            }
        };
        let email = match sendable_address(&email) {
            Ok(a) => a,
            Err(why) => {
                return Some(Row::Problem(Diagnostic::error(
                    at,
                    format!(
                        "repmail cannot send to `{}`: {}; correct it or remove the row",
                        raw.escape_debug(),
                        why.reason()
                    ),
                )))
            }
        };
        let key = crate::text::recipient_key(email.as_ref());
        if !self.seen.insert(key) {
            return Some(Row::Problem(Diagnostic::warning(
                at,
                format!("duplicate address {email}: it gets the letter once (from its first row)"),
            )));
        }
        Some(Row::Recipient(Recipient {
            line,
            email,
            values,
            columns: Arc::clone(&self.columns),
        }))
    }
}

impl Iterator for ContactReader {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.done {
            return None;
        }
        self.row()
    }
}

/// Turns CRLF and lone CR line breaks into LF. The csv crate counts lines
/// by LF and takes a row's position before skipping the LF of a CRLF, so in
/// a file with CRLF breaks (what Excel writes) it would report every row at
/// the line before its own. A break inside a quoted value becomes LF too,
/// which changes nothing a letter shows: bodies are sent with CRLF and
/// headers take values on one line.
///
/// It also notes where each line break is, for [`LineIndex`].
struct LfLines<R> {
    inner: R,
    after_cr: bool,
    /// Bytes handed out so far: the offsets the csv reader sees.
    offset: u64,
    lines: Rc<RefCell<LineIndex>>,
}

/// The line breaks read but not yet passed by a record: memory stays
/// bounded by the read-ahead, however long the file.
#[derive(Default)]
struct LineIndex {
    ahead: VecDeque<u64>,
    passed: u64,
}

impl LineIndex {
    /// The 1-based line of the record whose reading started at `byte`: the
    /// breaks before it, plus the blank lines the csv reader skipped there.
    fn line_at(&mut self, mut byte: u64) -> u64 {
        while let Some(&at) = self.ahead.front() {
            if at < byte {
                self.passed += 1;
            } else if at == byte {
                self.passed += 1;
                byte += 1;
            } else {
                break;
            }
            self.ahead.pop_front();
        }
        self.passed + 1
    }
}

impl<R: BufRead> Read for LfLines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let (used, written) = {
                let buf = self.inner.fill_buf()?;
                if buf.is_empty() {
                    return Ok(0);
                }
                let (mut used, mut written) = (0, 0);
                while used < buf.len() && written < out.len() {
                    let b = buf[used];
                    used += 1;
                    if std::mem::take(&mut self.after_cr) && b == b'\n' {
                        continue;
                    }
                    self.after_cr = b == b'\r';
                    out[written] = if self.after_cr { b'\n' } else { b };
                    if out[written] == b'\n' {
                        let at = self.offset + written as u64;
                        self.lines.borrow_mut().ahead.push_back(at);
                    }
                    written += 1;
                }
                (used, written)
            };
            self.offset += written as u64;
            self.inner.consume(used);
            // Only the LF of a CRLF split across reads was consumed: read
            // on rather than report an end of file.
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

fn not_utf8(place: &str, line: u64) -> Diagnostic {
    Diagnostic::error(
        format!("{place}:{line}"),
        "the file is not UTF-8 text; if it was saved by Excel, add `encoding = \"windows-1252\"` under [contacts] (or save it as \"CSV UTF-8\")",
    )
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read the contacts file: {io}"),
        csv::ErrorKind::Utf8 { .. } => {
            "the file is not UTF-8 text; set `encoding` under [contacts]".to_string()
        }
        _ => format!("{e}; check the quoting on this line"),
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
    use super::*;
    use std::path::PathBuf;

    fn cfg() -> Contacts {
        Contacts {
            path: PathBuf::from("c.csv"),
            email_column: "email".into(),
            name: None,
            delimiter: None,
            encoding: None,
            timezone_column: None,
        }
    }

    fn rows(data: &[u8], cfg: &Contacts) -> Result<Vec<Row>, Diagnostic> {
        Ok(
            ContactReader::from_reader(Box::new(Cursor::new(data.to_vec())), "c.csv", cfg)?
                .collect(),
        )
    }

    fn emails(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .filter_map(|r| match r {
                Row::Recipient(r) => Some(r.email.to_string()),
                Row::Problem(_) => None,
            })
            .collect()
    }

    fn problems(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .filter_map(|r| match r {
                Row::Problem(d) => Some(d.to_string()),
                Row::Recipient(_) => None,
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
        let Row::Recipient(rec) = &r[0] else { panic!() };
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
        let data = b"name,email,contact_form\nA,bad-address,\nB,b@example.org,x,y\nC,,https://c.example.org/form\n  x , x@example.org ,\n";
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
        assert_eq!(emails(&r), ["x@example.org"]);
    }

    #[test]
    fn windows_1252_needs_encoding() {
        let data = b"name,email\nJos\xe9,jose@example.org\n";
        let p = problems(&rows(data, &cfg()).unwrap());
        assert!(p[0].contains("windows-1252"), "{p:?}");
        let mut c = cfg();
        c.encoding = Some(encoding_rs::WINDOWS_1252);
        let r = rows(data, &c).unwrap();
        let Row::Recipient(rec) = &r[0] else {
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
            (&b"a,email\r\nx,ann@example.org\r\n\r\ny,bad\r\n"[..], 4),
            (b"a,email\rx,ann@example.org\r\ry,bad\r", 4),
            (b"a,email\nx,ann@example.org\n\ny,bad\n", 4),
            // BOM, a value spanning two lines, then a blank line.
            (
                b"\xef\xbb\xbfa,email\n\"x\r\n\",ann@example.org\r\n\r\ny,bad\r\n",
                5,
            ),
        ] {
            let r = rows(data, &cfg()).unwrap();
            let Row::Recipient(rec) = &r[0] else {
                panic!("{r:?}")
            };
            assert_eq!(rec.line, 2);
            let want = format!("error: c.csv:{bad_line}:");
            assert!(problems(&r)[0].starts_with(&want), "{r:?}");
        }
        // A CRLF split across reads is still one line break.
        let mut lf = LfLines {
            inner: BufReader::with_capacity(1, &b"a\r\nb\r"[..]),
            after_cr: false,
            offset: 0,
            lines: Rc::default(),
        };
        let mut out = String::new();
        lf.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a\nb\n");
        assert_eq!(lf.lines.borrow().ahead, [1, 3]);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter(b"email\n"), b',');
    }
}
