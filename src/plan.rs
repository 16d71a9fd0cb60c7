//! Plan: who gets a letter now — recipients, narrowed by the user's
//! selection and (for `send`) by what the ledger says.

pub mod followup;
pub mod stages;

use crate::address::recipient_key;
use crate::config::Campaign;
use crate::contacts::{ContactReader, ContactRow, Office, Recipient};
use crate::ledger::{State, StateOf};
use crate::problem::{Diagnostic, Problems};
use crate::render::{Rendered, Renderer};
use crate::schedule::Zones;

/// Everything a command needs to walk the campaign: the contacts stream and
/// the compiled templates. Built once; problems in either are reported
/// together.
pub struct Prepared {
    /// The contacts, streamed.
    pub contacts: ContactReader,
    /// The compiled templates.
    pub renderer: Renderer,
    /// Each recipient's time zone (for the sending window).
    pub zones: Zones,
}

/// Opens the contacts and compiles the templates of `campaign`.
pub fn prepare(campaign: &Campaign) -> Result<Prepared, Problems> {
    let zones = Zones::new(campaign);
    let contacts = ContactReader::open(&campaign.contacts)
        .and_then(|c| zones.check_header(c.columns()).map(|()| c));
    let renderer = Renderer::new(campaign);
    match (contacts, renderer) {
        (Ok(contacts), Ok(renderer)) => {
            // Every template variable no row can fill, all at once, before
            // the first row would stop at the first of them.
            let undefined = renderer.undefined(contacts.columns());
            if !undefined.is_empty() {
                return Err(Problems(undefined));
            }
            Ok(Prepared {
                contacts,
                renderer,
                zones,
            })
        }
        (contacts, renderer) => {
            let mut all = Vec::new();
            if let Err(d) = contacts {
                all.push(d);
            }
            if let Err(Problems(p)) = renderer {
                all.extend(p);
            }
            Err(Problems(all))
        }
    }
}

/// The user's narrowing of the list: `--recipient`, `--limit`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these addresses (case-insensitive); empty means everyone.
    pub recipients: Vec<String>,
    /// At most this many letters.
    pub limit: Option<usize>,
}

impl Selection {
    /// Whether the recipient is among those selected.
    pub fn wants(&self, r: &Recipient) -> bool {
        self.recipients.is_empty() || {
            let key = r.key();
            self.recipients.iter().any(|e| recipient_key(e) == key)
        }
    }
}

/// One step of walking the campaign.
#[derive(Debug)]
pub enum Item {
    /// A recipient and their letter.
    Letter(Box<Recipient>, Box<Rendered>),
    /// A row without an address (reached by its form, or unreachable);
    /// its warning, if any, is for the user to see.
    Office(Box<Office>),
    /// A problem with a row or its letter.
    Problem(Diagnostic),
}

impl Prepared {
    /// Renders every selected recipient, in file order, yielding problems
    /// as they are found. Streams: one row in memory at a time.
    pub fn letters(self, selection: Selection) -> impl Iterator<Item = Item> {
        let Prepared {
            contacts,
            renderer,
            zones,
        } = self;
        let mut taken = 0usize;
        contacts.filter_map(move |row| match row {
            ContactRow::Problem(d) => Some(Item::Problem(d)),
            ContactRow::Office(o) => Some(Item::Office(Box::new(o))),
            ContactRow::Recipient(r) => {
                if !selection.wants(&r) || selection.limit.is_some_and(|n| taken >= n) {
                    return None;
                }
                taken += 1;
                if let Err(d) = zones.of(&r) {
                    return Some(Item::Problem(d));
                }
                Some(match renderer.render(&r) {
                    Ok(m) => Item::Letter(Box::new(r), Box::new(m)),
                    Err(d) => Item::Problem(d),
                })
            }
        })
    }
}

/// What the user asked to send again (`--retry-failed`, `--resend-unknown`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Resend {
    /// Send again to recipients whose last outcome was a permanent failure.
    pub failed: bool,
    /// Send again to recipients left `sending` by a crash (they may already
    /// have the letter: the server's answer never reached the ledger).
    pub unknown: bool,
}

/// Why a recipient is not sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The ledger says the server accepted the letter.
    Sent,
    /// A permanent failure; `--retry-failed` sends again.
    Failed,
    /// A crash left the outcome unknown; `--resend-unknown` sends again.
    Unknown,
    /// Accepted, then a hard bounce came back; `--retry-failed` sends again.
    Bounced,
}

impl Skip {
    /// Why, in words a coordinator understands.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::Sent => "already sent",
            Skip::Failed => "failed before (use --retry-failed to try again)",
            Skip::Unknown => "outcome unknown after a crash (use --resend-unknown to send again)",
            Skip::Bounced => "bounced (use --retry-failed to try again)",
        }
    }
}

