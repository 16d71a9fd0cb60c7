//! The campaign account's mailbox over IMAP (RFC 9051 / 3501): one
//! verified TLS connection (implicit or STARTTLS) and the sign-in, with a
//! password (LOGIN) or an OAuth2 access token (SASL XOAUTH2), for both
//! `repmail inbox` (reading) and the Sent copy (APPEND).
//!
//! The TLS client set-up is [`crate::tls`]'s, the same as SMTP's.

mod signin;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::config::Inbox;
use crate::credentials::{CredentialError, Secret, TokenAuth};
use crate::tls::{Security, TlsError, Trust};

pub use signin::{explain_refusal, Xoauth2};

/// A signed-in IMAP session.
pub type Session = async_imap::Session<TlsStream<TcpStream>>;

/// What went wrong talking to the IMAP server. Never carries the password
/// or the token.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// No account name.
    #[error("no IMAP account: set `username` under [inbox] (or under [smtp])")]
    NoUser,
    /// No password.
    #[error("no password for `{user}` at the IMAP server: set the environment variable {var}, or password_command under [inbox] (or [smtp])")]
    NoPassword {
        /// Account.
        user: String,
        /// The variable's name.
        var: String,
    },
    /// The password or token command failed.
    #[error("{0}")]
    Credential(#[from] CredentialError),
    /// No TCP connection.
    #[error(
        "cannot connect to the IMAP server {host}:{port}: {source}; check [inbox] host and port"
    )]
    Connect {
        /// Server.
        host: String,
        /// Port.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `ca_file` cannot be used: the same words as for SMTP.
    #[error(transparent)]
    Trust(#[from] TlsError),
    /// TLS could not be set up or failed.
    #[error(
        "TLS with the IMAP server {host} failed: {message}; check [inbox] security and ca_file"
    )]
    Tls {
        /// Server.
        host: String,
        /// Why.
        message: String,
    },
    /// The server refused the sign-in.
    #[error("the IMAP server refused the login for `{user}` ({method}): {message}; {hint}")]
    Login {
        /// Account.
        user: String,
        /// `password` or `oauth2`.
        method: &'static str,
        /// The server's words.
        message: String,
        /// What to do, in plain words.
        hint: String,
    },
    /// A folder or a command failed.
    #[error("IMAP {what} failed: {message}")]
    Protocol {
        /// What was being done.
        what: String,
        /// The server's or the client's words.
        message: String,
    },
}

/// How to sign in: a password, or tokens from `token_command`.
pub enum SignIn {
    /// LOGIN with this password.
    Password(Secret),
    /// AUTHENTICATE XOAUTH2, a token per connection (renewed by age, as
    /// for SMTP).
    Token(TokenAuth),
}

/// The account and its sign-in.
pub struct Login {
    /// The account name.
    pub user: String,
    /// The secret.
    pub sign_in: SignIn,
}

/// Connects to `[inbox]`'s server, verifies it, and signs in.
pub async fn connect(inbox: &Inbox, login: &Login) -> Result<Session, ImapError> {
    // Before the connection: a `ca_file` that cannot be used is a mistake
    // in the campaign file whether or not the server is up.
    let config = Trust::load(inbox.ca_file.as_deref())?.client_config()?;
    let tls = tokio_rustls::TlsConnector::from(config);
    let tcp = TcpStream::connect((inbox.host.as_str(), inbox.port))
        .await
        .map_err(|source| ImapError::Connect {
            host: inbox.host.clone(),
            port: inbox.port,
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(inbox.host.clone()).map_err(|e| tls_err(inbox, e))?;
    let client = match inbox.security {
        Security::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| tls_err(inbox, format!("STARTTLS refused: {e}")))?;
            let tcp = client.into_inner();
            let stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| tls_err(inbox, e))?;
            async_imap::Client::new(stream)
        }
        _ => {
            let stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| tls_err(inbox, e))?;
            let mut client = async_imap::Client::new(stream);
            greeting(&mut client).await?;
            client
        }
    };
    sign_in(client, login).await
}

async fn sign_in(
    client: async_imap::Client<TlsStream<TcpStream>>,
    login: &Login,
) -> Result<Session, ImapError> {
    let user = &login.user;
    let refused = |method: &'static str, e: async_imap::error::Error| {
        let message = e.to_string();
        ImapError::Login {
            user: user.clone(),
            method,
            hint: explain_refusal(&message, method == "oauth2"),
            message,
        }
    };
    match &login.sign_in {
        SignIn::Password(p) => client
            .login(user, p.expose())
            .await
            .map_err(|(e, _)| refused("password", e)),
        SignIn::Token(auth) => {
            let token = auth.current()?;
            client
                .authenticate("XOAUTH2", Xoauth2::new(user, &token))
                .await
                .map_err(|(e, _)| refused("oauth2", e))
        }
    }
}

async fn greeting<T>(client: &mut async_imap::Client<T>) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(protocol("greeting", "the server closed the connection")),
        Err(e) => Err(protocol("greeting", e)),
    }
}

fn tls_err(inbox: &Inbox, e: impl std::fmt::Display) -> ImapError {
    ImapError::Tls {
        host: inbox.host.clone(),
        message: e.to_string(),
    }
}

/// A failed command, in the server's or the client's words.
pub fn protocol(what: impl Into<String>, e: impl std::fmt::Display) -> ImapError {
    ImapError::Protocol {
        what: what.into(),
        message: e.to_string(),
    }
}
