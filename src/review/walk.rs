//! The current view of a review built by walking the files instead of
//! holding them (issue 23: `log` over a million recipients held every
//! event, every contact and every row, 1.7 GB). What is kept per recipient
//! is a fingerprint of its address, its state and tries, and where in the
//! log its deciding row and its answers are; each printed row reads those
//! rows again and the contacts file once more. [`build`](super::build)
//! stays the reference (and what the HTML page and the history view use):
//! the tests below hold the two to the same report.
//!
//! The walks: the log once (states), the contacts and the log-only
//! recipients once (who is selected, the counts), the log again (tries
//! and times of the selected), then the rows: once per reading of them
//! (the table reads them twice, to measure its columns first).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::RandomState;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::Campaign;
use crate::contacts::{ContactReader, ContactRow};
use crate::ledger::{for_each_row, recipient_key, LedgerError, RowReader, Status};
use crate::problem::Diagnostic;

use super::contacts::Namer;

mod book;
mod rows;
use super::{About, Counts, Filter, Review, Standing, Summary, View};
use book::{Book, NONE};
pub use rows::Exported;

/// Where the campaign's contacts are read from, as often as needed.
pub struct ContactSource<'a> {
    open: Box<dyn Fn() -> Result<ContactReader, Diagnostic> + 'a>,
    namer: Namer,
}

impl<'a> ContactSource<'a> {
    /// The campaign's contacts file, its rows named by `[contacts] name`.
    /// Fails as [`super::load_contacts`] does: only when the file cannot be
    /// opened at all.
    pub fn of(campaign: &'a Campaign) -> Result<ContactSource<'a>, Diagnostic> {
        ContactReader::open(&campaign.contacts)?;
        Ok(ContactSource {
            open: Box::new(|| ContactReader::open(&campaign.contacts)),
            namer: Namer::new(campaign),
        })
    }

    #[cfg(test)]
    fn from_fn(open: impl Fn() -> Result<ContactReader, Diagnostic> + 'a, namer: Namer) -> Self {
        ContactSource {
            open: Box::new(open),
            namer,
        }
    }
}

/// One recipient's place in the review, made as it is walked past.
struct Entry {
    key: String,
    hash: u64,
    email: String,
    name: String,
    outcome: Standing,
    last: Option<u64>,
    office: Option<(u64, Option<String>)>,
    /// Its row of the contacts, as read; empty for one only the log knows.
    values: Vec<String>,
}

/// A review of the current view, walked from the files; rows are
/// produced on demand through [`Rows`].
pub struct Walk<'a> {
    log: PathBuf,
    contacts: Option<ContactSource<'a>>,
    book: RefCell<Book>,
    filter: Filter,
    wanted: HashSet<String>,
    first_campaign: Option<String>,
    events: usize,
    torn_tail: bool,
    skipped: usize,
    /// Recipients selected by the last [`Walk::review`]: its rows.
    selected: usize,
}

