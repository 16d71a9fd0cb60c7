//! `[inbox]` and `[sent]`: the campaign account's mailbox over IMAP, how
//! to sign in to it, and whether each letter sent gets a copy in its Sent
//! folder (issue 20).

use std::path::PathBuf;

use serde::Deserialize;

use super::check::Validator;
use super::error::ConfigError;
use super::smtp::{Smtp, DEFAULT_PASSWORD_ENV};
use crate::credentials::AuthMethod;
use crate::tls::Security;

/// `[inbox]`: the campaign account's mailbox over IMAP. Host, port and
/// security default to the `[smtp]` provider's mailbox; the account and
/// the sign-in (method, commands, variable) to those of `[smtp]`.
#[derive(Debug, Clone)]
pub struct Inbox {
    /// IMAP server host name or IP address.
    pub host: String,
    /// Port (default 993 for `tls`, 143 for `starttls`).
    pub port: u16,
    /// `tls` or `starttls` (never plain: the password crosses).
    pub security: Security,
    /// Login name (default: `[smtp] username`).
    pub username: Option<String>,
    /// `password` or `oauth2` (default: `[smtp]`'s).
    pub auth: AuthMethod,
    /// Command whose output is the password (default: `[smtp]`'s).
    pub password_command: Option<String>,
    /// Command whose output is an OAuth2 access token (default: `[smtp]`'s).
    pub token_command: Option<String>,
    /// Name of the variable holding the password (default: `[smtp]`'s).
    pub password_env: String,
    /// Folders to read, default `["INBOX"]`.
    pub folders: Vec<String>,
    /// Extra trusted root certificate (PEM; default: `[smtp]`'s).
    pub ca_file: Option<PathBuf>,
}

impl Inbox {
    /// What the sign-in needs, for [`crate::credentials`].
    pub fn credentials(&self) -> crate::credentials::SignInSettings {
        crate::credentials::SignInSettings {
            auth: self.auth,
            password_command: self.password_command.clone(),
            token_command: self.token_command.clone(),
            password_env: self.password_env.clone(),
        }
    }
}

/// `[sent] copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CopyMode {
    /// A copy unless the `[smtp]` provider files its own.
    #[default]
    Auto,
    /// Always a copy.
    Always,
    /// Never a copy.
    Never,
}

impl CopyMode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CopyMode::Auto => "auto",
            CopyMode::Always => "always",
            CopyMode::Never => "never",
        }
    }
}

