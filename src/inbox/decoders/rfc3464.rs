//! RFC 3464 delivery status notifications: `multipart/report;
//! report-type=delivery-status` with a `message/delivery-status` part.
//! Postfix, Sendmail, Exchange / Office 365, Gmail, Amazon SES and most
//! current servers send these.

use super::{Action, ReportedFailure};
use crate::inbox::mail::Mail;
use crate::inbox::status;

/// The per-recipient fields of every delivery-status part.
pub fn decode(mail: &Mail) -> Vec<ReportedFailure> {
    mail.status_parts.iter().flat_map(|p| parse(p)).collect()
}

/// Fields are header-like lines (RFC 3464 section 2.1), in groups separated
/// by blank lines: the first group is per message, the others per recipient.
fn parse(part: &str) -> Vec<ReportedFailure> {
    let mut out = Vec::new();
    for group in groups(part) {
        let field = |name: &str| {
            group
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let original = field("Original-Recipient").and_then(address);
        let Some(recipient) = field("Final-Recipient")
            .or_else(|| field("Original-Recipient"))
            .or_else(|| field("X-Actual-Recipient"))
        else {
            continue;
        };
        let status = field("Status").map(|s| s.split_whitespace().next().unwrap_or("").to_string());
        let action = match field("Action").map(|a| a.trim().to_ascii_lowercase()) {
            // SendGrid writes `expired` for a message it gave up on (not an
            // RFC 3464 action; seen in Sisimai's set-of-emails,
            // lhost-sendgrid-03, read 2026-12-05).
            Some(a) if a.starts_with("failed") || a.starts_with("expired") => Action::Failed,
            Some(a) if a.starts_with("delayed") => Action::Delayed,
            // delivered, relayed, expanded: a success report.
            Some(_) => continue,
            None => match status.as_deref() {
                Some(s) if s.starts_with('5') => Action::Failed,
                Some(s) if s.starts_with('4') => Action::Delayed,
                _ => continue,
            },
        };
        let diagnostic = field("Diagnostic-Code").unwrap_or_default();
        // `smtp; 550 …`: the type before the `;` is not the server's words.
        let words = diagnostic
            .split_once(';')
            .map_or(diagnostic, |(_, w)| w)
            .trim();
        out.push(ReportedFailure {
            recipient: address(recipient),
            original,
            status: status.filter(|s| status::is_enhanced(s)),
            smtp_code: status::reply_code(words),
            diagnostic: words.to_string(),
            action,
        });
    }
    out
}

/// `rfc822; a@example.org` → `a@example.org`.
fn address(value: &str) -> Option<String> {
    let addr = value.split_once(';').map_or(value, |(_, a)| a).trim();
    let addr = addr.trim_start_matches('<').trim_end_matches('>');
    super::is_address(addr).then(|| addr.to_lowercase())
}

fn groups(part: &str) -> Vec<Vec<(String, String)>> {
    let mut groups: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in part.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !groups.last().is_some_and(Vec::is_empty) {
                groups.push(Vec::new());
            }
            continue;
        }
        let group = groups.last_mut().expect("never empty");
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_per_recipient() {
        let part = "Reporting-MTA: dns; mx.example.net\n\n\
Final-Recipient: rfc822; A@example.org\nOriginal-Recipient: rfc822;a@example.org\n\
Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <a@example.org>:\n Recipient address rejected\n\n\
Final-Recipient: rfc822; b@example.org\nAction: delayed\nStatus: 4.4.1\n\n\
Final-Recipient: rfc822; c@example.org\nAction: delivered\nStatus: 2.0.0\n\n\
Final-Recipient: rfc822; d@example.org\nAction: expired\nStatus:\n";
        let f = parse(part);
        assert_eq!(f.len(), 3);
        assert_eq!(f[2].recipient.as_deref(), Some("d@example.org"));
        assert_eq!(f[2].action, Action::Failed);
        assert_eq!(f[0].recipient.as_deref(), Some("a@example.org"));
        assert_eq!(f[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(f[0].smtp_code, Some(550));
        assert!(f[0].diagnostic.ends_with("Recipient address rejected"));
        assert_eq!(f[1].action, Action::Delayed);
    }
}
