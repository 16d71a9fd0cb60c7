//! Building a [`Review`]: the ledger's state per recipient, joined with the
//! contacts (which add names, the recipients never attempted and the
//! offices without an address), narrowed by the [`Filter`].
//!
//! Offices without an address are derived from the contacts, not written
//! to the ledger: nothing is ever sent to them, and the contacts say best
//! whether an office has a form today (see docs/design.md). The one row
//! the ledger holds about such an office is `form_sent`, keyed by its
//! form's address ([`office_outcome`]): it was reached there.

use std::collections::{HashMap, HashSet};

use crate::ledger::{recipient_key, Event, Ledger, State, Status};

use super::{About, ContactList, Counts, Filter, Review, Row, Standing, Summary, View};

/// One recipient's place in the review before filtering.
struct Entry<'a> {
    key: String,
    email: String,
    name: String,
    outcome: Standing,
    /// The row that decides the state; `None` when never attempted.
    last: Option<&'a Event>,
    /// An office without an address: its contacts line and form.
    office: Option<(u64, Option<String>)>,
}

/// Builds the review of `ledger`, joined with `contacts` when given.
///
/// Recipients come in contacts order, then those the ledger knows but the
/// contacts no longer list, in the order the ledger first saw them.
pub fn build(
    ledger: &Ledger,
    contacts: Option<&ContactList>,
    filter: &Filter,
    view: View,
    about: About,
) -> Review {
    let entries = select(ledger, entries(ledger, contacts), filter);
    let selected: HashSet<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    let names: HashMap<&str, &str> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.name.as_str()))
        .collect();
    // The events in the window, of the selected recipients only, kept with
    // their key so each is lower-cased once.
    let events: Vec<(String, &Event)> = ledger
        .events()
        .iter()
        .filter(|e| filter.since.is_none_or(|since| e.time >= since))
        .map(|e| (e.key(), e))
        .filter(|(key, _)| selected.contains(key.as_str()))
        .collect();

    let mut summary = Summary::default();
    let mut domains: HashMap<String, Counts> = HashMap::new();
    for entry in &entries {
        summary.counts.add(entry.outcome);
        if entry.office.is_some() || !entry.outcome.has_domain() {
            continue; // no address, no domain
        }
        domains
            .entry(domain(&entry.key).to_string())
            .or_default()
            .add(entry.outcome);
    }
    summary.domains = domains.into_iter().collect();
    summary
        .domains
        .sort_by(|(a, ca), (b, cb)| cb.total().cmp(&ca.total()).then_with(|| a.cmp(b)));
    summary.attempts = events
        .iter()
        .filter(|(_, e)| e.status == Status::Sending)
        .count();
    summary.replied = entries
        .iter()
        .filter(|e| ledger.answer(&e.key, Status::Replied).is_some())
        .count();
    summary.auto_replied = entries
        .iter()
        .filter(|e| ledger.answer(&e.key, Status::AutoReplied).is_some())
        .count();
    summary.copied = events
        .iter()
        .filter(|(_, e)| e.status == Status::Copied)
        .map(|(_, e)| e.message_id.as_str())
        .collect::<HashSet<_>>()
        .len();
    summary.first = events.iter().map(|(_, e)| e.time).min();
    summary.last = events.iter().map(|(_, e)| e.time).max();

    let deciding: HashSet<*const Event> = entries
        .iter()
        .filter_map(|e| e.last.map(std::ptr::from_ref))
        .collect();
    let activity = events
        .iter()
        .filter_map(|(_, e)| match e.status {
            Status::Sending if deciding.contains(&std::ptr::from_ref(*e)) => {
                Some((e.time, Standing::Unknown))
            }
            Status::Sending => None,
            // A form is not an email: the timeline is of transactions.
            Status::FormSent => None,
            _ => e.state().map(|state| (e.time, Standing::from(state))),
        })
        .collect();

    let rows = match view {
        View::Current => entries
            .iter()
            .map(|e| current_row(ledger, e, &filter.answers))
            .collect(),
        View::History => events
            .iter()
            .map(|(key, e)| {
                let name = names.get(key.as_str()).copied().unwrap_or_default();
                event_row(ledger, e, e.status.as_str(), name)
            })
            .collect(),
    };
    Review {
        about,
        view,
        with_contacts: contacts.is_some(),
        summary,
        rows,
        activity,
    }
}

