//! The campaign account's mailbox over IMAP (RFC 9051 / 3501), read only:
//! every folder is opened with EXAMINE (read-only, RFC 3501 6.3.2) and
//! messages are fetched with `BODY.PEEK[]`, which never sets `\Seen`
//! (RFC 3501 6.4.5). Nothing is deleted, moved or flagged.

use std::sync::Arc;

use futures::TryStreamExt;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use super::RawMessage;
use crate::config::{Inbox, Security};
use crate::send::Secret;

/// UIDs fetched per command: bounded replies, few round trips.
const FETCH_BATCH: usize = 100;

/// What went wrong talking to the IMAP server. Never carries the password.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// No account name.
    #[error("no IMAP account: set `username` under [inbox] (or under [smtp])")]
    NoUser,
    /// No password.
    #[error("no password for `{user}`: set the environment variable {var}")]
    NoPassword {
        /// Account.
        user: String,
        /// The variable's name.
        var: String,
    },
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
    /// The server refused the login.
    #[error("the IMAP server refused the login for `{user}`: {message}; check [inbox] username and the password")]
    Login {
        /// Account.
        user: String,
        /// The server's words.
        message: String,
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

/// The account's login for IMAP: `[inbox] username` (else `[smtp]`'s) and
/// the password from the variable `password_env` names, as `send` reads it.
/// The one place to re-point when `credentials` (issue 9) brings password
/// and token commands.
pub fn credentials(inbox: &Inbox) -> Result<(String, Secret), ImapError> {
    let user = inbox.username.clone().ok_or(ImapError::NoUser)?;
    let password = std::env::var(&inbox.password_env)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
        .ok_or_else(|| ImapError::NoPassword {
            user: user.clone(),
            var: inbox.password_env.clone(),
        })?;
    Ok((user, password))
}

/// Every message in the configured folders (at or after `since`, a date
/// in IMAP's `SINCE` sense, when given), oldest first per folder.
pub async fn fetch_all(
    inbox: &Inbox,
    user: &str,
    password: &Secret,
    since: Option<chrono::NaiveDate>,
) -> Result<Vec<RawMessage>, ImapError> {
    let tcp = TcpStream::connect((inbox.host.as_str(), inbox.port))
        .await
        .map_err(|source| ImapError::Connect {
            host: inbox.host.clone(),
            port: inbox.port,
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let tls = connector(inbox)?;
    let name = ServerName::try_from(inbox.host.clone()).map_err(|e| tls_err(inbox, e))?;
    match inbox.security {
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
            session(
                async_imap::Client::new(stream),
                inbox,
                user,
                password,
                since,
            )
            .await
        }
        _ => {
            let stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| tls_err(inbox, e))?;
            let mut client = async_imap::Client::new(stream);
            greeting(&mut client).await?;
            session(client, inbox, user, password, since).await
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

async fn session<T>(
    client: async_imap::Client<T>,
    inbox: &Inbox,
    user: &str,
    password: &Secret,
    since: Option<chrono::NaiveDate>,
) -> Result<Vec<RawMessage>, ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut session = client
        .login(user, password.expose())
        .await
        .map_err(|(e, _)| ImapError::Login {
            user: user.to_string(),
            message: e.to_string(),
        })?;
    let mut out = Vec::new();
    for folder in &inbox.folders {
        let mailbox = session
            .examine(folder)
            .await
            .map_err(|e| protocol(format!("EXAMINE {folder}"), e))?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let query = match since {
            // RFC 3501 date: 1-Dec-2026.
            Some(day) => format!("SINCE {}", day.format("%-d-%b-%Y")),
            None => "ALL".to_string(),
        };
        let mut uids: Vec<u32> = session
            .uid_search(&query)
            .await
            .map_err(|e| protocol(format!("UID SEARCH in {folder}"), e))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        for batch in uids.chunks(FETCH_BATCH) {
            let set: Vec<String> = batch.iter().map(u32::to_string).collect();
            let fetches: Vec<_> = session
                .uid_fetch(set.join(","), "(UID INTERNALDATE BODY.PEEK[])")
                .await
                .map_err(|e| protocol(format!("UID FETCH in {folder}"), e))?
                .try_collect()
                .await
                .map_err(|e| protocol(format!("UID FETCH in {folder}"), e))?;
            for fetch in fetches {
                if let Some(body) = fetch.body() {
                    out.push(RawMessage {
                        origin: format!(
                            "{folder} UIDVALIDITY {validity} UID {}",
                            fetch.uid.unwrap_or(0)
                        ),
                        bytes: body.to_vec(),
                        received: fetch.internal_date().map(|d| d.to_utc()),
                    });
                }
            }
        }
    }
    let _ = session.logout().await;
    Ok(out)
}

fn connector(inbox: &Inbox) -> Result<tokio_rustls::TlsConnector, ImapError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &inbox.ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                tls_err(
                    inbox,
                    format!("cannot read ca_file {}: {e}", path.display()),
                )
            })?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| tls_err(inbox, format!("ca_file {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(inbox, e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

fn tls_err(inbox: &Inbox, e: impl std::fmt::Display) -> ImapError {
    ImapError::Tls {
        host: inbox.host.clone(),
        message: e.to_string(),
    }
}

fn protocol(what: impl Into<String>, e: impl std::fmt::Display) -> ImapError {
    ImapError::Protocol {
        what: what.into(),
        message: e.to_string(),
    }
}
