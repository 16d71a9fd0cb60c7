//! Running `password_command` and `token_command`: `sh -c`, no terminal,
//! a time limit, standard output read and never echoed, standard error
//! quoted only when the command fails.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Secret;

/// How long a password or token command may run: a helper that waits for
/// a browser sign-in nobody will do must not hang the run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a secret could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The command could not be started.
    #[error("cannot run {key} `{command}`: {message}")]
    Spawn {
        /// `password_command` or `token_command`.
        key: &'static str,
        /// The command.
        command: String,
        /// The error.
        message: String,
    },
    /// It exited with an error.
    #[error("{key} `{command}` failed ({status}){}; nothing was sent. Run the command yourself to see what it needs", quote(.stderr))]
    Failed {
        /// `password_command` or `token_command`.
        key: &'static str,
        /// The command.
        command: String,
        /// Exit status.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// It printed nothing.
    #[error("{key} `{command}` printed nothing on its standard output{}; nothing was sent. It must print the {what} on one line", quote(.stderr))]
    Empty {
        /// `password_command` or `token_command`.
        key: &'static str,
        /// The command.
        command: String,
        /// "password" or "access token".
        what: &'static str,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// It did not finish in time.
    #[error("{key} `{command}` did not finish within {} s; nothing was sent. If it waits for a sign-in in the browser, sign in first (e.g. run it once by hand)", COMMAND_TIMEOUT.as_secs())]
    Timeout {
        /// `password_command` or `token_command`.
        key: &'static str,
        /// The command.
        command: String,
    },
}

fn quote(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; it said: {stderr}")
    }
}

/// The first word of a shell command: the program `sh -c` will run (a
/// leading `VAR=value` is skipped).
pub(super) fn program_of(cmd: &str) -> Option<String> {
    // The first command ends at a shell operator: `cat; cat file` runs `cat`.
    let first = cmd.split([';', '|', '&', '<', '>', '(', ')']).next()?;
    first
        .split_whitespace()
        .find(|w| !w.contains('=') || w.starts_with('='))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
        .filter(|w| !w.is_empty())
}

/// Whether `program` exists: a path, a shell builtin, or on PATH (the
/// shell's default path when PATH is not set).
pub(super) fn found(program: &str) -> bool {
    const BUILTINS: &[&str] = &["echo", "printf", "read", "exec", "eval", "test", "[", "."];
    if BUILTINS.contains(&program) {
        return true;
    }
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    let paths = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
}

/// Runs `cmd` with `sh -c`, no terminal (standard input is empty), and
/// returns its standard output with the trailing newline trimmed. Standard
/// output is never echoed; standard error is quoted only when it fails.
pub fn run_secret(
    key: &'static str,
    what: &'static str,
    cmd: &str,
) -> Result<Secret, CredentialError> {
    let spawn_err = |message: String| CredentialError::Spawn {
        key,
        command: cmd.to_string(),
        message,
    };
    // By its full path: the environment may have no PATH.
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_err(e.to_string()))?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    // Read both pipes on their own threads so a chatty command cannot
    // block on a full pipe while we wait for it.
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.by_ref().take(64 * 1024).read_to_end(&mut v);
        let _ = std::io::copy(&mut err, &mut std::io::sink());
        v
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CredentialError::Timeout {
                    key,
                    command: cmd.to_string(),
                });
            }
            Err(e) => return Err(spawn_err(e.to_string())),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let stderr = clean_stderr(&stderr);
    if !status.success() {
        return Err(CredentialError::Failed {
            key,
            command: cmd.to_string(),
            status: match status.code() {
                Some(c) => format!("exit status {c}"),
                None => "killed by a signal".into(),
            },
            stderr,
        });
    }
    let mut secret = String::from_utf8_lossy(&stdout).into_owned();
    // msmtp's passwordeval takes the first line; a trailing newline (or
    // CRLF) is the command's, not the password's.
    if let Some(i) = secret.find('\n') {
        secret.truncate(i);
    }
    if secret.ends_with('\r') {
        secret.pop();
    }
    if secret.is_empty() {
        return Err(CredentialError::Empty {
            key,
            command: cmd.to_string(),
            what,
            stderr,
        });
    }
    Ok(Secret::new(secret))
}

/// The command's standard error, fit to quote on one line: control
/// characters dropped, at most the last 5 lines and 500 characters.
fn clean_stderr(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(5)..];
    let joined: String = tail
        .join(" / ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if joined.chars().count() > 500 {
        let cut: String = joined.chars().take(500).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_output_trailing_newline_trimmed() {
        let s = run_secret("password_command", "password", "printf 'pa ss\\n'").unwrap();
        assert_eq!(s.expose(), "pa ss");
        let s = run_secret("password_command", "password", "printf 'crlf\\r\\nsecond'").unwrap();
        assert_eq!(s.expose(), "crlf");
    }

    #[test]
    fn failing_command_quotes_its_stderr_not_its_stdout() {
        let e = run_secret(
            "password_command",
            "password",
            // Its output (abc123xyz) appears nowhere in the command itself.
            "printf 'abc%sxyz' 123; echo 'gpg: decryption failed' >&2; exit 2",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("gpg: decryption failed"), "{e}");
        assert!(e.contains("exit status 2"), "{e}");
        assert!(!e.contains("abc123xyz"), "{e}");
    }

    #[test]
    fn empty_output_is_an_error() {
        let e = run_secret("token_command", "access token", "echo oops >&2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed nothing") && e.contains("oops"), "{e}");
    }

    #[test]
    fn command_gets_no_terminal() {
        // Standard input is empty: a command that reads it gets EOF at once.
        let s = run_secret("password_command", "password", "read x || echo no-input").unwrap();
        assert_eq!(s.expose(), "no-input");
    }

    #[test]
    fn program_of_skips_assignments() {
        assert_eq!(program_of("FOO=1 oama access x").as_deref(), Some("oama"));
        assert_eq!(program_of("  'gcloud' auth").as_deref(), Some("gcloud"));
        assert_eq!(program_of("   "), None);
        assert_eq!(program_of("cat; cat pw.txt").as_deref(), Some("cat"));
        assert_eq!(program_of("pass show x|head -1").as_deref(), Some("pass"));
    }
}
