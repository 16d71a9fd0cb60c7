//! Provider presets: what `[smtp] provider = "NAME"` fills in.
//!
//! Provider knowledge is data (the way Thunderbird's autoconfig database
//! keeps one entry per provider apart from the code that uses it): one
//! table, each entry with where its figures come from and when they were
//! read. The pace of each preset stays at or under the provider's
//! published limit; a key the user writes always wins over the preset.

use crate::config::{Rate, Security, Smtp};
use crate::credentials::AuthMethod;
use crate::problem::Diagnostic;

/// Whether a provider takes the account's password over SMTP AUTH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passwords {
    /// The password (or an SMTP credential the provider issues) works.
    Accepted,
    /// Only an app password made in the account's security settings, and
    /// only with two-step verification turned on.
    AppPassword,
    /// Password sign-in is off: OAuth2 only.
    Refused,
}

/// Where the SMTP server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// One host for every account.
    Fixed(&'static str),
    /// One host per region: `{}` is replaced by `[smtp] region`.
    Regional(&'static str),
}

/// Where a provider's mailbox is over IMAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imap {
    /// Host.
    pub host: &'static str,
    /// Port.
    pub port: u16,
    /// Encryption.
    pub security: Security,
}

impl Imap {
    /// Implicit TLS on port 993, what every hosted provider here uses.
    const fn tls(host: &'static str) -> Imap {
        Imap {
            host,
            port: 993,
            security: Security::Tls,
        }
    }
}

/// One provider's preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// The name written in `[smtp] provider`.
    pub name: &'static str,
    /// The name people know it by.
    pub label: &'static str,
    /// SMTP host.
    pub host: Host,
    /// SMTP port.
    pub port: u16,
    /// Encryption.
    pub security: Security,
    /// The default `auth`.
    pub auth: AuthMethod,
    /// Whether passwords are taken.
    pub passwords: Passwords,
    /// The mailbox over IMAP (`[inbox]` defaults), if the provider has one.
    pub imap: Option<Imap>,
    /// Whether the provider files a copy of each letter submitted over
    /// SMTP in the account's Sent folder itself (so `[sent] copy = "auto"`
    /// does not append another).
    pub files_sent: bool,
    /// Preset `[rate] per_minute`.
    pub per_minute: u32,
    /// Preset `[rate] daily_cap`.
    pub daily_cap: Option<u32>,
    /// The provider's documented limit per minute, if it publishes one.
    pub limit_per_minute: Option<u32>,
    /// The provider's documented limit per 24 hours, if it publishes one.
    pub limit_per_day: Option<u32>,
    /// How to get the password or token, in one sentence.
    pub sign_in: &'static str,
}

