//! Test harness: a real SMTP server (the `mailin` protocol state machine, the
//! one `mailin-embedded` drives) running in-process on a loopback port, with
//! generated certificates and deterministic fault injection.
//!
//! Use it as `crate::support` (tests/it/main.rs declares it).
//!
//! Why not `mailin_embedded::Server` itself: its `serve()` never returns (no
//! way to stop it), it cannot do implicit TLS, it cannot allow AUTH without
//! TLS, and a `Handler` has no way to drop or stall the connection or to see
//! it open. So this harness runs a copy of mailin-embedded's small session
//! loop (`running.rs`: read a line, `Session::process`, write the reply,
//! upgrade on STARTTLS) over plain TCP or rustls, and hooks the faults in
//! there. Every SMTP command is still parsed and answered by `mailin::Session`;
//! the harness never speaks SMTP itself (except for the one-line connect-time
//! rejection, which happens before any session exists).
//!
//! Below mailin, a wire layer ([`Wire`]) may deliver its replies oddly but
//! legally — split into separately flushed pieces, or as multi-line replies
//! — and [`Fault::Garbage`] replaces a reply with arbitrary bytes (a broken
//! or hostile server). `close_after_message` hangs up after each message.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mailin::{response, AuthMechanism, Handler, Response, Session, SessionBuilder};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

mod campaign_file;
pub mod http;
pub mod library;
mod xoauth2;
pub use campaign_file::CampaignFile;
use xoauth2::is_command;
pub use xoauth2::{OAuth, Refusal, TokenPolicy};

/// Longest a `Fault::Stall` waits for the client to hang up.
const MAX_STALL: Duration = Duration::from_secs(60);
/// Idle read timeout of a server connection (a safety net for leaked clients).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(10);

/// Installs ring as the process-wide rustls crypto provider (idempotent).
/// Called by `TestPki::generate` and `TestServer::start`; call it yourself
/// before any other TLS code runs if you use neither.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns
/// whether it held. Blocks the thread: in a `#[tokio::test]` whose client
/// still has work to do, use [`wait_for_async`].
pub fn wait_for(mut cond: impl FnMut() -> bool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL);
    }
}

