//! The sending connection: open (a TCP socket repmail opens itself, with
//! `TCP_NODELAY`), TLS (STARTTLS through lettre, implicit TLS by wrapping
//! the socket with tokio-rustls first), EHLO with the sender's domain, AUTH
//! once, then one transaction after another until an error, a `421` or
//! [`MAX_MESSAGES_PER_CONNECTION`].
//!
//! Why own the socket: lettre writes the body and the final `.` in two
//! writes; with Nagle's algorithm on, every letter then waits ~40 ms for
//! the server's delayed ACK (DESIGN.md, known pitfalls).

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::pipelining::{self, EnvelopeGroup, Offer};
use super::wire::Tls;
use crate::credentials::Auth;
use crate::tls::Security;

/// Letters over one connection before repmail opens a new one, even if
/// the server would take more: Exim's own default cap
/// (`smtp_accept_max_per_connection`, Exim specification ch. 14, read
/// 2026-12; Postfix has none). A server closing a session at its cap costs
/// nothing (the letter goes again on a new one); 100, until 2026-12-05,
/// cost a relay's pace 7% in reconnects (docs/design.md).
pub const MAX_MESSAGES_PER_CONNECTION: u32 = 1000;

/// Why a transaction did not end in a 2xx.
#[derive(Debug)]
pub enum Failure {
    /// lettre's error: a negative reply, a broken connection, a STARTTLS
    /// or EHLO failure.
    Smtp(lettre::transport::smtp::Error),
    /// The TCP connection could not be opened.
    Connect(io::Error),
    /// The implicit TLS handshake failed (certificate, protocol).
    Tls(io::Error),
    /// The server cannot take this letter as it is (no SMTPUTF8 or
    /// 8BITMIME), or no AUTH mechanism matched.
    Client(String),
    /// [`Auth::credentials`] failed.
    Credentials(String),
    /// AUTH would go unencrypted to another machine.
    Unencrypted,
    /// No complete transaction within `timeout_secs`.
    Timeout(u64),
    /// The run withdrew the transaction ([`Reached::withdraw`]) before
    /// the letter's text went out.
    Withdrawn,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Smtp(e) => write!(f, "{e}"),
            Failure::Connect(e) => {
                let said = crate::text::joined("Connection error", &e.to_string());
                f.write_str(&said)
            }
            Failure::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            Failure::Client(s) => write!(f, "{s}"),
            Failure::Credentials(s) => write!(f, "cannot get the credentials: {s}"),
            Failure::Unencrypted => f.write_str(
                "refusing to authenticate over an unencrypted connection to another machine",
            ),
            Failure::Timeout(secs) => {
                write!(f, "no complete reply within {secs} s (timeout_secs)")
            }
            Failure::Withdrawn => {
                f.write_str("not sent: the run stopped before the letter's text went out")
            }
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Smtp(e) => Some(e),
            Failure::Connect(e) | Failure::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Failure::Smtp(e)
    }
}

/// How far a transaction got before it failed: only a failure before DATA
/// proves that the letter was not delivered, and only one after sign-in
/// can be about the letter at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Step {
    /// Opening a connection: TCP connect, TLS, the greeting, EHLO,
    /// STARTTLS, AUTH. Nothing about a letter has been said yet.
    SignIn = 0,
    /// The MAIL command (the first of a transaction).
    Mail = 1,
    /// RCPT or DATA: refused before the body went out.
    Envelope = 2,
    /// The body or its final reply.
    Body = 3,
}

impl Step {
    fn of(bits: u8) -> Step {
        match bits & !Reached::WITHDRAWN {
            0 => Step::SignIn,
            1 => Step::Mail,
            2 => Step::Envelope,
            _ => Step::Body,
        }
    }
}

/// How far a transaction got, shared between the transaction and the run
/// (issue 24, item 3). A run told to quit at once (a second Ctrl-C) does
/// not wait for its transactions: it withdraws each one that has not begun
/// the letter's text, which then never will, so the server cannot have
/// the letter and the run records it not sent rather than unknown. The
/// text starts only once the server said 354 to DATA: up to then (and
/// until a withdrawal, atomically) nothing the server could deliver was
/// sent (RFC 5321 §3.3: the mail transaction ends with the end of the mail
/// data, read 2026-12-05). Once the text began, the end of the message
/// may have reached the server: that letter stays unknown.
#[derive(Debug, Default)]
pub struct Reached(AtomicU8);

impl Reached {
    /// The bit that marks a withdrawn transaction, over its step.
    const WITHDRAWN: u8 = 0x80;

