//! The delivery log ("ledger"): one append-only CSV file per campaign, one
//! row per event, read back into a state per recipient.
//!
//! The whole tool's promise — nobody is mailed twice, nobody is silently
//! lost — rests on three properties kept here:
//!
//! * a row is on disk (`fsync`) before [`LedgerWriter::append`] returns, so
//!   a `sending` row always precedes its SMTP transaction; outcome rows may
//!   be written with [`LedgerWriter::append_uncommitted`] and share the
//!   fsync of the next row ([`LedgerWriter::commit`], group commit): they
//!   are in the file at once (a killed process loses nothing) and on disk
//!   before the next transaction starts or the writer is dropped;
//! * one writer at a time: [`LedgerWriter`] holds an exclusive lock on the
//!   file for as long as it lives;
//! * a crash can only tear the last line, and a torn last line is ignored
//!   on read ([`Ledger::torn_tail`]) and cut off before the next append.
//!
//! Format (header once):
//! `time,campaign,email,status,attempt,smtp_code,message_id,detail`.
//! Every row is a single line: control characters in text fields are
//! replaced by spaces before writing, so a line break in a server reply can
//! never split a row.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::text::one_line;

mod digest;
mod error;
mod event;
mod format;
mod rows;
mod writer;
pub use crate::address::recipient_key;
pub use digest::{Digest, StateOf};
pub use error::LedgerError;
pub use event::{
    is_by_address_only, is_hard_bounce, Event, ParseStatusError, State, Status, BY_ADDRESS_ONLY,
};
use format::{csv_line, parse_event, parse_line, scan, scan_lines};
pub use rows::{for_each_row, RowReader};
pub use writer::{Durability, Fsync, LedgerWriter, PendingSync, SyncDone};

/// The header line, column by column, exactly as written.
pub const HEADER: [&str; 8] = [
    "time",
    "campaign",
    "email",
    "status",
    "attempt",
    "smtp_code",
    "message_id",
    "detail",
];

/// Per-recipient summary kept alongside the events so lookups are O(1)
/// even for logs with many thousands of rows.
#[derive(Debug, Clone)]
struct Recipient {
    /// Index of the recipient's last delivery row in `events` (answers do
    /// not count); `None` if the log holds only answers for it.
    last: Option<usize>,
    /// Number of `sending` rows.
    attempts: u32,
    /// Index of the recipient's last `replied` row.
    replied: Option<usize>,
    /// Index of the recipient's last `auto_replied` row.
    auto_replied: Option<usize>,
}

/// The delivery log as read: every event in file order, and the state of
/// each recipient.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    events: Vec<Event>,
    /// In order of each recipient's first appearance.
    recipients: Vec<Recipient>,
    by_key: HashMap<String, usize>,
    torn_tail: bool,
}

