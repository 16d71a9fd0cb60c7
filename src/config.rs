//! The campaign file (TOML), validated once into typed values.
//!
//! Every key is documented in `config.example.toml`. Unknown keys are errors
//! (a typo must not silently fall back to a default), and relative paths are
//! resolved from the config file's folder so a campaign folder can be run
//! from anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use serde::Deserialize;

/// Default steady pace: well below what consumer providers tolerate.
pub const DEFAULT_PER_MINUTE: u32 = 20;
/// Default burst: none, a steady pace.
pub const DEFAULT_BURST: u32 = 1;
/// Default number of messages in flight at once.
pub const DEFAULT_CONCURRENCY: u32 = 1;
/// Default total tries per recipient and run.
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// Default first wait before a retry, doubling after each try.
pub const DEFAULT_BACKOFF_SECS: u64 = 30;
/// Longest first wait before a retry: it doubles, and a run that waits
/// longer is better stopped and run again later.
pub const MAX_BACKOFF_SECS: u64 = 3600;
/// Default whole-transaction timeout per message.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Default variable holding the SMTP password.
pub const DEFAULT_PASSWORD_ENV: &str = "REPMAIL_SMTP_PASSWORD";
/// Default contacts column holding the address.
pub const DEFAULT_EMAIL_COLUMN: &str = "email";

/// Why the campaign file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read campaign file {path}: {source}. Pass the right file with --config PATH, or create one with `repmail init`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown or missing key, or a wrong type.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A value is present but not usable.
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key, e.g. `sender.from`.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// The whole campaign, with defaults applied and paths resolved.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The config file itself.
    pub path: PathBuf,
    /// `[campaign]`.
    pub campaign: CampaignSection,
    /// `[sender]`.
    pub sender: Sender,
    /// `[contacts]`.
    pub contacts: Contacts,
    /// `[smtp]`, needed only by `send`.
    pub smtp: Option<Smtp>,
    /// `[rate]`.
    pub rate: Rate,
    /// `[retry]`.
    pub retry: Retry,
    /// `[vars]`: campaign-wide template values.
    pub vars: BTreeMap<String, toml::Value>,
    /// `[inbox]`, needed only by `repmail inbox` over IMAP.
    pub inbox: Option<Inbox>,
}

/// `[inbox]`: the campaign account's mailbox over IMAP. Account and
/// credentials default to those of `[smtp]`.
#[derive(Debug, Clone)]
pub struct Inbox {
    /// IMAP server host name or IP address.
    pub host: String,
    /// Port (default 993 for `tls`, 143 for `starttls`).
    pub port: u16,
    /// `tls` or `starttls` (never plain: the password crosses).
    pub security: Security,
    /// Login name (default: `[smtp] username`).
    pub username: Option<String>,
    /// Name of the variable holding the password (default: `[smtp]`'s).
    pub password_env: String,
    /// Folders to read, default `["INBOX"]`.
    pub folders: Vec<String>,
    /// Extra trusted root certificate (PEM; default: `[smtp]`'s).
    pub ca_file: Option<PathBuf>,
}

/// `[campaign]`.
#[derive(Debug, Clone)]
pub struct CampaignSection {
    /// The ledger key.
    pub name: String,
    /// Tera template string for the Subject.
    pub subject: String,
    /// Plain-text body template file.
    pub text: PathBuf,
    /// Optional HTML body template file.
    pub html: Option<PathBuf>,
    /// Files attached to every message.
    pub attachments: Vec<PathBuf>,
    /// The delivery log.
    pub log: PathBuf,
}

/// `[sender]`.
#[derive(Debug, Clone)]
pub struct Sender {
    /// From.
    pub from: Mailbox,
    /// Optional Reply-To.
    pub reply_to: Option<Mailbox>,
}

impl Sender {
    /// The domain of the From address: the right side of every Message-ID.
    pub fn domain(&self) -> &str {
        self.from.email.domain()
    }
}

/// `[contacts]`.
#[derive(Debug, Clone)]
pub struct Contacts {
    /// The CSV file.
    pub path: PathBuf,
    /// Column holding the address.
    pub email_column: String,
    /// Optional Tera template for the To display name.
    pub name: Option<String>,
    /// Field delimiter; `None` means detect from the header line.
    pub delimiter: Option<u8>,
    /// Character encoding label; `None` means UTF-8 (BOM allowed).
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

/// `[smtp] security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    Starttls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25); credentials only to a loopback host.
    None,
}