/// Async twin of [`wait_for`] (sleeps with tokio instead of blocking).
pub async fn wait_for_async(mut cond: impl FnMut() -> bool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

// ---------------------------------------------------------------------------
// Certificates

/// A certificate chain and private key for the server to present.
#[derive(Clone)]
pub struct ServerCert {
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf in PEM.
    pub cert_pem: String,
    /// The private key in PEM (PKCS #8), for servers run as processes.
    pub key_pem: String,
    key_pkcs8: Vec<u8>,
}

impl ServerCert {
    fn from_rcgen(cert: &rcgen::Certificate, key: &KeyPair) -> Self {
        ServerCert {
            chain: vec![cert.der().clone()],
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key_pkcs8: key.serialize_der(),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("rustls protocol versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key())
            .expect("server certificate and key");
        Arc::new(config)
    }
}

/// A throw-away certificate authority: a CA certificate (written to
/// `ca.pem` in a temporary folder that lives as long as this value) and a
/// leaf for `localhost` + `127.0.0.1` signed by it.
pub struct TestPki {
    /// Holds `ca.pem`; removed when `self` drops.
    _dir: tempfile::TempDir,
    ca_path: PathBuf,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    leaf: ServerCert,
}

impl TestPki {
    pub fn generate() -> TestPki {
        install_crypto_provider();
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "repmail test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let ca = params.self_signed(&key).expect("CA certificate");
        let ca_pem = ca.pem();
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, &ca_pem).expect("write ca.pem");
        let issuer = Issuer::new(params, key);
        let leaf = Self::sign_leaf(&issuer, &["localhost", "127.0.0.1"]);
        TestPki {
            _dir: dir,
            ca_path,
            ca_pem,
            issuer,
            leaf,
        }
    }

    /// Path of the CA certificate (PEM): what a client's `ca_file` points to.
    pub fn ca_file(&self) -> &Path {
        &self.ca_path
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Leaf for `localhost` and `127.0.0.1`, signed by the CA.
    pub fn server_cert(&self) -> ServerCert {
        self.leaf.clone()
    }

    /// Leaf for other names (DNS names or IP addresses), signed by the CA:
    /// trusted, but wrong for `localhost` (wrong-hostname tests).
    pub fn leaf_for(&self, names: &[&str]) -> ServerCert {
        Self::sign_leaf(&self.issuer, names)
    }

    /// A self-signed end-entity certificate that no client trusts.
    pub fn self_signed(names: &[&str]) -> ServerCert {
        install_crypto_provider();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names).expect("self-signed certificate");
        ServerCert::from_rcgen(&ck.cert, &ck.signing_key)
    }

    fn sign_leaf(issuer: &Issuer<'static, KeyPair>, names: &[&str]) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("leaf params");
        if let Some(first) = names.first() {
            params
                .distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, issuer).expect("leaf certificate");
        ServerCert::from_rcgen(&cert, &key)
    }
}

// ---------------------------------------------------------------------------
// Options

/// How the server does TLS.
#[derive(Clone, Default)]
pub enum TlsMode {
    /// No TLS at all; STARTTLS is not offered.
    #[default]
    Plain,
    /// Plain connect, STARTTLS offered (unless `offer_starttls` is false).
    StartTls(ServerCert),
    /// TLS from the first byte (port 465 style).
    ImplicitTls(ServerCert),
}

/// Where in the SMTP dialogue a recipient's fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// In reply to `RCPT TO:<rcpt>`.
    Rcpt,
    /// In reply to `DATA` (before 354).
    DataStart,
    /// After the message's terminating `.` (instead of the final 250).
    DataEnd,
}

/// What the server does instead of answering normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this code (e.g. 421, 450, 451, 452, 550, 552, 554) and the
    /// text "injected fault". Nothing is stored. Replies at `DataEnd` (and any
    /// 421) also close the connection after the reply.
    Reply(u16),
    /// Like `Reply`, with a provider's own reply text (e.g. `550`, "5.4.5
    /// Daily user sending limit exceeded.").
    Say(u16, &'static str),
    /// Close the connection without replying; nothing is stored.
    Drop,
    /// At `DataEnd`: store the message, then close without replying (the
    /// "delivered, but the client never heard" case). Elsewhere like `Drop`.
    DropAfterStoring,
    /// Never reply: hold the connection until the client hangs up (or the
    /// server stops; at most 60 s). Nothing is stored. Use a client timeout.
    Stall,
    /// Wait this long, then carry on normally (at `DataEnd` the message is
    /// stored before the wait, so it counts even if the client gives up).
    Delay(Duration),
    /// Send these bytes instead of the reply (a broken or hostile server),
    /// then close; nothing is stored. As a connect fault: instead of the
    /// greeting.
    Garbage(&'static [u8]),
}

/// A fault and how many attempts it applies to.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub stage: Stage,
    pub fault: Fault,
    /// Applies to the first `n` attempts (1-based counter), then the server
    /// behaves normally; `None`: every attempt.
    pub times: Option<u32>,
}

impl FaultPlan {
    pub fn always(stage: Stage, fault: Fault) -> Self {
        FaultPlan {
            stage,
            fault,
            times: None,
        }
    }

    /// The fault for the first `n` attempts, then normal service.
    pub fn first(n: u32, stage: Stage, fault: Fault) -> Self {
        FaultPlan {
            stage,
            fault,
            times: Some(n),
        }
    }

    fn applies(&self, attempt: u32) -> bool {
        self.times.is_none_or(|n| attempt <= n)
    }
}

/// A fault for whole connections, before the greeting: `Reply(421)` sends
/// "421 …" instead of "220 …" and closes; `Drop` closes at once; `Stall`
/// never greets; `Delay` greets late. `times` counts connections (1-based).
#[derive(Clone, Debug)]
pub struct ConnectFault {
    pub fault: Fault,
    pub times: Option<u32>,
}

#[derive(Clone)]
pub struct ServerOptions {
    pub tls: TlsMode,
    /// Username and password accepted by AUTH PLAIN and AUTH LOGIN; anything
    /// else gets 535. When set, MAIL before a successful AUTH gets 503.
    /// mailin offers AUTH only over TLS unless `plaintext_auth` is set.
    pub auth: Option<(String, String)>,
    /// Offer AUTH on an unencrypted connection too.
    pub plaintext_auth: bool,
    /// Answer every AUTH PLAIN/LOGIN with this reply, right password or
    /// not (a provider that turned password sign-in off).
    pub auth_refusal: Option<(u16, &'static str)>,
    /// What the server does with every `AUTH` command, of any mechanism
    /// (XOAUTH2 too), instead of reading it: `Reply`/`Say` answers it (a
    /// mechanism or a policy refusal, a line too long), `Stall` never
    /// answers, `Drop` hangs up. The session goes on after a reply.
    pub auth_fault: Option<Fault>,
    /// In `StartTls` mode, false hides STARTTLS from the EHLO reply (a
    /// stripping attacker; to the client this is a plain server).
    pub offer_starttls: bool,
    /// Faults keyed by recipient address (compared case-insensitively).
    pub faults: HashMap<String, FaultPlan>,
    pub connect_fault: Option<ConnectFault>,
    /// Name in the greeting.
    pub name: String,
    /// How replies go on the wire (split, multi-line); mailin still
    /// produces every reply.
    pub wire: Wire,
    /// Close the connection after answering each accepted message (a
    /// server that takes one message per connection).
    pub close_after_message: bool,
    /// Accept at most this many messages per connection, then answer the
    /// next MAIL with `421 4.7.0 Too many messages on this connection` and
    /// close (Exim's `smtp_accept_max_per_connection` does this).
    pub messages_per_connection: Option<usize>,
    /// AUTH XOAUTH2, which mailin lacks: handled by the harness below
    /// mailin's session (see [`OAuth`]). MAIL before it gets 530.
    pub oauth: Option<OAuth>,
    /// Offer PIPELINING (RFC 2920), as Postfix, Exim and the big providers
    /// do; mailin lacks it, so the harness adds the keyword and holds the
    /// replies to MAIL, RCPT and RSET while more commands wait in its
    /// input, sending them all once it is empty (RFC 2920 §3.2, rule 7).
    /// On by default; false is a server that takes one command at a time.
    pub pipelining: bool,
    /// What the server does with an EHLO after the first of a session (or
    /// of its TLS part).
    pub second_ehlo: SecondEhlo,
}

/// A server's answer to a second EHLO.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecondEhlo {
    /// As to the first (RFC 5321 §4.1.4; Postfix, Exim).
    #[default]
    Answer,
    /// "503 Duplicate HELO/EHLO", the session going on (Python's smtpd and
    /// aiosmtpd).
    Refuse,
    /// Hangs up without a word.
    HangUp,
    /// Never answers (until the client hangs up).
    Stall,
}

/// A layer below mailin that delivers the replies it produced oddly but
/// legally: what real servers and middleboxes do.
#[derive(Clone, Debug, Default)]
pub struct Wire {
    /// Write every reply in pieces of this many bytes, each flushed and
    /// followed by `split_pause`, so that they arrive in separate packets.
    pub split: Option<usize>,
    /// Pause between pieces of a split reply.
    pub split_pause: Duration,
    /// Send every single-line reply as a multi-line one with the same code
    /// (`250-Ok` then `250 …`), as RFC 5321 §4.2.1 allows.
    pub multiline: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            tls: TlsMode::Plain,
            auth: None,
            plaintext_auth: false,
            auth_refusal: None,
            auth_fault: None,
            offer_starttls: true,
            faults: HashMap::new(),
            connect_fault: None,
            name: "localhost".to_owned(),
            wire: Wire::default(),
            close_after_message: false,
            messages_per_connection: None,
            oauth: None,
            pipelining: true,
            second_ehlo: SecondEhlo::Answer,
        }
    }
}