    /// The step the transaction reached last.
    pub fn step(&self) -> Step {
        Step::of(self.0.load(Ordering::SeqCst))
    }

    /// Moves to `step`; `false` (and nothing moves) once withdrawn: the
    /// transaction must go no further.
    pub fn enter(&self, step: Step) -> bool {
        let moved = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |bits| {
                (bits & Self::WITHDRAWN == 0).then_some(step as u8)
            });
        moved.is_ok()
    }

    /// Withdraws the transaction unless its letter's text began; returns
    /// whether it is withdrawn (then the text never goes out).
    pub fn withdraw(&self) -> bool {
        let withdrawn = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |bits| {
                (bits < Step::Body as u8).then_some(bits | Self::WITHDRAWN)
            });
        match withdrawn {
            Ok(_) => true,
            Err(bits) => bits & Self::WITHDRAWN != 0,
        }
    }
}

/// Everything needed to open a connection, shared by all slots.
pub struct Opener {
    /// Server host (as written in the config).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Encryption mode.
    pub security: Security,
    /// For STARTTLS (lettre's verified rustls config).
    pub starttls: Option<TlsParameters>,
    /// For implicit TLS (the same roots, for tokio-rustls).
    pub implicit: Option<Arc<rustls::ClientConfig>>,
    /// EHLO name: the sender's domain.
    pub hello: ClientId,
    /// Where AUTH credentials come from.
    pub auth: Arc<dyn Auth>,
    /// Whether `host` is this machine (AUTH in plaintext allowed).
    pub loopback: bool,
    /// Whether a new session asks the server for PIPELINING (a second
    /// EHLO); off for the rest of the run once the server does not offer
    /// it or does not answer the question as a command ([`Offer`]).
    pub ask_pipelining: AtomicBool,
    /// How long the question may take ([`pipelining::ask_limit`]).
    pub ask_limit: std::time::Duration,
}

/// One open SMTP session.
pub struct Connection {
    inner: AsyncSmtpConnection,
    /// Messages accepted on it.
    pub sent: u32,
    /// Whether the server offers PIPELINING: the envelope then goes as one
    /// group (see [`Connection::send`]).
    pipelining: bool,
}

