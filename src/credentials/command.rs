//! Running `password_command` and `token_command`: `sh -c`, no terminal,
//! a time limit, standard output read and never echoed, standard error
//! quoted only when the command fails.

use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Secret;

/// How long a password or token command may run: a helper that waits for
/// a browser sign-in nobody will do must not hang the run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The most a password or token command may print. A secret is one line:
/// the longest access tokens are a few KiB (Microsoft's JWTs run to about
/// 3 KiB), so 64 KiB is far above any, and a command printing without end
/// is stopped there instead of filling the memory.
pub const MAX_OUTPUT: usize = 64 * 1024;

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
    /// It printed nothing, or only blank lines.
    #[error("{key} `{command}` printed nothing (no line that is not blank) on its standard output{}; nothing was sent. It must print the {what} on one line", quote(.stderr))]
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
    #[error("{key} `{command}` did not finish within {secs} s and was stopped, with everything it started; nothing was sent. If it waits for a sign-in in the browser, sign in first (e.g. run it once by hand)")]
    Timeout {
        /// `password_command` or `token_command`.
        key: &'static str,
        /// The command.
        command: String,
        /// The time limit.
        secs: u64,
    },
    /// It printed more than [`MAX_OUTPUT`] bytes.
    #[error("{key} `{command}` printed more than {} bytes and was stopped; nothing was sent. It must print only the {what}, on one line", MAX_OUTPUT)]
    TooLong {
        /// `password_command` or `token_command`.
        key: &'static str,
        /// The command.
        command: String,
        /// "password" or "access token".
        what: &'static str,
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
/// returns the first line of its standard output that is not blank (see
/// [`first_line`]). Standard output is never echoed; standard error is
/// quoted only when it fails.
pub fn run_secret(
    key: &'static str,
    what: &'static str,
    cmd: &str,
) -> Result<Secret, CredentialError> {
    run_within(key, what, cmd, COMMAND_TIMEOUT)
}

/// What the pipe readers report to [`run_within`].
enum Piped {
    /// Standard output up to end of file.
    Out(Vec<u8>),
    /// More than [`MAX_OUTPUT`] bytes: reading stopped there. The pipe is
    /// handed over still open, so the command cannot go on (it blocks,
    /// instead of dying of a closed pipe and running what follows) until
    /// its group is killed.
    TooLong(std::process::ChildStdout),
    /// Standard error (its first 64 KiB), at end of file.
    Err(Vec<u8>),
}

fn run_within(
    key: &'static str,
    what: &'static str,
    cmd: &str,
    timeout: Duration,
) -> Result<Secret, CredentialError> {
    let spawn_err = |message: String| CredentialError::Spawn {
        key,
        command: cmd.to_string(),
        message,
    };
    // By its full path: the environment may have no PATH. In a process
    // group of its own, so that a timeout ends what the shell started too
    // (a helper's background job must not outlive repmail's wait for it).
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| spawn_err(e.to_string()))?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    // Both pipes read on threads of their own so a chatty command cannot
    // block on a full pipe while we wait for it; each reads at most a
    // bound, so a command that prints without end costs no memory.
    let (tx, rx) = mpsc::channel();
    let out_tx = tx.clone();
    std::thread::spawn(move || {
        let mut v = Vec::new();
        // A read error ends the output like end of file (as before).
        let _ = out.by_ref().take(MAX_OUTPUT as u64 + 1).read_to_end(&mut v);
        let _ = out_tx.send(if v.len() <= MAX_OUTPUT {
            Piped::Out(v)
        } else {
            Piped::TooLong(out)
        });
    });
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.by_ref().take(64 * 1024).read_to_end(&mut v);
        let _ = std::io::copy(&mut err, &mut std::io::sink());
        let _ = tx.send(Piped::Err(v));
    });
    let deadline = Instant::now() + timeout;
    let (mut status, mut stdout, mut stderr) = (None, None, None);
    // Done when the command has exited and both pipes reached their end
    // (a background job holding them open keeps it running: it is waited
    // for, up to the time limit).
    while status.is_none() || stdout.is_none() || stderr.is_none() {
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(Piped::Out(v)) => stdout = Some(v),
            Ok(Piped::TooLong(pipe)) => {
                end_group(&mut child);
                drop(pipe);
                return Err(CredentialError::TooLong {
                    key,
                    command: cmd.to_string(),
                    what,
                });
            }
            Ok(Piped::Err(v)) => stderr = Some(v),
            Err(_) => {}
        }
        if status.is_none() {
            status = child.try_wait().map_err(|e| spawn_err(e.to_string()))?;
        }
        if Instant::now() >= deadline {
            end_group(&mut child);
            return Err(CredentialError::Timeout {
                key,
                command: cmd.to_string(),
                secs: timeout.as_secs(),
            });
        }
    }
    let (status, stdout) = (status.expect("loop ended"), stdout.expect("loop ended"));
    let stderr = clean_stderr(&stderr.unwrap_or_default());
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
    match first_line(&stdout, what) {
        Some(secret) => Ok(Secret::new(secret)),
        None => Err(CredentialError::Empty {
            key,
            command: cmd.to_string(),
            what,
            stderr,
        }),
    }
}

