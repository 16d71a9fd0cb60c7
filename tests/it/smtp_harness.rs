//! Tests of the SMTP test harness itself, driven by lettre directly.

use crate::support;

use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use support::{wait_for_async, Fault, FaultPlan, ServerOptions, Stage, TestPki, TestServer};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

const FROM: &str = "Campaign <letters@example.org>";

fn letter(to: &str, subject: &str) -> Message {
    Message::builder()
        .from(FROM.parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .body(format!("Dear representative,\r\n\r\n{subject}\r\n"))
        .unwrap()
}

fn plain_transport(server: &TestServer) -> Transport {
    Transport::builder_dangerous(server.host())
        .port(server.port())
        .tls(Tls::None)
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn tls_params(pki: &TestPki, domain: &str) -> TlsParameters {
    let ca = Certificate::from_pem(pki.ca_pem().as_bytes()).unwrap();
    TlsParameters::builder(domain.to_owned())
        .add_root_certificate(ca)
        .build_rustls()
        .unwrap()
}

fn tls_transport(
    server: &TestServer,
    tls: Tls,
) -> lettre::transport::smtp::AsyncSmtpTransportBuilder {
    Transport::builder_dangerous("localhost")
        .port(server.port())
        .tls(tls)
        .timeout(Some(Duration::from_secs(5)))
}

fn code(err: &SmtpError) -> Option<u16> {
    err.status().map(u16::from)
}

#[tokio::test]
async fn plain_delivery_is_stored_with_envelope_and_arrival_time() {
    let server = TestServer::start(ServerOptions::plain());
    assert_eq!(server.connections(), 0, "no socket before the first send");
    let before = Instant::now();

    let message = letter("rep.one@example.com", "Hello");
    let formatted = message.formatted();
    let reply = plain_transport(&server).send(message).await.unwrap();
    assert!(reply.is_positive());

    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.from, "letters@example.org");
    assert_eq!(m.rcpts, vec!["rep.one@example.com".to_owned()]);
    assert!(m.arrived >= before && m.arrived <= Instant::now());
    assert!(!m.tls);
    assert_eq!(m.auth_user, None);
    assert_eq!(m.header("Subject").as_deref(), Some("Hello"));
    assert!(m
        .parsed()
        .get_body()
        .unwrap()
        .contains("Dear representative"));
    // What lettre formatted arrives byte for byte; lettre's data terminator
    // adds one CRLF to the raw data.
    assert_eq!(m.message(), &formatted[..]);
    assert_eq!(m.data.len(), formatted.len() + 2);
    assert_eq!(server.connections(), 1);
    assert_eq!(server.attempts("REP.ONE@example.com"), 1);
}

#[tokio::test]
async fn arrival_times_show_the_gap_between_sends() {
    let server = TestServer::start(ServerOptions::plain());
    let transport = plain_transport(&server);
    transport
        .send(letter("a@example.com", "one"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    transport
        .send(letter("b@example.com", "two"))
        .await
        .unwrap();
    let msgs = server.messages();
    assert_eq!(msgs.len(), 2);
    let gap = msgs[1].arrived - msgs[0].arrived;
    assert!(gap >= Duration::from_millis(300), "gap {gap:?}");
    assert_eq!(server.messages_to("B@example.com").len(), 1);
    // The pooled connection was reused.
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn starttls_with_generated_ca_and_auth_plain() {
    let pki = TestPki::generate();
    assert!(pki.ca_file().exists());
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert()).with_auth("letters@example.org", "s3cret"),
    );
    let transport = tls_transport(&server, Tls::Required(tls_params(&pki, "localhost")))
        .credentials(Credentials::new(
            "letters@example.org".into(),
            "s3cret".into(),
        ))
        .authentication(vec![Mechanism::Plain])
        .build();
    transport
        .send(letter("rep@example.net", "over tls"))
        .await
        .unwrap();
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].tls);
    assert_eq!(msgs[0].auth_user.as_deref(), Some("letters@example.org"));
}

#[tokio::test]
async fn starttls_auth_login_and_ip_address_name() {
    let pki = TestPki::generate();
    let server = TestServer::start(ServerOptions::starttls(pki.server_cert()).with_auth("u", "p"));
    // The leaf also names 127.0.0.1.
    let transport = Transport::builder_dangerous(server.host())
        .port(server.port())
        .tls(Tls::Required(tls_params(&pki, "127.0.0.1")))
        .credentials(Credentials::new("u".into(), "p".into()))
        .authentication(vec![Mechanism::Login])
        .build();
    transport
        .send(letter("rep@example.net", "login"))
        .await
        .unwrap();
    assert_eq!(server.messages()[0].auth_user.as_deref(), Some("u"));
}

