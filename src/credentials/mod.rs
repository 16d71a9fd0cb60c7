//! Credentials: the password or OAuth2 access token, and where each comes
//! from.
//!
//! Secrets come from commands, the way msmtp's `passwordeval` and the
//! OAuth2 helpers (pizauth, oama, mutt_oauth2.py, `gcloud auth
//! print-access-token`) work: run a command, read its standard output,
//! never store or print it. Precedence for a password: `password_command`,
//! then `password_env`, then the terminal prompt (asked by the CLI).

mod auth;
mod command;
mod token;

use std::fmt;

use serde::Deserialize;

pub use auth::{Auth, NoAuth, Password};
pub use command::{run_secret, CredentialError, COMMAND_TIMEOUT};
pub use token::{TokenAuth, TOKEN_REUSE};

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
    /// It is not, and cannot be as configured: what to fix.
    Missing(String),
    /// It is not there now (the variable is unset and there is no
    /// terminal to ask on) but may be when `send` runs: what to set.
    NotNow(String),
}

/// What the sign-in needs: the settings of `[smtp]` that concern it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInSettings {
    /// `auth`.
    pub auth: AuthMethod,
    /// `password_command`.
    pub password_command: Option<String>,
    /// `token_command`.
    pub token_command: Option<String>,
    /// `password_env`.
    pub password_env: String,
}

impl SignInSettings {
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
                match command::program_of(&cmd) {
                    Some(p) if command::found(&p) => Readiness::Ready(format!(
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
            Source::Prompt { env } => Readiness::NotNow(format!(
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

fn env_value(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(auth: AuthMethod, pc: Option<&str>, tc: Option<&str>) -> SignInSettings {
        SignInSettings {
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
    fn precedence_command_then_env_then_prompt() {
        let s = settings(AuthMethod::Password, Some("pass show x"), None);
        assert_eq!(s.source(), Source::PasswordCommand("pass show x".into()));
        let s = settings(AuthMethod::Password, None, None);
        assert!(matches!(s.source(), Source::Prompt { .. }));
        let s = SignInSettings {
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
        assert!(matches!(s.readiness(false), Readiness::NotNow(_)));
    }
}
