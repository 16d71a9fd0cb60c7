//! The byte stream under an SMTP session: what lettre reads and writes
//! through ([`AsyncTokioStream`], lettre's extension point for a stream of
//! one's own), with the writes held back until the session waits for a
//! reply.
//!
//! Why hold them: lettre writes and flushes a transaction in pieces (the
//! letter's text, then the final `.` on its own), each a system call and,
//! on a no-delay socket, a packet of its own; a server reads the text, finds
//! no end, sleeps and is woken again for three bytes. Nothing is gained by
//! sending before a reply is awaited, since the server answers only a whole
//! command: so the writes are gathered and go out together, at the latest
//! when the session reads (the flush-on-read rule of a corked socket).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Bytes gathered before they are written anyway: a letter's text of up to
/// this size goes out in one write with its end; a larger one (attachments)
/// in writes of about this size, its copy never more than this.
const HOLD_LIMIT: usize = 64 * 1024;

/// A stream whose writes wait for the next read (or this much data).
#[derive(Debug)]
pub(super) struct Corked {
    inner: Box<dyn AsyncTokioStream>,
    held: Vec<u8>,
    /// How much of `held` is already written.
    written: usize,
}

impl Corked {
    pub(super) fn new(inner: Box<dyn AsyncTokioStream>) -> Corked {
        Corked {
            inner,
            held: Vec::new(),
            written: 0,
        }
    }

    /// Writes everything held.
    fn poll_release(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.held.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.held[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.held.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncTokioStream for Corked {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.inner.peer_addr()
    }
}

impl AsyncRead for Corked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // A read waits for the server, which waits for what is held.
        ready!(self.poll_release(cx))?;
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Corked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.held.len() + data.len() > HOLD_LIMIT {
            ready!(self.poll_release(cx))?;
            if data.len() > HOLD_LIMIT {
                return Pin::new(&mut self.inner).poll_write(cx, data);
            }
        }
        self.held.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    /// Held: the next read writes it (see the module comment).
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_release(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A tokio-rustls client stream (implicit TLS) as lettre's stream type.
#[derive(Debug)]
pub(super) struct Tls(pub(super) TlsStream<TcpStream>);

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Records every write that reaches the socket; reads end at once.
    #[derive(Debug, Default, Clone)]
    struct Socket(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Socket {
        fn writes(&self) -> Vec<Vec<u8>> {
            self.0.lock().unwrap().clone()
        }
    }

    impl AsyncTokioStream for Socket {
        fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
            Err(io::ErrorKind::NotConnected.into())
        }
    }

    impl AsyncRead for Socket {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Socket {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.lock().unwrap().push(data.to_vec());
            Poll::Ready(Ok(data.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn writes_wait_for_the_next_read_and_go_out_as_one() {
        let socket = Socket::default();
        let mut corked = Corked::new(Box::new(socket.clone()));
        run(async {
            corked
                .write_all(b"Subject: a letter\r\n\r\nText")
                .await
                .unwrap();
            corked.flush().await.unwrap();
            corked.write_all(b"\r\n.\r\n").await.unwrap();
            corked.flush().await.unwrap();
            assert!(socket.writes().is_empty(), "held until a reply is awaited");
            let mut reply = [0u8; 8];
            assert_eq!(
                corked.read(&mut reply).await.unwrap(),
                0,
                "the socket has ended"
            );
            assert_eq!(
                socket.writes(),
                [b"Subject: a letter\r\n\r\nText\r\n.\r\n".to_vec()]
            );
            // Nothing is written twice.
            assert_eq!(
                corked.read(&mut reply).await.unwrap(),
                0,
                "the socket has ended"
            );
            assert_eq!(socket.writes().len(), 1);
        });
    }

    #[test]
    fn a_large_text_is_never_held_whole() {
        let socket = Socket::default();
        let mut corked = Corked::new(Box::new(socket.clone()));
        let large = vec![b'x'; 3 * HOLD_LIMIT];
        run(async {
            corked.write_all(b"DATA\r\n").await.unwrap();
            corked.write_all(&large).await.unwrap();
            // What was held goes first, then the large write as it is.
            assert_eq!(socket.writes(), [b"DATA\r\n".to_vec(), large.clone()]);
            corked.write_all(b"\r\n.\r\n").await.unwrap();
            corked.shutdown().await.unwrap();
            assert_eq!(socket.writes().last().unwrap(), b"\r\n.\r\n");
        });
    }
}