impl Ledger {
    /// Reads the log at `path`. A missing file is an empty log. A torn last
    /// line (a crash during a write) is ignored and reported by
    /// [`Ledger::torn_tail`]; any other unreadable line is an error naming
    /// the line. Never modifies the file and takes no lock, so reviewing
    /// works while a `send` runs.
    pub fn read(path: &Path) -> Result<Ledger, LedgerError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ledger::default()),
            Err(e) => return Err(LedgerError::io("read", path, e)),
        };
        Ok(scan(path, &bytes)?.ledger)
    }

    /// A log holding these events, in this order (for callers that build
    /// one in memory, such as tests of the planning step).
    pub fn from_events(events: impl IntoIterator<Item = Event>) -> Ledger {
        let mut ledger = Ledger::default();
        for event in events {
            ledger.push(event);
        }
        ledger
    }

    /// Every event, in file order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The last event of each recipient, in order of first appearance.
    pub fn latest(&self) -> impl Iterator<Item = &Event> + '_ {
        self.recipients
            .iter()
            .filter_map(|r| r.last.map(|i| &self.events[i]))
    }

    /// The recipient's state and the row that decided it, or `None` if the
    /// log has never seen this address.
    pub fn state(&self, email: &str) -> Option<(State, &Event)> {
        let recipient = self.recipient(email)?;
        let event = &self.events[recipient.last?];
        Some((event.state()?, event))
    }

    /// The recipient's last answer of this kind (`replied` or
    /// `auto_replied`), if any.
    pub fn answer(&self, email: &str, kind: Status) -> Option<&Event> {
        let recipient = self.recipient(email)?;
        let index = match kind {
            Status::Replied => recipient.replied,
            Status::AutoReplied => recipient.auto_replied,
            _ => None,
        }?;
        Some(&self.events[index])
    }

    /// How many times a message to this recipient was started (`sending`
    /// rows, across all runs), less those taken back by a `deferred` row
    /// with a lower `attempt` (a try that failed at sign-in).
    pub fn attempts(&self, email: &str) -> u32 {
        self.recipient(email).map_or(0, |r| r.attempts)
    }

    /// The times of `sent` rows at or after `since`, oldest first. The daily
    /// cap uses it both to count and to say when the oldest one leaves the
    /// 24-hour window.
    pub fn sent_since(&self, since: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut times: Vec<_> = self
            .events
            .iter()
            .filter(|e| e.status == Status::Sent && e.time >= since)
            .map(|e| e.time)
            .collect();
        // Rows are in write order, but the clock may have been set back
        // between runs.
        times.sort_unstable();
        times
    }

    /// Whether the last line was torn (a crash during a write) and ignored.
    /// The next [`LedgerWriter::open`] cuts it off.
    pub fn torn_tail(&self) -> bool {
        self.torn_tail
    }

    /// Refuses a log that holds rows of another campaign than `campaign`,
    /// naming the file, both campaigns and the first such line. Every
    /// command that plans or records from the log calls it (`send`, its dry
    /// run, `inbox`, `forms --done`, through [`LedgerWriter::open`]); rows
    /// with an empty campaign (edited by hand) count as this campaign's.
    pub fn check_campaign(&self, path: &Path, campaign: &str) -> Result<(), LedgerError> {
        let ours = one_line(campaign);
        match self
            .events
            .iter()
            .position(|e| !e.campaign.trim().is_empty() && e.campaign.trim() != ours.trim())
        {
            Some(i) => Err(LedgerError::OtherCampaign {
                path: path.to_path_buf(),
                ours,
                theirs: self.events[i].campaign.clone(),
                line: i + 2,
            }),
            None => Ok(()),
        }
    }

    /// Whether the log has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn recipient(&self, email: &str) -> Option<&Recipient> {
        self.by_key
            .get(&recipient_key(email))
            .map(|&i| &self.recipients[i])
    }

    fn push(&mut self, event: Event) {
        let index = self.events.len();
        let is_sending = event.status == Status::Sending;
        let key = event.key();
        let slot = *self.by_key.entry(key).or_insert_with(|| {
            self.recipients.push(Recipient {
                last: None,
                attempts: 0,
                replied: None,
                auto_replied: None,
            });
            self.recipients.len() - 1
        });
        let recipient = &mut self.recipients[slot];
        match event.status {
            Status::Replied => recipient.replied = Some(index),
            Status::AutoReplied => recipient.auto_replied = Some(index),
            // A fact about the letter, like an answer: the delivery state
            // stays what the rows before it decided.
            Status::Copied => {}
            _ => recipient.last = Some(index),
        }
        recipient.attempts += u32::from(is_sending);
        // A `deferred` row that counts fewer tries than the `sending` rows
        // so far takes the last one back: that transaction failed at
        // sign-in, before its letter was spoken of (send::decide).
        if event.status == Status::Deferred && event.attempt < recipient.attempts {
            recipient.attempts = event.attempt;
        }
        self.events.push(event);
    }
}

