//! The SMTP transport: one lettre async transport per run, rebuilt after a
//! timeout, with TLS always verified.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Security, Smtp};
pub use crate::credentials::Secret;
use crate::credentials::{AuthMethod, CredentialError};

/// Why a transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `[smtp]` is missing.
    #[error("the campaign file has no [smtp] section; add one with at least `host` (see config.example.toml)")]
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
    #[error("no password for `{user}`: set the environment variable {var} (or run on a terminal to be asked)")]
    NoPassword {
        /// Account.
        user: String,
        /// The variable.
        var: String,
    },
    /// `ca_file` could not be used.
    #[error("cannot use ca_file {path}: {message}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
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

type Inner = AsyncSmtpTransport<Tokio1Executor>;

/// What a transport is built from, kept to rebuild it after a timeout or
/// a renewed token.
struct Params {
    cfg: Smtp,
    tls: Option<TlsParameters>,
    mechanisms: Vec<Mechanism>,
    pool_size: u32,
}

impl Params {
    fn build(&self, credentials: Option<&Credentials>) -> Inner {
        let tls = match (&self.tls, self.cfg.security) {
            (Some(p), Security::Starttls) => Tls::Required(p.clone()),
            (Some(p), Security::Tls) => Tls::Wrapper(p.clone()),
            _ => Tls::None,
        };
        let mut b = Inner::builder_dangerous(self.cfg.host.clone())
            .port(self.cfg.port)
            .tls(tls)
            // lettre's own timeout covers only the connect and single
            // commands; the whole transaction is bounded in `Transport::send`.
            .timeout(Some(Duration::from_secs(self.cfg.timeout_secs)))
            .pool_config(PoolConfig::new().max_size(self.pool_size));
        if let Some(c) = credentials {
            b = b
                .credentials(c.clone())
                .authentication(self.mechanisms.clone());
        }
        b.build()
    }
}

/// The transport in use, the credentials it signs in with, and how many
/// times the token was renewed.
struct Current {
    inner: Arc<Inner>,
    credentials: Option<Credentials>,
    generation: u64,
}

/// What one [`Transport::send`] came to.
#[derive(Debug)]
pub enum Attempt {
    /// lettre's result (`None`: timed out, and the transport was rebuilt).
    Done(Option<Result<Response, lettre::transport::smtp::Error>>),
    /// The server refused the token and `token_command` could not renew it.
    TokenFailed(CredentialError),
}

/// The transport for a run.
pub struct Transport {
    params: Params,
    current: Mutex<Current>,
    /// `auth = "oauth2"`: the settings to renew the token with.
    renew: Option<crate::credentials::Settings>,
    /// One renewal at a time; the others wait and use its token.
    renewing: tokio::sync::Mutex<()>,
}

impl Transport {
    /// Builds the transport; `secret` (the password, or for `auth =
    /// "oauth2"` the first access token) is required when `username` is set.
    pub fn new(
        cfg: &Smtp,
        secret: Option<Secret>,
        concurrency: u32,
    ) -> Result<Transport, SetupError> {
        let oauth = cfg.auth == AuthMethod::Oauth2;
        let credentials = match &cfg.username {
            None => None,
            Some(user) => {
                if cfg.security == Security::None && !is_loopback(&cfg.host) {
                    return Err(SetupError::Unencrypted {
                        user: user.clone(),
                        host: cfg.host.clone(),
                    });
                }
                let Some(secret) = secret else {
                    return Err(SetupError::NoPassword {
                        user: user.clone(),
                        var: cfg.password_env.clone(),
                    });
                };
                Some(Credentials::new(user.clone(), secret.expose().to_string()))
            }
        };
        let tls = match cfg.security {
            Security::None => None,
            Security::Starttls | Security::Tls => Some(tls_parameters(cfg)?),
        };
        let params = Params {
            cfg: cfg.clone(),
            tls,
            // XOAUTH2 carries the token as lettre's "secret" (DESIGN.md,
            // pitfalls).
            mechanisms: if oauth {
                vec![Mechanism::Xoauth2]
            } else {
                vec![Mechanism::Plain, Mechanism::Login]
            },
            pool_size: concurrency.max(1),
        };
        let first = params.build(credentials.as_ref());
        Ok(Transport {
            params,
            current: Mutex::new(Current {
                inner: Arc::new(first),
                credentials,
                generation: 0,
            }),
            renew: (oauth && cfg.username.is_some()).then(|| cfg.credentials()),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops every pooled connection: after a timeout a pooled connection is
    /// mid-transaction and the next MAIL on it fails ("503 nested MAIL").
    pub fn rebuild(&self) {
        let mut cur = self.lock();
        cur.inner = Arc::new(self.params.build(cur.credentials.as_ref()));
    }

    /// Sends one message within `timeout_secs`. With `auth = "oauth2"`, a
    /// refused token is renewed by running `token_command` again and the
    /// message retried once on a new connection (a refused sign-in happens
    /// before MAIL, so nothing was sent).
    pub async fn send(&self, message: &Message) -> Attempt {
        let (inner, generation) = {
            let cur = self.lock();
            (Arc::clone(&cur.inner), cur.generation)
        };
        let first = self.send_on(inner, message).await;
        let refused = match &first {
            Some(Err(e)) => {
                let code = e
                    .status()
                    .map(|c| c.to_string().parse::<u16>().unwrap_or(0));
                crate::diagnose::is_sign_in_refusal(code, &e.to_string())
            }
            _ => false,
        };
        if !refused || self.renew.is_none() {
            return Attempt::Done(first);
        }
        if let Err(e) = self.renew_token(generation).await {
            return Attempt::TokenFailed(e);
        }
        let inner = Arc::clone(&self.lock().inner);
        Attempt::Done(self.send_on(inner, message).await)
    }

    async fn send_on(
        &self,
        inner: Arc<Inner>,
        message: &Message,
    ) -> Option<Result<Response, lettre::transport::smtp::Error>> {
        let limit = Duration::from_secs(self.params.cfg.timeout_secs);
        match tokio::time::timeout(limit, inner.send(message.clone())).await {
            Ok(result) => Some(result),
            Err(_) => {
                self.rebuild();
                None
            }
        }
    }

    /// Runs `token_command` for a new token, unless another send already
    /// renewed the one that `generation` used.
    async fn renew_token(&self, generation: u64) -> Result<(), CredentialError> {
        let Some(settings) = self.renew.clone() else {
            return Ok(());
        };
        let _one_at_a_time = self.renewing.lock().await;
        if self.lock().generation != generation {
            return Ok(());
        }
        let token = tokio::task::spawn_blocking(move || settings.token())
            .await
            .ok()
            .flatten();
        let token = match token {
            Some(t) => t?,
            None => return Ok(()),
        };
        let mut cur = self.lock();
        let user = self.params.cfg.username.clone().unwrap_or_default();
        let credentials = Credentials::new(user, token.expose().to_string());
        cur.inner = Arc::new(self.params.build(Some(&credentials)));
        cur.credentials = Some(credentials);
        cur.generation += 1;
        Ok(())
    }

    /// The configured timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.params.cfg.timeout_secs)
    }
}

fn tls_parameters(cfg: &Smtp) -> Result<TlsParameters, SetupError> {
    let mut b = TlsParameters::builder(
        cfg.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    );
    if let Some(path) = &cfg.ca_file {
        let ca_err = |message: String| SetupError::CaFile {
            path: path.display().to_string(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| ca_err(format!("{e}; it must be a PEM certificate")))?;
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
