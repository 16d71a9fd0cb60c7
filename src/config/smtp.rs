//! `[smtp]`: the server letters are submitted to, and how to sign in.

use std::path::PathBuf;

use crate::tls::Security;

/// Default whole-transaction timeout per message.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Default variable holding the SMTP password.
pub const DEFAULT_PASSWORD_ENV: &str = "REPMAIL_SMTP_PASSWORD";

/// `[smtp]`.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Server host name or IP address.
    pub host: String,
    /// Port (default from `security`).
    pub port: u16,
    /// Encryption mode.
    pub security: Security,
    /// Account name for AUTH, if any.
    pub username: Option<String>,
    /// Name of the variable holding the password.
    pub password_env: String,
    /// Extra trusted root certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// Whole-transaction timeout per message.
    pub timeout_secs: u64,
    /// The preset named by `provider`, if any.
    pub provider: Option<&'static crate::providers::Provider>,
    /// How to sign in (default from the provider, else password).
    pub auth: crate::credentials::AuthMethod,
    /// Command whose output is the password.
    pub password_command: Option<String>,
    /// Command whose output is an OAuth2 access token.
    pub token_command: Option<String>,
    /// IMAP host of the provider (for `repmail inbox`).
    pub imap_host: Option<String>,
}

impl Smtp {
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