impl<'a> Walk<'a> {
    /// Reads the log at `log` once (as `Ledger::read` would: same errors);
    /// the review is of the log alone until [`Walk::join`] adds contacts.
    pub fn read(log: &Path) -> Result<Walk<'a>, LedgerError> {
        let mut book = Book {
            slots: HashMap::new(),
            answers: HashMap::new(),
            keys: RandomState::new(),
            rows: RowReader::new(log),
            walk: 0,
            too_large: false,
        };
        let mut first_campaign = None;
        let mut events = 0;
        let walked = for_each_row(log, |event, at| {
            events += 1;
            book.push(&event, at);
            first_campaign.get_or_insert(event.campaign);
        })?;
        if book.too_large {
            return Err(LedgerError::Malformed {
                path: log.to_path_buf(),
                line: events,
                message: "the log is a tebibyte or larger, more than `repmail log` can \
                          index; review a copy of its last rows"
                    .into(),
            });
        }
        Ok(Walk {
            log: log.to_path_buf(),
            contacts: None,
            book: RefCell::new(book),
            filter: Filter::default(),
            wanted: HashSet::new(),
            first_campaign,
            events,
            torn_tail: walked.torn_tail,
            skipped: 0,
            selected: 0,
        })
    }

    /// The campaign named by the log's first row.
    pub fn first_campaign(&self) -> Option<&str> {
        self.first_campaign.as_deref()
    }

    /// Whether the log has no events.
    pub fn log_is_empty(&self) -> bool {
        self.events == 0
    }

    /// Whether the log's last line was torn and left out.
    pub fn torn_tail(&self) -> bool {
        self.torn_tail
    }

    /// Contacts rows left out (an invalid or duplicate address, a broken
    /// row), known after [`Walk::review`].
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Joins the campaign's contacts to the review.
    pub fn join(&mut self, contacts: ContactSource<'a>) {
        self.contacts = Some(contacts);
    }

    /// Whether the contacts are being read.
    pub fn with_contacts(&self) -> bool {
        self.contacts.is_some()
    }

    /// Selects the recipients `filter` names and sums them up: a report
    /// whose rows are left empty (read them through [`Rows`] on `self`).
    pub fn review(&mut self, filter: &Filter, about: About) -> io::Result<Review> {
        self.filter = filter.clone();
        self.wanted = filter.recipients.iter().map(|e| recipient_key(e)).collect();
        let mut summary = Summary::default();
        let mut domains: HashMap<String, Counts> = HashMap::new();
        self.skipped = self.entries(&mut |book, entry, selected| {
            if !selected {
                return Ok(());
            }
            book.slots.entry(entry.hash).or_default().select();
            summary.counts.add(entry.outcome);
            summary.replied += usize::from(book.answer(entry.hash, Status::Replied).is_some());
            summary.auto_replied +=
                usize::from(book.answer(entry.hash, Status::AutoReplied).is_some());
            if entry.office.is_none() && entry.outcome.has_domain() {
                // No address, no domain.
                domains
                    .entry(super::build::domain(&entry.key).to_string())
                    .or_default()
                    .add(entry.outcome);
            }
            Ok(())
        })?;
        self.selected = summary.counts.total();
        summary.domains = domains.into_iter().collect();
        summary
            .domains
            .sort_by(|(a, ca), (b, cb)| cb.total().cmp(&ca.total()).then_with(|| a.cmp(b)));

        // The events of the selected recipients in the window.
        let book = self.book.get_mut();
        let since = filter.since;
        // Copies in Sent count once per letter, as the held build counts
        // them; a letter's Message-ID kept as a fingerprint, not a string.
        let ids = std::hash::RandomState::new();
        let mut copied = HashSet::new();
        for_each_row(&self.log, |event, _| {
            if since.is_some_and(|since| event.time < since) {
                return;
            }
            let selected = book
                .slots
                .get(&book.hash(&event.key()))
                .is_some_and(|s| s.selected());
            if !selected {
                return;
            }
            summary.attempts += usize::from(event.status == Status::Sending);
            if event.status == Status::Copied {
                copied.insert(std::hash::BuildHasher::hash_one(&ids, &event.message_id));
            }
            summary.first = Some(summary.first.map_or(event.time, |t| t.min(event.time)));
            summary.last = Some(summary.last.map_or(event.time, |t| t.max(event.time)));
        })
        .map_err(io::Error::other)?;
        summary.copied = copied.len();
        Ok(Review {
            about,
            view: View::Current,
            with_contacts: self.contacts.is_some(),
            summary,
            rows: Vec::new(),
            activity: Vec::new(),
        })
    }

    /// Walks every recipient in review order — contacts order, then those
    /// only the log knows in the order it first saw them — telling `f`
    /// whether the filter selects each. Returns the contacts rows skipped.
    fn entries(
        &self,
        f: &mut dyn FnMut(&mut Book, &Entry, bool) -> io::Result<()>,
    ) -> io::Result<usize> {
        let mut book = self.book.borrow_mut();
        let book = &mut *book;
        let mut skipped = 0;
        if let Some(source) = &self.contacts {
            let reader = (source.open)().map_err(|d| io::Error::other(d.to_string()))?;
            for row in reader {
                let entry = match row {
                    ContactRow::Recipient(r) => {
                        let key = r.key();
                        let hash = book.hash(&key);
                        let slot = book.slots.get_mut(&hash);
                        let (outcome, last) = match slot {
                            Some(slot) => {
                                slot.set_in_contacts();
                                match (slot.last(), slot.state()) {
                                    (NONE, _) | (_, None) => (Standing::Never, None),
                                    (at, Some(state)) => (Standing::from(state), Some(at)),
                                }
                            }
                            None => (Standing::Never, None),
                        };
                        Entry {
                            key,
                            hash,
                            email: r.email.to_string(),
                            name: source.namer.name(r.variables()),
                            outcome,
                            last,
                            office: None,
                            values: r.values,
                        }
                    }
                    ContactRow::Office(o) => {
                        let name = source.namer.name(o.variables());
                        let recorded = super::build::office_outcome(o.form.as_deref(), |k| {
                            let hash = book.hash(k);
                            let slot = book.slots.get_mut(&hash)?;
                            let found = (slot.state()?, slot.last());
                            // Its `form_sent` row is this office's.
                            if found.0 == crate::ledger::State::FormSent {
                                slot.set_in_contacts();
                            }
                            Some(found)
                        });
                        let (key, outcome, last) = match recorded {
                            (Some(key), Some((_, at))) => (key, Standing::FormSent, Some(at)),
                            // No address: no key any `--recipient` can match.
                            _ if o.form.is_some() => (String::new(), Standing::Form, None),
                            _ => (String::new(), Standing::Unreachable, None),
                        };
                        Entry {
                            hash: book.hash(&key),
                            key,
                            email: String::new(),
                            name: if name.is_empty() {
                                format!("contacts line {}", o.line)
                            } else {
                                name
                            },
                            outcome,
                            last,
                            office: Some((o.line, o.form.clone())),
                            values: o.values,
                        }
                    }
                    ContactRow::Problem(_) => {
                        skipped += 1;
                        continue;
                    }
                };
                let selected = self.selects(book, &entry)?;
                f(book, &entry, selected)?;
            }
        }
        // Those only the log knows, at their first row, as of their last.
        book.walk = book.walk.wrapping_add(1);
        let walk = book.walk;
        let mut firsts = Vec::new();
        let mut failed = None;
        for_each_row(&self.log, |event, _| {
            let hash = book.hash(&event.key());
            if let Some(slot) = book.slots.get_mut(&hash) {
                if !slot.in_contacts() && slot.last() != NONE && slot.list(walk) {
                    firsts.push(hash);
                }
            }
            // Flushed every so often so the list stays small.
            if firsts.len() >= 4096 && failed.is_none() {
                failed = self.log_only(book, &mut firsts, f).err();
            }
        })
        .map_err(io::Error::other)?;
        if let Some(e) = failed {
            return Err(e);
        }
        self.log_only(book, &mut firsts, f)?;
        Ok(skipped)
    }

    /// Hands `f` the recipients known only to the log, in `hashes`.
    fn log_only(
        &self,
        book: &mut Book,
        hashes: &mut Vec<u64>,
        f: &mut dyn FnMut(&mut Book, &Entry, bool) -> io::Result<()>,
    ) -> io::Result<()> {
        for hash in hashes.drain(..) {
            let slot = book.slots[&hash];
            let event = book.rows.read(slot.last())?;
            let entry = Entry {
                key: event.key(),
                hash,
                email: event.email.trim().to_string(),
                name: String::new(),
                outcome: slot.state().map_or(Standing::Unknown, Standing::from),
                last: Some(slot.last()),
                office: None,
                values: Vec::new(),
            };
            let selected = self.selects(book, &entry)?;
            f(book, &entry, selected)?;
        }
        Ok(())
    }

    /// As `build`'s `select`.
    fn selects(&self, book: &mut Book, e: &Entry) -> io::Result<bool> {
        let filter = &self.filter;
        let by_outcome = filter.statuses.contains(&e.outcome);
        let by_answer = filter
            .answers
            .iter()
            .any(|&kind| book.answer(e.hash, kind).is_some());
        if !((filter.statuses.is_empty() && filter.answers.is_empty()) || by_outcome || by_answer) {
            return Ok(false);
        }
        if !self.wanted.is_empty() && !self.wanted.contains(&e.key) {
            return Ok(false);
        }
        if filter.unanswered_before.is_none() && filter.since.is_none() {
            return Ok(true);
        }
        let Some(at) = e.last else {
            // Never attempted: nothing happened to them since then.
            return Ok(false);
        };
        let time = book.rows.read(at)?.time;
        let unanswered = |before: DateTime<Utc>| {
            e.outcome == Standing::Sent
                && time < before
                && book.answer(e.hash, Status::Replied).is_none()
        };
        Ok(filter.unanswered_before.is_none_or(unanswered)
            && filter.since.is_none_or(|since| time >= since))
    }
}

#[cfg(test)]
mod tests;
