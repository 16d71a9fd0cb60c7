//! Property tests of the input side: whatever a spreadsheet, a template or
//! a config value holds, repmail either says clearly what is wrong or builds
//! a message that a standard parser (mailparse) reads back with exactly the
//! intended headers. Never a panic, never an injected or lost header, and
//! `preview --out` never writes outside its folder.
//!
//! The library is driven directly (`ContactReader::from_reader`,
//! `Renderer::new` + `render`) so that many cases run; only the `preview
//! --out` property goes through the binary. Case counts are the `CASES_*`
//! constants; each property prints its count (`cargo test --test props --
//! --nocapture`), and docs/reliability.md records them.

use crate::fixture;
use crate::support::CampaignFile;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, FileFailurePersistence};
use repmail::address::sendable_address;
use repmail::config::{Campaign, Contacts};
use repmail::contacts::{ContactReader, ContactRow, Recipient};
use repmail::render::{Rendered, Renderer};
use repmail::text::one_line;

/// Cases per property (kept so that the whole file runs in well under a
/// minute on two cores in a debug build).
const CASES_CSV_BYTES: u32 = 1500;
const CASES_CSV_SHAPES: u32 = 500;
const CASES_HEADER_VALUES: u32 = 600;
const CASES_SENDER_NAMES: u32 = 400;
const CASES_TEMPLATES: u32 = 600;
const CASES_PREVIEW_OUT: u32 = 24;
const CASES_DUPLICATES: u32 = 400;

/// Minimum share (percent) of cases that must reach a property's accepting
/// branch; set at about half the share measured on 2026-12-01 (the figures
/// each property prints), so a generator that drifts towards "everything is
/// refused" fails instead of passing vacuously.
const MIN_SHARE_CSV_BYTES: u32 = 7; // measured 218 of 1500 (15 %)
const MIN_SHARE_SENDER_NAMES: u32 = 30; // measured 237 of 400 (59 %)
const MIN_SHARE_TEMPLATES: u32 = 25; // measured 313 of 600 (52 %)
const MIN_SHARE_DUPLICATES: u32 = 35; // measured 285 of 400 (71 %)

const PLACE: &str = "c.csv";

