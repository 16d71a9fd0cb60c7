//! CarbonCopies of a letter (issue 24, item 10): `[sender] cc` and `bcc` (the
//! group's own archive, say) and `[contacts] cc_column` (a row's own, e.g.
//! an office's staffer).
//!
//! A Cc is a header and an envelope recipient; a Bcc is an envelope
//! recipient only — repmail never writes a `Bcc:` header, so no copy of
//! the message, sent or previewed, can reveal it (RFC 5322 §3.6.3 allows
//! either; leaving it out is the only way no recipient can see it). The
//! envelope is always set here explicitly: lettre derives one from the
//! headers only when none is given, and [`super::headers::to`] gives one.
//!
//! The delivery log still has one row per office: the letter is the
//! office's, its copies ride along in the same transaction.

use lettre::address::Envelope;
use lettre::message::{Mailbox, MessageBuilder};
use lettre::Address;

use crate::config::Campaign;
use crate::contacts::Recipient;

/// The campaign's copy settings.
pub(super) struct CarbonCopies {
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    column: Option<String>,
}

/// One letter's copies.
pub(super) struct Of {
    cc: Vec<Mailbox>,
    bcc: Vec<Address>,
}

impl CarbonCopies {
    pub fn new(campaign: &Campaign) -> CarbonCopies {
        CarbonCopies {
            cc: campaign.sender.cc.clone(),
            bcc: campaign.sender.bcc.clone(),
            column: campaign.contacts.cc_column.clone(),
        }
    }

    /// The copies of `r`'s letter: the fixed ones, then the row's own
    /// (its `cc_column` cell, addresses separated by `;` or `,`).
    pub fn of(&self, r: &Recipient) -> Result<Of, String> {
        let mut cc = self.cc.clone();
        if let Some(column) = &self.column {
            let cell = r.get(column).ok_or_else(|| {
                format!("the contacts have no column `{column}` (contacts.cc_column); add it or fix the key")
            })?;
            for part in cell
                .split([';', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let address: Address = part.parse().map_err(|e| {
                    format!("`{part}` in column `{column}` is not a valid email address ({e}); write one address, or several separated by `;`")
                })?;
                let address = crate::address::sendable_address(&address)
                    .map_err(|why| format!("`{part}` in column `{column}`: {}", why.reason()))?;
                cc.push(Mailbox::new(None, address));
            }
        }
        Ok(Of {
            cc,
            bcc: self.bcc.iter().map(|m| m.email.clone()).collect(),
        })
    }
}

impl Of {
    /// The Cc header, and the envelope: the office first, then each copy
    /// once.
    pub fn apply(
        self,
        mut builder: MessageBuilder,
        from: &Mailbox,
        to: &Mailbox,
    ) -> MessageBuilder {
        if self.cc.is_empty() && self.bcc.is_empty() {
            return builder;
        }
        let mut rcpts = vec![to.email.clone()];
        for m in &self.cc {
            builder = builder.cc(m.clone());
        }
        for a in self.cc.into_iter().map(|m| m.email).chain(self.bcc) {
            if !rcpts.contains(&a) {
                rcpts.push(a);
            }
        }
        match Envelope::new(Some(from.email.clone()), rcpts) {
            Ok(envelope) => builder.envelope(envelope),
            // Never empty: the office is always in it.
            Err(_) => builder,
        }
    }
}