fn entries<'a>(ledger: &'a Ledger, contacts: Option<&ContactList>) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    if let Some(list) = contacts {
        let mut offices = list.offices.iter().peekable();
        for (r, name) in list.recipients.iter().zip(&list.names) {
            // Offices without an address take their place in file order.
            while let Some((o, name)) = offices.next_if(|(o, _)| o.line < r.line) {
                out.push(office_entry(ledger, o, name, &mut seen));
            }
            let key = r.key();
            let (outcome, last) = match ledger.state(&key) {
                Some((state, event)) => (Standing::from(state), Some(event)),
                None => (Standing::Never, None),
            };
            seen.insert(key.clone());
            out.push(Entry {
                key,
                email: r.email.to_string(),
                name: name.clone(),
                outcome,
                last,
                office: None,
            });
        }
        for (o, name) in offices {
            out.push(office_entry(ledger, o, name, &mut seen));
        }
    }
    for event in ledger.latest() {
        let key = event.key();
        if seen.contains(&key) {
            continue;
        }
        out.push(Entry {
            key,
            email: event.email.trim().to_string(),
            name: String::new(),
            outcome: event.state().map_or(Standing::Unknown, Standing::from),
            last: Some(event),
            office: None,
        });
    }
    out
}

fn office_entry<'a>(
    ledger: &'a Ledger,
    o: &crate::contacts::Office,
    name: &str,
    seen: &mut HashSet<String>,
) -> Entry<'a> {
    let (key, outcome, last) = match office_outcome(o.form.as_deref(), |k| ledger.state(k)) {
        (Some(key), Some((_, event))) => {
            // Its `form_sent` row is this office's, not one only the log knows.
            seen.insert(key.clone());
            (key, Standing::FormSent, Some(event))
        }
        // No address: no key any `--recipient` can match.
        (_, _) if o.form.is_some() => (String::new(), Standing::Form, None),
        (_, _) => (String::new(), Standing::Unreachable, None),
    };
    Entry {
        key,
        email: String::new(),
        name: if name.is_empty() {
            format!("contacts line {}", o.line)
        } else {
            name.to_string()
        },
        outcome,
        last,
        office: Some((o.line, o.form.clone())),
    }
}

/// Whether the ledger records an office's form as reached: the ledger key
/// of its form, and the `form_sent` state with what decided it, if so.
/// One rule for the held review and the walk (`state` looks the key up).
pub(super) fn office_outcome<T>(
    form: Option<&str>,
    state: impl FnOnce(&str) -> Option<(State, T)>,
) -> (Option<String>, Option<(State, T)>) {
    let Some(form) = form else {
        return (None, None);
    };
    let key = recipient_key(form);
    let found = state(&key).filter(|(s, _)| *s == State::FormSent);
    (Some(key), found)
}

fn select<'a>(ledger: &Ledger, entries: Vec<Entry<'a>>, filter: &Filter) -> Vec<Entry<'a>> {
    let wanted: HashSet<String> = filter.recipients.iter().map(|e| recipient_key(e)).collect();
    entries
        .into_iter()
        .filter(|e| {
            // `--status replied` and `--status sent` together mean either.
            let by_outcome = filter.statuses.contains(&e.outcome);
            let by_answer = filter
                .answers
                .iter()
                .any(|&kind| ledger.answer(&e.key, kind).is_some());
            (filter.statuses.is_empty() && filter.answers.is_empty()) || by_outcome || by_answer
        })
        .filter(|e| wanted.is_empty() || wanted.contains(&e.key))
        .filter(|e| match (filter.unanswered_before, e.last) {
            (None, _) => true,
            (Some(before), Some(last)) => {
                e.outcome == Standing::Sent
                    && last.time < before
                    && ledger.answer(&e.key, Status::Replied).is_none()
            }
            (Some(_), None) => false,
        })
        .filter(|e| match (filter.since, e.last) {
            (None, _) => true,
            (Some(since), Some(last)) => last.time >= since,
            // Never attempted: nothing happened to them since then.
            (Some(_), None) => false,
        })
        .collect()
}

/// The answer a delivered letter's row shows instead of the server's
/// `250`: a person's reply first, else an automatic one. With `--status
/// replied|auto_replied`, that kind.
fn answer<'a>(ledger: &'a Ledger, entry: &Entry, wanted: &[Status]) -> Option<&'a Event> {
    let kinds: &[Status] = if wanted.is_empty() {
        &[Status::Replied, Status::AutoReplied]
    } else {
        wanted
    };
    kinds
        .iter()
        .find_map(|&kind| ledger.answer(&entry.key, kind))
}

fn current_row(ledger: &Ledger, entry: &Entry, wanted: &[Status]) -> Row {
    if entry.outcome == Standing::Sent || !wanted.is_empty() {
        if let Some(event) = answer(ledger, entry, wanted) {
            let mut row = event_row(ledger, event, event.status.as_str(), &entry.name);
            row.email.clone_from(&entry.email);
            return row;
        }
    }
    match entry.last {
        Some(event) => {
            let mut row = event_row(ledger, event, entry.outcome.as_str(), &entry.name);
            row.email.clone_from(&entry.email);
            row.form = entry.office.as_ref().and_then(|(_, f)| f.clone());
            row
        }
        None => Row::unattempted(
            &entry.email,
            &entry.name,
            entry.outcome,
            entry.office.as_ref(),
        ),
    }
}

