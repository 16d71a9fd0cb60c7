//! Provider presets: what `[smtp] provider = "NAME"` fills in.
//!
//! Provider knowledge is data (the way Thunderbird's autoconfig database
//! keeps one entry per provider apart from the code that uses it): one
//! table, each entry with where its figures come from and when they were
//! read. The pace of each preset stays at or under the provider's
//! published limit; a key the user writes always wins over the preset.

mod table;

use crate::credentials::AuthMethod;
use crate::tls::Security;

pub use table::PROVIDERS;

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
    pub(crate) const fn tls(host: &'static str) -> Imap {
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
        .map(|p| (strsim::levenshtein(&wanted, p.name), p.name))
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