impl Security {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Starttls => "starttls",
            Security::Tls => "tls",
            Security::None => "none",
        }
    }
}

/// `[smtp]`.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Server host name or IP address.
    pub host: String,
    /// Port (default from `security`).
    pub port: u16,
    /// Encryption mode.
    pub security: Security,
    /// Account name for AUTH, if any.
    pub username: Option<String>,
    /// Name of the variable holding the password.
    pub password_env: String,
    /// Extra trusted root certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// Whole-transaction timeout per message.
    pub timeout_secs: u64,
}

/// `[rate]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// Steady pace, messages per minute.
    pub per_minute: u32,
    /// Messages that may go at once before the pace applies.
    pub burst: u32,
    /// Optional pace per recipient domain.
    pub per_domain_per_minute: Option<u32>,
    /// Optional cap over a rolling 24 h, counted from the ledger.
    pub daily_cap: Option<u32>,
    /// Messages in flight at once.
    pub concurrency: u32,
}

/// `[retry]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Total tries per recipient and run.
    pub attempts: u32,
    /// First wait; doubles after each try.
    pub backoff_secs: u64,
}

// ---- the file as written -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    campaign: RawCampaign,
    sender: RawSender,
    contacts: RawContacts,
    smtp: Option<RawSmtp>,
    #[serde(default)]
    rate: RawRate,
    #[serde(default)]
    retry: RawRetry,
    #[serde(default)]
    vars: BTreeMap<String, toml::Value>,
    inbox: Option<RawInbox>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInbox {
    host: Option<String>,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    password_env: Option<String>,
    folders: Option<Vec<String>>,
    ca_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    name: String,
    subject: String,
    text: PathBuf,
    html: Option<PathBuf>,
    #[serde(default)]
    attachments: Vec<PathBuf>,
    log: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSender {
    from: String,
    reply_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContacts {
    path: PathBuf,
    email_column: Option<String>,
    name: Option<String>,
    delimiter: Option<String>,
    encoding: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    password_env: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_secs: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRate {
    per_minute: Option<u32>,
    burst: Option<u32>,
    per_domain_per_minute: Option<u32>,
    daily_cap: Option<u32>,
    concurrency: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    attempts: Option<u32>,
    backoff_secs: Option<u64>,
}

impl Campaign {
    /// Reads and validates the campaign file at `path`.
    pub fn load(path: &Path) -> Result<Campaign, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Campaign::parse(path, &text)
    }

    /// Validates `text` as if read from `path` (used for the embedded example).
    pub fn parse(path: &Path, text: &str) -> Result<Campaign, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                message: parse_message(&e),
            }
        })?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        Validator { path, base }.campaign(raw)
    }

    /// The folder relative paths are resolved from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// toml's message is good but multi-line; keep its first meaningful line and
/// add what to do for the two most common mistakes.
fn parse_message(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    if msg.starts_with("unknown field") {
        format!(
            "{msg}; remove it or fix its spelling (every key is documented in config.example.toml)"
        )
    } else if msg.starts_with("missing field") {
        format!("{msg}; this key is required (see config.example.toml)")
    } else {
        msg
    }
}

struct Validator<'a> {
    path: &'a Path,
    base: PathBuf,
}