fn event_row(ledger: &Ledger, event: &Event, status: &'static str, name: &str) -> Row {
    Row {
        time: Some(event.time),
        email: event.email.trim().to_string(),
        name: name.to_string(),
        status,
        attempt: Some(event.attempt),
        attempts: ledger.attempts(&event.email),
        smtp_code: event.smtp_code,
        message_id: event.message_id.clone(),
        detail: event.detail.clone(),
        form: None,
    }
}

/// The part after the last `@`, or the whole key if there is none.
pub(super) fn domain(key: &str) -> &str {
    key.rsplit_once('@').map_or(key, |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn ev(email: &str, status: Status, secs: i64, code: Option<u16>) -> Event {
        Event {
            time: at(secs),
            ..Event::new("hrf", email, status, 1)
        }
        .with_smtp_code(code)
    }

    fn ledger() -> Ledger {
        Ledger::from_events([
            ev("a@example.org", Status::Sending, 0, None),
            ev("a@example.org", Status::Sent, 1, Some(250)),
            ev("B@example.com", Status::Sending, 2, None),
            ev("b@example.com", Status::Failed, 3, Some(550)).with_detail("5.1.1 no such user"),
            ev("c@example.org", Status::Sending, 62, None),
            ev("c@example.org", Status::Deferred, 63, Some(451)),
            ev("c@example.org", Status::Sending, 125, None),
            ev("d@example.net", Status::Sending, 126, None),
            ev("d@example.net", Status::Sent, 127, Some(250)),
            ev("d@example.net", Status::Sending, 128, None),
        ])
    }

    fn review(filter: Filter, view: View) -> Review {
        build(&ledger(), None, &filter, view, About::default())
    }

    #[test]
    fn summary_counts_current_states() {
        let r = review(Filter::default(), View::Current);
        let c = r.summary.counts;
        assert_eq!((c.sent, c.failed, c.unknown, c.never), (1, 1, 2, 0));
        assert_eq!(r.summary.attempts, 6);
        assert_eq!(
            (r.summary.first, r.summary.last),
            (Some(at(0)), Some(at(128)))
        );
        let statuses: Vec<_> = r
            .rows
            .iter()
            .map(|r| (r.email.as_str(), r.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("a@example.org", "sent"),
                ("b@example.com", "failed"),
                ("c@example.org", "unknown"),
                ("d@example.net", "unknown"),
            ]
        );
        assert_eq!(r.rows[1].smtp_code, Some(550));
        assert_eq!(r.rows[2].attempts, 2);
        let domains: Vec<_> = r
            .summary
            .domains
            .iter()
            .map(|(d, c)| (d.as_str(), c.total()))
            .collect();
        assert_eq!(
            domains,
            [("example.org", 2), ("example.com", 1), ("example.net", 1)]
        );
        // Finished attempts plus the unknown ones at their `sending` row.
        let outcomes: Vec<_> = r.activity.iter().map(|(_, o)| *o).collect();
        use Standing::*;
        assert_eq!(outcomes, [Sent, Failed, Deferred, Unknown, Sent, Unknown]);
    }

    #[test]
    fn filters_narrow_rows_and_summary() {
        let r = review(
            Filter {
                statuses: vec![Standing::Failed, Standing::Unknown],
                ..Filter::default()
            },
            View::Current,
        );
        assert_eq!(r.rows.len(), 3);
        assert_eq!(r.summary.counts.total(), 3);
        assert_eq!(r.summary.counts.sent, 0);

        let r = review(
            Filter {
                recipients: vec![" b@EXAMPLE.com".into()],
                ..Filter::default()
            },
            View::History,
        );
        let statuses: Vec<_> = r.rows.iter().map(|r| r.status).collect();
        assert_eq!(statuses, ["sending", "failed"]);
        assert_eq!(r.summary.attempts, 1);

        // Since: recipients decided in the window, events in the window.
        let r = review(
            Filter {
                since: Some(at(100)),
                ..Filter::default()
            },
            View::History,
        );
        let emails: Vec<_> = r.rows.iter().map(|r| r.email.as_str()).collect();
        assert_eq!(
            emails,
            [
                "c@example.org",
                "d@example.net",
                "d@example.net",
                "d@example.net"
            ]
        );
        assert_eq!(r.summary.counts.total(), 2);
        assert_eq!(r.summary.first, Some(at(125)));
    }

    #[test]
    fn empty_ledger_is_an_empty_review() {
        let r = build(
            &Ledger::default(),
            None,
            &Filter::default(),
            View::Current,
            About::default(),
        );
        assert!(r.rows.is_empty() && r.activity.is_empty());
        assert_eq!(r.summary, Summary::default());
    }

    #[test]
    fn domain_of_a_key() {
        assert_eq!(domain("a@b@example.org"), "example.org");
        assert_eq!(domain("nobody"), "nobody");
    }
}
