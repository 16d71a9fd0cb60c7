//! The delivery log's file format: a line read into an event, a log's
//! bytes scanned into a [`Ledger`] (a torn last line left out, any other
//! unreadable line an error naming it), an event written as a line.

use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Event, Ledger, LedgerError, Status, HEADER};

/// The result of reading a log's bytes.
pub(super) struct Scan {
    pub(super) ledger: Ledger,
    pub(super) has_header: bool,
    /// Bytes up to the end of the last good line: what survives a repair.
    pub(super) valid_len: usize,
}

/// Parses a whole log. Shared by the reader and the writer so that the
/// writer cuts off exactly what the reader ignores, no more.
pub(super) fn scan(path: &Path, bytes: &[u8]) -> Result<Scan, LedgerError> {
    let mut ledger = Ledger::default();
    let lines = scan_lines(path, bytes, |event, _| ledger.push(event))?;
    ledger.torn_tail = lines.torn_tail;
    Ok(Scan {
        ledger,
        has_header: lines.has_header,
        valid_len: lines.valid_len,
    })
}

/// What reading a log found besides its events.
pub(super) struct Lines {
    pub(super) has_header: bool,
    /// Bytes up to the end of the last good line.
    pub(super) valid_len: usize,
    /// The last line was torn and is left out.
    pub(super) torn_tail: bool,
}

/// Reads a log line by line, handing each event to `sink`: the one reader
/// of the format, for a log in memory (the writer, which may repair it)
/// and for one streamed from disk ([`Digest`], which never holds it).
/// The sink also gets where the event's line starts in the file, so a
/// reader that keeps only that can read the row again ([`RowReader`]).
pub(super) fn scan_lines(
    path: &Path,
    mut input: impl io::BufRead,
    mut sink: impl FnMut(Event, u64),
) -> Result<Lines, LedgerError> {
    let mut out = Lines {
        has_header: false,
        valid_len: 0,
        torn_tail: false,
    };
    let malformed = |line: usize, message: String| LedgerError::Malformed {
        path: path.to_path_buf(),
        line,
        message,
    };
    let read = |e| LedgerError::io("read", path, e);
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).map_err(read)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let start = pos as u64;
        let end = pos + n;
        pos = end;
        let terminated = buf.last() == Some(&b'\n');
        let raw = if terminated { &buf[..n - 1] } else { &buf[..] };
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if line_no == 1 {
            raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw)
        } else {
            raw
        };

        if !terminated {
            // Every row is written with its `\n` last, so a line without one
            // never finished: ignore it even if it happens to parse (a
            // cut-off reply still parses). Before the header, only accept
            // what a torn header can look like, so that a log setting
            // pointing at some other file is reported, not "repaired" away.
            if !out.has_header && !is_torn_header(raw) {
                return Err(malformed(line_no, not_a_log_message()));
            }
            out.torn_tail = true;
            break;
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            out.valid_len = end;
            continue;
        }
        // A crash leaves a line without its `\n` (handled above) or, on
        // some file systems, a tail of NUL bytes. A complete line that does
        // not parse was written by hand: report it rather than cut it, or a
        // mistyped row would silently vanish on the next `send`.
        let crash_debris = raw.contains(&0) && input.fill_buf().map_err(read)?.is_empty();
        let fields = match parse_line(raw) {
            Ok(fields) => fields,
            Err(_) if crash_debris && out.has_header => {
                out.torn_tail = true;
                break;
            }
            Err(message) => return Err(malformed(line_no, fix_message(&message))),
        };
        if !out.has_header {
            if fields.iter().map(|f| f.trim()).eq(HEADER) {
                out.has_header = true;
                out.valid_len = end;
                continue;
            }
            return Err(malformed(line_no, not_a_log_message()));
        }
        match parse_event(&fields) {
            Ok(event) => {
                sink(event, start);
                out.valid_len = end;
            }
            Err(_) if crash_debris => {
                out.torn_tail = true;
                break;
            }
            Err(message) => return Err(malformed(line_no, fix_message(&message))),
        }
    }
    Ok(out)
}

pub(super) fn not_a_log_message() -> String {
    format!(
        "this is not a repmail delivery log: its first line should be `{}`. \
         Check the `log` setting in the campaign file",
        HEADER.join(",")
    )
}

pub(super) fn fix_message(problem: &str) -> String {
    format!(
        "unreadable row in the delivery log: {problem}. Fix or delete this line \
         (keep a copy of the file first), then run again"
    )
}

/// A fragment a crash while writing the header can leave behind: a prefix
/// of the header, or zero bytes (some file systems zero-fill a file whose
/// size reached the disk before its data).
pub(super) fn is_torn_header(raw: &[u8]) -> bool {
    let header = HEADER.join(",");
    header.as_bytes().starts_with(raw) || raw.iter().all(|&b| b == 0)
}

/// Splits one line into CSV fields.
pub(super) fn parse_line(raw: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the line is not valid UTF-8".to_string())?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err("the line is empty".to_string()),
        Err(e) => return Err(format!("not a CSV row ({e})")),
    }
    // csv also ends a row at a bare CR, which would silently drop the rest
    // of the line: insist on exactly one row.
    if reader
        .read_record(&mut csv::StringRecord::new())
        .unwrap_or(true)
    {
        return Err("the line holds a carriage return in the middle".to_string());
    }
    Ok(record.iter().map(str::to_string).collect())
}

/// Turns the fields of a row into an event.
pub(super) fn parse_event(fields: &[String]) -> Result<Event, String> {
    let [time, campaign, email, status, attempt, smtp_code, message_id, detail] = fields else {
        return Err(format!(
            "expected {} fields ({}), found {}",
            HEADER.len(),
            HEADER.join(","),
            fields.len()
        ));
    };
    let time = DateTime::parse_from_rfc3339(time.trim())
        .map_err(|e| format!("time `{time}` is not an RFC 3339 time ({e})"))?
        .with_timezone(&Utc);
    let status = status.parse::<Status>().map_err(|e| e.to_string())?;
    let attempt = attempt
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("attempt `{attempt}` is not a whole number"))?;
    let smtp_code = match smtp_code.trim() {
        "" => None,
        code => Some(
            code.parse::<u16>()
                .map_err(|_| format!("smtp_code `{code}` is not a reply code such as 250"))?,
        ),
    };
    Ok(Event {
        time,
        campaign: campaign.clone(),
        email: email.clone(),
        status,
        attempt,
        smtp_code,
        message_id: message_id.clone(),
        detail: detail.clone(),
    })
}

/// One CSV line (with its `\n`) for these fields: RFC 4180 quoting, only
/// where a field needs it (a comma, a quote, a line break), as the `csv`
/// crate writes it. By hand because a `csv::Writer` per row costs more
/// than the rest of the row (it was a tenth of the send loop's time).
/// `csv-core`'s writer (no buffer of its own) was tried in its place on
/// 2026-12-05 (issue 22) and measured slower: callgrind over the send
/// benchmark at concurrency 4, 1,000 letters, counted 16.3 million
/// instructions in `append_uncommitted` with this function and 18.1
/// million with `csv-core` (a writer built per row, its output grown as
/// it asks), about 900 more per row for the same bytes.
pub(super) fn csv_line<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut line = Vec::with_capacity(160);
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        if field
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        {
            line.push(b'"');
            for b in field.bytes() {
                if b == b'"' {
                    line.push(b'"');
                }
                line.push(b);
            }
            line.push(b'"');
        } else {
            line.extend_from_slice(field.as_bytes());
        }
    }
    line.push(b'\n');
    line
}
