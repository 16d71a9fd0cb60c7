//! Signing in, for `send`, `check` and `inbox`: where the password or
//! token comes from, and getting it before any connection is made.

use std::io::IsTerminal;

use anyhow::Context as _;
use repmail::config::{Inbox, Smtp};
use repmail::credentials::{AuthMethod, Readiness, Secret, SignInSettings, TokenAuth};
use repmail::imap::{ImapError, Login, SignIn};

/// One line for the plan and `check`: where the secret will come from and
/// whether it is there now. Runs nothing that could prompt.
pub fn describe(smtp: &Smtp) -> Option<Readiness> {
    smtp.username.as_ref()?;
    Some(smtp.credentials().readiness(std::io::stdin().is_terminal()))
}

/// The same for the mailbox (`[inbox]`); an account is required there.
pub fn describe_inbox(inbox: &Inbox) -> Readiness {
    if inbox.username.is_none() {
        return Readiness::Missing("no account: set `username` under [inbox] or [smtp]".into());
    }
    inbox
        .credentials()
        .readiness(std::io::stdin().is_terminal())
}

/// The secret for this run: the first access token (`auth = "oauth2"`) or
/// the password (command, variable, then the terminal). Fetched before
/// any connection, so a failing command stops the run with nothing sent.
pub fn secret(smtp: &Smtp) -> anyhow::Result<Option<Secret>> {
    let Some(user) = &smtp.username else {
        return Ok(None);
    };
    fetch(&smtp.credentials(), user, &smtp.host)
}

fn fetch(creds: &SignInSettings, user: &str, host: &str) -> anyhow::Result<Option<Secret>> {
    match creds.auth {
        AuthMethod::Oauth2 => Ok(creds.token().transpose()?),
        AuthMethod::Password => match creds.password()? {
            Some(p) => Ok(Some(p)),
            None if std::io::stdin().is_terminal() => {
                // The prompt is written by rpassword, past the line macros.
                let prompt = format!("Password for {user} at {host}: ");
                let p = rpassword::prompt_password(super::terminal::line(&prompt).as_ref())
                    .context("cannot read the password")?;
                Ok(Some(Secret::new(p)))
            }
            None => Ok(None),
        },
    }
}

/// The mailbox's sign-in, fetched before connecting.
pub fn inbox_login(inbox: &Inbox) -> anyhow::Result<Login> {
    let user = inbox.username.clone().ok_or(ImapError::NoUser)?;
    let creds = inbox.credentials();
    let secret = fetch(&creds, &user, &inbox.host)?.ok_or_else(|| ImapError::NoPassword {
        user: user.clone(),
        var: inbox.password_env.clone(),
    })?;
    let sign_in = match inbox.auth {
        AuthMethod::Oauth2 => SignIn::Token(TokenAuth::new(user.clone(), creds, secret)),
        AuthMethod::Password => SignIn::Password(secret),
    };
    Ok(Login { user, sign_in })
}