#[tokio::test]
async fn implicit_tls_delivery() {
    let pki = TestPki::generate();
    let server = TestServer::start(ServerOptions::implicit_tls(pki.server_cert()));
    let transport = tls_transport(&server, Tls::Wrapper(tls_params(&pki, "localhost"))).build();
    transport
        .send(letter("rep@example.com", "wrapped"))
        .await
        .unwrap();
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].tls);
}

#[tokio::test]
async fn implicit_tls_client_against_starttls_port_fails_fast() {
    // The mirror image of lettre's `relay()` against port 587.
    let pki = TestPki::generate();
    let server = TestServer::start(ServerOptions::starttls(pki.server_cert()));
    let transport = tls_transport(&server, Tls::Wrapper(tls_params(&pki, "localhost"))).build();
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        transport.send(letter("rep@example.com", "x")),
    )
    .await
    .expect("fails, does not hang")
    .unwrap_err();
    assert!(!err.is_transient() && !err.is_permanent(), "{err}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn wrong_password_is_535_and_nothing_is_sent() {
    let pki = TestPki::generate();
    let server = TestServer::start(ServerOptions::starttls(pki.server_cert()).with_auth("u", "p"));
    let transport = tls_transport(&server, Tls::Required(tls_params(&pki, "localhost")))
        .credentials(Credentials::new("u".into(), "wrong".into()))
        .build();
    let err = transport
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(code(&err), Some(535));
    assert_eq!(server.auth_failures(), 1);
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn auth_is_not_offered_in_plaintext_unless_enabled() {
    let server = TestServer::start(ServerOptions::plain().with_auth("u", "p"));
    let creds = Credentials::new("u".into(), "p".into());
    let err = Transport::builder_dangerous(server.host())
        .port(server.port())
        .credentials(creds.clone())
        .build()
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap_err();
    assert!(err.is_client(), "{err}");

    let server = TestServer::start(
        ServerOptions::plain()
            .with_auth("u", "p")
            .with_plaintext_auth(),
    );
    Transport::builder_dangerous(server.host())
        .port(server.port())
        .credentials(creds)
        .build()
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap();
    assert_eq!(server.messages()[0].auth_user.as_deref(), Some("u"));
}

#[tokio::test]
async fn untrusted_and_wrong_host_certificates_are_refused() {
    let pki = TestPki::generate();
    for cert in [
        TestPki::self_signed(&["localhost", "127.0.0.1"]),
        pki.leaf_for(&["mail.example.org"]),
    ] {
        let server = TestServer::start(ServerOptions::starttls(cert));
        let transport =
            tls_transport(&server, Tls::Required(tls_params(&pki, "localhost"))).build();
        let err = transport
            .send(letter("rep@example.com", "x"))
            .await
            .unwrap_err();
        assert!(!err.is_transient() && !err.is_permanent(), "{err}");
        assert_eq!(server.connections(), 1);
        assert!(server.messages().is_empty());
    }
}

#[tokio::test]
async fn hidden_starttls_fails_a_client_that_requires_it() {
    let pki = TestPki::generate();
    let server =
        TestServer::start(ServerOptions::starttls(pki.server_cert()).without_starttls_offer());
    let transport = tls_transport(&server, Tls::Required(tls_params(&pki, "localhost"))).build();
    let err = transport
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("STARTTLS"), "{err}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn temporary_451_at_rcpt_once_then_accepted() {
    let rcpt = "busy@example.com";
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(rcpt, FaultPlan::first(1, Stage::Rcpt, Fault::Reply(451))),
    );
    let transport = plain_transport(&server);
    let err = transport.send(letter(rcpt, "x")).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(code(&err), Some(451));
    assert!(server.messages().is_empty());

    transport.send(letter(rcpt, "x")).await.unwrap();
    assert_eq!(server.messages_to(rcpt).len(), 1);
    assert_eq!(server.attempts(rcpt), 2);
    // Other recipients are unaffected.
    transport
        .send(letter("fine@example.com", "x"))
        .await
        .unwrap();
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test]
async fn temporary_451_after_data_twice_then_accepted() {
    let rcpt = "slow@example.com";
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(rcpt, FaultPlan::first(2, Stage::DataEnd, Fault::Reply(451))),
    );
    let transport = plain_transport(&server);
    for _ in 0..2 {
        let err = transport.send(letter(rcpt, "x")).await.unwrap_err();
        assert_eq!(code(&err), Some(451), "{err}");
        assert!(err.is_transient());
    }
    assert!(server.messages().is_empty());
    transport.send(letter(rcpt, "x")).await.unwrap();
    assert_eq!(server.messages().len(), 1);
    assert_eq!(server.attempts(rcpt), 3);
}