impl ServerOptions {
    pub fn plain() -> Self {
        Self::default()
    }

    pub fn starttls(cert: ServerCert) -> Self {
        ServerOptions {
            tls: TlsMode::StartTls(cert),
            ..Self::default()
        }
    }

    pub fn implicit_tls(cert: ServerCert) -> Self {
        ServerOptions {
            tls: TlsMode::ImplicitTls(cert),
            ..Self::default()
        }
    }

    pub fn with_auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Every AUTH PLAIN/LOGIN refused with `code` and `text`.
    pub fn with_auth_refusal(mut self, code: u16, text: &'static str) -> Self {
        self.auth_refusal = Some((code, text));
        self
    }

    /// Every AUTH command, of any mechanism, met with `fault`.
    pub fn with_auth_fault(mut self, fault: Fault) -> Self {
        self.auth_fault = Some(fault);
        self
    }

    pub fn with_plaintext_auth(mut self) -> Self {
        self.plaintext_auth = true;
        self
    }

    pub fn without_starttls_offer(mut self) -> Self {
        self.offer_starttls = false;
        self
    }

    /// A server that does not offer PIPELINING (one command at a time).
    pub fn without_pipelining(mut self) -> Self {
        self.pipelining = false;
        self
    }

    /// What the server does with a second EHLO.
    pub fn with_second_ehlo(mut self, answer: SecondEhlo) -> Self {
        self.second_ehlo = answer;
        self
    }

    pub fn with_fault(mut self, rcpt: &str, plan: FaultPlan) -> Self {
        self.faults.insert(rcpt.to_ascii_lowercase(), plan);
        self
    }

    pub fn with_connect_fault(mut self, fault: Fault, times: Option<u32>) -> Self {
        self.connect_fault = Some(ConnectFault { fault, times });
        self
    }

    /// Every reply in pieces of `bytes`, `pause` apart.
    pub fn with_split_replies(mut self, bytes: usize, pause: Duration) -> Self {
        self.wire.split = Some(bytes.max(1));
        self.wire.split_pause = pause;
        self
    }

    /// Every single-line reply sent as a multi-line one.
    pub fn with_multiline_replies(mut self) -> Self {
        self.wire.multiline = true;
        self
    }

    /// One message per connection: close after answering each.
    pub fn with_close_after_message(mut self) -> Self {
        self.close_after_message = true;
        self
    }

    /// AUTH XOAUTH2 for `user`, taking `tokens`, refusing the `refusal` way.
    pub fn with_oauth(mut self, user: &str, tokens: TokenPolicy, refusal: Refusal) -> Self {
        self.oauth = Some(OAuth {
            user: user.to_owned(),
            tokens,
            refusal,
        });
        self
    }

