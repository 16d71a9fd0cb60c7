//! One incoming message, parsed once into what every decoder and the
//! matcher need: a few headers, the readable text, the machine-readable
//! report parts and the returned copy of the original letter.

use chrono::{DateTime, Utc};
use mailparse::{MailHeaderMap, ParsedMail};

/// Text kept per message: enough for any report, bounded so a hostile
/// multi-megabyte message cannot make the classifier slow.
const MAX_TEXT: usize = 256 * 1024;
/// MIME nesting followed; deeper parts are ignored.
const MAX_DEPTH: usize = 8;

/// A parsed incoming message.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// The From address, lower-cased (empty if none).
    pub from: String,
    /// The From header as written (display name and address).
    pub from_header: String,
    /// The Subject, decoded.
    pub subject: String,
    /// The message's own Message-ID, with its angle brackets.
    pub message_id: Option<String>,
    /// The Date header.
    pub date: Option<DateTime<Utc>>,
    /// Message-IDs from In-Reply-To and References.
    pub parents: Vec<String>,
    /// Lower-cased header names with their decoded values, in order.
    pub headers: Vec<(String, String)>,
    /// The top-level content type, lower-cased (`multipart/report`).
    pub content_type: String,
    /// The `report-type` parameter of a `multipart/report`, lower-cased.
    pub report_type: Option<String>,
    /// The human-readable text: every text/plain part (HTML stripped of
    /// tags when there is no plain part), decoded.
    pub text: String,
    /// The bodies of `message/delivery-status` parts (RFC 3464).
    pub status_parts: Vec<String>,
    /// Whether a `message/feedback-report` part (RFC 5965, ARF) is present.
    pub feedback: bool,
    /// The returned copy (or headers) of the original message.
    pub returned: String,
}

impl Mail {
    /// Parses raw message bytes. Never fails: what cannot be parsed as MIME
    /// is read as plain text, so a malformed report is still looked at.
    pub fn parse(raw: &[u8]) -> Mail {
        match mailparse::parse_mail(raw) {
            Ok(parsed) => {
                let mut mail = from_parsed(&parsed);
                // Broken headers can swallow the whole message: read the
                // bytes as text rather than nothing.
                if mail.text.trim().is_empty() && mail.status_parts.is_empty() {
                    mail.text = bounded(String::from_utf8_lossy(raw).into_owned());
                }
                mail
            }
            Err(_) => Mail {
                text: bounded(String::from_utf8_lossy(raw).into_owned()),
                ..Mail::default()
            },
        }
    }

    /// The value of the first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the sender is a mail system rather than a person: the usual
    /// daemon mailboxes or a "Mail Delivery" display name.
    pub fn from_daemon(&self) -> bool {
        let local = self.from.split('@').next().unwrap_or_default();
        const DAEMONS: [&str; 8] = [
            "mailer-daemon",
            "postmaster",
            "mail-daemon",
            "maildaemon",
            "mailerdaemon",
            "mdaemon",
            "bounce",
            "bounces",
        ];
        // The name counts too: dma writes `From: MAILER-DAEMON <>` (seen in
        // Sisimai's set-of-emails, lhost-dragonfly-*, read 2026-12-05).
        let header = self.from_header.to_ascii_lowercase();
        DAEMONS.contains(&local)
            || header.contains("mail delivery")
            || header.contains("mailer-daemon")
    }

    /// Whether the envelope sender was empty: RFC 5321 section 4.5.5 has
    /// reports sent with a null reverse-path, and RFC 3834 automatic
    /// answers too, so this alone says "automatic", not "bounce".
    pub fn null_sender(&self) -> bool {
        self.header("return-path").is_some_and(|r| r.trim() == "<>")
    }

    /// The Message-IDs the returned copy of the original letter names
    /// (`Message-ID:` lines in the returned parts, then in the text), other
    /// than this message's own.
    pub fn original_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for text in [&self.returned, &self.text] {
            for line in text.lines() {
                let line = line.trim_start();
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                if !name.trim().eq_ignore_ascii_case("message-id") {
                    continue;
                }
                if let Some(id) = first_id(value) {
                    if Some(&id) != self.message_id.as_ref() && !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
        ids
    }
}

fn from_parsed(parsed: &ParsedMail) -> Mail {
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.get_key().to_ascii_lowercase(), h.get_value()))
        .collect();
    let get = |name: &str| parsed.headers.get_first_value(name);
    let from_header = get("From").unwrap_or_default();
    let from = address_of(&from_header);
    let mut parents = Vec::new();
    for name in ["In-Reply-To", "References"] {
        for value in parsed.headers.get_all_values(name) {
            parents.extend(all_ids(&value));
        }
    }
    let mut mail = Mail {
        from,
        from_header,
        subject: get("Subject").unwrap_or_default(),
        message_id: get("Message-ID").and_then(|v| first_id(&v)),
        date: get("Date").and_then(|d| date_of(&d)),
        parents,
        headers,
        content_type: parsed.ctype.mimetype.to_ascii_lowercase(),
        report_type: parsed
            .ctype
            .params
            .get("report-type")
            .map(|t| t.to_ascii_lowercase()),
        ..Mail::default()
    };
    let mut html = String::new();
    walk(parsed, 0, &mut mail, &mut html);
    if mail.text.trim().is_empty() {
        mail.text = strip_tags(&html);
    }
    mail.text = bounded(std::mem::take(&mut mail.text));
    mail.returned = bounded(std::mem::take(&mut mail.returned));
    mail
}