#[tokio::test]
async fn permanent_550_every_time() {
    let rcpt = "gone@example.com";
    let server = TestServer::start(
        ServerOptions::plain().with_fault(rcpt, FaultPlan::always(Stage::Rcpt, Fault::Reply(550))),
    );
    let transport = plain_transport(&server);
    for _ in 0..2 {
        let err = transport.send(letter(rcpt, "x")).await.unwrap_err();
        assert!(err.is_permanent(), "{err}");
        assert_eq!(code(&err), Some(550));
    }
    assert_eq!(server.attempts(rcpt), 2);
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn connection_dropped_after_data_is_neither_transient_nor_permanent() {
    let lost = "lost@example.com";
    let ghost = "ghost@example.com";
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(lost, FaultPlan::first(1, Stage::DataEnd, Fault::Drop))
            .with_fault(
                ghost,
                FaultPlan::first(1, Stage::DataEnd, Fault::DropAfterStoring),
            ),
    );
    let transport = plain_transport(&server);

    let err = transport.send(letter(lost, "x")).await.unwrap_err();
    assert!(!err.is_transient() && !err.is_permanent(), "{err}");
    assert!(err.status().is_none());
    assert!(server.messages().is_empty());

    // Delivered, but the client never heard: a retry duplicates it.
    let err = transport.send(letter(ghost, "x")).await.unwrap_err();
    assert!(!err.is_transient() && !err.is_permanent(), "{err}");
    assert_eq!(server.messages_to(ghost).len(), 1);
    transport.send(letter(ghost, "x")).await.unwrap();
    assert_eq!(server.messages_to(ghost).len(), 2);
}

#[tokio::test]
async fn dropped_connection_over_starttls() {
    let pki = TestPki::generate();
    let rcpt = "lost@example.com";
    let server = TestServer::start(
        ServerOptions::starttls(pki.server_cert())
            .with_fault(rcpt, FaultPlan::always(Stage::DataEnd, Fault::Drop)),
    );
    let transport = tls_transport(&server, Tls::Required(tls_params(&pki, "localhost"))).build();
    let err = transport.send(letter(rcpt, "x")).await.unwrap_err();
    assert!(!err.is_transient() && !err.is_permanent(), "{err}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn stall_at_rcpt_outlasts_a_client_timeout() {
    let rcpt = "stuck@example.com";
    let server = TestServer::start(
        ServerOptions::plain().with_fault(rcpt, FaultPlan::first(1, Stage::Rcpt, Fault::Stall)),
    );
    let started = Instant::now();
    let transport = plain_transport(&server);
    let result =
        tokio::time::timeout(Duration::from_secs(1), transport.send(letter(rcpt, "x"))).await;
    assert!(result.is_err(), "send should hang until the timeout");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(3));
    drop(transport);
    assert!(server.messages().is_empty());

    // A fresh transport (the timed-out one is poisoned) gets through.
    plain_transport(&server)
        .send(letter(rcpt, "x"))
        .await
        .unwrap();
    assert_eq!(server.messages_to(rcpt).len(), 1);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn stall_after_data_and_delay() {
    let stuck = "stuck@example.com";
    let slow = "slow@example.com";
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(stuck, FaultPlan::always(Stage::DataEnd, Fault::Stall))
            .with_fault(
                slow,
                FaultPlan::always(Stage::DataEnd, Fault::Delay(Duration::from_millis(300))),
            ),
    );
    let result = tokio::time::timeout(
        Duration::from_secs(1),
        plain_transport(&server).send(letter(stuck, "x")),
    )
    .await;
    assert!(result.is_err());
    assert!(server.messages().is_empty());

    let started = Instant::now();
    plain_transport(&server)
        .send(letter(slow, "x"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.messages_to(slow).len(), 1);
}

#[tokio::test]
async fn connect_421_then_service() {
    let server =
        TestServer::start(ServerOptions::plain().with_connect_fault(Fault::Reply(421), Some(1)));
    let transport = plain_transport(&server);
    let err = transport
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(code(&err), Some(421));
    transport
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap();
    assert_eq!(server.connections(), 2);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn stopping_the_server_closes_it() {
    let mut server = TestServer::start(ServerOptions::plain());
    let port = server.port();
    let transport = plain_transport(&server);
    transport
        .send(letter("rep@example.com", "x"))
        .await
        .unwrap();
    server.stop();
    assert!(
        wait_for_async(
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            Duration::from_secs(2)
        )
        .await
    );
    let err = transport
        .send(letter("rep@example.com", "y"))
        .await
        .unwrap_err();
    assert!(!err.is_permanent(), "{err}");
}