    /// At most `n` messages per connection, then 421 at the next MAIL.
    pub fn with_messages_per_connection(mut self, n: usize) -> Self {
        self.messages_per_connection = Some(n);
        self
    }
}

// ---------------------------------------------------------------------------
// Stored messages

/// A message the server accepted.
#[derive(Clone, Debug)]
pub struct Stored {
    /// Envelope sender (MAIL FROM), without angle brackets.
    pub from: String,
    /// Envelope recipients (RCPT TO) that were accepted, as sent.
    pub rcpts: Vec<String>,
    /// The data as received: dot-unstuffed, without the final ".\r\n". lettre
    /// sends the message followed by "\r\n.\r\n", so this is the message plus
    /// "\r\n" (see [`Stored::message`]).
    pub data: Vec<u8>,
    /// When the DATA terminator was processed.
    pub arrived: Instant,
    /// Whether the session was encrypted (STARTTLS or implicit TLS).
    pub tls: bool,
    /// The user that authenticated on this connection, if any.
    pub auth_user: Option<String>,
    /// 1-based number of the connection it came over.
    pub connection: usize,
}

impl Stored {
    /// `data` without the CRLF that lettre's data terminator adds: equal to
    /// `Message::formatted()` of what was sent.
    pub fn message(&self) -> &[u8] {
        self.data.strip_suffix(b"\r\n").unwrap_or(&self.data)
    }

    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("stored message parses")
    }

    /// First header of that name, decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        let (headers, _) = mailparse::parse_headers(&self.data).ok()?;
        headers.get_first_value(name)
    }
}

// ---------------------------------------------------------------------------
// Server