/// Every preset. The pace of each is at or under its documented limit;
/// where a provider publishes no limit the repmail default pace is kept.
pub static PROVIDERS: &[Provider] = &[
    // Source: Google, "Gmail sending limits" (support.google.com/mail/answer/22839,
    // 500 recipients a day for a personal account) and "Sign in with app
    // passwords" (support.google.com/accounts/answer/185833); SMTP and IMAP
    // hosts from "Add Gmail to another email client"
    // (support.google.com/mail/answer/7126229: imap.gmail.com:993 SSL).
    // Read 2026-12-01. Gmail files mail submitted over its SMTP server in
    // "Sent Mail" itself, and drops a second, similar copy appended over
    // IMAP (WildDuck wiki, "Gmail sending", which documents the behaviour
    // it copies from Gmail; read 2026-12-05).
    Provider {
        name: "gmail",
        label: "Gmail",
        host: Host::Fixed("smtp.gmail.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.gmail.com")),
        files_sent: true,
        per_minute: 20,
        daily_cap: Some(450),
        limit_per_minute: None,
        limit_per_day: Some(500),
        sign_in: "an app password (Google Account → Security → 2-Step Verification → App passwords), or OAuth2 with a token_command",
    },
    // Source: Google Workspace Admin Help, "Gmail sending limits in Google
    // Workspace" (support.google.com/a/answer/166852: 2,000 messages a day
    // per user); less secure apps (password sign-in) ended for Workspace
    // (support.google.com/a/answer/14114704). Read 2026-12-01. The same
    // servers as Gmail, so the same IMAP host and the same Sent filing.
    Provider {
        name: "google-workspace",
        label: "Google Workspace",
        host: Host::Fixed("smtp.gmail.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Oauth2,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.gmail.com")),
        files_sent: true,
        per_minute: 20,
        daily_cap: Some(1800),
        limit_per_minute: None,
        limit_per_day: Some(2000),
        sign_in: "OAuth2 with a token_command (or an app password, if your administrator allows them)",
    },
    // Source: Microsoft Learn, "Exchange Online limits", sending limits
    // (30 messages a minute, 10,000 recipients a day) and "Authenticated
    // client SMTP submission (SMTP AUTH)" (smtp.office365.com:587 STARTTLS;
    // basic authentication for SMTP AUTH off by default for existing
    // tenants from the end of December 2026; reply 535 5.7.139).
    // Read 2026-12-01. IMAP: outlook.office365.com:993 TLS (Microsoft
    // Learn, "POP3 and IMAP4 settings for Microsoft 365"; read
    // 2026-12-05). Mail sent by SMTP AUTH is stored in Sent Items since
    // June 2018 (Exchange Team Blog, "Changes coming to the SMTP
    // Authenticated Submission client protocol", 20 April 2018; read
    // 2026-12-05).
    Provider {
        name: "microsoft365",
        label: "Microsoft 365 (Exchange Online)",
        host: Host::Fixed("smtp.office365.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Oauth2,
        passwords: Passwords::Refused,
        imap: Some(Imap::tls("outlook.office365.com")),
        files_sent: true,
        per_minute: 20,
        daily_cap: Some(9000),
        limit_per_minute: Some(30),
        limit_per_day: Some(10_000),
        sign_in: "OAuth2 with a token_command (scope https://outlook.office.com/SMTP.Send)",
    },
    // Source: Microsoft Support, "POP, IMAP, and SMTP settings for
    // Outlook.com" (smtp-mail.outlook.com:587 STARTTLS, outlook.office365.com
    // IMAP; modern authentication only since 16 September 2024) and
    // "Sending limits in Outlook.com" (about 300 recipients a day).
    // Read 2026-12-01. The same Exchange Online service as Microsoft 365
    // (IMAP outlook.office365.com:993 TLS), filing SMTP mail in Sent Items.
    Provider {
        name: "outlook",
        label: "Outlook.com / Hotmail",
        host: Host::Fixed("smtp-mail.outlook.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Oauth2,
        passwords: Passwords::Refused,
        imap: Some(Imap::tls("outlook.office365.com")),
        files_sent: true,
        per_minute: 10,
        daily_cap: Some(270),
        limit_per_minute: Some(30),
        limit_per_day: Some(300),
        sign_in: "OAuth2 with a token_command (Outlook.com no longer takes passwords from other programs)",
    },
    // Source: Yahoo Help, "IMAP server settings for Yahoo Mail"
    // (smtp.mail.yahoo.com:465 SSL, imap.mail.yahoo.com; app password
    // required) and Yahoo Small Business Help SLN17518 "SMTP sending
    // limits" (500 a day). Read 2026-12-01. IMAP imap.mail.yahoo.com:993
    // SSL (same page); Yahoo keeps no copy of mail sent over SMTP, so
    // `auto` appends one.
    Provider {
        name: "yahoo",
        label: "Yahoo Mail",
        host: Host::Fixed("smtp.mail.yahoo.com"),
        port: 465,
        security: Security::Tls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.mail.yahoo.com")),
        files_sent: false,
        per_minute: 10,
        daily_cap: Some(450),
        limit_per_minute: None,
        limit_per_day: Some(500),
        sign_in: "an app password (Yahoo Account Security → Generate app password)",
    },
    // Source: Apple Support 102198 "Mailbox size and message sending limits
    // in iCloud" (1,000 messages and 1,000 recipients a day) and 102525
    // "iCloud Mail server settings" (smtp.mail.me.com:587 STARTTLS,
    // imap.mail.me.com:993 SSL; app-specific password). Read 2026-12-01.
    // Mail sent over SMTP is not filed in Sent: `auto` appends a copy.
    Provider {
        name: "icloud",
        label: "iCloud Mail",
        host: Host::Fixed("smtp.mail.me.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.mail.me.com")),
        files_sent: false,
        per_minute: 20,
        daily_cap: Some(900),
        limit_per_minute: None,
        limit_per_day: Some(1000),
        sign_in: "an app-specific password (account.apple.com → Sign-In and Security → App-Specific Passwords)",
    },
    // Source: Fastmail Help, "Server names and ports" (smtp.fastmail.com:465
    // SSL, imap.fastmail.com; app password) and "Account limits" (sending
    // limits depend on the plan and account age; none published as one
    // figure). Read 2026-12-01. IMAP imap.fastmail.com:993 SSL (same
    // page); Fastmail saves a copy only of mail sent from its own web
    // interface, so `auto` appends one.
    Provider {
        name: "fastmail",
        label: "Fastmail",
        host: Host::Fixed("smtp.fastmail.com"),
        port: 465,
        security: Security::Tls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.fastmail.com")),
        files_sent: false,
        per_minute: 20,
        daily_cap: None,
        limit_per_minute: None,
        limit_per_day: None,
        sign_in: "an app password (Settings → Privacy & Security → Manage app passwords)",
    },
    // Source: Zoho Mail Help, "SMTP server configuration"
    // (smtp.zoho.com:465 SSL, imap.zoho.com; app-specific password with
    // two-factor authentication; other data centres use smtp.zoho.eu, .in
    // …: set `host`) and "Email sending limits" (per plan). Read 2026-12-01.
    // IMAP imap.zoho.com:993 SSL (Zoho Mail Help, "IMAP access"; read
    // 2026-12-05); no copy of SMTP mail is kept, so `auto` appends one.
    Provider {
        name: "zoho",
        label: "Zoho Mail",
        host: Host::Fixed("smtp.zoho.com"),
        port: 465,
        security: Security::Tls,
        auth: AuthMethod::Password,
        passwords: Passwords::AppPassword,
        imap: Some(Imap::tls("imap.zoho.com")),
        files_sent: false,
        per_minute: 20,
        daily_cap: None,
        limit_per_minute: None,
        limit_per_day: None,
        sign_in: "an app-specific password (Zoho Accounts → Security → App Passwords)",
    },
    // Source: Proton Support, "Proton Mail Bridge" (SMTP on 127.0.0.1:1025
    // STARTTLS and IMAP on 127.0.0.1:1143 with the Bridge's own password;
    // export its certificate for `ca_file`) and "Sending limits" (150
    // messages a day on the free plan). Read 2026-12-01. What is sent
    // through the Bridge is stored by Proton in the Sent folder (the
    // Bridge sends through Proton's API, which saves the sent message),
    // so `auto` appends nothing.
    Provider {
        name: "proton-bridge",
        label: "Proton Mail Bridge",
        host: Host::Fixed("127.0.0.1"),
        port: 1025,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::Accepted,
        imap: Some(Imap {
            host: "127.0.0.1",
            port: 1143,
            security: Security::Starttls,
        }),
        files_sent: true,
        per_minute: 10,
        daily_cap: Some(140),
        limit_per_minute: None,
        limit_per_day: Some(150),
        sign_in: "the password the Bridge shows for this account (not your Proton password); export the Bridge certificate and set ca_file",
    },
    // Source: AWS, "Amazon SES SMTP endpoints"
    // (email-smtp.<region>.amazonaws.com:587 STARTTLS, SMTP credentials
    // made in the SES console) and "Service quotas in Amazon SES" (sandbox:
    // 200 messages a day, 1 a second; production quotas per account).
    // No mailbox. Read 2026-12-01.
    Provider {
        name: "amazon-ses",
        label: "Amazon SES",
        host: Host::Regional("email-smtp.{}.amazonaws.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::Accepted,
        imap: None,
        files_sent: false,
        per_minute: 20,
        daily_cap: Some(200),
        limit_per_minute: Some(60),
        limit_per_day: None,
        sign_in: "the SMTP credentials made in the SES console (not your AWS password)",
    },
    // Source: Postmark, "SMTP" developer docs (smtp.postmarkapp.com:587
    // STARTTLS; the server API token as both username and password) and
    // "Sending limits" (no daily cap; volume by plan). No mailbox.
    // Read 2026-12-01.
    Provider {
        name: "postmark",
        label: "Postmark",
        host: Host::Fixed("smtp.postmarkapp.com"),
        port: 587,
        security: Security::Starttls,
        auth: AuthMethod::Password,
        passwords: Passwords::Accepted,
        imap: None,
        files_sent: false,
        per_minute: 20,
        daily_cap: None,
        limit_per_minute: None,
        limit_per_day: None,
        sign_in: "the server API token, as both username and password",
    },
];

/// `[smtp] provider` names no preset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{name}`; {}", match .suggestion {
    Some(s) => format!("did you mean `{s}`? (known: {})", names()),
    None => format!("known providers: {}", names()),
})]
pub struct UnknownProvider {
    /// What was written.
    pub name: String,
    /// The closest known name, if any is close.
    pub suggestion: Option<&'static str>,
}

