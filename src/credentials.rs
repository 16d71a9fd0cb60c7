//! Credentials: the password or OAuth2 access token, and where each comes
//! from.
//!
//! Secrets come from commands, the way msmtp's `passwordeval` and the
//! OAuth2 helpers (pizauth, oama, mutt_oauth2.py, `gcloud auth
//! print-access-token`) work: run a command, read its standard output,
//! never store or print it. Precedence for a password: `password_command`,
//! then `password_env`, then the terminal prompt (asked by the CLI).

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use serde::Deserialize;

/// How long a password or token command may run: a helper that waits for
/// a browser sign-in nobody will do must not hang the run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// How long an access token is used for new connections before
/// `token_command` is asked again. OAuth2 helpers print a cached token
/// until it nears expiry, so asking costs little; Google's and Microsoft's
/// access tokens last about an hour (Google Identity, "Using OAuth 2.0 to
/// Access Google APIs": `expires_in` 3599 s; Microsoft identity platform,
/// "Access tokens": 60–90 minutes; read 2026-12-01).
pub const TOKEN_REUSE: Duration = Duration::from_secs(30 * 60);

/// `[smtp] auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// PLAIN or LOGIN with a password.
    Password,
    /// XOAUTH2 with an access token from `token_command`.
    Oauth2,
}

impl AuthMethod {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::Oauth2 => "oauth2",
        }
    }
}

/// A password or token: its `Debug` and `Display` never show it, so no log
/// line, error or panic message can carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The secret itself, for the one place that hands it to SMTP.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// Where the secret for a sign-in comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The standard output of `password_command`.
    PasswordCommand(String),
    /// The standard output of `token_command`.
    TokenCommand(String),
    /// The variable named by `password_env`.
    Env(String),
    /// Asked on the terminal (or missing, when there is none).
    Prompt {
        /// The variable that was looked at first.
        env: String,
    },
}

/// Whether the source can deliver right now, found without running
/// anything that could prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// It is there (variable set, command found on PATH).
    Ready(String),
    /// It is not: what to do.
    Missing(String),
}

/// What the sign-in needs: the settings of `[smtp]` that concern it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `auth`.
    pub auth: AuthMethod,
    /// `password_command`.
    pub password_command: Option<String>,
    /// `token_command`.
    pub token_command: Option<String>,
    /// `password_env`.
    pub password_env: String,
}

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

impl Settings {
    /// Where the password or token will come from.
    pub fn source(&self) -> Source {
        match (self.auth, &self.password_command, &self.token_command) {
            (AuthMethod::Oauth2, _, Some(cmd)) => Source::TokenCommand(cmd.clone()),
            (AuthMethod::Oauth2, _, None) => Source::Prompt {
                env: self.password_env.clone(),
            },
            (AuthMethod::Password, Some(cmd), _) => Source::PasswordCommand(cmd.clone()),
            (AuthMethod::Password, None, _) => {
                if env_value(&self.password_env).is_some() {
                    Source::Env(self.password_env.clone())
                } else {
                    Source::Prompt {
                        env: self.password_env.clone(),
                    }
                }
            }
        }
    }

    /// Says where the secret will come from and whether it is there now,
    /// without running any command. `terminal`: a prompt can be answered.
    pub fn readiness(&self, terminal: bool) -> Readiness {
        match self.source() {
            Source::PasswordCommand(cmd) | Source::TokenCommand(cmd) => {
                let key = if self.auth == AuthMethod::Oauth2 {
                    "token_command"
                } else {
                    "password_command"
                };
                match program_of(&cmd) {
                    Some(p) if found(&p) => Readiness::Ready(format!(
                        "from {key} `{cmd}` ({p} found; run when sending)"
                    )),
                    Some(p) => Readiness::Missing(format!(
                        "{key} `{cmd}`: `{p}` is not found on PATH; install it or write its full path"
                    )),
                    None => Readiness::Missing(format!("{key} is empty; write the command")),
                }
            }
            Source::Env(var) => Readiness::Ready(format!("from the variable {var} (set)")),
            Source::Prompt { .. } if self.auth == AuthMethod::Oauth2 => Readiness::Missing(
                "auth = \"oauth2\" needs a token_command under [smtp] that prints an access token (see the README: OAuth2)"
                    .into(),
            ),
            Source::Prompt { env } if terminal => Readiness::Ready(format!(
                "asked on the terminal when sending ({env} is not set; or set password_command)"
            )),
            Source::Prompt { env } => Readiness::Missing(format!(
                "no password: {env} is not set and there is no terminal to ask on; set {env} or password_command"
            )),
        }
    }

    /// The password from `password_command` or `password_env`; `None`:
    /// neither is set (the CLI may prompt).
    pub fn password(&self) -> Result<Option<Secret>, CredentialError> {
        if let Some(cmd) = &self.password_command {
            return run_secret("password_command", "password", cmd).map(Some);
        }
        Ok(env_value(&self.password_env).map(Secret))
    }

    /// A fresh access token from `token_command`.
    pub fn token(&self) -> Option<Result<Secret, CredentialError>> {
        self.token_command
            .as_deref()
            .map(|cmd| run_secret("token_command", "access token", cmd))
    }
}

