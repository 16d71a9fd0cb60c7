//! A token-introspection service (RFC 7662) on loopback for Dovecot's
//! oauth2 passdb: `POST` with a form body `token=…`, answered
//! `{"active": true, "username": …}` for the tokens it knows and
//! `{"active": false}` for any other. It records every token asked about.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub struct Introspection {
    /// `http://127.0.0.1:PORT/introspect`.
    pub url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Introspection {
    /// Knows each `(token, username)`.
    pub fn start(known: &[(&str, &str)]) -> Introspection {
        let known: HashMap<String, String> = known
            .iter()
            .map(|(t, u)| (t.to_string(), u.to_string()))
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/introspect",
            listener.local_addr().unwrap().port()
        );
        let asked = Arc::new(Mutex::new(Vec::new()));
        let seen = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let known = known.clone();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut stream = stream;
                    // Dovecot keeps the connection alive: one request after
                    // another until it hangs up.
                    loop {
                        let mut length = 0usize;
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let l = line.trim_end();
                            if l.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = l.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let body = String::from_utf8_lossy(&body).into_owned();
                        let token = body
                            .split('&')
                            .find_map(|kv| kv.strip_prefix("token="))
                            .map(percent_decode)
                            .unwrap_or_default();
                        seen.lock().unwrap().push(token.clone());
                        let answer = match known.get(&token) {
                            Some(user) => format!(r#"{{"active": true, "username": "{user}"}}"#),
                            None => r#"{"active": false}"#.to_string(),
                        };
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        if stream.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Introspection { url, asked }
    }

    /// Every token Dovecot asked about, in order.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => out.push(v),
                    Err(_) => out.extend_from_slice(&b[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
