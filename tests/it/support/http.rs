//! A small HTTP/1.1 server on a loopback port, for the roster tests: it
//! answers each request through a handler (the publishers' recorded
//! layouts at their own paths, with faults injected by the test) and
//! records every request with its arrival time and `User-Agent`.
//!
//! Use it as `crate::support::http`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// An answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: format!("status {status}\n").into_bytes(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Path and query, as sent.
    pub target: String,
    pub at: Instant,
    pub user_agent: String,
}

/// The running server (it lives until the test process ends).
pub struct Server {
    /// `http://127.0.0.1:PORT`: what `--url` takes.
    pub base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Server {
    /// Serves `handler(target, n)`, `n` being how many times this target
    /// was asked before (0 the first time): faults by attempt.
    pub fn start(handler: impl Fn(&str, usize) -> Reply + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let seen = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = serve(stream, &handler, &seen);
            }
        });
        Server { base, hits }
    }

    /// The requests so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// The targets asked so far, in order.
    pub fn targets(&self) -> Vec<String> {
        self.hits().into_iter().map(|h| h.target).collect()
    }
}

fn serve(
    stream: TcpStream,
    handler: &impl Fn(&str, usize) -> Reply,
    hits: &Mutex<Vec<Hit>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut user_agent = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("user-agent") {
                user_agent = value.trim().to_string();
            }
        }
    }
    let n = {
        let mut hits = hits.lock().unwrap();
        let n = hits.iter().filter(|h| h.target == target).count();
        hits.push(Hit {
            target: target.clone(),
            at: Instant::now(),
            user_agent,
        });
        n
    };
    let reply = handler(&target, n);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rosters")
}

/// The fixture a publisher serves at `target` (its own path and query),
/// if any.
pub fn publisher(target: &str) -> Option<PathBuf> {
    let file = match target {
        "/people/current/il.csv" => "openstates/il.csv".to_string(),
        "/congress-legislators/legislators-current.csv" => {
            "us-congress/legislators-current.csv".to_string()
        }
        "/api/Members/Search?House=1&IsCurrentMember=true&skip=0&take=20" => {
            "uk-commons/search-skip0.json".to_string()
        }
        "/api/Members/Search?House=1&IsCurrentMember=true&skip=20&take=20" => {
            "uk-commons/search-skip20.json".to_string()
        }
        "/representatives/house-of-commons/?limit=100" => {
            "canada-commons/page-offset0.json".to_string()
        }
        "/representatives/house-of-commons/?limit=2&offset=2" => {
            "canada-commons/page-offset2.json".to_string()
        }
        t => {
            let id = t.strip_prefix("/api/Members/")?.strip_suffix("/Contact")?;
            id.parse::<u32>().ok()?;
            format!("uk-commons/contact-{id}.json")
        }
    };
    Some(fixtures().join(file))
}

/// The publishers' answers: the fixture at `target`, or 404.
pub fn publishers(target: &str, _n: usize) -> Reply {
    match publisher(target).and_then(|p| std::fs::read(p).ok()) {
        Some(body) => Reply::ok(body),
        None => Reply::status(404),
    }
}

/// A port on which nothing listens (bound, then let go).
pub fn refused_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
