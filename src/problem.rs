//! Problems found in the user's files, reported all at once with their place.

use std::fmt;

pub mod suggest;

/// How bad a problem is: an error stops `check` and `send`, a warning only
/// drops the row it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the campaign before anything is sent.
    Error,
    /// Reported; the campaign proceeds without the row.
    Warning,
}

/// One problem with the place it was found (`file:line`, `file: key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where: a file, usually with `:line`, or a template name.
    pub place: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl Diagnostic {
    /// An error at `place`.
    pub fn error(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            place: place.into(),
            message: message.into(),
        }
    }

    /// A warning at `place`.
    pub fn warning(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            place: place.into(),
            message: message.into(),
        }
    }

    /// Whether this stops the campaign.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}: {}", self.place, self.message)
    }
}

/// A list of problems that stopped an operation; its `Display` lists them
/// one per line so the user can fix everything in one go.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", list(.0))]
pub struct Problems(pub Vec<Diagnostic>);

fn list(items: &[Diagnostic]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