/// `REPMAIL_PROPTEST_SCALE=N` multiplies every case count (for a deeper
/// run by hand; CI runs the counts above).
fn config(cases: u32, name: &str) -> PropConfig {
    let scale = std::env::var("REPMAIL_PROPTEST_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    let cases = cases * scale;
    println!("property {name}: {cases} cases");
    PropConfig {
        cases,
        // Failures are reported with their shrunk input; no files are
        // written into the source tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..PropConfig::default()
    }
}

/// Counts how many generated cases reached the branch a property is about.
/// A property that returns early on a "refused" branch proves nothing if
/// (nearly) every case is refused, so each such property asserts a minimum
/// share of accepted cases after its run.
#[derive(Default)]
struct Share {
    all: std::sync::atomic::AtomicU32,
    hit: std::sync::atomic::AtomicU32,
}

impl Share {
    fn case(&self) {
        self.all.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn hit(&self) {
        self.hit.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    /// Panics unless at least `min_percent` of the cases were hits.
    fn at_least(&self, min_percent: u32, what: &str) {
        let all = self.all.load(std::sync::atomic::Ordering::Relaxed);
        let hit = self.hit.load(std::sync::atomic::Ordering::Relaxed);
        println!("{what}: {hit} of {all} cases");
        assert!(all > 0, "{what}: no case ran");
        assert!(
            hit * 100 >= all * min_percent,
            "{what}: only {hit} of {all} cases (< {min_percent} %): the generator no longer reaches the interesting branch"
        );
    }
}

fn contacts_cfg(delimiter: Option<u8>) -> Contacts {
    Contacts {
        path: PathBuf::from(PLACE),
        email_column: "email".into(),
        name: None,
        delimiter,
        encoding: None,
        attachments_column: None,
        timezone_column: None,
        cc_column: None,
        roster: None,
    }
}

/// The rows read, without the garbled-text warning: random values often
/// hold U+FFFD or look like mojibake, and that warning is an extra row
/// (tested in `contacts::mojibake` and `tests/rosters.rs`), not a row lost
/// or invented.
fn read_rows(
    bytes: Vec<u8>,
    cfg: &Contacts,
) -> Result<Vec<ContactRow>, repmail::problem::Diagnostic> {
    Ok(
        ContactReader::from_reader(Box::new(Cursor::new(bytes)), PLACE, cfg)?
            .filter(|r| !matches!(r, ContactRow::Problem(d) if repmail::contacts::mojibake::is_warning(d)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// A campaign on disk whose templates the properties rewrite.

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A campaign with these settings; `text` is written to the template
    /// file. `subject`, `name`, `from` and `reply_to` are TOML-escaped here.
    fn campaign(
        &self,
        subject: &str,
        name: Option<&str>,
        from: &str,
        reply_to: Option<&str>,
        text: &str,
    ) -> Result<Campaign, repmail::config::ConfigError> {
        std::fs::write(self.path("letter.txt.tera"), text).unwrap();
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut file = CampaignFile::new("props")
            .subject(subject)
            .from(from)
            .contacts(&format!("path = \"{PLACE}\""));
        if let Some(r) = reply_to {
            file = file.reply_to(r);
        }
        if let Some(n) = name {
            file = file.contacts_lines(&format!("name = {}", q(n)));
        }
        Campaign::parse(&self.path("repmail.toml"), &file.build())
    }
}

/// One CSV data row written properly (quoted where needed) under `header`.
fn csv_bytes(header: &[&str], rows: &[Vec<String>], delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.into_inner().unwrap()
}

fn only_recipient(rows: Vec<ContactRow>) -> Recipient {
    let mut it = rows.into_iter();
    match (it.next(), it.next()) {
        (Some(ContactRow::Recipient(r)), None) => r,
        other => panic!("expected one recipient, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Reading a message back with mailparse.

/// The headers every plain-text letter has, lower-cased; Reply-To when set.
fn expected_headers(reply_to: bool) -> BTreeSet<&'static str> {
    let mut h: BTreeSet<&str> = [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    ]
    .into();
    if reply_to {
        h.insert("reply-to");
    }
    h
}

/// Line breaks as one form, for comparing bodies.
fn lf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Whether a decoded body is `text`: line breaks may become CRLF, and
/// lettre ends a 7-bit or quoted-printable body with one more CRLF.
fn same_body(decoded: &str, text: &str) -> bool {
    let (d, t) = (lf(decoded), lf(text));
    d == t || d.strip_suffix('\n') == Some(t.as_str())
}

/// What mailparse reads back from a rendered letter.
struct ReadBack {
    headers: Vec<(String, String)>,
    to: mailparse::SingleInfo,
    from: mailparse::SingleInfo,
    reply_to: Option<mailparse::SingleInfo>,
    subject: String,
    body: String,
}

fn single(h: &mailparse::MailHeader) -> mailparse::SingleInfo {
    let list = mailparse::addrparse_header(h)
        .unwrap_or_else(|e| panic!("{}: not an address list: {e}", h.get_key()));
    assert_eq!(list.count_addrs(), 1, "{}: {list:?}", h.get_key());
    list.extract_single_info()
        .unwrap_or_else(|| panic!("{}: not a single mailbox", h.get_key()))
}

/// Parses `letter` and checks what holds for every letter: exactly the
/// expected headers, each once; a header section that is 7-bit and has no
/// bare CR or LF and no line over 998 octets.
fn read_back(letter: &Rendered, reply_to: bool) -> ReadBack {
    let bytes = letter.message.formatted();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a blank line ends the header section");
    let head = &bytes[..split + 2];
    assert!(
        head.is_ascii(),
        "8-bit header section: {}",
        String::from_utf8_lossy(head)
    );
    for line in head.split(|&b| b == b'\n') {
        assert!(line.len() <= 998, "header line over 998 octets");
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(
            !body.contains(&b'\r'),
            "bare CR in the headers: {}",
            String::from_utf8_lossy(head)
        );
    }
    assert!(
        head.windows(2)
            .enumerate()
            .all(|(i, w)| w[1] != b'\n' || w[0] == b'\r' || i == 0),
        "bare LF in the headers"
    );
    let parsed = mailparse::parse_mail(&bytes).expect("mailparse reads the letter");
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.get_key().to_ascii_lowercase(), h.get_value()))
        .collect();
    let ctype = parsed.ctype.mimetype.clone();
    assert_eq!(ctype, "text/plain");
    assert_eq!(parsed.ctype.charset, "utf-8");
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "a header repeated: {names:?}");
    assert_eq!(unique, expected_headers(reply_to), "headers: {names:?}");
    let find = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .unwrap()
    };
    ReadBack {
        to: single(find("To")),
        from: single(find("From")),
        reply_to: reply_to.then(|| single(find("Reply-To"))),
        subject: find("Subject").get_value(),
        // The transfer encoding undone, but not the charset: decoding it
        // (encoding_rs) would drop a leading BOM that the letter has.
        body: String::from_utf8(parsed.get_body_raw().expect("the body decodes"))
            .expect("the body is UTF-8, as its Content-Type says"),
        headers,
    }
}

// ---------------------------------------------------------------------------
// Generators.

/// Text a spreadsheet cell or a config value might hold, biased towards
/// what breaks headers: line breaks, NUL and other controls, quotes,
/// angle brackets, `:`, encoded-word look-alikes, non-Latin scripts,
/// Unicode line separators and very long runs.
fn nasty_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        4 => "[a-zA-Z0-9 ]{1,12}",
        2 => Just("\r\n".to_string()),
        1 => Just("\n".to_string()),
        1 => Just("\r".to_string()),
        1 => Just("\0".to_string()),
        1 => Just("\t".to_string()),
        1 => Just("\u{7f}\u{1b}[31m".to_string()),
        1 => Just("\r\nBcc: injected@example.com".to_string()),
        1 => Just("\nSubject: injected".to_string()),
        1 => Just("\r\n\r\nbody injected".to_string()),
        1 => Just("\"".to_string()),
        1 => Just("\\".to_string()),
        1 => Just("<evil@example.com>".to_string()),
        1 => Just(",".to_string()),
        1 => Just(";".to_string()),
        1 => Just(":".to_string()),
        1 => Just("=?utf-8?q?=41?=".to_string()),
        1 => Just("=?".to_string()),
        1 => Just("José Núñez".to_string()),
        1 => Just("مریم رضایی".to_string()),
        1 => Just("中文名字".to_string()),
        1 => Just("\u{2028}\u{2029}\u{85}".to_string()),
        1 => Just("\u{feff}\u{200b}".to_string()),
        1 => Just("🙂".to_string()),
        1 => Just("(comment)".to_string()),
        1 => Just("  ".to_string()),
        1 => "[x]{70,300}",
        1 => any::<String>(),
    ];
    prop::collection::vec(atom, 0..8).prop_map(|v| v.concat())
}

/// Printable text a name or a template may hold without being refused:
/// quotes, angle brackets, `:`, encoded-word look-alikes, non-Latin
/// scripts, emoji. Mixed with [`nasty_text`] so that a good share of cases
/// is accepted and then checked header by header.
fn printable_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        4 => "[a-zA-Z0-9 ]{1,12}",
        1 => Just("\"".to_string()),
        1 => Just("\\".to_string()),
        1 => Just("'".to_string()),
        1 => Just(":".to_string()),
        1 => Just("=?utf-8?q?=41?=".to_string()),
        1 => Just("José Núñez".to_string()),
        1 => Just("مریم رضایی".to_string()),
        1 => Just("中文名字".to_string()),
        1 => Just("🙂".to_string()),
        1 => Just("(comment)".to_string()),
        1 => Just("[x]".to_string()),
        1 => "[x]{70,300}",
    ];
    prop::collection::vec(atom, 1..6).prop_map(|v| v.concat())
}