#[cfg(test)]
mod durability_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use std::path::PathBuf;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn event(email: &str, status: Status, secs: i64) -> Event {
        Event {
            time: at(secs),
            ..Event::new("hrf", email, status, 1)
        }
    }

    fn log_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("logs").join("hrf.csv")
    }

    #[test]
    fn uncommitted_rows_are_in_the_file_at_once_and_kept_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
        writer
            .append_uncommitted(&event("a@example.org", Status::Sent, 1))
            .unwrap();
        writer
            .append_uncommitted(&event("b@example.org", Status::Deferred, 2))
            .unwrap();
        // Written through to the file, not held in memory: a killed
        // process loses nothing, and the order is the order of events.
        let read = Ledger::read(&path).unwrap();
        assert_eq!(read.events(), writer.ledger().events());
        writer.commit().unwrap();
        writer.commit().unwrap();
        writer
            .append_uncommitted(&event("c@example.net", Status::Failed, 3))
            .unwrap();
        writer
            .append(&event("a@example.org", Status::Sending, 4))
            .unwrap();
        let all = writer.ledger().events().to_vec();
        drop(writer);
        assert_eq!(Ledger::read(&path).unwrap().events(), &all[..]);
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let events = vec![
            event("a@example.org", Status::Sending, 0)
                .with_message_id("<1@example.org>")
                .with_detail(""),
            event("a@example.org", Status::Sent, 1)
                .with_smtp_code(Some(250))
                .with_message_id("<1@example.org>")
                .with_detail("2.0.0 Ok: queued as ABC"),
            Event {
                time: Utc.timestamp_millis_opt(1_700_000_002_345).unwrap(),
                attempt: 2,
                ..event("b@example.com", Status::Failed, 0)
                    .with_smtp_code(Some(550))
                    .with_detail("5.1.1 no such user")
            },
        ];
        {
            let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
            assert!(writer.ledger().is_empty());
            for e in &events {
                writer.append(e).unwrap();
            }
            assert_eq!(writer.ledger().events(), &events[..]);
        }
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("time,campaign,email,status,attempt,smtp_code,message_id,detail\n")
        );
        assert!(text
            .contains("2023-11-14T22:13:20.000Z,hrf,a@example.org,sending,1,,<1@example.org>,\n"));
        let ledger = Ledger::read(&path).unwrap();
        assert_eq!(ledger.events(), &events[..]);
        assert!(!ledger.torn_tail());

        // Reopening appends after the existing rows, with one header.
        let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
        assert_eq!(writer.ledger().events(), &events[..]);
        writer
            .append(&event("c@example.net", Status::Deferred, 5))
            .unwrap();
        drop(writer);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("time,campaign").count(), 1);
        assert_eq!(Ledger::read(&path).unwrap().events().len(), 4);
    }

    #[test]
    fn missing_file_and_header_only_are_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let ledger = Ledger::read(&path).unwrap();
        assert!(ledger.is_empty() && !ledger.torn_tail());
        assert!(!path.exists(), "reading must not create the file");

        drop(LedgerWriter::open(&path, "hrf").unwrap());
        let ledger = Ledger::read(&path).unwrap();
        assert!(ledger.is_empty() && !ledger.torn_tail());
    }

    #[test]
    fn torn_tail_is_ignored_on_read_and_repaired_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        {
            let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
            writer
                .append(&event("a@example.org", Status::Sent, 0))
                .unwrap();
        }
        let good = fs::read(&path).unwrap();
        // A complete-looking row without its newline is still torn.
        let mut torn = good.clone();
        torn.extend_from_slice(
            b"2023-11-14T22:13:21.000Z,hrf,b@example.org,sent,1,250,,2.0.0 Ok: que",
        );
        fs::write(&path, &torn).unwrap();

        let ledger = Ledger::read(&path).unwrap();
        assert!(ledger.torn_tail());
        assert_eq!(ledger.events().len(), 1);
        assert!(ledger.state("b@example.org").is_none());
        assert_eq!(fs::read(&path).unwrap(), torn, "reading must not modify");

        let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
        assert!(!writer.ledger().torn_tail());
        assert_eq!(fs::read(&path).unwrap(), good, "torn line cut off");
        writer
            .append(&event("c@example.org", Status::Deferred, 2))
            .unwrap();
        drop(writer);
        let ledger = Ledger::read(&path).unwrap();
        assert!(!ledger.torn_tail());
        let emails: Vec<_> = ledger.events().iter().map(|e| e.email.as_str()).collect();
        assert_eq!(emails, ["a@example.org", "c@example.org"]);
    }

    #[test]
    fn torn_header_and_unparsable_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();

        // A crash while writing the header of a new log.
        fs::write(&path, "time,camp").unwrap();
        assert!(Ledger::read(&path).unwrap().torn_tail());
        drop(LedgerWriter::open(&path, "hrf").unwrap());
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}\n", HEADER.join(","))
        );

        // NUL bytes at the end (what some file systems leave after a crash)
        // are debris too.
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str("2023-11-14T22:13:20.000Z,hrf,a@example.org,sent,1,,,\n");
        let good = text.clone();
        text.push_str("\0\0\0\0\n");
        fs::write(&path, &text).unwrap();
        let ledger = Ledger::read(&path).unwrap();
        assert!(ledger.torn_tail());
        assert_eq!(ledger.events().len(), 1);
        drop(LedgerWriter::open(&path, "hrf").unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), good);

        // A complete last line with a typo was written by hand: it is
        // reported, and `send` refuses rather than cut it away.
        let typo = format!("{good}2023-11-14T22:13:21Z,hrf,b@example.org,snet,1,,,phoned\n");
        fs::write(&path, &typo).unwrap();
        let err = Ledger::read(&path).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        assert!(LedgerWriter::open(&path, "hrf").is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), typo);
    }

    #[test]
    fn malformed_middle_line_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = format!(
            "{}\n\
             2023-11-14T22:13:20.000Z,hrf,a@example.org,sent,1,250,,ok\n\
             2023-11-14T22:13:21.000Z,hrf,b@example.org,posted,1,250,,ok\n\
             2023-11-14T22:13:22.000Z,hrf,c@example.org,sent,1,250,,ok\n",
            HEADER.join(",")
        );
        fs::write(&path, &text).unwrap();
        let err = Ledger::read(&path).unwrap_err();
        assert!(
            matches!(err, LedgerError::Malformed { line: 3, .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("hrf.csv:3:"), "{message}");
        assert!(message.contains("posted"), "{message}");
        assert!(message.contains("Fix or delete this line"), "{message}");

        // The writer refuses too, and leaves the file alone.
        let err = LedgerWriter::open(&path, "hrf").unwrap_err();
        assert!(matches!(err, LedgerError::Malformed { line: 3, .. }));
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_file_that_is_not_a_log_is_refused_not_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.csv");
        for text in ["email,name\na@example.org,A\n", "email,name"] {
            fs::write(&path, text).unwrap();
            let err = Ledger::read(&path).unwrap_err();
            assert!(matches!(err, LedgerError::Malformed { line: 1, .. }));
            assert!(err.to_string().contains("not a repmail delivery log"));
            assert!(LedgerWriter::open(&path, "hrf").is_err());
            assert_eq!(fs::read_to_string(&path).unwrap(), text);
        }
    }

    #[test]
    fn a_try_that_failed_at_sign_in_is_taken_back() {
        let row = |status, attempt| Event::new("hrf", "a@example.org", status, attempt);
        let ledger = Ledger::from_events([
            row(Status::Sending, 1),
            row(Status::Deferred, 1),
            // The next run: its transaction failed at sign-in.
            row(Status::Sending, 2),
            row(Status::Deferred, 1),
        ]);
        assert_eq!(ledger.attempts("a@example.org"), 1);
        assert_eq!(ledger.state("a@example.org").unwrap().0, State::Deferred);
    }

    #[test]
    fn last_row_decides_the_state() {
        let ledger = Ledger::from_events([
            event("a@example.org", Status::Sending, 0),
            event("B@Example.org", Status::Sending, 1),
            event("a@example.org", Status::Deferred, 2),
            event("b@example.org", Status::Failed, 3),
            event("a@example.org", Status::Sending, 4),
            event("a@example.org", Status::Sent, 5),
            event("c@example.org", Status::Sending, 6),
        ]);
        let (state, last) = ledger.state(" A@EXAMPLE.ORG ").unwrap();
        assert_eq!(state, State::Sent);
        assert_eq!(last.time, at(5));
        assert_eq!(ledger.state("b@example.org").unwrap().0, State::Failed);
        assert_eq!(ledger.state("c@example.org").unwrap().0, State::Unknown);
        assert!(ledger.state("d@example.org").is_none());
        assert_eq!(ledger.attempts("a@example.org"), 2);
        assert_eq!(ledger.attempts("b@example.org"), 1);
        assert_eq!(ledger.attempts("d@example.org"), 0);
        let latest: Vec<_> = ledger
            .latest()
            .map(|e| (e.email.as_str(), e.status))
            .collect();
        assert_eq!(
            latest,
            [
                ("a@example.org", Status::Sent),
                ("b@example.org", Status::Failed),
                ("c@example.org", Status::Sending),
            ]
        );
    }

    #[test]
    fn second_writer_is_locked_out_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let first = LedgerWriter::open(&path, "hrf").unwrap();
        let err = LedgerWriter::open(&path, "hrf").unwrap_err();
        assert!(matches!(err, LedgerError::Locked { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("hrf.csv"), "{message}");
        assert!(message.contains("another `repmail send`"), "{message}");
        // Reading still works while a send runs.
        assert!(Ledger::read(&path).unwrap().is_empty());
        drop(first);
        LedgerWriter::open(&path, "hrf").unwrap();
    }

    #[test]
    fn detail_with_commas_quotes_and_newlines_stays_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let detail = "550-5.1.1 \"no such user\", sorry\r\n550 5.1.1 see https://example.org/?a=1,b=2\x00end";
        let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
        writer
            .append(
                &event("a@example.org", Status::Failed, 0)
                    .with_smtp_code(Some(550))
                    .with_detail(detail),
            )
            .unwrap();
        drop(writer);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        let ledger = Ledger::read(&path).unwrap();
        assert_eq!(
            ledger.events()[0].detail,
            "550-5.1.1 \"no such user\", sorry 550 5.1.1 see https://example.org/?a=1,b=2 end"
        );
        assert_eq!(ledger.events()[0].smtp_code, Some(550));
    }

    #[test]
    fn sent_since_counts_only_sent_rows_in_the_window() {
        let now = at(100_000);
        let day = Duration::hours(24);
        let ledger = Ledger::from_events([
            event("old@example.org", Status::Sent, 100_000 - 86_401),
            event("edge@example.org", Status::Sent, 100_000 - 86_400),
            event("a@example.org", Status::Sending, 99_000),
            event("a@example.org", Status::Sent, 99_001),
            event("b@example.org", Status::Deferred, 99_002),
            event("c@example.org", Status::Failed, 99_003),
            event("d@example.org", Status::Sent, 98_000),
        ]);
        let times = ledger.sent_since(now - day);
        assert_eq!(times, [at(100_000 - 86_400), at(98_000), at(99_001)]);
        assert!(ledger.sent_since(now).is_empty());
    }

    #[test]
    fn status_words() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(" Sent ".parse::<Status>(), Ok(Status::Sent));
        assert!("posted".parse::<Status>().is_err());
    }

    #[test]
    fn rows_are_quoted_exactly_as_the_csv_crate_quotes_them() {
        let fields = [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            " spaced ",
            "line\nbreak",
            "cr\rhere",
            "#hash",
            "\u{641}\u{627}\u{631}\u{633}\u{6cc}",
            "\"",
        ];
        assert_written_as_the_csv_crate_would(&fields);
    }

    /// `csv_line` writes `fields` byte for byte as the csv crate does.
    fn assert_written_as_the_csv_crate_would(fields: &[&str]) {
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        csv.write_record(fields).unwrap();
        assert_eq!(
            String::from_utf8(csv_line(fields.iter().copied())).unwrap(),
            String::from_utf8(csv.into_inner().unwrap()).unwrap()
        );
    }

    #[test]
    fn a_row_longer_than_the_first_buffer_is_written_whole() {
        // A server's reply in `detail` can be long and quoted throughout.
        let long = "say \"no\", again; ".repeat(60);
        let fields = ["2026-12-05T10:00:00.000Z", "hrf", "a@example.org", &long];
        assert_written_as_the_csv_crate_would(&fields);
    }

    #[test]
    fn debris_that_is_not_even_text_is_torn_only_at_the_end_after_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let header = format!("{}\n", HEADER.join(","));
        let row = "2023-11-14T22:13:20.000Z,hrf,a@example.org,sent,1,,,\n";
        let debris: &[u8] = b"\0\0\xff\xfe\0\n";
        let write = |parts: &[&[u8]]| fs::write(&path, parts.concat()).unwrap();

        // At the end, after the header: what a crash left. Ignored.
        write(&[header.as_bytes(), row.as_bytes(), debris]);
        let ledger = Ledger::read(&path).unwrap();
        assert!(ledger.torn_tail());
        assert_eq!(ledger.events().len(), 1);
        // In the middle: the file was damaged some other way. Refused.
        write(&[header.as_bytes(), debris, row.as_bytes()]);
        let err = Ledger::read(&path).unwrap_err();
        assert!(
            matches!(err, LedgerError::Malformed { line: 2, .. }),
            "{err:?}"
        );
        // Before any header: not a log at all. Refused, not "repaired".
        write(&[debris]);
        assert!(Ledger::read(&path).is_err());
    }

    #[test]
    fn a_log_saved_by_a_spreadsheet_with_a_byte_order_mark_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let header = HEADER.join(",");
        let row = "2026-12-01T10:00:00.000Z,hrf,a@example.org,sent,1,250,<1@example.org>,ok";
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("\u{feff}{header}\r\n{row}\r\n")).unwrap();
        let ledger = Ledger::read(&path).unwrap();
        assert_eq!(
            ledger.state("a@example.org").map(|s| s.0),
            Some(State::Sent)
        );
        // Its header torn by a crash is still a torn header.
        fs::write(&path, "\u{feff}time,camp").unwrap();
        assert!(Ledger::read(&path).unwrap().torn_tail());
    }

    #[test]
    fn state_words_as_log_and_export_show_them() {
        let words = [
            (State::Sent, "sent"),
            (State::Deferred, "deferred"),
            (State::Failed, "failed"),
            (State::Bounced, "bounced"),
            (State::Unknown, "unknown"),
        ];
        for (state, word) in words {
            assert_eq!(
                (state.as_str(), state.to_string()),
                (word, word.to_string())
            );
        }
    }

    #[test]
    fn a_log_with_rows_is_not_empty_and_an_unreadable_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        LedgerWriter::open(&path, "hrf")
            .unwrap()
            .append(&event("a@example.org", Status::Sending, 0))
            .unwrap();
        assert!(!Ledger::read(&path).unwrap().is_empty());
        // Only a missing file is an empty log; a folder in its place is not.
        let err = Ledger::read(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("cannot read the delivery log"),
            "{err}"
        );
    }

    #[test]
    fn writer_live_view_matches_what_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
        // Sub-millisecond time and a multi-line detail get normalized.
        let e = Event::new(
            writer.campaign().to_string(),
            " a@example.org",
            Status::Deferred,
            1,
        )
        .with_smtp_code(Some(451))
        .with_detail("4.7.1 try\nlater");
        writer.append(&e).unwrap();
        let live = writer.ledger().events().to_vec();
        drop(writer);
        assert_eq!(Ledger::read(&path).unwrap().events(), &live[..]);
        assert_eq!(live[0].detail, "4.7.1 try later");
    }

    #[test]
    fn a_bounce_matched_by_address_only_only_ever_stops_letters() {
        // Issue 23: whatever state came before (sent, deferred by a soft
        // bounce, a confirmed hard bounce), a bounce without the letter's
        // Message-ID leaves the recipient sent: no flag resends it.
        let row = |status: Status, detail: &str| {
            Event::new("hrf", "a@example.org", status, 1).with_detail(detail)
        };
        let by_address = "5.1.1 user unknown, matched by address only: 550 no";
        for before in [
            row(Status::Sent, "250 Ok"),
            row(Status::Bounced, "4.2.2 mailbox full: 452"),
            row(Status::Bounced, "5.1.1 user unknown: 550"),
            row(Status::Sending, ""),
        ] {
            let ledger = Ledger::from_events([
                row(Status::Sent, "250 Ok"),
                before,
                row(Status::Bounced, by_address),
            ]);
            assert_eq!(ledger.state("a@example.org").unwrap().0, State::Sent);
        }
        assert!(is_by_address_only(by_address));
        assert!(!is_by_address_only("5.1.1 user unknown: 550 no"));
    }

    #[test]
    fn a_form_sent_row_is_reached_never_sent_and_costs_no_try() {
        // `repmail forms --done` (issue 24, item 7): keyed by the form.
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(&dir);
        let form = "https://senator.example.org/Contact";
        let mut writer = LedgerWriter::open(&path, "hrf").unwrap();
        writer
            .append(&event("a@example.org", Status::Sent, 0))
            .unwrap();
        writer
            .append(&Event::new("hrf", form, Status::FormSent, 0).with_detail("line 3"))
            .unwrap();
        drop(writer);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(",hrf,https://senator.example.org/Contact,form_sent,0,,,line 3\n"),
            "{text}"
        );
        let ledger = Ledger::read(&path).unwrap();
        let key = "https://senator.example.org/contact";
        assert_eq!(ledger.state(key).unwrap().0, State::FormSent);
        assert_eq!(ledger.attempts(key), 0);
        // Only `sent` rows count towards the daily cap.
        assert_eq!(ledger.sent_since(at(-1)), [at(0)]);
        let digest = Digest::read(&path, at(-1)).unwrap();
        assert_eq!(digest.state_of(key), Some(State::FormSent));
        assert_eq!(digest.sent(), [at(0)]);
    }

    #[test]
    fn bounces_decide_and_answers_do_not() {
        let row = |email: &str, status: Status, detail: &str| {
            Event::new("hrf", email, status, 1).with_detail(detail)
        };
        let ledger = Ledger::from_events([
            row("a@example.org", Status::Sent, "250 Ok"),
            row(
                "a@example.org",
                Status::Bounced,
                "5.1.1 user unknown: 550 no",
            ),
            row("a@example.org", Status::Replied, "from a@example.org"),
            row("b@example.org", Status::Sent, "250 Ok"),
            row("b@example.org", Status::Bounced, "4.2.2 mailbox full: 452"),
            row("c@example.org", Status::Sent, "250 Ok"),
            row("c@example.org", Status::AutoReplied, "from c"),
        ]);
        assert_eq!(ledger.state("a@example.org").unwrap().0, State::Bounced);
        assert_eq!(ledger.state("b@example.org").unwrap().0, State::Deferred);
        assert_eq!(ledger.state("c@example.org").unwrap().0, State::Sent);
        assert!(ledger.answer("a@example.org", Status::Replied).is_some());
        assert!(ledger.answer("c@example.org", Status::Replied).is_none());
        assert!(ledger
            .answer("c@example.org", Status::AutoReplied)
            .is_some());
        assert_eq!(ledger.latest().count(), 3);
        assert!(is_hard_bounce(" 5.7.1 refused") && !is_hard_bounce("4.4.7 expired"));
        assert!(
            !is_hard_bounce("edited by hand"),
            "unknown details are retried"
        );
    }
}