/// The secret in a command's output: its first line that is not blank,
/// without the line ending (msmtp's `passwordeval` also takes the first
/// line; some helpers print a blank line or a banner's empty line first).
/// An access token is trimmed of spaces too (a token never holds any); a
/// password keeps them, since a password may begin or end with a space.
fn first_line(stdout: &[u8], what: &str) -> Option<String> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let line = if what == "password" {
        line
    } else {
        line.trim()
    };
    Some(line.to_string())
}

/// Kills the command's whole process group (the shell and everything it
/// started), then reaps the shell.
///
/// Why a `kill` process: std can signal only the child itself, and the
/// crates that wrap kill(2) for a group need `unsafe` (forbidden here) or
/// are not in the build (`nix`); kill(1) takes a negative pid for a group
/// (POSIX, `kill -s KILL -- -PGID`). The group's id is the shell's pid,
/// which cannot be reused before the shell is reaped below.
fn end_group(child: &mut std::process::Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &group])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    // Should kill(1) be missing, at least the shell goes.
    let _ = child.kill();
    let _ = child.wait();
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
    fn blank_lines_before_the_secret_are_skipped() {
        let s = run_secret(
            "token_command",
            "access token",
            "printf '\\n  \\r\\n\\t\\n  ya29.tok \\nrest\\n'",
        )
        .unwrap();
        assert_eq!(
            s.expose(),
            "ya29.tok",
            "the first line that is not blank, trimmed"
        );
        // A password keeps its spaces: they may be part of it.
        let s = run_secret("password_command", "password", "printf '\\n\\n pa ss \\n'").unwrap();
        assert_eq!(s.expose(), " pa ss ");
        let e = run_secret("token_command", "access token", "printf '\\n \\n\\r\\n'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed nothing"), "{e}");
    }

    #[test]
    fn endless_output_is_refused_at_the_bound() {
        // 300 MB of "y": read only up to the bound, then the command is
        // stopped (with `yes`, which would otherwise run on, blocked).
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done");
        // `done` is written only if the whole output was read: reading
        // stops at the bound and the command is stopped there.
        let cmd = format!("yes | head -c 300000000; touch '{}'", done.display());
        let e = run_secret("token_command", "access token", &cmd).unwrap_err();
        assert!(!done.exists(), "the command's whole output was read");
        assert!(matches!(e, CredentialError::TooLong { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains(&format!("printed more than {MAX_OUTPUT} bytes")),
            "{e}"
        );
        assert!(!e.contains("yyyy"), "{e}");
        // Exactly the bound is still taken (a secret is its first line).
        let ok = format!("head -c {MAX_OUTPUT} /dev/zero | tr '\\0' 'k'");
        assert_eq!(
            run_secret("password_command", "password", &ok)
                .unwrap()
                .expose()
                .len(),
            MAX_OUTPUT
        );
    }

    #[test]
    fn a_timeout_ends_what_the_command_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("bg.pid");
        // A background job that would outlive the shell, and keeps the
        // output pipe open.
        let cmd = format!("sleep 60 & echo $! > '{}'; sleep 60", pid_file.display());
        let e = run_within(
            "token_command",
            "access token",
            &cmd,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            matches!(e, CredentialError::Timeout { secs: 1, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("within 1 s"), "{e}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let pid = pid.trim();
        // Gone (a zombie until init reaps it counts as gone: it runs no more).
        let gone = (0..200).any(|_| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            if matches!(state, None | Some("Z") | Some("X")) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
            false
        });
        assert!(gone, "the background sleep {pid} still runs");
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