/// A name as a property draws it: half of them words of any script (what
/// most names are), the rest printable oddities or anything at all.
fn any_name() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => "[a-zA-Z0-9 ]{1,12}",
        1 => Just("José Núñez".to_string()),
        1 => Just("مریم رضایی".to_string()),
        1 => Just("中文名字".to_string()),
        1 => Just("🙂".to_string()),
        1 => Just("=?utf-8?q?=41?=".to_string()),
        1 => "[x]{70,300}",
    ];
    let words = prop::collection::vec(word, 1..5).prop_map(|v| v.concat());
    prop_oneof![4 => words, 1 => printable_text(), 1 => nasty_text()]
}

/// Arbitrary bytes shaped like a CSV file: delimiters, quotes, line
/// breaks, NUL, invalid UTF-8, a BOM, addresses and plain words.
fn csv_soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        4 => "[a-z0-9 ]{1,8}".prop_map(String::into_bytes),
        2 => Just(b",".to_vec()),
        1 => Just(b";".to_vec()),
        1 => Just(b"\t".to_vec()),
        2 => Just(b"\"".to_vec()),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\0".to_vec()),
        1 => Just(b"\xff\xfe".to_vec()),
        1 => Just(b"\xc3".to_vec()),
        1 => Just("\u{feff}".as_bytes().to_vec()),
        2 => Just(b"email".to_vec()),
        2 => Just(b"ann@example.org".to_vec()),
        1 => Just(b"b.c+tag@sub.example.com".to_vec()),
        1 => Just("josé@bücher.test".as_bytes().to_vec()),
        1 => Just(b"not an address".to_vec()),
        1 => Just(b"\"x@example.net\"".to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..16),
    ];
    let soup = prop::collection::vec(token, 0..60).prop_map(|v| v.concat());
    // Rows that look like a real list (a name, an address, sometimes
    // a stray token), so that many cases get past the header and yield
    // recipients whose letters are then checked.
    let address = prop::sample::select(vec![
        "ann@example.org",
        "Ann@Example.org",
        "b.c+tag@sub.example.com",
        "josé@bücher.test",
        "not an address",
        "",
        "\"x@example.net\"",
        " dana@x.test ",
    ]);
    let row = (
        "[a-zA-Z ]{0,8}",
        address,
        prop::option::weighted(0.2, prop::collection::vec(any::<u8>(), 0..6)),
    )
        .prop_map(|(name, addr, stray)| {
            let mut line = format!("{name},{addr}").into_bytes();
            line.extend(stray.unwrap_or_default());
            line.push(b'\n');
            line
        });
    let table = prop::collection::vec(row, 1..8).prop_map(|rows| rows.concat());
    prop_oneof![1 => soup, 1 => table]
}

