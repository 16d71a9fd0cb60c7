//! Why a campaign file could not be used: one error type for every step
//! from reading the file to checking its values.

use std::path::PathBuf;

/// Why the campaign file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read campaign file {path}: {source}. Pass the right file with --config PATH, or create one with `repmail init`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown or missing key, or a wrong type.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Several problems, each with its line, found in one pass.
    #[error("{} problems in {}; fix them all, then run again:\n{}", .problems.len(), .path.display(), .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many {
        /// The file.
        path: PathBuf,
        /// Each problem, in file order (`Parse` errors).
        problems: Vec<ConfigError>,
    },
    /// A value is present but not usable.
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key, e.g. `sender.from`.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
}
