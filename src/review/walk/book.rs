//! What a [`Walk`](super::Walk) keeps of the log: per recipient, 16
//! bytes and a fingerprint of its address.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use crate::ledger::{Event, RowReader, State, Status};

/// No row: a recipient the log holds only answers for.
pub(super) const NONE: u64 = u64::MAX;

/// One recipient as the log decides it (16 bytes, plus its fingerprint).
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    /// Where its last delivery row starts in the log, or [`NONE`].
    pub(super) last: u64,
    /// As [`crate::ledger::Ledger::attempts`] counts them.
    pub(super) attempts: u32,
    /// The state its last delivery row decides.
    pub(super) state: Option<State>,
    /// It is a row of the contacts (so not listed again after them).
    pub(super) in_contacts: bool,
    /// It is in the review (its events count in the summary).
    pub(super) selected: bool,
    /// The walk that last listed it as known only to the log.
    pub(super) listed: u8,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            last: NONE,
            attempts: 0,
            state: None,
            in_contacts: false,
            selected: false,
            listed: 0,
        }
    }
}

/// What the walks keep: the slots by fingerprint (64-bit SipHash with
/// random keys per run, as `ledger::Digest`), the rare answers apart.
pub(super) struct Book {
    pub(super) slots: HashMap<u64, Slot>,
    /// Where each recipient's last `replied` and `auto_replied` rows start.
    pub(super) answers: HashMap<u64, [u64; 2]>,
    pub(super) keys: RandomState,
    pub(super) rows: RowReader,
    /// Counts the walks over the recipients known only to the log.
    pub(super) walk: u8,
}

impl Book {
    pub(super) fn hash(&self, key: &str) -> u64 {
        self.keys.hash_one(key)
    }

    /// Mirrors `Ledger::push`: answers decide nothing, the last delivery
    /// row decides the state, each `sending` row is a try, a `deferred` row
    /// counting fewer tries takes the last one back.
    pub(super) fn push(&mut self, event: &Event, at: u64) {
        let hash = self.hash(&event.key());
        let slot = self.slots.entry(hash).or_default();
        match event.status {
            Status::Replied => self.answers.entry(hash).or_insert([NONE; 2])[0] = at,
            Status::AutoReplied => self.answers.entry(hash).or_insert([NONE; 2])[1] = at,
            _ => {
                slot.last = at;
                slot.state = event.state();
            }
        }
        slot.attempts += u32::from(event.status == Status::Sending);
        if event.status == Status::Deferred && event.attempt < slot.attempts {
            slot.attempts = event.attempt;
        }
    }

    pub(super) fn answer(&self, hash: u64, kind: Status) -> Option<u64> {
        let [replied, auto] = *self.answers.get(&hash)?;
        let at = match kind {
            Status::Replied => replied,
            Status::AutoReplied => auto,
            _ => NONE,
        };
        (at != NONE).then_some(at)
    }
}