impl Opener {
    /// Connects, does TLS, EHLO and AUTH. A refused AUTH is tried once
    /// more on a new connection when [`Auth::refused`] says fresh
    /// credentials may help.
    pub async fn open(&self) -> Result<Connection, Failure> {
        let mut refreshed = false;
        loop {
            match self.open_once().await {
                Ok(Some(conn)) => return Ok(conn),
                // The server did not answer the second EHLO as a command;
                // asking is off now, so this happens once.
                Ok(None) => continue,
                Err(Failure::Smtp(e))
                    if !refreshed && is_auth_refusal(&e) && self.auth.refused() =>
                {
                    refreshed = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One session, or `None` if the question for PIPELINING lost it.
    async fn open_once(&self) -> Result<Option<Connection>, Failure> {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        let tcp = TcpStream::connect((bare, self.port))
            .await
            .map_err(Failure::Connect)?;
        // The reason this module exists: see the module comment.
        tcp.set_nodelay(true).map_err(Failure::Connect)?;
        let stream: Box<dyn AsyncTokioStream> = match (self.security, &self.implicit) {
            (Security::Tls, Some(config)) => {
                let name = rustls::pki_types::ServerName::try_from(bare.to_owned())
                    .map_err(|e| Failure::Tls(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
                let tls = TlsConnector::from(Arc::clone(config))
                    .connect(name, tcp)
                    .await
                    .map_err(Failure::Tls)?;
                Box::new(Tls(tls))
            }
            _ => Box::new(tcp),
        };
        let mut inner = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        let mut encrypted = self.security == Security::Tls;
        if let (Security::Starttls, Some(params)) = (self.security, &self.starttls) {
            // Required, never opportunistic: a server that does not offer
            // STARTTLS (or an attacker who stripped it) gets nothing.
            inner.starttls(params.clone(), &self.hello).await?;
            encrypted = true;
        }
        let pipelining = if self.ask_pipelining.load(Ordering::Relaxed) {
            let offer = pipelining::ask(&mut inner, &self.hello, self.ask_limit).await;
            if offer != Offer::Offered {
                self.ask_pipelining.store(false, Ordering::Relaxed);
            }
            match offer {
                Offer::Offered => true,
                Offer::NotOffered => false,
                Offer::Lost => return Ok(None),
            }
        } else {
            false
        };
        if let Some((credentials, mechanisms)) =
            self.auth.credentials().map_err(Failure::Credentials)?
        {
            if !encrypted && !self.loopback {
                return Err(Failure::Unencrypted);
            }
            inner.auth(&mechanisms, &credentials).await?;
        }
        Ok(Some(Connection {
            inner,
            sent: 0,
            pipelining,
        }))
    }
}

fn is_auth_refusal(e: &lettre::transport::smtp::Error) -> bool {
    // Also Google's way of refusing a token: a 334 challenge that lettre
    // reports as a client error (diagnose knows the forms).
    let code = e.status().and_then(|c| c.to_string().parse().ok());
    crate::diagnose::is_sign_in_refusal(code, &e.to_string())
}

impl Connection {
    /// One transaction: MAIL, RCPT for each recipient, DATA, the body.
    /// On an error the connection must not be used again. `reached` follows
    /// the steps as they start, so that a caller who gives up waiting (a
    /// timeout) knows where the server fell silent, and a run that quits
    /// can withdraw it before the body ([`Reached`]).
    pub async fn send(
        &mut self,
        envelope: &Envelope,
        body: &[u8],
        reached: &Reached,
    ) -> Result<Response, (Step, Failure)> {
        let enter = |step: Step| {
            let at = reached.step();
            reached
                .enter(step)
                .then_some(())
                .ok_or((at, Failure::Withdrawn))
        };
        enter(Step::Mail)?;
        let info = self.inner.server_info();
        let mut options = Vec::new();
        let ascii = |a: &lettre::Address| AsRef::<str>::as_ref(a).is_ascii();
        let non_ascii =
            envelope.from().is_some_and(|a| !ascii(a)) || envelope.to().iter().any(|a| !ascii(a));
        if non_ascii {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err((
                    Step::Mail,
                    Failure::Client(
                        "Envelope contains non-ascii chars but server does not support SMTPUTF8"
                            .into(),
                    ),
                ));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err((
                    Step::Mail,
                    Failure::Client(
                        "Message contains non-ascii chars but server does not support 8BITMIME"
                            .into(),
                    ),
                ));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let fail = |step| move |e| (step, Failure::Smtp(e));
        let mail = Mail::new(envelope.from().cloned(), options);
        let rcpts = envelope
            .to()
            .iter()
            .map(|to| Rcpt::new(to.clone(), Vec::new()));
        if self.pipelining {
            // RFC 2920 §3.1: MAIL and RCPT may go anywhere in a group, DATA
            // only last; every reply is read, in order, and the text goes
            // only after DATA's 354. Half the round trips of a letter. On
            // the first refusal the rest is left unread: a failed session
            // is never used again (see [`super::smtp::Transport`]).
            let group = EnvelopeGroup {
                mail,
                rcpts: rcpts.collect(),
            };
            self.inner.command(group).await.map_err(fail(Step::Mail))?;
            enter(Step::Envelope)?;
            // One reply for each RCPT, then DATA's.
            for _ in 0..=envelope.to().len() {
                self.inner
                    .read_response()
                    .await
                    .map_err(fail(Step::Envelope))?;
            }
        } else {
            self.inner.command(mail).await.map_err(fail(Step::Mail))?;
            enter(Step::Envelope)?;
            for rcpt in rcpts {
                self.inner
                    .command(rcpt)
                    .await
                    .map_err(fail(Step::Envelope))?;
            }
            self.inner
                .command(Data)
                .await
                .map_err(fail(Step::Envelope))?;
        }
        // The gate: past it the letter's text goes out, and a run that
        // quits can no longer say it did not.
        enter(Step::Body)?;
        let reply = self.inner.message(body).await.map_err(fail(Step::Body))?;
        self.sent += 1;
        Ok(reply)
    }

    /// Says goodbye (QUIT), ignoring any error: the session is over anyway.
    pub async fn quit(mut self) {
        let _ = self.inner.command(Quit).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_is_withdrawn_only_before_the_letters_text() {
        let r = Reached::default();
        assert!(r.enter(Step::Mail) && r.enter(Step::Envelope));
        assert!(r.withdraw() && r.withdraw(), "withdrawn, and it stays so");
        assert!(!r.enter(Step::Body), "the text never goes out");
        assert!(!r.enter(Step::SignIn), "nor a new connection");
        // The step is kept (a timeout reports where it was).
        assert_eq!(r.step(), Step::Envelope);
        let r = Reached::default();
        assert!(r.enter(Step::Body));
        assert!(!r.withdraw(), "the server may have the letter");
        assert_eq!(r.step(), Step::Body);
    }
}
