//! Exit codes, documented in the README.

use std::process::ExitCode;

/// What the process tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// All done.
    Ok = 0,
    /// Bad input, config, or a run-level fault.
    Error = 1,
    /// Wrong command-line usage (clap's own code).
    Usage = 2,
    /// Finished, but some recipients failed, were deferred or are unknown.
    Incomplete = 3,
    /// Stopped by Ctrl-C.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_readme() {
        assert_eq!(Exit::Ok as u8, 0);
        assert_eq!(Exit::Error as u8, 1);
        assert_eq!(Exit::Usage as u8, 2);
        assert_eq!(Exit::Incomplete as u8, 3);
        assert_eq!(Exit::Interrupted as u8, 130);
    }
}
