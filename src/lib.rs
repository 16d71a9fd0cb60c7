//! repmail: send one personal letter to every representative on a list.
//!
//! Data flows one way (see `docs/design.md`):
//! `config` → `contacts` → `ledger` → `plan` → `render` → `send` → `ledger`,
//! and `review` reads the ledger. `plan` renders each letter once to
//! validate it before anything is sent. The library never prints; the
//! binary owns printing, prompts and exit codes.

// The library never prints (clippy.toml lists the std printing macros).
#![deny(clippy::disallowed_macros)]

pub mod address;
pub mod config;
pub mod contacts;
pub mod credentials;
pub mod diagnose;
pub mod forms;
pub mod imap;
pub mod inbox;
pub mod ledger;
pub mod mbox;
pub mod outfile;
pub mod pages;
pub mod plan;
pub mod preview;
pub mod problem;
pub mod providers;
pub mod render;
pub mod review;
pub mod roster;
pub mod scaffold;
pub mod schedule;
pub mod send;
pub mod sent;
pub mod text;
pub mod time;
pub mod tls;