/// Every preset name, comma-separated.
pub fn names() -> String {
    PROVIDERS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The preset called `name` (case and spaces ignored).
pub fn find(name: &str) -> Result<&'static Provider, UnknownProvider> {
    let wanted = name.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    if let Some(p) = PROVIDERS.iter().find(|p| p.name == wanted) {
        return Ok(p);
    }
    let suggestion = PROVIDERS
        .iter()
        .map(|p| (distance(&wanted, p.name), p.name))
        .filter(|(d, n)| *d <= 3.max(n.len() / 3) || n.starts_with(&wanted) && !wanted.is_empty())
        .min()
        .map(|(_, n)| n);
    Err(UnknownProvider {
        name: name.to_string(),
        suggestion,
    })
}

impl Provider {
    /// The SMTP host; `region` fills a regional one (`None`: it needs one).
    pub fn host(&self, region: Option<&str>) -> Option<String> {
        match self.host {
            Host::Fixed(h) => Some(h.to_string()),
            Host::Regional(pattern) => region.map(|r| pattern.replace("{}", r)),
        }
    }

    /// A pace the user set that exceeds what this provider documents.
    pub fn pace_warnings(&self, per_minute: u32, daily_cap: Option<u32>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(limit) = self.limit_per_minute {
            if per_minute > limit {
                out.push(format!(
                    "[rate] per_minute = {per_minute} is above {}'s documented limit of {limit} a minute; the provider will refuse or hold the excess (set it to {limit} or less)",
                    self.label
                ));
            }
        }
        if let Some(limit) = self.limit_per_day {
            match daily_cap {
                Some(cap) if cap > limit => out.push(format!(
                    "[rate] daily_cap = {cap} is above {}'s documented limit of {limit} a day; the account may be suspended (set it to {} or less)",
                    self.label,
                    limit * 9 / 10
                )),
                _ => {}
            }
        }
        out
    }
}

