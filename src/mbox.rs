//! mboxrd: many messages in one file that mail programs open (Thunderbird,
//! mutt, Apple Mail import). Written by `preview --mbox`, read by `inbox
//! --from FILE`; both halves keep the same rule, here.
//!
//! Each message starts with a `From sender date` line and ends with an
//! empty line. A body line that starts with `From ` after any number of
//! `>` gets one more `>`, so that a reader removes exactly one and gets
//! the message back unchanged (the mboxrd rule; RFC 4155 §2 and its
//! appendix list the variants, read 2026-12). Lines end in LF, the
//! convention of the Unix mbox (RFC 4155: the local end-of-line sequence);
//! SMTP's CRLF becomes LF and a reader turns it back.

mod read;
mod write;

pub use read::{is_mbox, MboxReader};
pub use write::MboxWriter;
