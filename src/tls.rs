//! Transport security, the one TLS client set-up of repmail: the
//! `security` setting (`[smtp]`, `[inbox]`), the trusted roots (the public
//! ones from webpki-roots plus the campaign's `ca_file`), and the rustls
//! client configuration both sides use — SMTP (implicit TLS here, STARTTLS
//! through lettre with the same roots) and IMAP (both modes). Certificates
//! are always verified; there is no switch to turn that off.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde::Deserialize;

/// `security` under `[smtp]` or `[inbox]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    Starttls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25); credentials only to a loopback host.
    None,
}

impl Security {
    /// The usual SMTP port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Starttls => "starttls",
            Security::Tls => "tls",
            Security::None => "none",
        }
    }
}

/// Why the TLS client could not be set up. The same words for SMTP and
/// IMAP: both load `ca_file` here.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `ca_file` cannot be read, is not PEM, holds no certificate, or
    /// holds one rustls refuses.
    #[error("cannot use ca_file {}: {message}", .path.display())]
    CaFile {
        /// The file, as resolved from the campaign file's folder.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// rustls refused the settings (not expected with its defaults).
    #[error("cannot set up TLS: {0}")]
    Config(String),
}

/// What a `ca_file` must hold, said after each of its problems.
const PEM_HINT: &str = "ca_file must be a PEM file holding the CA certificate of your server (a block from \"-----BEGIN CERTIFICATE-----\" to \"-----END CERTIFICATE-----\"): export the certificate again, or point ca_file at the right file";

/// The roots a connection trusts: the public ones, plus the certificates
/// of `ca_file` (for a self-hosted server or a local bridge).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    extra: Vec<CertificateDer<'static>>,
    /// Where `extra` came from.
    file: PathBuf,
}

impl Trust {
    /// The public roots, and those of `ca_file` when given. A file that
    /// holds no certificate is an error: a file trusted for nothing is a
    /// mistake (a wrong export, a truncated copy), not a setting.
    pub fn load(ca_file: Option<&Path>) -> Result<Trust, TlsError> {
        let Some(path) = ca_file else {
            return Ok(Trust::default());
        };
        let err = |message: String| TlsError::CaFile {
            path: path.to_path_buf(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| {
            err(format!(
                "{e}; set ca_file to the certificate's path (relative to the campaign file's folder)"
            ))
        })?;
        let extra = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(format!("{e}; {PEM_HINT}")))?;
        if extra.is_empty() {
            return Err(err(format!("it holds no certificate; {PEM_HINT}")));
        }
        // Each certificate checked once here, so that a bad one is the
        // same error on every path (rustls here, lettre for STARTTLS).
        let mut store = rustls::RootCertStore::empty();
        for cert in &extra {
            store
                .add(cert.clone())
                .map_err(|e| err(format!("{e}; {PEM_HINT}")))?;
        }
        Ok(Trust {
            extra,
            file: path.to_path_buf(),
        })
    }

    /// The certificates from `ca_file` (none without one), for a TLS
    /// stack that takes roots one by one (lettre's STARTTLS).
    pub fn extra(&self) -> &[CertificateDer<'static>] {
        &self.extra
    }

    /// Another TLS stack refused a certificate of `ca_file`: the same
    /// error as [`Trust::load`]'s.
    pub fn refused(&self, e: impl std::fmt::Display) -> TlsError {
        TlsError::CaFile {
            path: self.file.clone(),
            message: format!("{e}; {PEM_HINT}"),
        }
    }

    /// The rustls client configuration: these roots, certificates always
    /// verified, rustls's safe protocol versions, ring as the provider.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut store = rustls::RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in &self.extra {
            // Checked by `load`.
            store
                .add(cert.clone())
                .map_err(|e| TlsError::Config(e.to_string()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ca_file_is_the_public_roots() {
        let trust = Trust::load(None).unwrap();
        assert!(trust.extra().is_empty());
        assert!(trust.client_config().is_ok());
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("empty.pem", ""),
            (
                "key.pem",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            ),
            ("note.pem", "not a certificate\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let e = Trust::load(Some(&path)).unwrap_err().to_string();
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains("holds no certificate"), "{e}");
            assert!(e.contains("BEGIN CERTIFICATE"), "{e}");
        }
    }

    #[test]
    fn a_missing_ca_file_names_it() {
        let e = Trust::load(Some(Path::new("/nonexistent/ca.pem")))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot use ca_file /nonexistent/ca.pem: "),
            "{e}"
        );
    }

    #[test]
    fn config_spelling_and_ports() {
        for (s, port) in [
            (Security::Starttls, 587),
            (Security::Tls, 465),
            (Security::None, 25),
        ] {
            assert_eq!(s.default_port(), port);
            let parsed: Security = serde_json::from_str(&format!("\"{}\"", s.as_str())).unwrap();
            assert_eq!(parsed, s);
        }
    }
}
