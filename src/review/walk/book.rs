//! What a [`Walk`](super::Walk) keeps of the log: per recipient, 16
//! bytes and a fingerprint of its address.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use crate::ledger::{Event, RowReader, State, Status};

/// No row: a recipient the log holds only answers for. Offsets are kept
/// in 40 bits: a log of a tebibyte or more is refused ([`Book::too_large`]).
pub(super) const NONE: u64 = (1 << 40) - 1;

/// One recipient as the log decides it: 8 bytes (16 with its fingerprint;
/// a million recipients, 17 MB). Fields packed by hand because this is
/// what `log`'s memory grows with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    /// Where its last delivery row starts in the log: the low 32 bits,
    last_lo: u32,
    /// and the next 8.
    last_hi: u8,
    /// As [`crate::ledger::Ledger::attempts`] counts them (saturating).
    attempts: u16,
    /// The state (3 bits), then the flags below.
    bits: u8,
}

const STATE: u8 = 0b111;
/// It is a row of the contacts (so not listed again after them).
const IN_CONTACTS: u8 = 1 << 3;
/// It is in the review (its events count in the summary).
const SELECTED: u8 = 1 << 4;
/// The parity of the walk that last listed it as known only to the log.
const LISTED: u8 = 1 << 5;

const STATES: [State; 6] = [
    State::Sent,
    State::Deferred,
    State::Failed,
    State::Unknown,
    State::Bounced,
    State::FormSent,
];

impl Default for Slot {
    fn default() -> Self {
        let mut slot = Slot {
            last_lo: 0,
            last_hi: 0,
            attempts: 0,
            bits: 0,
        };
        slot.set_last(NONE);
        slot
    }
}

impl Slot {
    /// Where its last delivery row starts, or [`NONE`].
    pub(super) fn last(&self) -> u64 {
        u64::from(self.last_lo) | u64::from(self.last_hi) << 32
    }

    fn set_last(&mut self, at: u64) {
        let at = at.min(NONE);
        self.last_lo = at as u32;
        self.last_hi = (at >> 32) as u8;
    }

    pub(super) fn attempts(&self) -> u32 {
        u32::from(self.attempts)
    }

    fn set_attempts(&mut self, n: u32) {
        self.attempts = u16::try_from(n).unwrap_or(u16::MAX);
    }

    /// The state its last delivery row decides.
    pub(super) fn state(&self) -> Option<State> {
        STATES
            .get(usize::from(self.bits & STATE).checked_sub(1)?)
            .copied()
    }

    fn set_state(&mut self, state: Option<State>) {
        let code = state.map_or(0, |s| STATES.iter().position(|&x| x == s).unwrap_or(0) + 1);
        self.bits = (self.bits & !STATE) | code as u8;
    }

    pub(super) fn in_contacts(&self) -> bool {
        self.bits & IN_CONTACTS != 0
    }

    pub(super) fn set_in_contacts(&mut self) {
        self.bits |= IN_CONTACTS;
    }

    pub(super) fn selected(&self) -> bool {
        self.bits & SELECTED != 0
    }

    pub(super) fn select(&mut self) {
        self.bits |= SELECTED;
    }

    /// Marks it listed in walk `walk`; false if it already was.
    pub(super) fn list(&mut self, walk: u8) -> bool {
        let parity = if walk % 2 == 1 { LISTED } else { 0 };
        if self.bits & LISTED == parity {
            return false;
        }
        self.bits = (self.bits & !LISTED) | parity;
        true
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
    /// A row starts beyond what a [`Slot`] can hold.
    pub(super) too_large: bool,
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
        self.too_large |= at >= NONE;
        let slot = self.slots.entry(hash).or_default();
        match event.status {
            Status::Replied => self.answers.entry(hash).or_insert([NONE; 2])[0] = at,
            Status::AutoReplied => self.answers.entry(hash).or_insert([NONE; 2])[1] = at,
            // A delivery row; a `copied` row (the Sent folder's) decides
            // nothing, as in the ledger.
            _ => {
                if let Some(state) = event.state() {
                    slot.set_last(at);
                    slot.set_state(Some(state));
                }
            }
        }
        let mut attempts = slot.attempts() + u32::from(event.status == Status::Sending);
        if event.status == Status::Deferred && event.attempt < attempts {
            attempts = event.attempt;
        }
        slot.set_attempts(attempts);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_keeps_what_is_put_in_it() {
        assert_eq!(std::mem::size_of::<(u64, Slot)>(), 16);
        let mut slot = Slot::default();
        assert_eq!(
            (slot.last(), slot.state(), slot.attempts()),
            (NONE, None, 0)
        );
        for (i, state) in STATES.into_iter().enumerate() {
            let at = (1 << 39) + i as u64 * 0x1_0000_0001;
            slot.set_last(at);
            slot.set_state(Some(state));
            slot.set_attempts(i as u32 * 70_000);
            assert_eq!(slot.last(), at);
            assert_eq!(slot.state(), Some(state));
            assert_eq!(slot.attempts(), (i as u32 * 70_000).min(65_535));
        }
        assert!(!slot.in_contacts() && !slot.selected());
        slot.set_in_contacts();
        slot.select();
        assert!(slot.list(1) && !slot.list(1) && slot.list(2) && !slot.list(2));
        assert!(slot.in_contacts() && slot.selected());
        assert_eq!(slot.state(), STATES.last().copied());
        slot.set_state(None);
        assert_eq!(slot.state(), None);
    }
}