/// What `check` warns about a campaign's provider: a pace the user set
/// above the documented limits, a password where the provider refuses
/// passwords. `place` is the campaign file.
pub fn warnings(smtp: &Smtp, rate: &Rate, place: &str) -> Vec<Diagnostic> {
    let Some(p) = smtp.provider else {
        return Vec::new();
    };
    let mut out: Vec<Diagnostic> = p
        .pace_warnings(rate.per_minute, rate.daily_cap)
        .into_iter()
        .map(|m| Diagnostic::warning(place, m))
        .collect();
    if smtp.auth == AuthMethod::Password && smtp.username.is_some() {
        match p.passwords {
            Passwords::Refused => out.push(Diagnostic::warning(
                place,
                format!(
                    "[smtp] auth = \"password\", but {} refuses passwords from other programs (\"535 5.7.139 … basic authentication is disabled\"): set auth = \"oauth2\" and a token_command (see the README: OAuth2)",
                    p.label
                ),
            )),
            Passwords::AppPassword => {}
            Passwords::Accepted => {}
        }
    }
    out
}

/// Levenshtein distance, for did-you-mean.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_at_or_under_its_documented_limits() {
        for p in PROVIDERS {
            if let Some(l) = p.limit_per_minute {
                assert!(p.per_minute <= l, "{}", p.name);
            }
            if let (Some(l), Some(c)) = (p.limit_per_day, p.daily_cap) {
                assert!(c <= l, "{}", p.name);
            }
            if p.limit_per_day.is_some() {
                assert!(
                    p.daily_cap.is_some(),
                    "{} has a daily limit but no cap",
                    p.name
                );
            }
            assert!(p.pace_warnings(p.per_minute, p.daily_cap).is_empty());
            if p.passwords == Passwords::Refused {
                assert_eq!(p.auth, AuthMethod::Oauth2, "{}", p.name);
            }
        }
    }

    #[test]
    fn names_are_unique_and_found() {
        for p in PROVIDERS {
            assert_eq!(find(p.name).unwrap().name, p.name);
            assert_eq!(PROVIDERS.iter().filter(|q| q.name == p.name).count(), 1);
        }
        assert_eq!(find(" Google Workspace ").unwrap().name, "google-workspace");
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        for (typo, want) in [
            ("gmial", Some("gmail")),
            ("office365", None),
            ("microsoft-365", Some("microsoft365")),
            ("outlok", Some("outlook")),
            ("proton", Some("proton-bridge")),
            ("ses", None),
            ("zzzzzzzzzzzz", None),
        ] {
            let e = find(typo).unwrap_err();
            assert_eq!(e.suggestion, want, "{typo}");
            assert!(e.to_string().contains("amazon-ses"), "{e}");
        }
    }

    #[test]
    fn regional_host_needs_a_region() {
        let ses = find("amazon-ses").unwrap();
        assert_eq!(ses.host(None), None);
        assert_eq!(
            ses.host(Some("eu-west-1")).as_deref(),
            Some("email-smtp.eu-west-1.amazonaws.com")
        );
    }

    #[test]
    fn pace_above_the_limit_warns() {
        let m = find("microsoft365").unwrap();
        assert_eq!(m.pace_warnings(30, Some(10_000)).len(), 0);
        let w = m.pace_warnings(31, Some(10_001));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("per_minute = 31"), "{w:?}");
    }
}
