//! The inbox: what came back after the 250. Incoming mail from any
//! [`source`] is parsed once ([`Mail`]), classified ([`classify`]: a
//! delivery report read by one of the [`decoders`], a delay, a complaint,
//! an automatic or a person's answer), weighed against the campaign's
//! letters (`evidence`: what a message may change in the log, the one
//! place that decides it) and turned into ledger rows ([`Matcher`]).
//! Reasons are judged in one place ([`reason`]).
//!
//! Reading only: nothing here deletes, moves or flags mail, and nothing
//! prints; the CLI appends the rows and reports the counts.

mod autoreply;
mod classify;
pub mod decoders;
mod evidence;
pub mod failure;
mod mail;
mod matching;
pub mod reason;
pub mod source;
pub mod status;

pub use classify::{classify, Class};
pub use mail::Mail;
pub use matching::{Found, Matcher};
