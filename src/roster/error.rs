//! Why a roster could not be fetched, read or written: each message names
//! the source, the URL or file, and what to do.

use std::path::PathBuf;

use super::http::Http;

/// Why a roster could not be fetched, read or written.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// Not a source `roster list` knows.
    #[error("unknown roster source `{0}`; `repmail roster list` shows the sources (e.g. openstates/il, us-congress, uk-commons, canada-commons)")]
    UnknownSource(String),
    /// `--url` is not scheme://host[:port].
    #[error(
        "--url `{base}`: {why}; give the scheme, host and port only, e.g. http://127.0.0.1:8080"
    )]
    BadBase {
        /// As given.
        base: String,
        /// What is wrong.
        why: String,
    },
    /// No connection.
    #[error("{source_name}: cannot reach {url}: {why}; check the network connection (or --url) and run again. Nothing was written")]
    Unreachable {
        /// Source.
        source_name: String,
        /// URL.
        url: String,
        /// Why.
        why: String,
    },
    /// An HTTP status that is not success, after retries if any.
    #[error("{source_name}: {url} answered HTTP {status}{}. Nothing was written", tries_text(*.tries, *.status))]
    Status {
        /// Source.
        source_name: String,
        /// URL.
        url: String,
        /// Status.
        status: u16,
        /// Tries made.
        tries: u32,
    },
    /// The publisher asked for a longer pause than repmail waits.
    #[error("{source_name}: {url} answered HTTP {status} and asks to wait {wait_secs} s; try again later. Nothing was written")]
    Busy {
        /// Source.
        source_name: String,
        /// URL.
        url: String,
        /// Status.
        status: u16,
        /// Asked wait.
        wait_secs: u64,
    },
    /// The answer could not be read at all.
    #[error("{source_name}: {url}: unreadable answer: {why}. Nothing was written")]
    Unreadable {
        /// Source.
        source_name: String,
        /// URL.
        url: String,
        /// Why.
        why: String,
    },
    /// A field or column the layout always had is missing.
    #[error("{source_name}: {url}: no `{field}` in the answer: the publisher changed its layout, and this version of repmail cannot read it. Nothing was written; please report it")]
    Layout {
        /// Source.
        source_name: String,
        /// URL.
        url: String,
        /// The missing field or column.
        field: String,
    },
    /// Paging ended with fewer members than the publisher counted.
    #[error("{source_name}: {url}: the publisher counts {expected} members but its pages held {got}; the list may have changed while fetching: run again. Nothing was written")]
    Incomplete {
        /// Source.
        source_name: String,
        /// The last page's URL.
        url: String,
        /// The publisher's count.
        expected: usize,
        /// Members read.
        got: usize,
    },
    /// No members at all.
    #[error("{0}: the publisher lists no members; nothing was written")]
    Empty(String),
    /// Writing or reading a file.
    #[error("{}: {why}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
}

fn tries_text(tries: u32, status: u16) -> String {
    let hint = match status {
        404 => ": no such list (check the source name)",
        429 => ": too many requests",
        _ => "",
    };
    if tries > 1 {
        format!("{hint} after {tries} tries")
    } else {
        hint.to_string()
    }
}

impl RosterError {
    /// A field or column the layout always had is missing from `url`.
    pub(crate) fn layout(http: &Http<'_>, url: &str, field: &str) -> RosterError {
        RosterError::Layout {
            source_name: http.source().to_string(),
            url: url.to_string(),
            field: field.to_string(),
        }
    }
}