fn walk(part: &ParsedMail, depth: usize, mail: &mut Mail, html: &mut String) {
    if depth > MAX_DEPTH {
        return;
    }
    let mimetype = part.ctype.mimetype.to_ascii_lowercase();
    let body = || part.get_body().unwrap_or_default();
    match mimetype.as_str() {
        m if m.starts_with("multipart/") => {
            for sub in &part.subparts {
                walk(sub, depth + 1, mail, html);
            }
        }
        "message/delivery-status" | "message/global-delivery-status" => {
            mail.status_parts.push(body());
        }
        "message/feedback-report" => mail.feedback = true,
        "message/rfc822"
        | "text/rfc822-headers"
        | "message/global"
        | "message/global-headers"
        | "message/partial" => push_bounded(&mut mail.returned, &body()),
        "text/html" => push_bounded(html, &body()),
        m if m == "text/plain" || m.is_empty() || m.starts_with("text/") => {
            push_bounded(&mut mail.text, &body());
        }
        _ => {}
    }
}

fn push_bounded(into: &mut String, text: &str) {
    if into.len() < MAX_TEXT {
        into.push_str(text);
        into.push('\n');
    }
}

fn bounded(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// A `Date:` value as a time, or `None` when it cannot be read.
/// mailparse 0.16 answers `Ok(0)` (1970-01-01) for a value without a day,
/// month and year ("tomorrow", "Tuesday"), and refuses years before 1970:
/// no real message is dated at or before the epoch, so those are
/// unreadable too (issue 23: such replies were recorded as of 1970 and
/// skipped by `--since`).
fn date_of(value: &str) -> Option<DateTime<Utc>> {
    mailparse::dateparse(value)
        .ok()
        .filter(|&secs| secs > 0)
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
}

/// A crude tag stripper for HTML-only reports (Office 365 sends some): the
/// classifier needs the words, not the layout.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The address in a header value such as `Name <a@example.org>`,
/// lower-cased; the bare value when there are no angle brackets.
pub fn address_of(value: &str) -> String {
    let addr = match mailparse::addrparse(value) {
        Ok(list) => list.iter().find_map(|a| match a {
            mailparse::MailAddr::Single(s) => Some(s.addr.clone()),
            mailparse::MailAddr::Group(g) => g.addrs.first().map(|s| s.addr.clone()),
        }),
        Err(_) => None,
    };
    addr.unwrap_or_else(|| {
        value
            .rsplit_once('<')
            .map_or(value, |(_, rest)| rest.split('>').next().unwrap_or(rest))
            .trim()
            .to_string()
    })
    .trim()
    .to_lowercase()
}

/// Every `<…>` token in a header value, brackets kept.
pub fn all_ids(value: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let id = &rest[start..=start + len];
        if id.len() > 2 && !id.contains(char::is_whitespace) {
            ids.push(id.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    ids
}

fn first_id(value: &str) -> Option<String> {
    all_ids(value).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_parts_and_returned_ids() {
        let raw = b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n\
Subject: Undelivered Mail\r\nMessage-ID: <own@mx.example.net>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <letter-1@example.com>\r\n\
--b--\r\n";
        let mail = Mail::parse(raw);
        assert_eq!(mail.from, "mailer-daemon@mx.example.net");
        assert!(mail.from_daemon());
        assert_eq!(mail.report_type.as_deref(), Some("delivery-status"));
        assert_eq!(mail.status_parts.len(), 1);
        assert!(mail.text.contains("Sorry."));
        assert_eq!(mail.original_ids(), vec!["<letter-1@example.com>"]);
    }

    #[test]
    fn an_unreadable_date_is_no_date() {
        for value in [
            "tomorrow",
            "Tuesday",
            "5 Dec",
            "1 Jan 1970 00:00:00 +0000",
            "",
        ] {
            let raw = format!("From: a@example.org\r\nDate: {value}\r\n\r\nHi\r\n");
            assert_eq!(Mail::parse(raw.as_bytes()).date, None, "{value:?}");
        }
        let raw = b"From: a@example.org\r\nDate: Sat, 5 Dec 2026 10:00:00 +0100\r\n\r\nHi\r\n";
        assert_eq!(
            Mail::parse(raw).date.map(|d| d.to_rfc3339()),
            Some("2026-12-05T09:00:00+00:00".to_string())
        );
    }

    #[test]
    fn garbage_is_text() {
        let mail = Mail::parse(b"\xff\xfe not mail at all");
        assert!(mail.text.contains("not mail"));
        assert!(mail.original_ids().is_empty());
    }

    #[test]
    fn addresses_and_ids() {
        assert_eq!(address_of("Ann <Ann@Example.ORG>"), "ann@example.org");
        assert_eq!(address_of("b@example.com"), "b@example.com");
        assert_eq!(
            all_ids("<a@x> <b@y>\r\n <c@z>"),
            vec!["<a@x>", "<b@y>", "<c@z>"]
        );
    }
}