/// XOAUTH2 sign-in for each new connection, with tokens from
/// `token_command`: the first fetched before any connection, a new one
/// when the server refused the last or it is older than [`TOKEN_REUSE`].
pub struct TokenAuth {
    user: String,
    settings: Settings,
    state: Mutex<TokenState>,
}

struct TokenState {
    token: Secret,
    fetched: Instant,
    stale: bool,
}

impl TokenAuth {
    /// Signs in as `user`, first with `first` (already fetched).
    pub fn new(user: String, settings: Settings, first: Secret) -> TokenAuth {
        TokenAuth {
            user,
            settings,
            state: Mutex::new(TokenState {
                token: first,
                fetched: Instant::now(),
                stale: false,
            }),
        }
    }

    fn renew(&self) -> Result<Secret, CredentialError> {
        let run = || {
            self.settings.token().unwrap_or_else(|| {
                // The config requires token_command with oauth2.
                Err(CredentialError::Spawn {
                    key: "token_command",
                    command: String::new(),
                    message: "no token_command is set under [smtp]".into(),
                })
            })
        };
        // Running the command blocks; on a multi-threaded runtime let the
        // other tasks (the ledger loop) move on meanwhile.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }
}

impl crate::send::Auth for TokenAuth {
    fn credentials(&self) -> Result<Option<(Credentials, Vec<Mechanism>)>, String> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.stale || st.fetched.elapsed() >= TOKEN_REUSE {
            st.token = self.renew().map_err(|e| e.to_string())?;
            st.fetched = Instant::now();
            st.stale = false;
        }
        // lettre's XOAUTH2 takes the token as the credentials' secret and
        // sends `user=U^Aauth=Bearer T^A^A` (DESIGN.md, pitfalls).
        let c = Credentials::new(self.user.clone(), st.token.expose().to_string());
        Ok(Some((c, vec![Mechanism::Xoauth2])))
    }

    fn refused(&self) -> bool {
        // The connection is opened once more (and only once) with a token
        // fetched anew: an expired token is renewed, a token refused twice
        // in a row stops the run.
        self.state.lock().unwrap_or_else(|e| e.into_inner()).stale = true;
        true
    }
}

fn env_value(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|p| !p.is_empty())
}

/// The first word of a shell command: the program `sh -c` will run (a
/// leading `VAR=value` is skipped).
fn program_of(cmd: &str) -> Option<String> {
    cmd.split_whitespace()
        .find(|w| !w.contains('=') || w.starts_with('='))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// Whether `program` exists: a path, a shell builtin, or on PATH.
fn found(program: &str) -> bool {
    const BUILTINS: &[&str] = &["echo", "printf", "cat", "exec", "eval", "test", "[", "."];
    if BUILTINS.contains(&program) {
        return true;
    }
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
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
    Ok(Secret(secret))
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

    fn settings(auth: AuthMethod, pc: Option<&str>, tc: Option<&str>) -> Settings {
        Settings {
            auth,
            password_command: pc.map(str::to_string),
            token_command: tc.map(str::to_string),
            password_env: "REPMAIL_TEST_SURELY_UNSET_VAR".into(),
        }
    }

    #[test]
    fn secret_never_shows() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "(redacted)");
        assert_eq!(format!("{s}"), "(redacted)");
        assert_eq!(s.expose(), "hunter2");
    }

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
    fn precedence_command_then_env_then_prompt() {
        let s = settings(AuthMethod::Password, Some("pass show x"), None);
        assert_eq!(s.source(), Source::PasswordCommand("pass show x".into()));
        let s = settings(AuthMethod::Password, None, None);
        assert!(matches!(s.source(), Source::Prompt { .. }));
        let s = Settings {
            password_env: "PATH".into(), // set in any test environment
            ..s
        };
        assert_eq!(s.source(), Source::Env("PATH".into()));
        let s = settings(AuthMethod::Oauth2, Some("pw"), Some("tok"));
        assert_eq!(s.source(), Source::TokenCommand("tok".into()));
    }

    #[test]
    fn readiness_runs_nothing() {
        let s = settings(
            AuthMethod::Password,
            Some("touch /proc/forbidden-marker; sh"),
            None,
        );
        // `touch` exists but is not run: readiness only looks.
        assert!(matches!(s.readiness(false), Readiness::Ready(_)));
        let s = settings(AuthMethod::Oauth2, None, Some("no-such-helper-xyz --token"));
        match s.readiness(true) {
            Readiness::Missing(m) => assert!(m.contains("no-such-helper-xyz"), "{m}"),
            r => panic!("{r:?}"),
        }
        let s = settings(AuthMethod::Oauth2, None, None);
        assert!(matches!(s.readiness(true), Readiness::Missing(_)));
        let s = settings(AuthMethod::Password, None, None);
        assert!(matches!(s.readiness(true), Readiness::Ready(_)));
        assert!(matches!(s.readiness(false), Readiness::Missing(_)));
    }

    #[test]
    fn program_of_skips_assignments() {
        assert_eq!(program_of("FOO=1 oama access x").as_deref(), Some("oama"));
        assert_eq!(program_of("  'gcloud' auth").as_deref(), Some("gcloud"));
        assert_eq!(program_of("   "), None);
    }
}
