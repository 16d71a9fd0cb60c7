//! The one HTTP client of the roster sources, and its manners: a
//! `User-Agent` naming repmail, timeouts, the publisher's published rate,
//! retries with backoff on 429 and 5xx that honour `Retry-After`, and
//! `--url` (a mirror or a test server in place of the publisher's origin).
//!
//! Why ureq (3.x, `default-features = false, features = ["rustls"]`): a
//! roster is a handful to a few hundred GETs one after the other, paced to
//! the publisher's rate; nothing runs beside them, so a blocking client
//! needs no runtime and the pacing is a plain sleep. ureq brings rustls on
//! ring (the TLS stack repmail already has for SMTP and IMAP), no
//! native-tls or OpenSSL, and needs Rust 1.85 (`cargo info ureq`,
//! 2026-12-05). reqwest would add hyper and a second async stack for no
//! gain here.

use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{FetchProgress, RosterError};

/// Sent with every request: publishers ask to know who calls (the
/// European Parliament's API asks for it in so many words).
pub const USER_AGENT: &str = concat!(
    "repmail/",
    env!("CARGO_PKG_VERSION"),
    " (roster fetch; one personal letter to each representative)"
);
/// Tries per request, the first included, on 429, 5xx or a timeout.
pub const ATTEMPTS: u32 = 4;
/// The wait before the first retry without `Retry-After`; then doubling.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// A `Retry-After` longer than this is not waited out: the fetch stops
/// and says when to try again.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// Connecting (TCP and TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A whole request, body included (a state's CSV is a few hundred kB).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest answer read (the biggest roster is well under 5 MB).
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// A paced, retrying GET for one source.
pub struct Http<'a> {
    agent: ureq::Agent,
    source: String,
    base: Option<String>,
    /// The publisher's rate as the gap between two request starts.
    interval: Duration,
    last: Option<Instant>,
    progress: &'a mut dyn FetchProgress,
}

impl<'a> Http<'a> {
    /// A client for `source` at most `per_minute` requests a minute, one
    /// at a time (burst 1). `base`: `--url`, already checked by
    /// [`check_base`].
    pub fn new(
        source: &str,
        per_minute: u32,
        base: Option<&str>,
        progress: &'a mut dyn FetchProgress,
    ) -> Http<'a> {
        let config = ureq::Agent::config_builder()
            .user_agent(USER_AGENT)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(CALL_TIMEOUT))
            // Statuses are read here, to retry 429/5xx and name the rest.
            .http_status_as_error(false)
            .build();
        Http {
            agent: config.new_agent(),
            source: source.to_string(),
            base: base.map(|b| b.trim_end_matches('/').to_string()),
            interval: Duration::from_secs(60) / per_minute.max(1),
            last: None,
            progress,
        }
    }

    /// The address of `path_and_query` at the publisher's `origin`, or at
    /// `--url` in its place (only the scheme, host and port change).
    pub fn url(&self, origin: &str, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base.as_deref().unwrap_or(origin))
    }

    /// The source's name, for errors.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Reports members done to the progress display.
    pub fn members(&mut self, done: usize, total: Option<usize>) {
        self.progress.members(done, total);
    }

    /// The body of `url` as text, after pacing and retries.
    pub fn get(&mut self, url: &str) -> Result<String, RosterError> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.pace();
            self.progress.request(url);
            let answer = self.agent.get(url).call();
            self.last = Some(Instant::now());
            let why = match answer {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if (200..300).contains(&status) {
                        return response
                            .body_mut()
                            .with_config()
                            .limit(BODY_LIMIT)
                            .read_to_string()
                            .map_err(|e| self.unreadable(url, e));
                    }
                    if status != 429 && !(500..600).contains(&status) {
                        return Err(RosterError::Status {
                            source_name: self.source.clone(),
                            url: url.to_string(),
                            status,
                            tries,
                        });
                    }
                    let asked = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after(v, chrono::Utc::now()));
                    if tries >= ATTEMPTS {
                        return Err(RosterError::Status {
                            source_name: self.source.clone(),
                            url: url.to_string(),
                            status,
                            tries,
                        });
                    }
                    if let Some(wait) = asked {
                        if wait > MAX_RETRY_AFTER {
                            return Err(RosterError::Busy {
                                source_name: self.source.clone(),
                                url: url.to_string(),
                                status,
                                wait_secs: wait.as_secs(),
                            });
                        }
                    }
                    (format!("HTTP {status}"), asked)
                }
                Err(ureq::Error::Timeout(t)) if tries < ATTEMPTS => {
                    (format!("timeout ({t})"), None)
                }
                Err(e) => {
                    return Err(RosterError::Unreachable {
                        source_name: self.source.clone(),
                        url: url.to_string(),
                        why: describe(&e),
                    })
                }
            };
            let wait = why.1.unwrap_or_else(|| backoff(tries));
            self.progress.retry(url, &why.0, wait);
            sleep(wait);
        }
    }

    /// The body of `url` as JSON.
    pub fn get_json(&mut self, url: &str) -> Result<serde_json::Value, RosterError> {
        let text = self.get(url)?;
        serde_json::from_str(&text).map_err(|e| RosterError::Unreadable {
            source_name: self.source.clone(),
            url: url.to_string(),
            why: format!("not JSON: {e}"),
        })
    }

    /// Waits for the publisher's rate to allow the next request: one at a
    /// time, retries included, each starting at least `interval` after
    /// the previous one ended. Counting from the end (not the start) keeps
    /// the gaps between the requests' arrivals at the publisher, where its
    /// limit is counted, at `interval` or more whatever the network does.
    fn pace(&mut self) {
        if let Some(last) = self.last {
            let due = last + self.interval;
            let now = Instant::now();
            if due > now {
                sleep(due - now);
            }
        }
    }

    fn unreadable(&self, url: &str, e: ureq::Error) -> RosterError {
        RosterError::Unreadable {
            source_name: self.source.clone(),
            url: url.to_string(),
            why: describe(&e),
        }
    }
}

/// The wait before try `tries + 1`: 1 s, 2 s, 4 s…
fn backoff(tries: u32) -> Duration {
    FIRST_BACKOFF * 2u32.saturating_pow(tries.saturating_sub(1).min(10))
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is an RFC 2822 date.
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// A transport error in words a user can act on.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is the address right, and the server up?)".to_string()
        }
        ureq::Error::HostNotFound => "host not found (no network, or a wrong --url?)".to_string(),
        ureq::Error::Timeout(t) => format!("no answer in time ({t})"),
        other => other.to_string(),
    }
}

/// Checks `--url BASE`: a scheme, a host and maybe a port; nothing else,
/// since the path and query stay the publisher's.
pub fn check_base(base: &str) -> Result<String, RosterError> {
    let bad = |why: &str| RosterError::BadBase {
        base: base.to_string(),
        why: why.to_string(),
    };
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    if host.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad(
            "only the scheme, host and port are replaced; leave out any path",
        ));
    }
    Ok(base.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-05T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Sat, 05 Dec 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Sat, 05 Dec 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(4));
    }

    #[test]
    fn base_is_scheme_host_and_port_only() {
        assert_eq!(
            check_base("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_base("127.0.0.1:8080").is_err());
        assert!(check_base("http://127.0.0.1:8080/people").is_err());
        assert!(check_base("https://").is_err());
    }
}