fn parsed_recipients(rows: &[ContactRow]) -> Vec<&Recipient> {
    rows.iter()
        .filter_map(|r| match r {
            ContactRow::Recipient(r) => Some(r),
            ContactRow::Problem(_) | ContactRow::Office(_) => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Properties.

#[test]
fn csv_bytes_never_panic_and_every_row_is_a_recipient_or_a_named_problem() {
    let bench = Bench::new();
    let campaign = bench
        .campaign(
            "Hello {{ email }}",
            Some("{{ email }}"),
            "Test Group <letters@example.org>",
            None,
            "Dear {{ email }},\n",
        )
        .unwrap();
    let renderer = Renderer::new(&campaign).unwrap();
    let with_recipients = Share::default();
    proptest!(
        config(CASES_CSV_BYTES, "csv_bytes"),
        |(bytes in csv_soup(), header_first in any::<bool>(), delimiter in prop::option::of(prop::sample::select(vec![b',', b';', b'\t'])))| {
            with_recipients.case();
            // Half the cases start with a plausible header so that rows get
            // read at all.
            let bytes = if header_first {
                let mut b = b"name,email\n".to_vec();
                b.extend_from_slice(&bytes);
                b
            } else {
                bytes
            };
            let cfg = contacts_cfg(delimiter);
            match read_rows(bytes, &cfg) {
                Err(d) => {
                    prop_assert!(d.is_error());
                    prop_assert!(d.place.starts_with(PLACE), "{d}");
                    prop_assert!(!d.message.trim().is_empty());
                }
                Ok(rows) => {
                    if rows.iter().any(|r| matches!(r, ContactRow::Recipient(_))) {
                        with_recipients.hit();
                    }
                    let mut keys = BTreeSet::new();
                    for row in &rows {
                        match row {
                            ContactRow::Problem(d) => {
                                prop_assert!(d.place.starts_with(&format!("{PLACE}:")), "{d}");
                                prop_assert!(!d.message.trim().is_empty());
                            }
                            ContactRow::Office(o) => {
                                // No `@` in the cell, and the row says so.
                                prop_assert!(!o.get("email").unwrap_or_default().contains('@'));
                                let d = o.warning.as_ref().expect("an address column: warned");
                                prop_assert!(!d.is_error());
                                prop_assert_eq!(d.place.clone(), format!("{PLACE}:{}", o.line));
                            }
                            ContactRow::Recipient(r) => {
                                prop_assert!(r.line >= 2, "data rows start at line 2");
                                prop_assert_eq!(r.values.len(), r.columns.names.len());
                                let email = r.email.to_string();
                                prop_assert_eq!(email.parse::<lettre::Address>().ok(), Some(r.email.clone()));
                                prop_assert!(keys.insert(r.key()), "duplicate {} not caught", email);
                                prop_assert_eq!(r.get("email"), Some(r.values[r.columns.email.unwrap()].as_str()));
                                // Whatever the row held, its letter is
                                // addressed to it and nothing else.
                                match renderer.render(r) {
                                    Err(d) => prop_assert!(d.place.starts_with(PLACE), "{d}"),
                                    Ok(letter) => {
                                        let back = read_back(&letter, false);
                                        prop_assert_eq!(&back.to.addr, &email);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    );
    with_recipients.at_least(MIN_SHARE_CSV_BYTES, "csv_bytes: cases with a recipient");
}

/// An address cell drawn from a small pool, in the spellings a spreadsheet
/// gathers: other case, surrounding blanks. With a pool of four most tables
/// of a few rows hold the same address twice, which a generator of random
/// addresses almost never does.
fn pooled_address() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "ann@example.org",
            "bob.smith@example.com",
            "c+tag@sub.example.net",
            "dana@x.test",
        ]),
        prop::sample::select(vec!["lower", "upper", "title", "blank"]),
    )
        .prop_map(|(a, spelling)| match spelling {
            "upper" => a.to_uppercase(),
            "title" => {
                let mut c = a.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
            "blank" => format!("  {a} "),
            _ => a.to_string(),
        })
}

#[test]
fn duplicate_addresses_get_one_letter_from_their_first_row_and_each_repeat_is_reported() {
    let with_duplicates = Share::default();
    proptest!(
        config(CASES_DUPLICATES, "duplicates"),
        |(emails in prop::collection::vec(pooled_address(), 1..9), delimiter in prop::sample::select(vec![b',', b';', b'\t']))| {
            with_duplicates.case();
            let rows: Vec<Vec<String>> = emails
                .iter()
                .enumerate()
                .map(|(i, e)| vec![format!("Rep {i}"), e.clone()])
                .collect();
            let bytes = csv_bytes(&["name", "email"], &rows, delimiter);
            let got = read_rows(bytes, &contacts_cfg(Some(delimiter))).unwrap();
            prop_assert_eq!(got.len(), emails.len(), "one outcome per row");
            // What a careful person would do by hand: the first row of each
            // address (compared without case and blanks) gets the letter.
            let mut first_line = std::collections::BTreeMap::new();
            for (i, e) in emails.iter().enumerate() {
                first_line.entry(e.trim().to_lowercase()).or_insert(i + 2);
            }
            if first_line.len() < emails.len() {
                with_duplicates.hit();
            }
            for (i, (row, e)) in got.iter().zip(&emails).enumerate() {
                let line = i + 2;
                let first = first_line[&e.trim().to_lowercase()];
                match row {
                    ContactRow::Recipient(r) => {
                        prop_assert_eq!(r.line, line as u64);
                        prop_assert_eq!(line, first, "{} sent from a repeat row", e);
                        prop_assert_eq!(r.key(), e.trim().to_lowercase());
                    }
                    ContactRow::Problem(d) => {
                        prop_assert!(line != first, "first row of {} refused: {}", e, d);
                        prop_assert!(!d.is_error(), "a duplicate is a warning: {}", d);
                        prop_assert_eq!(&d.place, &format!("{PLACE}:{line}"));
                        prop_assert!(d.message.contains("duplicate"), "{}", d);
                    }
                    ContactRow::Office(o) => {
                        prop_assert!(false, "{} (line {}) taken for an office without an address: {:?}", e, line, o);
                    }
                }
            }
        }
    );
    with_duplicates.at_least(
        MIN_SHARE_DUPLICATES,
        "duplicates: cases with a repeated address",
    );
}

/// A spreadsheet cell: cheap to generate (the table property makes
/// thousands per case), made of what stresses CSV quoting and line counting.
fn cell() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "",
        "Ann",
        "Núñez",
        "مریم",
        " ",
        "\t",
        ",",
        ";",
        "\"",
        "\"\"",
        "\n",
        "\r\n",
        "\r",
        "\0",
        "a,b",
        "x\ny",
        "\"quoted\"",
        "=?",
        "#",
        "'",
        "\u{feff}",
        "\u{85}",
    ]);
    prop_oneof![
        8 => prop::collection::vec(piece, 0..5).prop_map(|v| v.concat()),
        1 => nasty_text(),
    ]
}

/// A table of arbitrary cell values written by a standard CSV writer
/// (quoting what needs it) with any of the three delimiters.
fn table() -> impl Strategy<Value = (u8, usize, usize, Vec<Vec<String>>)> {
    // (see `terminator()` for the line breaks)
    (1usize..30, 0usize..12)
        .prop_flat_map(|(cols, rows)| {
            (
                prop::sample::select(vec![b',', b';', b'\t']),
                0..cols,
                Just(cols),
                prop::collection::vec(prop::collection::vec(cell(), cols), rows),
            )
        })
        .prop_map(|(d, email_at, cols, cells)| {
            (if cols == 1 { b',' } else { d }, email_at, cols, cells)
        })
}

/// ContactRow ends as spreadsheets write them: LF, CRLF (Excel on Windows) and
/// CR (old Excel for Mac).
fn terminator() -> impl Strategy<Value = csv::Terminator> {
    prop::sample::select(vec![
        csv::Terminator::Any(b'\n'),
        csv::Terminator::CRLF,
        csv::Terminator::Any(b'\r'),
    ])
}

#[test]
fn csv_shapes_round_trip_with_their_line_numbers() {
    proptest!(
        config(CASES_CSV_SHAPES, "csv_shapes"),
        |((delimiter, email_at, cols, mut cells) in table(), bad_every in 2usize..6, terminator in terminator())| {
            let header: Vec<String> = (0..cols)
                .map(|i| if i == email_at { "email".to_string() } else { format!("Column {i}") })
                .collect();
            // Valid, unique addresses; some rows get none or a broken one.
            let mut expect = Vec::new();
            let mut out = Vec::new();
            {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .terminator(terminator)
                    .from_writer(&mut out);
                w.write_record(&header).unwrap();
                w.flush().unwrap();
            }
            let (mut lines, mut counted) = (0u64, 0usize);
            for (i, row) in cells.iter_mut().enumerate() {
                row[email_at] = match i % bad_every {
                    0 if i > 0 => String::new(),
                    1 if i > 1 => "not@an@address".to_string(),
                    _ => format!(" Rep{i}@Example.org "),
                };
                // A line break is LF, CRLF or a lone CR, as editors show it
                // (no CRLF straddles two rows: a row ends with its break).
                lines += lf(&String::from_utf8_lossy(&out[counted..])).matches('\n').count() as u64;
                counted = out.len();
                let line = 1 + lines;
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .terminator(terminator)
                    .has_headers(false)
                    .from_writer(&mut out);
                w.write_record(&*row).unwrap();
                w.flush().unwrap();
                drop(w);
                expect.push((line, row.clone()));
            }
            let rows = read_rows(out.clone(), &contacts_cfg(None)).map_err(|d| {
                TestCaseError::fail(format!("{d}\n{}", String::from_utf8_lossy(&out)))
            })?;
            let mut rows = rows.into_iter();
            for (line, row) in expect {
                // Line breaks inside values read back as LF (see
                // contacts.rs, `LfLines`); values are trimmed.
                let trimmed: Vec<String> = row.iter().map(|v| lf(v).trim().to_string()).collect();
                if row.iter().all(|v| v.bytes().all(|b| b.is_ascii_whitespace())) {
                    continue; // a blank row is skipped silently
                }
                let got = rows.next();
                let email = &trimmed[email_at];
                match got {
                    Some(ContactRow::Recipient(r)) => {
                        prop_assert!(email.starts_with("Rep"), "accepted {email:?}");
                        prop_assert_eq!(r.line, line);
                        prop_assert_eq!(&r.values, &trimmed);
                        prop_assert_eq!(r.email.to_string(), email.clone());
                        let names: Vec<String> = header.clone();
                        prop_assert_eq!(&r.columns.names, &names);
                    }
                    Some(ContactRow::Problem(d)) => {
                        prop_assert!(!email.starts_with("Rep"), "{d}");
                        prop_assert_eq!(d.place.clone(), format!("{PLACE}:{line}"));
                        prop_assert!(d.is_error() && email.contains('@'), "{}", d);
                    }
                    Some(ContactRow::Office(o)) => {
                        prop_assert!(email.is_empty(), "{email:?} taken as no address");
                        prop_assert_eq!(o.line, line);
                        prop_assert!(o.warning.is_some_and(|d| !d.is_error()));
                    }
                    None => prop_assert!(false, "row at line {line} lost"),
                }
            }
            prop_assert!(rows.next().is_none(), "a row appeared from nowhere");
        }
    );
}

#[test]
fn values_in_every_header_position_never_add_or_lose_a_header() {
    let bench = Bench::new();
    let campaign = bench
        .campaign(
            "A letter to {{ title }} {{ last_name }}",
            Some("{{ first_name }} {{ last_name }}"),
            "Test Group <letters@example.org>",
            Some("board@example.org"),
            "Dear {{ title }} {{ last_name }},\n\nPlease put human rights first in {{ state }}.\n\n{{ organization }}\n",
        )
        .unwrap();
    let renderer = Renderer::new(&campaign).unwrap();
    let header = ["title", "first_name", "last_name", "state", "email"];
    proptest!(
        config(CASES_HEADER_VALUES, "header_values"),
        |(title in nasty_text(), first in nasty_text(), last in nasty_text(), state in nasty_text())| {
            let row = vec![title, first, last, state, "rep@example.org".to_string()];
            let r = only_recipient(read_rows(csv_bytes(&header, std::slice::from_ref(&row), b','), &contacts_cfg(None)).unwrap());
            let [title, first, last, state, _] = &row.map_trim()[..] else { unreachable!() };
            let letter = renderer.render(&r).unwrap();
            let back = read_back(&letter, true);
            let subject = one_line(&format!("A letter to {title} {last}"));
            prop_assert_eq!(&back.subject, &subject);
            prop_assert_eq!(&letter.subject, &subject);
            let name = one_line(&format!("{first} {last}"));
            prop_assert_eq!(back.to.display_name.clone().unwrap_or_default(), name);
            prop_assert_eq!(&back.to.addr, "rep@example.org");
            prop_assert_eq!(&back.from.addr, "letters@example.org");
            prop_assert_eq!(back.from.display_name.as_deref(), Some("Test Group"));
            prop_assert_eq!(back.reply_to.map(|r| r.addr), Some("board@example.org".to_string()));
            let text = format!("Dear {title} {last},\n\nPlease put human rights first in {state}.\n\nTest Group\n");
            prop_assert!(same_body(&back.body, &text), "{:?} vs {:?}", back.body, text);
            prop_assert_eq!(back.headers.len(), 9);
        }
    );
}

trait MapTrim {
    fn map_trim(&self) -> Vec<String>;
}

impl MapTrim for Vec<String> {
    fn map_trim(&self) -> Vec<String> {
        self.iter().map(|v| v.trim().to_string()).collect()
    }
}

#[test]
fn sender_names_are_refused_or_kept_exactly() {
    let bench = Bench::new();
    let header = ["email"];
    let row = vec!["rep@example.org".to_string()];
    let csv = csv_bytes(&header, &[row], b',');
    let accepted = Share::default();
    proptest!(
        config(CASES_SENDER_NAMES, "sender_names"),
        |(from_name in any_name(), reply_name in any_name())| {
            accepted.case();
            let from = format!("{from_name} <letters@example.org>");
            let reply = format!("{reply_name} <board@example.org>");
            let campaign = match bench.campaign("Hi", None, &from, Some(&reply), "Dear all\n") {
                Err(e) => {
                    let s = e.to_string();
                    prop_assert!(s.contains("sender.from") || s.contains("sender.reply_to"), "{s}");
                    return Ok(());
                }
                Ok(c) => c,
            };
            accepted.hit();
            prop_assert_eq!(campaign.sender.from.email.to_string(), "letters@example.org");
            let renderer = Renderer::new(&campaign).unwrap();
            let r = only_recipient(read_rows(csv.clone(), &contacts_cfg(None)).unwrap());
            let letter = renderer.render(&r).unwrap();
            let back = read_back(&letter, true);
            prop_assert_eq!(&back.from.addr, "letters@example.org");
            let want = campaign.sender.from.name.clone().unwrap_or_default();
            prop_assert_eq!(back.from.display_name.unwrap_or_default(), want.trim());
            let reply_to = back.reply_to.unwrap();
            prop_assert_eq!(&reply_to.addr, "board@example.org");
            let want = campaign.sender.reply_to.as_ref().and_then(|m| m.name.clone()).unwrap_or_default();
            prop_assert_eq!(reply_to.display_name.unwrap_or_default(), want.trim());
        }
    );
    accepted.at_least(MIN_SHARE_SENDER_NAMES, "sender_names: accepted names");
}

/// Template text: literal text and every kind of Tera fragment, whole or
/// broken, plus variables the row has and variables it lacks.
fn template_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        4 => nasty_text(),
        2 => Just("{{ first_name }}".to_string()),
        1 => Just("{{ organization | upper }}".to_string()),
        1 => Just("{{ missing_variable }}".to_string()),
        1 => Just("{% if state %}in {{ state }}{% endif %}".to_string()),
        1 => Just("{% if".to_string()),
        1 => Just("{% endif %}".to_string()),
        1 => Just("{% for c in first_name %}{{ c }}{% endfor %}".to_string()),
        1 => Just("{{".to_string()),
        1 => Just("}}".to_string()),
        1 => Just("{#".to_string()),
        1 => Just("{# a comment #}".to_string()),
        1 => Just("{{ first_name | truncate(length=2) }}".to_string()),
        1 => Just("{{ first_name | nosuchfilter }}".to_string()),
        1 => Just("{{ 1 / 0 }}".to_string()),
        1 => Just("{% raw %}{{ x }}{% endraw %}".to_string()),
        1 => Just("{{ \"\\r\\nBcc: x@example.com\" }}".to_string()),
        1 => Just("\r\n.\r\n".to_string()),
        1 => Just(".\n".to_string()),
    ];
    let broken = prop::collection::vec(atom, 0..10).prop_map(|v| v.concat());
    // Only fragments that render, so that about half the cases get a
    // letter to read back.
    let whole = prop_oneof![
        4 => printable_text(),
        2 => Just("{{ first_name }}".to_string()),
        1 => Just("{{ organization | upper }}".to_string()),
        1 => Just("{% if state %}in {{ state }}{% endif %}".to_string()),
        1 => Just("{# a comment #}".to_string()),
        1 => Just("{{ first_name | truncate(length=2) }}".to_string()),
        1 => Just("{% raw %}{{ x }}{% endraw %}".to_string()),
        1 => Just("\r\n.\r\n".to_string()),
        1 => Just(".\n".to_string()),
    ];
    let whole = prop::collection::vec(whole, 1..8).prop_map(|v| v.concat());
    prop_oneof![1 => broken, 3 => whole]
}

#[test]
fn any_template_text_is_an_error_with_its_place_or_a_well_formed_letter() {
    let bench = Bench::new();
    let header = ["first_name", "state", "email"];
    let rendered = Share::default();
    proptest!(
        config(CASES_TEMPLATES, "templates"),
        |(text in template_text(), subject in template_text(), name in template_text(), first in nasty_text())| {
            rendered.case();
            let csv = csv_bytes(&header, &[vec![first, "Ohio".into(), "rep@example.org".into()]], b',');
            let campaign = bench
                .campaign(&subject, Some(&name), "Test Group <letters@example.org>", None, &text)
                .unwrap();
            let renderer = match Renderer::new(&campaign) {
                Err(problems) => {
                    prop_assert!(!problems.0.is_empty());
                    for d in &problems.0 {
                        prop_assert!(d.is_error() && !d.place.is_empty() && !d.message.trim().is_empty(), "{d}");
                    }
                    return Ok(());
                }
                Ok(r) => r,
            };
            let r = only_recipient(read_rows(csv, &contacts_cfg(None)).unwrap());
            match renderer.render(&r) {
                Err(d) => {
                    prop_assert!(d.place.ends_with(&format!("{PLACE}:2")), "{}", d);
                    prop_assert!(!d.message.trim().is_empty());
                }
                Ok(letter) => {
                    rendered.hit();
                    let back = read_back(&letter, false);
                    prop_assert_eq!(&back.subject, &letter.subject);
                    prop_assert!(!letter.subject.is_empty());
                    prop_assert_eq!(&back.to.addr, "rep@example.org");
                    prop_assert!(same_body(&back.body, &letter.text), "{:?} vs {:?}", back.body, letter.text);
                }
            }
        }
    );
    rendered.at_least(MIN_SHARE_TEMPLATES, "templates: letters rendered");
}

/// Found by `values_in_every_header_position_never_add_or_lose_a_header`:
/// lettre wrote an ASCII word shaped like an RFC 2047 encoded word as it
/// was, so mail programs showed `=?utf-8?q?=41?=` as "A" (render.rs,
/// `subject_header`).
#[test]
fn an_encoded_word_look_alike_in_the_subject_is_shown_as_written() {
    let bench = Bench::new();
    let campaign = bench
        .campaign(
            "{{ title }}",
            None,
            "Test Group <letters@example.org>",
            None,
            "x\n",
        )
        .unwrap();
    let renderer = Renderer::new(&campaign).unwrap();
    for title in [
        "=?utf-8?q?=41?=",
        "Re: =?utf-8?b?SGk=?= and =?x?= ünïcödé",
        &"=?".repeat(200),
    ] {
        let csv = csv_bytes(
            &["title", "email"],
            &[vec![title.into(), "rep@example.org".into()]],
            b',',
        );
        let r = only_recipient(read_rows(csv, &contacts_cfg(None)).unwrap());
        let letter = renderer.render(&r).unwrap();
        assert_eq!(read_back(&letter, false).subject, title);
    }
}

// ---------------------------------------------------------------------------
// Large inputs: fixed cases rather than generated ones (each is slow).

#[test]
fn thousands_of_columns_are_read_and_rendered() {
    let cols = 5000;
    let mut header: Vec<String> = (0..cols).map(|i| format!("Col {i}")).collect();
    header.push("email".into());
    let mut row: Vec<String> = (0..cols).map(|i| format!("v{i}")).collect();
    row.push("rep@example.org".into());
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let csv = csv_bytes(&header_refs, &[row.clone(), row.clone()], b';');
    let rows = read_rows(csv, &contacts_cfg(None)).unwrap();
    assert_eq!(rows.len(), 2);
    let r = match &rows[0] {
        ContactRow::Recipient(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.get("col_4999"), Some("v4999"));
    assert!(
        matches!(&rows[1], ContactRow::Problem(d) if !d.is_error() && d.message.contains("duplicate"))
    );
    let bench = Bench::new();
    let campaign = bench
        .campaign(
            "{{ col_0 }} {{ col_4999 }}",
            Some("{{ col_1 }}"),
            "Test Group <letters@example.org>",
            None,
            "{{ col_2500 }}\n",
        )
        .unwrap();
    let letter = Renderer::new(&campaign).unwrap().render(r).unwrap();
    let back = read_back(&letter, false);
    assert_eq!(back.subject, "v0 v4999");
    assert!(same_body(&back.body, "v2500\n"), "{:?}", back.body);
}

#[test]
fn huge_fields_and_a_ragged_monster_row_are_handled() {
    let big = "x".repeat(4 << 20);
    let mut csv = csv_bytes(
        &["name", "email"],
        &[vec![big.clone(), "rep@example.org".into()]],
        b',',
    );
    // A row with 100 000 fields, then a field of 2 MB of line breaks and
    // quotes, then a header-less 2 MB run at the end.
    csv.extend_from_slice("x,".repeat(50_000).as_bytes());
    csv.push(b'\n');
    let quoted = format!("\"{}\",b@example.org\n", "\"\"\r\n".repeat(500_000));
    csv.extend_from_slice(quoted.as_bytes());
    csv.extend_from_slice(&vec![b'a'; 2 << 20]);
    let rows = read_rows(csv, &contacts_cfg(None)).unwrap();
    let recipients = parsed_recipients(&rows);
    assert_eq!(recipients.len(), 2, "{:?}", rows.len());
    assert_eq!(recipients[0].values[0].len(), big.len());
    // `"` + LF each time (CRLF reads as LF), the last LF trimmed.
    assert_eq!(recipients[1].values[0].len(), 500_000 * 2 - 1);
    let problems: Vec<String> = rows
        .iter()
        .filter_map(|r| match r {
            ContactRow::Problem(d) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        problems[0].contains("c.csv:3") && problems[0].contains("50001 fields"),
        "{problems:?}"
    );

    // A header line longer than the delimiter sniffer looks at.
    let mut long_header = "h".repeat(3 << 20);
    long_header.push_str(";email\nv;rep@example.org\n");
    let rows = read_rows(long_header.into_bytes(), &contacts_cfg(Some(b';'))).unwrap();
    assert_eq!(parsed_recipients(&rows).len(), 1);

    // A big subject value is folded, not cut, and stays one header.
    let bench = Bench::new();
    let campaign = bench
        .campaign(
            "{{ name }}",
            Some("{{ name }}"),
            "Test Group <letters@example.org>",
            None,
            "x\n",
        )
        .unwrap();
    let value = "Wörd ".repeat(20_000);
    let csv = csv_bytes(
        &["name", "email"],
        &[vec![value.clone(), "rep@example.org".into()]],
        b',',
    );
    let r = only_recipient(read_rows(csv, &contacts_cfg(None)).unwrap());
    let letter = Renderer::new(&campaign).unwrap().render(&r).unwrap();
    let back = read_back(&letter, false);
    assert_eq!(back.subject, value.trim());
    assert_eq!(back.to.display_name.as_deref(), Some(value.trim()));
}

// ---------------------------------------------------------------------------
// `preview --out` through the binary.

/// A local part lettre accepts, built from the characters that are
/// dangerous in a file name: `/`, `\`, `..`, a leading dot, `~`, `%`, and
/// quoted forms with spaces.
fn hostile_local_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9/=~%!#$&'*+?^_`{|}-]{1,20}",
        1 => "[a-z/]{0,6}".prop_map(|s| format!("\"../../{s}\"")),
        1 => "[a-z .\\\\/]{1,12}".prop_map(|s| format!("\"{s}\"")),
        1 => Just("\".\"".to_string()),
        1 => Just("\"..\"".to_string()),
        1 => Just("~root".to_string()),
        1 => Just("/etc/passwd".to_string()),
        1 => Just("CON".to_string()),
    ]
}

fn all_files(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p);
        }
    }
    out
}

