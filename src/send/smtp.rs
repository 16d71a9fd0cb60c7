//! The SMTP transport of a run: its connections, the whole-transaction
//! timeout, and the TLS settings (certificates always verified).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::Message;

use super::connection::{Connection, Failure, Opener, Reached, Step, MAX_MESSAGES_PER_CONNECTION};
use crate::config::Smtp;
use crate::credentials::{Auth, AuthMethod, NoAuth, Password};
use crate::tls::{Security, TlsError, Trust};

pub use crate::credentials::Secret;

/// Why a transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `[smtp]` is missing.
    #[error("the campaign file has no [smtp] section; add one with at least `host` (the README's configuration reference lists every key)")]
    NoSmtp,
    /// Credentials over an unencrypted connection to another machine.
    #[error("refusing to send the password for `{user}` unencrypted to {host}: set `security = \"starttls\"` or `\"tls\"` under [smtp] (plain connections with a password are allowed only to this machine)")]
    Unencrypted {
        /// Account.
        user: String,
        /// Server.
        host: String,
    },
    /// `username` is set but no password was found.
    #[error("no password for `{user}`: set `password_command` under [smtp] or the environment variable {var} (or run on a terminal to be asked)")]
    NoPassword {
        /// Account.
        user: String,
        /// The variable.
        var: String,
    },
    /// `ca_file` could not be used, or rustls refused the settings: the
    /// same words as for IMAP ([`crate::tls`]).
    #[error(transparent)]
    Trust(#[from] TlsError),
    /// lettre refused the TLS settings.
    #[error("cannot set up TLS for {host}: {source}")]
    Tls {
        /// Server.
        host: String,
        /// lettre's error.
        source: lettre::transport::smtp::Error,
    },
}

/// Whether `host` is this machine, where a plain connection cannot be read
/// by anyone else.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The connections of a run: at most one per concurrency slot, each reused
/// across letters (see [`super::connection`]). A connection is taken for a
/// transaction and given back only when it ended in a 2xx, so a session in
/// an unknown state is never used again.
pub struct Transport {
    opener: Opener,
    idle: Mutex<Vec<Connection>>,
    timeout_secs: u64,
    /// Where each accepted letter goes for its copy in Sent (`[sent]`).
    copies: Option<crate::sent::Sink>,
}

impl Transport {
    /// Builds the transport; `password` is required when `username` is set.
    /// `sender_domain` is the EHLO name.
    pub fn new(
        cfg: &Smtp,
        password: Option<Secret>,
        sender_domain: &str,
    ) -> Result<Transport, SetupError> {
        let auth: Arc<dyn Auth> = match &cfg.username {
            None => Arc::new(NoAuth),
            Some(user) => {
                let Some(password) = password else {
                    return Err(SetupError::NoPassword {
                        user: user.clone(),
                        var: cfg.password_env.clone(),
                    });
                };
                match cfg.auth {
                    // The first token, fetched before any connection; the
                    // next ones from token_command when needed.
                    AuthMethod::Oauth2 => Arc::new(crate::credentials::TokenAuth::new(
                        user.clone(),
                        cfg.credentials(),
                        password,
                    )),
                    AuthMethod::Password => Arc::new(Password::new(user.clone(), password)),
                }
            }
        };
        Transport::with_auth(cfg, auth, sender_domain)
    }

    /// Builds the transport with credentials from `auth`, asked for each
    /// new connection.
    pub fn with_auth(
        cfg: &Smtp,
        auth: Arc<dyn Auth>,
        sender_domain: &str,
    ) -> Result<Transport, SetupError> {
        let loopback = is_loopback(&cfg.host);
        if let Some(user) = &cfg.username {
            if cfg.security == Security::None && !loopback {
                return Err(SetupError::Unencrypted {
                    user: user.clone(),
                    host: cfg.host.clone(),
                });
            }
        }
        let trust = Trust::load(cfg.ca_file.as_deref())?;
        let (starttls, implicit) = match cfg.security {
            Security::None => (None, None),
            Security::Starttls => (Some(tls_parameters(cfg, &trust)?), None),
            Security::Tls => (None, Some(trust.client_config()?)),
        };
        Ok(Transport {
            opener: Opener {
                host: cfg.host.clone(),
                port: cfg.port,
                security: cfg.security,
                starttls,
                implicit,
                hello: ClientId::Domain(sender_domain.to_owned()),
                auth,
                loopback,
                ask_pipelining: std::sync::atomic::AtomicBool::new(true),
                ask_limit: super::pipelining::ask_limit(Duration::from_secs(cfg.timeout_secs)),
            },
            idle: Mutex::new(Vec::new()),
            timeout_secs: cfg.timeout_secs,
            copies: None,
        })
    }

