//! The SMTP transport: one lettre async transport per run, rebuilt after a
//! timeout, with TLS always verified.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Security, Smtp};

/// A password: its `Debug` and `Display` never show it, so no log line,
/// error or panic message can carry it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The password itself, for the one call that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// The password from the variable named by `password_env`, if set and not
/// empty.
pub fn password_from_env(smtp: &Smtp) -> Option<Secret> {
    std::env::var(&smtp.password_env)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret)
}

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

/// What a transport is built from, kept to rebuild it after a timeout.
struct Params {
    cfg: Smtp,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    pool_size: u32,
}

impl Params {
    fn build(&self) -> Inner {
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
        if let Some(c) = &self.credentials {
            b = b
                .credentials(c.clone())
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        b.build()
    }
}

/// The transport for a run.
pub struct Transport {
    params: Params,
    current: Mutex<Arc<Inner>>,
}

impl Transport {
    /// Builds the transport; `password` is required when `username` is set.
    pub fn new(
        cfg: &Smtp,
        password: Option<Secret>,
        concurrency: u32,
    ) -> Result<Transport, SetupError> {
        let credentials = match &cfg.username {
            None => None,
            Some(user) => {
                if cfg.security == Security::None && !is_loopback(&cfg.host) {
                    return Err(SetupError::Unencrypted {
                        user: user.clone(),
                        host: cfg.host.clone(),
                    });
                }
                let Some(Secret(password)) = password else {
                    return Err(SetupError::NoPassword {
                        user: user.clone(),
                        var: cfg.password_env.clone(),
                    });
                };
                Some(Credentials::new(user.clone(), password))
            }
        };
        let tls = match cfg.security {
            Security::None => None,
            Security::Starttls | Security::Tls => Some(tls_parameters(cfg)?),
        };
        let params = Params {
            cfg: cfg.clone(),
            tls,
            credentials,
            pool_size: concurrency.max(1),
        };
        let first = params.build();
        Ok(Transport {
            params,
            current: Mutex::new(Arc::new(first)),
        })
    }

    /// Drops every pooled connection: after a timeout a pooled connection is
    /// mid-transaction and the next MAIL on it fails ("503 nested MAIL").
    pub fn rebuild(&self) {
        let fresh = Arc::new(self.params.build());
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
    }

    /// Sends one message within `timeout_secs`; `None` means it timed out
    /// (and the transport has been rebuilt).
    pub async fn send(
        &self,
        message: &Message,
    ) -> Option<Result<Response, lettre::transport::smtp::Error>> {
        let inner = Arc::clone(&self.current.lock().unwrap_or_else(|e| e.into_inner()));
        let limit = Duration::from_secs(self.params.cfg.timeout_secs);
        match tokio::time::timeout(limit, inner.send(message.clone())).await {
            Ok(result) => Some(result),
            Err(_) => {
                self.rebuild();
                None
            }
        }
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

    #[test]
    fn secret_never_shows() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "(redacted)");
    }
}