#[test]
fn preview_out_never_writes_outside_its_folder() {
    proptest!(
        config(CASES_PREVIEW_OUT, "preview_out"),
        |(locals in prop::collection::vec(hostile_local_part(), 1..12), domain in prop::sample::select(vec!["example.org", "Example.COM", "sub.example.net", "x.test", "[127.0.0.1]"]))| {
            // Every address lettre accepts goes in; those repmail cannot
            // write into a header are refused with their line (exit 1), the
            // others each get one file.
            let mut rows = String::from("email\n");
            let mut sendable = BTreeSet::new();
            let mut refused = 0;
            for l in &locals {
                let addr = format!("{l}@{domain}");
                if let Ok(a) = addr.parse::<lettre::Address>() {
                    match sendable_address(&a) {
                        Ok(a) => {
                            sendable.insert(a.to_string().to_lowercase());
                        }
                        Err(_) => refused += 1,
                    }
                    rows.push_str(&csv_field(&addr));
                    rows.push('\n');
                }
            }
            prop_assume!(!sendable.is_empty() || refused > 0);
            let campaign = fixture::Campaign::with(
                &fixture::config().replace("name = \"{{ first_name }} {{ last_name }}\"\n", "").replace("A letter to {{ title }} {{ last_name }}", "Hello"),
                "Dear representative,\n",
                rows.as_bytes(),
            );
            let root = campaign.dir.path();
            let out_dir = root.join("out").join("inner");
            let before = all_files(root);
            let out = campaign.cmd(&["preview", "--out"]).arg(&out_dir).output().unwrap();
            let want = if refused > 0 { 1 } else { 0 };
            prop_assert_eq!(out.status.code(), Some(want), "{}", fixture::stderr(&out));
            if refused > 0 {
                prop_assert!(fixture::stderr(&out).contains("repmail cannot send to"), "{}", fixture::stderr(&out));
            }
            let after = all_files(root);
            let new: Vec<&PathBuf> = after.difference(&before).collect();
            for p in &new {
                prop_assert!(
                    p.as_path() == root.join("out") || p.as_path() == out_dir || p.parent() == Some(out_dir.as_path()),
                    "wrote outside the folder: {}", p.display()
                );
                if p.parent() == Some(out_dir.as_path()) {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    prop_assert!(name.ends_with(".eml") && !name.starts_with('.'), "{name}");
                }
            }
            if !sendable.is_empty() {
                let emls = fixture::files_with_ext(&out_dir, "eml");
                prop_assert_eq!(emls.len(), sendable.len(), "one file per recipient");
            }
        }
    );
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