/// `[sent]`: a copy of each letter in the account's Sent folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentCopy {
    /// `auto`, `always` or `never`.
    pub copy: CopyMode,
    /// The folder; `None`: the one with the `\Sent` attribute (RFC 6154).
    pub folder: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInbox {
    host: Option<String>,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    auth: Option<AuthMethod>,
    password_command: Option<String>,
    token_command: Option<String>,
    password_env: Option<String>,
    folders: Option<Vec<String>>,
    ca_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSent {
    copy: Option<CopyMode>,
    folder: Option<String>,
}

impl Validator<'_> {
    /// `[inbox]` as written, or `None` when there is none and the `[smtp]`
    /// provider has no mailbox either.
    pub(super) fn inbox(
        &self,
        raw: Option<RawInbox>,
        smtp: Option<&Smtp>,
    ) -> Result<Option<Inbox>, ConfigError> {
        let preset = smtp.and_then(|s| s.provider).and_then(|p| p.imap);
        let i = match (raw, preset) {
            (Some(i), _) => i,
            // A preset with a mailbox fills the whole section.
            (None, Some(_)) => RawInbox {
                host: None,
                port: None,
                security: None,
                username: None,
                auth: None,
                password_command: None,
                token_command: None,
                password_env: None,
                folders: None,
                ca_file: None,
            },
            (None, None) => return Ok(None),
        };
        let (auth, password_command, token_command, password_env) = self.inbox_sign_in(&i, smtp)?;
        let token_command_written = i.token_command.is_some();
        let host = i
            .host
            .or(preset.map(|p| p.host.to_string()))
            .unwrap_or_default()
            .trim()
            .to_string();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.invalid(
                "inbox.host",
                "must be the IMAP server's host name, e.g. \"imap.example.org\"",
            ));
        }
        let security = i
            .security
            .or(preset.map(|p| p.security))
            .unwrap_or(Security::Tls);
        if security == Security::None {
            return Err(self.invalid(
                "inbox.security",
                "must be \"tls\" or \"starttls\": the password would cross unencrypted",
            ));
        }
        // The preset's port goes with its security, as for [smtp].
        let port = match (i.port, preset) {
            (Some(p), _) => p,
            (None, Some(p)) if p.security == security => p.port,
            (None, _) if security == Security::Starttls => 143,
            (None, _) => 993,
        };
        let folders = i
            .folders
            .clone()
            .unwrap_or_else(|| vec!["INBOX".to_string()]);
        if folders.is_empty()
            || folders
                .iter()
                .any(|f| f.trim().is_empty() || f.contains(['\r', '\n']))
        {
            return Err(self.invalid("inbox.folders", "must list folder names, e.g. [\"INBOX\"]"));
        }
        let username = i
            .username
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| smtp.and_then(|s| s.username.clone()));
        match auth {
            AuthMethod::Oauth2 if token_command.is_none() => {
                return Err(self.invalid(
                    "inbox.token_command",
                    "auth = \"oauth2\" needs a command that prints a current access token for IMAP, e.g. `token_command = \"oama access letters@example.org\"` (see the README: OAuth2); or set auth = \"password\"",
                ))
            }
            AuthMethod::Oauth2 if username.is_none() => {
                return Err(self.invalid(
                    "inbox.username",
                    "auth = \"oauth2\" signs in as an account: write its address as `username` (here or under [smtp])",
                ))
            }
            AuthMethod::Password if token_command_written => {
                return Err(self.invalid(
                    "inbox.token_command",
                    "is used only with auth = \"oauth2\"; add that, or remove token_command",
                ))
            }
            _ => {}
        }
        Ok(Some(Inbox {
            host,
            port,
            security,
            username,
            auth,
            password_command,
            token_command,
            password_env,
            folders,
            ca_file: i
                .ca_file
                .as_deref()
                .map(|p| self.resolve(p))
                .or_else(|| smtp.and_then(|s| s.ca_file.clone())),
        }))
    }

    /// The inbox's sign-in: what `[inbox]` writes, else what `[smtp]` uses.
    /// A command of `[smtp]` is taken only for the same method, and its
    /// password command only when `[inbox]` names no variable of its own
    /// (a command comes before a variable, so taking it would silently
    /// override the variable written here).
    #[allow(clippy::type_complexity)]
    fn inbox_sign_in(
        &self,
        i: &RawInbox,
        smtp: Option<&Smtp>,
    ) -> Result<(AuthMethod, Option<String>, Option<String>, String), ConfigError> {
        let auth = i
            .auth
            .or(smtp.map(|s| s.auth))
            .unwrap_or(AuthMethod::Password);
        let same = smtp.filter(|s| s.auth == auth);
        let command = |key: &str, v: &Option<String>| match v {
            Some(c) if c.trim().is_empty() => {
                Err(self.invalid(key, "is empty; write the command, or remove the key"))
            }
            Some(c) if c.contains('\n') => Err(self.invalid(key, "must be one line")),
            other => Ok(other.clone()),
        };
        let token_command = command("inbox.token_command", &i.token_command)?
            .or_else(|| same.and_then(|s| s.token_command.clone()));
        let password_command =
            command("inbox.password_command", &i.password_command)?.or_else(|| {
                same.filter(|_| i.password_env.is_none())
                    .and_then(|s| s.password_command.clone())
            });
        let password_env = i
            .password_env
            .clone()
            .or_else(|| smtp.map(|s| s.password_env.clone()))
            .unwrap_or_else(|| DEFAULT_PASSWORD_ENV.to_string());
        Ok((auth, password_command, token_command, password_env))
    }

    /// `[sent]`; a copy needs a mailbox to put it in.
    pub(super) fn sent(
        &self,
        raw: Option<RawSent>,
        inbox: Option<&Inbox>,
    ) -> Result<SentCopy, ConfigError> {
        let Some(raw) = raw else {
            return Ok(SentCopy::default());
        };
        let folder = raw.folder.map(|f| f.trim().to_string());
        if let Some(f) = &folder {
            if f.is_empty() || f.chars().any(char::is_control) {
                return Err(self.invalid(
                    "sent.folder",
                    "must be a folder name, e.g. \"Sent\"; or remove it to use the folder the server marks \\Sent",
                ));
            }
        }
        let copy = raw.copy.unwrap_or_default();
        if copy == CopyMode::Always && inbox.is_none() {
            return Err(self.invalid(
                "sent.copy",
                "\"always\" needs the mailbox to put the copies in: add an [inbox] section with its IMAP `host` (or use a [smtp] provider that has one)",
            ));
        }
        Ok(SentCopy { copy, folder })
    }
}
