//! Bounce recognition over a folder of real bounce mail (for example the
//! set-of-emails corpus of the Sisimai project, github.com/sisimai/set-of-emails):
//! how many messages the inbox classifies as a bounce, and how many it
//! records as bounced over a log of the letters those reports return.
//!
//! ```sh
//! cargo run --example inbox_corpus -- DIR [LOG.csv]
//! ```
//!
//! The log is built from the reports themselves, as the sender's own log
//! would hold it: one `sending` + `sent` row per returned letter, with the
//! returned copy's `Message-ID` and `To:` (or, when the report returns no
//! copy, the recipient it names, and no Message-ID). With `LOG.csv` the log
//! is also written there, so `repmail inbox --from DIR` can be run over it
//! on a throwaway campaign. Files named `arf-*` (complaints) and `rfc3834-*`
//! (automatic answers) are counted apart: they are not bounces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use repmail::inbox::{classify, Class, Found, Mail, Matcher};
use repmail::ledger::{Event, Ledger, Status, HEADER};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: inbox_corpus DIR [LOG.csv]"));
    let log = args.next().map(PathBuf::from);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read DIR")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();

    let mut rows = Vec::new();
    let mut letters = Vec::new();
    let mut classes: BTreeMap<(bool, &str), usize> = BTreeMap::new();
    for path in &files {
        let raw = std::fs::read(path).expect("read a message");
        let mail = Mail::parse(&raw);
        let class = classify(&mail);
        *classes
            .entry((is_bounce_file(path), name_of(&class)))
            .or_default() += 1;
        if std::env::var_os("CORPUS_LIST").is_some() {
            println!("{}\t{}", path.display(), name_of(&class));
        }
        let named = match &class {
            Class::Bounce { failures, .. } => failures.iter().find_map(|f| f.recipient.clone()),
            _ => None,
        };
        let Some(email) = returned_to(&mail.returned).or(named) else {
            continue;
        };
        let id = mail.original_ids().into_iter().next().unwrap_or_default();
        let letter: Vec<Event> = [Status::Sending, Status::Sent]
            .into_iter()
            .map(|status| Event::new("corpus", &email, status, 1).with_message_id(&id))
            .collect();
        rows.extend(letter.iter().cloned());
        letters.push((path.clone(), letter));
    }

    let (mut recorded, mut hard, mut soft, mut by_id) = (0, 0, 0, 0);
    let mut not_recorded: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, letter) in &letters {
        if !is_bounce_file(path) {
            continue;
        }
        // Each report against a log of its own letter: the corpus reuses
        // a few addresses across many unrelated reports, which one shared
        // log would turn into reports about earlier letters.
        let mut matcher = Matcher::new(&Ledger::from_events(letter.clone()), "corpus");
        let raw = std::fs::read(path).expect("read a message");
        let found = matcher.process(&raw);
        if let Found::NotUnderstood(why) = &found {
            *not_recorded.entry(*why).or_default() += 1;
        }
        if let Found::Record(events) = found {
            let bounced: Vec<_> = events
                .iter()
                .filter(|e| e.status == Status::Bounced)
                .collect();
            if !bounced.is_empty() {
                recorded += 1;
            }
            for e in bounced {
                if repmail::ledger::is_hard_bounce(&e.detail) {
                    hard += 1;
                } else {
                    soft += 1;
                }
                by_id += usize::from(!e.detail.contains("by address only"));
            }
        }
    }

    let bounce_files = files.iter().filter(|p| is_bounce_file(p)).count();
    println!("messages: {} ({bounce_files} bounce files)", files.len());
    for ((bounce, class), n) in &classes {
        let kind = if *bounce {
            "bounce file"
        } else {
            "arf/rfc3834"
        };
        println!("  {kind:<12} classified {class:<10} {n}");
    }
    println!(
        "bounce files recorded as bounced: {recorded} ({hard} hard rows, {soft} soft rows, \
         {by_id} rows not marked \"by address only\")"
    );
    for (why, n) in &not_recorded {
        println!("  not recorded ({n}): {why}");
    }
    if let Some(log) = log {
        write_log(&log, &rows);
        println!(
            "log of {} sent letters written to {}",
            rows.len() / 2,
            log.display()
        );
    }
}

fn is_bounce_file(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    !name.starts_with("arf-") && !name.starts_with("rfc3834-")
}

fn name_of(class: &Class) -> &'static str {
    match class {
        Class::Bounce { .. } => "bounce",
        Class::Delayed => "delayed",
        Class::Complaint => "complaint",
        Class::AutoReply => "autoreply",
        Class::Message => "message",
        Class::Unrelated => "unrelated",
    }
}

/// The first address of the returned copy's `To:` header.
fn returned_to(returned: &str) -> Option<String> {
    let line = returned
        .lines()
        .find(|l| l.len() > 3 && l[..3].eq_ignore_ascii_case("to:"))?;
    let value = &line[3..];
    let addr = match value.find('<') {
        Some(i) => value[i + 1..].split('>').next().unwrap_or_default(),
        None => value.split([',', ' ']).find(|w| w.contains('@'))?,
    };
    let addr = addr.trim().to_lowercase();
    (addr.contains('@') && !addr.contains(char::is_whitespace)).then_some(addr)
}

fn write_log(path: &Path, rows: &[Event]) {
    let mut w = csv::Writer::from_path(path).expect("write the log");
    w.write_record(HEADER).expect("write");
    for e in rows {
        w.write_record([
            e.time
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .as_str(),
            &e.campaign,
            &e.email,
            e.status.as_str(),
            &e.attempt.to_string(),
            "",
            &e.message_id,
            "",
        ])
        .expect("write");
    }
    w.flush().expect("flush");
}