/// The plan for a `send` run: who gets a letter now and who is skipped.
/// Every letter was rendered once to validate it; `send` renders again just
/// before each transaction so each try has its own Date and Message-ID.
#[derive(Debug, Default)]
pub struct SendPlan {
    /// Recipients to send now, in file order.
    pub to_send: Vec<Recipient>,
    /// Recipients the ledger says not to send, with the reason.
    pub skipped: Vec<(Addressee, Skip)>,
    /// Problems found; any error means nothing may be sent.
    pub problems: Vec<Diagnostic>,
    /// Selected recipients left for a later run by `--limit`.
    pub later: Vec<Addressee>,
}

/// A recipient who gets no letter in this run: its line and address, all
/// that is said about it (not every column of its row: a million skipped
/// rows would hold the whole file; issue 23).
#[derive(Debug, Clone)]
pub struct Addressee {
    /// 1-based line where the row starts.
    pub line: u64,
    /// The validated address.
    pub email: lettre::Address,
}

impl Addressee {
    /// The line and address of `r`.
    pub fn of(r: Recipient) -> Addressee {
        Addressee {
            line: r.line,
            email: r.email,
        }
    }

    /// The key the ledger uses (see [`Recipient::key`]).
    pub fn key(&self) -> String {
        recipient_key(self.email.as_ref())
    }
}

impl SendPlan {
    /// Whether any problem is an error (then `send` must not start).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Diagnostic::is_error)
    }
}

/// One recipient's place in a `send` run, as [`Prepared::walk_send`]
/// decides it.
#[derive(Debug)]
pub enum SendStep {
    /// A letter to send now, rendered once to validate it.
    Send(Box<Recipient>, Box<Rendered>),
    /// The ledger says not to send now.
    Skip(Box<Recipient>, Skip),
    /// Selected, but beyond `--limit`.
    Later(Box<Recipient>),
    /// A problem with a row or its letter (an office's warning too).
    Problem(Diagnostic),
}

/// Why the ledger's `state` keeps a recipient from a letter now, if it does.
fn skip_for(state: Option<State>, resend: Resend) -> Option<Skip> {
    match state {
        // A `form_sent` row is keyed by a form's address, never an email
        // address; one edited by hand onto an address still stops letters.
        Some(State::Sent | State::FormSent) => Some(Skip::Sent),
        Some(State::Failed) if !resend.failed => Some(Skip::Failed),
        Some(State::Bounced) if !resend.failed => Some(Skip::Bounced),
        Some(State::Unknown) if !resend.unknown => Some(Skip::Unknown),
        _ => None,
    }
}

/// Walks the contacts for a `send` run, one [`SendStep`] per row that says
/// something, in file order. Streams: a command that must not hold the
/// whole list (`send --dry-run` over a million rows) walks it again
/// rather than keeping it; every walk of the same file and log decides
/// the same.
pub fn walk_send<'a>(
    contacts: ContactReader,
    renderer: &'a Renderer,
    zones: &'a Zones,
    ledger: &'a impl StateOf,
    selection: &'a Selection,
    resend: Resend,
) -> impl Iterator<Item = SendStep> + 'a {
    let mut sending = 0usize;
    contacts.filter_map(move |row| {
        let r = match row {
            ContactRow::Problem(d) => return Some(SendStep::Problem(d)),
            // No email for an office without an address; its warning
            // says how to reach it.
            ContactRow::Office(o) => return o.warning.map(SendStep::Problem),
            ContactRow::Recipient(r) => r,
        };
        if !selection.wants(&r) {
            return None;
        }
        if let Some(skip) = skip_for(ledger.state_of(r.email.as_ref()), resend) {
            return Some(SendStep::Skip(Box::new(r), skip));
        }
        // Render now so a broken letter stops the run before the first
        // message leaves, not half way through.
        let letter = match renderer.render(&r) {
            Ok(letter) => letter,
            Err(d) => return Some(SendStep::Problem(d)),
        };
        if let Err(d) = zones.of(&r) {
            return Some(SendStep::Problem(d));
        }
        if selection.limit.is_some_and(|n| sending >= n) {
            return Some(SendStep::Later(Box::new(r)));
        }
        sending += 1;
        Some(SendStep::Send(Box::new(r), Box::new(letter)))
    })
}

impl Prepared {
    /// Builds the send plan against the ledger.
    pub fn plan_send(
        self,
        ledger: &impl StateOf,
        selection: &Selection,
        resend: Resend,
    ) -> (SendPlan, Renderer) {
        let Prepared {
            contacts,
            renderer,
            zones,
        } = self;
        let mut plan = SendPlan::default();
        for step in walk_send(contacts, &renderer, &zones, ledger, selection, resend) {
            match step {
                // Its warnings (size, what the HTML sanitiser removed) are
                // shown before sending.
                SendStep::Send(r, letter) => {
                    plan.problems.extend(letter.warnings);
                    plan.to_send.push(*r)
                }
                SendStep::Skip(r, skip) => plan.skipped.push((Addressee::of(*r), skip)),
                SendStep::Later(r) => plan.later.push(Addressee::of(*r)),
                SendStep::Problem(d) => plan.problems.push(d),
            }
        }
        (plan, renderer)
    }
}