impl Validator<'_> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    fn mailbox(&self, key: &str, value: &str) -> Result<Mailbox, ConfigError> {
        if value.chars().any(char::is_control) {
            return Err(self.invalid(key, "contains a line break or control character"));
        }
        let mut mailbox = value.trim().parse::<Mailbox>().map_err(|e| {
            self.invalid(
                key,
                format!("`{value}` is not an address ({e}); write it as \"Name <address@domain>\" or \"address@domain\""),
            )
        })?;
        // Every message carries it in From or Reply-To (and the sender's
        // domain in each Message-ID): the same ASCII form as recipients.
        mailbox.email = crate::text::sendable_address(&mailbox.email)
            .map_err(|why| self.invalid(key, format!("`{value}`: {}", why.reason())))?;
        Ok(mailbox)
    }

    fn positive(&self, key: &str, value: Option<u32>, default: u32) -> Result<u32, ConfigError> {
        match value.unwrap_or(default) {
            0 => Err(self.invalid(key, "must be at least 1")),
            n => Ok(n),
        }
    }

    fn campaign(&self, raw: RawFile) -> Result<Campaign, ConfigError> {
        let c = raw.campaign;
        let name = c.name.trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_alphanumeric() || matches!(ch, '-' | '_' | '.'))
            || name.starts_with('.')
        {
            return Err(self.invalid(
                "campaign.name",
                "use letters, digits, `-`, `_` or `.` only (it names the delivery log file), e.g. \"human-rights-first\"",
            ));
        }
        let log = match &c.log {
            Some(p) => self.resolve(p),
            None => self.base.join("logs").join(format!("{name}.csv")),
        };
        let campaign = CampaignSection {
            subject: c.subject,
            text: self.resolve(&c.text),
            html: c.html.as_deref().map(|p| self.resolve(p)),
            attachments: c.attachments.iter().map(|p| self.resolve(p)).collect(),
            log,
            name,
        };

        let sender = Sender {
            from: self.mailbox("sender.from", &raw.sender.from)?,
            reply_to: match &raw.sender.reply_to {
                Some(r) => Some(self.mailbox("sender.reply_to", r)?),
                None => None,
            },
        };

        let contacts = self.contacts(raw.contacts)?;
        let smtp = raw.smtp.map(|s| self.smtp(s)).transpose()?;
        let inbox = raw
            .inbox
            .map(|i| self.inbox(i, smtp.as_ref()))
            .transpose()?;

        let r = raw.rate;
        let rate = Rate {
            per_minute: self.positive("rate.per_minute", r.per_minute, DEFAULT_PER_MINUTE)?,
            burst: self.positive("rate.burst", r.burst, DEFAULT_BURST)?,
            per_domain_per_minute: r
                .per_domain_per_minute
                .map(|n| self.positive("rate.per_domain_per_minute", Some(n), 1))
                .transpose()?,
            daily_cap: r
                .daily_cap
                .map(|n| self.positive("rate.daily_cap", Some(n), 1))
                .transpose()?,
            concurrency: self.positive("rate.concurrency", r.concurrency, DEFAULT_CONCURRENCY)?,
        };
        let retry = Retry {
            attempts: self.positive("retry.attempts", raw.retry.attempts, DEFAULT_ATTEMPTS)?,
            backoff_secs: raw.retry.backoff_secs.unwrap_or(DEFAULT_BACKOFF_SECS),
        };
        if retry.backoff_secs > MAX_BACKOFF_SECS {
            return Err(self.invalid(
                "retry.backoff_secs",
                format!(
                    "at most {MAX_BACKOFF_SECS} (one hour); a later retry is the next run's job"
                ),
            ));
        }
        for key in raw.vars.keys() {
            if !crate::text::is_identifier(key) {
                return Err(self.invalid(
                    &format!("vars.{key}"),
                    "a template variable name must start with a letter or `_` and hold only letters, digits and `_`",
                ));
            }
        }
        Ok(Campaign {
            path: self.path.to_path_buf(),
            campaign,
            sender,
            contacts,
            smtp,
            rate,
            retry,
            vars: raw.vars,
            inbox,
        })
    }

    fn contacts(&self, c: RawContacts) -> Result<Contacts, ConfigError> {
        let delimiter = match c.delimiter.as_deref() {
            None => None,
            Some("\\t") | Some("\t") | Some("tab") => Some(b'\t'),
            Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
            Some(d) => {
                return Err(self.invalid(
                    "contacts.delimiter",
                    format!("`{d}` is not one character; use \",\", \";\" or \"tab\""),
                ))
            }
        };
        let encoding =
            match c.encoding.as_deref() {
                None => None,
                Some(label) => Some(
                    encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
                        self.invalid(
                    "contacts.encoding",
                    format!("unknown encoding `{label}`; use e.g. \"utf-8\" or \"windows-1252\""),
                )
                    })?,
                ),
            };
        let email_column = c
            .email_column
            .unwrap_or_else(|| DEFAULT_EMAIL_COLUMN.to_string());
        if email_column.trim().is_empty() {
            return Err(self.invalid("contacts.email_column", "must name a column"));
        }
        Ok(Contacts {
            path: self.resolve(&c.path),
            email_column,
            name: c.name,
            delimiter,
            encoding,
        })
    }

    fn inbox(&self, i: RawInbox, smtp: Option<&Smtp>) -> Result<Inbox, ConfigError> {
        let host = i.host.unwrap_or_default().trim().to_string();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.invalid(
                "inbox.host",
                "must be the IMAP server's host name, e.g. \"imap.example.org\"",
            ));
        }
        let security = i.security.unwrap_or(Security::Tls);
        if security == Security::None {
            return Err(self.invalid(
                "inbox.security",
                "must be \"tls\" or \"starttls\": the password would cross unencrypted",
            ));
        }
        let port = i.port.unwrap_or(match security {
            Security::Starttls => 143,
            _ => 993,
        });
        let folders = i.folders.unwrap_or_else(|| vec!["INBOX".to_string()]);
        if folders.is_empty()
            || folders
                .iter()
                .any(|f| f.trim().is_empty() || f.contains(['\r', '\n']))
        {
            return Err(self.invalid("inbox.folders", "must list folder names, e.g. [\"INBOX\"]"));
        }
        Ok(Inbox {
            host,
            port,
            security,
            username: i
                .username
                .filter(|u| !u.is_empty())
                .or_else(|| smtp.and_then(|s| s.username.clone())),
            password_env: i
                .password_env
                .or_else(|| smtp.map(|s| s.password_env.clone()))
                .unwrap_or_else(|| DEFAULT_PASSWORD_ENV.to_string()),
            folders,
            ca_file: i
                .ca_file
                .as_deref()
                .map(|p| self.resolve(p))
                .or_else(|| smtp.and_then(|s| s.ca_file.clone())),
        })
    }

    fn smtp(&self, s: RawSmtp) -> Result<Smtp, ConfigError> {
        let host = s.host.trim().to_string();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.invalid("smtp.host", "must be a host name or IP address"));
        }
        let security = s.security.unwrap_or(Security::Starttls);
        let timeout_secs = s.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if timeout_secs == 0 {
            return Err(self.invalid("smtp.timeout_secs", "must be at least 1"));
        }
        Ok(Smtp {
            port: s.port.unwrap_or(security.default_port()),
            host,
            security,
            username: s.username.filter(|u| !u.is_empty()),
            password_env: s
                .password_env
                .unwrap_or_else(|| DEFAULT_PASSWORD_ENV.to_string()),
            ca_file: s.ca_file.as_deref().map(|p| self.resolve(p)),
            timeout_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[campaign]
name = "t"
subject = "Hi"
text = "letter.txt.tera"

[sender]
from = "Group <letters@example.org>"

[contacts]
path = "c.csv"
"#;

    #[test]
    fn defaults_and_relative_paths() {
        let c = Campaign::parse(Path::new("/camp/repmail.toml"), MINIMAL).unwrap();
        assert_eq!(c.campaign.text, Path::new("/camp/letter.txt.tera"));
        assert_eq!(c.campaign.log, Path::new("/camp/logs/t.csv"));
        assert_eq!(c.contacts.path, Path::new("/camp/c.csv"));
        assert_eq!(c.rate.per_minute, DEFAULT_PER_MINUTE);
        assert_eq!(c.retry.attempts, DEFAULT_ATTEMPTS);
        assert_eq!(c.sender.domain(), "example.org");
        assert!(c.smtp.is_none());
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let text = format!("{MINIMAL}\n[rate]\nper_minit = 3\n");
        let e = Campaign::parse(Path::new("x.toml"), &text).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("x.toml:14"), "{s}");
        assert!(s.contains("per_minit"), "{s}");
    }

    #[test]
    fn smtp_port_follows_security() {
        let text = format!("{MINIMAL}\n[smtp]\nhost = \"mail.example.org\"\nsecurity = \"tls\"\n");
        let c = Campaign::parse(Path::new("x.toml"), &text).unwrap();
        assert_eq!(c.smtp.unwrap().port, 465);
    }

    #[test]
    fn huge_backoff_is_refused() {
        let text = format!("{MINIMAL}\n[retry]\nbackoff_secs = 18446744073709551615\n");
        let s = Campaign::parse(Path::new("x.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(s.contains("retry.backoff_secs"), "{s}");
    }

    #[test]
    fn bad_from_names_key() {
        let text = MINIMAL.replace("Group <letters@example.org>", "not an address");
        let s = Campaign::parse(Path::new("x.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(s.contains("sender.from"), "{s}");
    }
}