struct Shared {
    opts: ServerOptions,
    tls_config: Option<Arc<ServerConfig>>,
    stop: AtomicBool,
    connections: AtomicUsize,
    auth_failures: AtomicUsize,
    auth_attempts: AtomicUsize,
    /// Commands read while the next one was already waiting in the input
    /// (a client that pipelines).
    grouped: AtomicUsize,
    /// EHLOs after the first of a session (or of its TLS part).
    ehlo_again: AtomicUsize,
    /// XOAUTH2 tokens accepted, in order, and on which connection.
    tokens_used: Mutex<Vec<(String, usize)>>,
    messages: Mutex<Vec<Stored>>,
    attempts: Mutex<HashMap<String, u32>>,
    open: Mutex<HashMap<usize, TcpStream>>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running server. Dropping it stops it: the accept thread ends and all
/// open connections are shut down (their threads finish on their own).
pub struct TestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(opts: ServerOptions) -> TestServer {
        install_crypto_provider();
        let tls_config = match &opts.tls {
            TlsMode::Plain => None,
            TlsMode::StartTls(cert) | TlsMode::ImplicitTls(cert) => Some(cert.server_config()),
        };
        let mut opts = opts;
        opts.faults = opts
            .faults
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            opts,
            tls_config,
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            auth_failures: AtomicUsize::new(0),
            auth_attempts: AtomicUsize::new(0),
            grouped: AtomicUsize::new(0),
            ehlo_again: AtomicUsize::new(0),
            tokens_used: Mutex::new(Vec::new()),
            messages: Mutex::new(Vec::new()),
            attempts: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
        });
        let accept_shared = shared.clone();
        let accept = thread::Builder::new()
            .name("smtp-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn accept thread");
        TestServer {
            shared,
            addr,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Always 127.0.0.1 (the certificates also name `localhost`).
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Accepted messages, in arrival order.
    pub fn messages(&self) -> Vec<Stored> {
        lock(&self.shared.messages).clone()
    }

    /// Accepted messages with this envelope recipient (case-insensitive).
    pub fn messages_to(&self, rcpt: &str) -> Vec<Stored> {
        self.messages()
            .into_iter()
            .filter(|m| m.rcpts.iter().any(|r| r.eq_ignore_ascii_case(rcpt)))
            .collect()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Commands that reached the server with the next one right behind
    /// them, in the same read: what a client that pipelines sends.
    pub fn grouped_commands(&self) -> usize {
        self.shared.grouped.load(Ordering::SeqCst)
    }

    /// EHLOs after the first of a session (or of its TLS part).
    pub fn second_ehlos(&self) -> usize {
        self.shared.ehlo_again.load(Ordering::SeqCst)
    }

    /// `RCPT TO` commands seen for this address (the fault counter).
    pub fn attempts(&self, rcpt: &str) -> u32 {
        lock(&self.shared.attempts)
            .get(&rcpt.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// XOAUTH2 tokens accepted, in order, with their connection number.
    pub fn tokens_accepted(&self) -> Vec<(String, usize)> {
        lock(&self.shared.tokens_used).clone()
    }

    /// AUTH attempts answered with 535.
    pub fn auth_failures(&self) -> usize {
        self.shared.auth_failures.load(Ordering::SeqCst)
    }

    /// Every AUTH whose credentials reached the server, accepted or not: a
    /// test that must see no password on the wire asserts this is 0 (a
    /// count of failures alone would miss a successful clear-text AUTH).
    pub fn auth_attempts(&self) -> usize {
        self.shared.auth_attempts.load(Ordering::SeqCst)
    }

    /// Stops the server (same as dropping it).
    pub fn stop(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for (_, conn) in lock(&self.shared.open).drain() {
            let _ = conn.shutdown(Shutdown::Both);
        }
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopped() {
            break;
        }
        let Ok(stream) = conn else { continue };
        let number = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).insert(number, clone);
        }
        let conn_shared = shared.clone();
        let spawned = thread::Builder::new()
            .name(format!("smtp-conn-{number}"))
            .spawn(move || {
                serve_connection(stream, &conn_shared, number);
                if let Some(s) = lock(&conn_shared.open).remove(&number) {
                    let _ = s.shutdown(Shutdown::Both);
                }
            });
        if spawned.is_err() {
            lock(&shared.open).remove(&number);
        }
    }
}

/// What the handler asks the session loop to do with the reply it returned.
#[derive(Clone, Copy, Debug)]
enum Directive {
    /// Close without sending the reply.
    Drop,
    /// Hold the connection without replying until the client leaves.
    Stall,
    /// Wait, then send the reply.
    Delay(Duration),
    /// Send the reply, then close.
    CloseAfterReply,
    /// Send these bytes instead of the reply, then close.
    Garbage(&'static [u8]),
}

#[derive(Default)]
struct ConnState {
    directive: Option<Directive>,
    tls: bool,
    /// The user signed in with XOAUTH2 (handled outside mailin).
    oauth_user: Option<String>,
    /// This connection's number (1-based).
    number: usize,
    /// EHLOs so far, and whether TLS was on for them (STARTTLS starts the
    /// count again).
    ehlos: (bool, u32),
}

struct ConnHandler {
    shared: Arc<Shared>,
    state: Rc<RefCell<ConnState>>,
    connection: usize,
    auth_user: Option<String>,
    // Per transaction; reset in `mail`.
    from: String,
    rcpts: Vec<String>,
    data: Vec<u8>,
    pending: Option<(Stage, Fault)>,
    /// Messages stored over this connection.
    stored_here: usize,
}

impl ConnHandler {
    fn direct(&self, d: Directive) {
        self.state.borrow_mut().directive = Some(d);
    }

    /// Applies a fault at the current stage; `normal` is the reply the
    /// server would otherwise give.
    fn fire(&self, fault: &Fault, normal: Response) -> Response {
        match fault {
            Fault::Reply(code) => {
                Response::custom(*code, "injected fault (repmail test harness)".to_owned())
            }
            Fault::Say(code, text) => Response::custom(*code, (*text).to_owned()),
            Fault::Drop | Fault::DropAfterStoring => {
                self.direct(Directive::Drop);
                normal
            }
            Fault::Stall => {
                self.direct(Directive::Stall);
                normal
            }
            Fault::Delay(d) => {
                self.direct(Directive::Delay(*d));
                normal
            }
            Fault::Garbage(bytes) => {
                self.direct(Directive::Garbage(bytes));
                normal
            }
        }
    }

    fn store(&mut self) {
        let stored = Stored {
            from: self.from.clone(),
            rcpts: self.rcpts.clone(),
            data: std::mem::take(&mut self.data),
            arrived: Instant::now(),
            tls: self.state.borrow().tls,
            auth_user: self
                .auth_user
                .clone()
                .or_else(|| self.state.borrow().oauth_user.clone()),
            connection: self.connection,
        };
        lock(&self.shared.messages).push(stored);
        self.stored_here += 1;
    }

    fn check_credentials(&mut self, user: &str, password: &str) -> Response {
        self.shared.auth_attempts.fetch_add(1, Ordering::SeqCst);
        if let Some((code, text)) = self.shared.opts.auth_refusal {
            self.shared.auth_failures.fetch_add(1, Ordering::SeqCst);
            return Response::custom(code, text.to_owned());
        }
        match &self.shared.opts.auth {
            Some((u, p)) if u == user && p == password => {
                self.auth_user = Some(user.to_owned());
                response::AUTH_OK
            }
            _ => {
                self.shared.auth_failures.fetch_add(1, Ordering::SeqCst);
                response::INVALID_CREDENTIALS
            }
        }
    }
}

impl Handler for ConnHandler {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.from = from.to_owned();
        self.rcpts.clear();
        self.data.clear();
        self.pending = None;
        if self.shared.opts.oauth.is_some() && self.state.borrow().oauth_user.is_none() {
            return Response::custom(530, "5.7.0 Authentication required".to_owned());
        }
        if self
            .shared
            .opts
            .messages_per_connection
            .is_some_and(|n| self.stored_here >= n)
        {
            self.direct(Directive::CloseAfterReply);
            return Response::custom(
                421,
                "4.7.0 Too many messages on this connection (repmail test harness)".to_owned(),
            );
        }
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let key = to.to_ascii_lowercase();
        let attempt = {
            let mut attempts = lock(&self.shared.attempts);
            let n = attempts.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let plan = self
            .shared
            .opts
            .faults
            .get(&key)
            .filter(|p| p.applies(attempt))
            .cloned();
        if let Some(plan) = plan {
            if plan.stage == Stage::Rcpt {
                let res = self.fire(&plan.fault, response::OK);
                if res.is_error {
                    return res;
                }
            } else if self.pending.is_none() {
                self.pending = Some((plan.stage, plan.fault));
            }
        }
        self.rcpts.push(to.to_owned());
        response::OK
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        match self.pending.clone() {
            Some((Stage::DataStart, fault)) => self.fire(&fault, response::OK),
            _ => response::OK,
        }
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let fault = match self.pending.take() {
            Some((Stage::DataEnd, fault)) => Some(fault),
            _ => None,
        };
        match fault {
            None => {
                self.store();
                if self.shared.opts.close_after_message {
                    self.direct(Directive::CloseAfterReply);
                }
                response::OK
            }
            Some(f @ (Fault::Reply(_) | Fault::Say(..))) => {
                let res = self.fire(&f, response::OK);
                if res.is_error {
                    // mailin stays in its DATA state after a negative reply
                    // here, so the connection cannot go on.
                    self.direct(Directive::CloseAfterReply);
                } else {
                    self.store();
                }
                res
            }
            Some(Fault::DropAfterStoring) => {
                self.store();
                self.direct(Directive::Drop);
                response::OK
            }
            Some(Fault::Delay(d)) => {
                self.store();
                self.direct(Directive::Delay(d));
                response::OK
            }
            Some(fault) => self.fire(&fault, response::OK),
        }
    }

    fn auth_plain(
        &mut self,
        _authorization_id: &str,
        authentication_id: &str,
        password: &str,
    ) -> Response {
        self.check_credentials(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.check_credentials(username, password)
    }
}

enum Flow {
    Finished,
    UpgradeTls,
}

fn sleep_unless_stopped(shared: &Shared, d: Duration) {
    let deadline = Instant::now() + d;
    while !shared.stopped() && Instant::now() < deadline {
        thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// Holds the connection until the client hangs up, the server stops, or
/// `MAX_STALL` passes.
fn stall(shared: &Shared, raw: &TcpStream) {
    let _ = raw.set_read_timeout(Some(Duration::from_millis(20)));
    let deadline = Instant::now() + MAX_STALL;
    let mut buf = [0u8; 1];
    while !shared.stopped() && Instant::now() < deadline {
        match raw.peek(&mut buf) {
            Ok(0) => break,
            Ok(_) => thread::sleep(Duration::from_millis(20)),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
}

/// Writes a reply in one write, as real servers do (Postfix, Exim: a
/// buffered stream flushed per reply). mailin's `write_to` formats straight
/// into the socket, a write per piece: four packets for "250 Ok", and a
/// client woken for each (seen in the benchmark, 2026-12-05).
fn write_reply<S: Write>(io: &mut S, res: &Response) -> io::Result<()> {
    io.write_all(&res.buffer()?)?;
    io.flush()
}

/// Writes a reply the way `wire` says: as it is, as a multi-line reply,
/// and/or in separately flushed pieces.
fn send_reply<S: Write>(io: &mut S, res: &Response, wire: &Wire) -> io::Result<()> {
    if wire.split.is_none() && !wire.multiline {
        return write_reply(io, res);
    }
    let mut bytes = Vec::new();
    res.write_to(&mut bytes)?;
    send_bytes(io, bytes, wire)
}

/// Writes a reply's bytes the way `wire` says (see [`send_reply`]).
fn send_bytes<S: Write>(io: &mut S, mut bytes: Vec<u8>, wire: &Wire) -> io::Result<()> {
    if wire.multiline {
        bytes = multiline(bytes);
    }
    match wire.split {
        None => io.write_all(&bytes)?,
        Some(n) => {
            for piece in bytes.chunks(n) {
                io.write_all(piece)?;
                io.flush()?;
                thread::sleep(wire.split_pause);
            }
        }
    }
    io.flush()
}

/// `250 Ok\r\n` → `250-Ok\r\n250 (…)\r\n`; replies that already have
/// several lines, or no code, are left alone.
fn multiline(reply: Vec<u8>) -> Vec<u8> {
    let single = reply.len() > 4
        && reply[..3].iter().all(u8::is_ascii_digit)
        && reply[3] == b' '
        && reply.ends_with(b"\r\n")
        && !reply[..reply.len() - 2].contains(&b'\n');
    if !single {
        return reply;
    }
    let mut out = reply[..3].to_vec();
    out.push(b'-');
    out.extend_from_slice(&reply[4..]);
    out.extend_from_slice(&reply[..3]);
    out.extend_from_slice(b" (multi-line reply from the repmail test harness)\r\n");
    out
}

/// A positive EHLO reply with `keywords` added as lines of their own
/// (anything else as it is).
fn advertise(reply: Vec<u8>, keywords: &[&str]) -> Vec<u8> {
    if keywords.is_empty() || !reply.starts_with(b"250") {
        return reply;
    }
    let text = String::from_utf8_lossy(&reply);
    let mut lines: Vec<String> = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l[4.min(l.len())..].to_owned())
        .collect();
    lines.extend(keywords.iter().map(|k| (*k).to_owned()));
    let last = lines.len() - 1;
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let sep = if i == last { ' ' } else { '-' };
        out.push_str(&format!("250{sep}{l}\r\n"));
    }
    out.into_bytes()
}

/// Sends the replies held for pipelined commands.
fn release<S: Write>(io: &mut S, held: &mut Vec<u8>) -> io::Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    io.write_all(held)?;
    held.clear();
    io.flush()
}

/// mailin-embedded's `handle_session`, plus the fault directives.
fn run_session<S: Read + Write>(
    session: &mut Session<ConnHandler>,
    io: &mut BufReader<S>,
    state: &RefCell<ConnState>,
    shared: &Shared,
    raw: &TcpStream,
) -> io::Result<Flow> {
    let wire = &shared.opts.wire;
    let mut line = Vec::with_capacity(128);
    // Replies to pipelined commands, held while the client's next commands
    // wait in the input (`ServerOptions::pipelining`).
    let mut held: Vec<u8> = Vec::new();
    loop {
        line.clear();
        if io.read_until(b'\n', &mut line)? == 0 {
            return Ok(Flow::Finished);
        }
        // RFC 2920 §3.1: MAIL, RCPT and RSET may be followed in a group;
        // their replies may wait while more commands do.
        let groupable = [&b"MAIL "[..], b"RCPT ", b"RSET"]
            .iter()
            .any(|c| is_command(&line, c));
        let followed = groupable && io.buffer().contains(&b'\n');
        let hold = followed && shared.opts.pipelining && wire.split.is_none() && !wire.multiline;
        if !hold {
            release(io.get_mut(), &mut held)?;
        }
        if let (Some(fault), true) = (&shared.opts.auth_fault, is_command(&line, b"AUTH ")) {
            shared.auth_attempts.fetch_add(1, Ordering::SeqCst);
            let res = match fault {
                Fault::Reply(code) => {
                    Response::custom(*code, "injected fault (repmail test harness)".to_owned())
                }
                Fault::Say(code, text) => Response::custom(*code, (*text).to_owned()),
                Fault::Stall => {
                    stall(shared, raw);
                    return Ok(Flow::Finished);
                }
                _ => return Ok(Flow::Finished),
            };
            shared.auth_failures.fetch_add(1, Ordering::SeqCst);
            send_reply(io.get_mut(), &res, wire)?;
            continue;
        }
        if let Some(oauth) = &shared.opts.oauth {
            let offered = state.borrow().tls || shared.opts.plaintext_auth;
            if offered && is_command(&line, b"AUTH XOAUTH2") {
                match xoauth2::answer(&line, oauth, io, state, shared)? {
                    true => continue,
                    false => return Ok(Flow::Finished),
                }
            }
        }
        if is_command(&line, b"EHLO") {
            let again = {
                let mut st = state.borrow_mut();
                let tls = st.tls;
                if st.ehlos.0 != tls {
                    st.ehlos = (tls, 0);
                }
                st.ehlos.1 += 1;
                st.ehlos.1 > 1
            };
            if again {
                shared.ehlo_again.fetch_add(1, Ordering::SeqCst);
            }
            match shared.opts.second_ehlo {
                SecondEhlo::Stall if again => {
                    stall(shared, raw);
                    return Ok(Flow::Finished);
                }
                SecondEhlo::Refuse if again => {
                    send_bytes(io.get_mut(), b"503 Duplicate HELO/EHLO\r\n".to_vec(), wire)?;
                    continue;
                }
                SecondEhlo::HangUp if again => return Ok(Flow::Finished),
                _ => {}
            }
            // The keywords mailin does not offer itself.
            let oauth =
                shared.opts.oauth.is_some() && (state.borrow().tls || shared.opts.plaintext_auth);
            let extra: Vec<&str> = [
                (oauth, "AUTH XOAUTH2"),
                (shared.opts.pipelining, "PIPELINING"),
            ]
            .into_iter()
            .filter_map(|(on, keyword)| on.then_some(keyword))
            .collect();
            let res = session.process(&line);
            send_bytes(io.get_mut(), advertise(res.buffer()?, &extra), wire)?;
            if matches!(res.action, mailin::Action::Close) {
                return Ok(Flow::Finished);
            }
            continue;
        }
        let res = session.process(&line);
        let directive = state.borrow_mut().directive.take();
        if followed && matches!(res.action, mailin::Action::Reply) {
            shared.grouped.fetch_add(1, Ordering::SeqCst);
        }
        if directive.is_some() || !matches!(res.action, mailin::Action::Reply) {
            release(io.get_mut(), &mut held)?;
        }
        match directive {
            Some(Directive::Drop) => return Ok(Flow::Finished),
            Some(Directive::Stall) => {
                stall(shared, raw);
                return Ok(Flow::Finished);
            }
            Some(Directive::Delay(d)) => sleep_unless_stopped(shared, d),
            Some(Directive::CloseAfterReply) => {
                send_reply(io.get_mut(), &res, wire)?;
                return Ok(Flow::Finished);
            }
            Some(Directive::Garbage(bytes)) => {
                io.get_mut().write_all(bytes)?;
                io.get_mut().flush()?;
                return Ok(Flow::Finished);
            }
            None => {}
        }
        match res.action {
            mailin::Action::Reply if hold && directive.is_none() => res.write_to(&mut held)?,
            mailin::Action::Reply => send_reply(io.get_mut(), &res, wire)?,
            mailin::Action::Close => {
                send_reply(io.get_mut(), &res, wire)?;
                return Ok(Flow::Finished);
            }
            mailin::Action::UpgradeTls => {
                send_reply(io.get_mut(), &res, wire)?;
                return Ok(Flow::UpgradeTls);
            }
            mailin::Action::NoReply => {}
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Arc<Shared>, number: usize) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IDLE_TIMEOUT));
    let Ok(raw) = stream.try_clone() else { return };
    let _ = serve_connection_inner(stream, shared, number, &raw);
    let _ = raw.shutdown(Shutdown::Both);
}

fn serve_connection_inner(
    mut stream: TcpStream,
    shared: &Arc<Shared>,
    number: usize,
    raw: &TcpStream,
) -> io::Result<()> {
    let opts = &shared.opts;
    if let Some(cf) = &opts.connect_fault {
        if cf.times.is_none_or(|n| number as u64 <= u64::from(n)) {
            match &cf.fault {
                Fault::Reply(code) => {
                    let res =
                        Response::custom(*code, "injected fault (repmail test harness)".into());
                    return write_reply(&mut stream, &res);
                }
                Fault::Say(code, text) => {
                    return write_reply(&mut stream, &Response::custom(*code, (*text).into()));
                }
                Fault::Drop | Fault::DropAfterStoring => return Ok(()),
                Fault::Stall => {
                    stall(shared, raw);
                    return Ok(());
                }
                Fault::Delay(d) => sleep_unless_stopped(shared, *d),
                Fault::Garbage(bytes) => {
                    stream.write_all(bytes)?;
                    return stream.flush();
                }
            }
        }
    }

    let mut builder = SessionBuilder::new(opts.name.clone());
    if matches!(opts.tls, TlsMode::StartTls(_)) && opts.offer_starttls {
        builder.enable_start_tls();
    }
    if opts.auth.is_some() {
        builder.enable_auth(AuthMechanism::Plain);
        builder.enable_auth(AuthMechanism::Login);
        if opts.plaintext_auth {
            builder.insecure_enable_plaintext_auth();
        }
    }
    let state = Rc::new(RefCell::new(ConnState {
        number,
        ..ConnState::default()
    }));
    let handler = ConnHandler {
        shared: shared.clone(),
        state: state.clone(),
        connection: number,
        auth_user: None,
        from: String::new(),
        rcpts: Vec::new(),
        data: Vec::new(),
        pending: None,
        stored_here: 0,
    };
    let remote = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut session = builder.build(remote, handler);
    let tls_config = || shared.tls_config.clone().expect("TLS mode has a config");

    if matches!(opts.tls, TlsMode::ImplicitTls(_)) {
        let conn = ServerConnection::new(tls_config()).map_err(io::Error::other)?;
        let tls = StreamOwned::new(conn, stream);
        session.tls_active();
        state.borrow_mut().tls = true;
        let mut io = BufReader::new(tls);
        // The greeting's write drives the handshake.
        send_reply(io.get_mut(), &session.greeting(), &opts.wire)?;
        run_session(&mut session, &mut io, &state, shared, raw)?;
        return Ok(());
    }

    let mut io = BufReader::new(stream);
    send_reply(io.get_mut(), &session.greeting(), &opts.wire)?;
    if let Flow::UpgradeTls = run_session(&mut session, &mut io, &state, shared, raw)? {
        if !io.buffer().is_empty() {
            // Commands pipelined after STARTTLS: refuse (RFC 3207 §4.2).
            return Ok(());
        }
        let stream = io.into_inner();
        let conn = ServerConnection::new(tls_config()).map_err(io::Error::other)?;
        let tls = StreamOwned::new(conn, stream);
        session.tls_active();
        state.borrow_mut().tls = true;
        let mut io = BufReader::new(tls);
        run_session(&mut session, &mut io, &state, shared, raw)?;
    }
    Ok(())
}
