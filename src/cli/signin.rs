//! Signing in, for `send` and `check`: where the password or token comes
//! from, and getting it before any connection is made.

use std::io::IsTerminal;

use anyhow::Context as _;
use repmail::config::Smtp;
use repmail::credentials::{AuthMethod, Readiness, Secret};

/// One line for the plan and `check`: where the secret will come from and
/// whether it is there now. Runs nothing that could prompt.
pub fn describe(smtp: &Smtp) -> Option<Readiness> {
    smtp.username.as_ref()?;
    Some(smtp.credentials().readiness(std::io::stdin().is_terminal()))
}

/// The secret for this run: the first access token (`auth = "oauth2"`) or
/// the password (command, variable, then the terminal). Fetched before
/// any connection, so a failing command stops the run with nothing sent.
pub fn secret(smtp: &Smtp) -> anyhow::Result<Option<Secret>> {
    let Some(user) = &smtp.username else {
        return Ok(None);
    };
    let creds = smtp.credentials();
    match smtp.auth {
        AuthMethod::Oauth2 => Ok(creds.token().transpose()?),
        AuthMethod::Password => match creds.password()? {
            Some(p) => Ok(Some(p)),
            None if std::io::stdin().is_terminal() => {
                // The prompt is written by rpassword, past the line macros.
                let prompt = format!("Password for {user} at {}: ", smtp.host);
                let p = rpassword::prompt_password(super::terminal::line(&prompt).as_ref())
                    .context("cannot read the password")?;
                Ok(Some(Secret::new(p)))
            }
            None => Ok(None),
        },
    }
}
