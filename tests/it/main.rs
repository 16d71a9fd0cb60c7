//! The integration tests, built as one binary (as ripgrep's `tests/it`):
//! each module was once a test binary of its own, and compiled and linked
//! the shared harness again. One binary links the harness once, and dead
//! code in it shows.
//!
//! Run one module with `cargo test --test it send::`, one test with
//! `cargo test --test it send::pace_is_held_at_the_server`.
//!
//! Shared code:
//! - `support`: the in-process SMTP server (mailin), its certificates and
//!   faults, the loopback HTTP server (`support::http`) and the library-level
//!   send set-up (`support::library`, shared with the benchmark);
//! - `fixture`: a campaign folder and the `repmail` binary run against it;
//! - `dovecot`: a real IMAP server (Dovecot) on loopback.

mod dovecot;
mod fixture;
mod support;

mod connection;
mod dispatch;
mod followup;
mod hostile;
mod hostile_input;
mod imap;
mod imap_signin;
mod inbox;
mod letters;
mod mbox;
mod offline;
mod props;
mod providers;
mod review;
mod roster_fetch;
mod rosters;
mod schedule;
mod send;
mod sent_copy;
mod signin;
mod smtp_harness;
mod terminal;
mod torture;
