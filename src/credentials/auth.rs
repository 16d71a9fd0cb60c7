//! The SMTP sign-in a connection asks for: [`Auth`], where each new
//! connection gets its AUTH credentials (none, a password, or a token from
//! [`super::TokenAuth`]). The connection that uses them is
//! `send::connection`'s.

use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use super::Secret;

/// Where a new connection gets its AUTH credentials.
///
/// Asked once for every new connection (never cached by the connection),
/// so credentials that expire — an OAuth2 access token — can be renewed
/// between connections.
pub trait Auth: Send + Sync {
    /// The credentials and the mechanisms to offer, in order of preference;
    /// `Ok(None)`: no AUTH. An `Err` (a token command that failed) stops
    /// the run; its text must not contain the secret.
    fn credentials(&self) -> Result<Option<(Credentials, Vec<Mechanism>)>, String>;

    /// The server refused the credentials last returned. Returns whether
    /// fresh ones are worth one more try on a new connection (a renewable
    /// token); a password is not: the default is `false`.
    fn refused(&self) -> bool {
        false
    }
}

/// No AUTH.
pub struct NoAuth;

impl Auth for NoAuth {
    fn credentials(&self) -> Result<Option<(Credentials, Vec<Mechanism>)>, String> {
        Ok(None)
    }
}

/// A user name and password, offered as PLAIN or LOGIN.
pub struct Password {
    user: String,
    password: Secret,
}

impl Password {
    /// The account `user` with `password`.
    pub fn new(user: String, password: Secret) -> Password {
        Password { user, password }
    }
}

impl Auth for Password {
    fn credentials(&self) -> Result<Option<(Credentials, Vec<Mechanism>)>, String> {
        let c = Credentials::new(self.user.clone(), self.password.expose().to_owned());
        Ok(Some((c, vec![Mechanism::Plain, Mechanism::Login])))
    }
}