    /// Hands each letter the server accepts, byte for byte as sent, to
    /// `sink` for its copy in the Sent folder. The hand-over never waits.
    pub fn with_copies(mut self, sink: crate::sent::Sink) -> Transport {
        self.copies = Some(sink);
        self
    }

    /// Sends one message within `timeout_secs` (connecting first if no
    /// connection is idle). A failure says the step it happened at: one at
    /// [`Step::SignIn`] (a refusal, or silence until the timeout) is about
    /// the account or the server, never the letter.
    pub async fn send(&self, message: &Message) -> Result<Response, (Step, Failure)> {
        self.send_watched(message, &Reached::default()).await
    }

    /// [`Transport::send`], its progress in `reached`, where the run can
    /// withdraw it before the letter's text goes out.
    pub async fn send_watched(
        &self,
        message: &Message,
        reached: &Reached,
    ) -> Result<Response, (Step, Failure)> {
        let body = message.formatted();
        let envelope = message.envelope();
        let limit = Duration::from_secs(self.timeout_secs);
        // A timeout drops the future and with it the connection it held:
        // a session stuck mid-transaction is never reused.
        match tokio::time::timeout(limit, self.transact(envelope, &body, reached)).await {
            Ok(Ok(reply)) => {
                if let Some(sink) = &self.copies {
                    // The ledger knows the letter by its recipient (lettre
                    // puts the To addresses first in the envelope) and its
                    // Message-ID.
                    let to = envelope.to().first().map(ToString::to_string);
                    let id = message.headers().get_raw("Message-ID").unwrap_or("");
                    sink.accepted(&to.unwrap_or_default(), id.trim(), &body);
                }
                Ok(reply)
            }
            Ok(result) => result,
            Err(_) => Err((reached.step(), Failure::Timeout(self.timeout_secs))),
        }
    }

    async fn transact(
        &self,
        envelope: &Envelope,
        body: &[u8],
        reached: &Reached,
    ) -> Result<Response, (Step, Failure)> {
        let sign_in = |f| (Step::SignIn, f);
        let reused = self.take_idle();
        let was_reused = reused.is_some();
        let mut conn = match reused {
            Some(c) => c,
            None => self.opener.open().await.map_err(sign_in)?,
        };
        let result = match conn.send(envelope, body, reached).await {
            // A reused session that fails at MAIL never saw this letter:
            // the server closed it while idle, or ended it with a 421 (its
            // per-connection limit). Once more on a new connection.
            Err((Step::Mail, Failure::Smtp(e))) if was_reused && connection_gone(&e) => {
                if !reached.enter(Step::SignIn) {
                    return Err((Step::Mail, Failure::Withdrawn));
                }
                conn = self.opener.open().await.map_err(sign_in)?;
                conn.send(envelope, body, reached).await
            }
            other => other,
        };
        match result {
            Ok(reply) => {
                if conn.sent < MAX_MESSAGES_PER_CONNECTION {
                    self.give_back(conn);
                } else {
                    conn.quit().await;
                }
                Ok(reply)
            }
            Err(failed) => Err(failed),
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn give_back(&self, conn: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
    }

    /// Closes the idle connections politely (QUIT).
    pub async fn close(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        futures::future::join_all(idle.into_iter().map(Connection::quit)).await;
    }

    /// The configured timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// A 421 (the server is closing the session) or no reply at all.
fn connection_gone(e: &lettre::transport::smtp::Error) -> bool {
    match e.status() {
        Some(code) => code.to_string() == "421",
        None => !e.is_client(),
    }
}

/// lettre's TLS settings for STARTTLS: the same roots (lettre adds the
/// public ones itself; it builds its own rustls configuration, so this is
/// the one place the shared set-up is handed over piece by piece).
fn tls_parameters(cfg: &Smtp, trust: &Trust) -> Result<TlsParameters, SetupError> {
    let mut b = TlsParameters::builder(
        cfg.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    );
    for cert in trust.extra() {
        let cert = Certificate::from_der(cert.to_vec()).map_err(|e| trust.refused(e))?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls().map_err(|source| SetupError::Tls {
        host: cfg.host.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.3.2.1"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.org"));
        assert!(!is_loopback("10.0.0.1"));
    }
}
