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

pub(crate) mod keys;

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

mod followup;
mod letter;
mod mailbox;

use followup::RawFollowup;
pub use followup::{reply_subject, stage_log, Followup, MAX_AFTER_DAYS};
use letter::RawVariant;
pub use letter::{direction_of, Direction, Letter, Variant};
pub use mailbox::{CopyMode, Inbox, SentCopy};
use mailbox::{RawInbox, RawSent};

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
    /// Several problems, each with its line, found in one pass.
    #[error("{} problems in {}; fix them all, then run again:\n{}", .problems.len(), .path.display(), .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many {
        /// The file.
        path: PathBuf,
        /// Each problem, in file order (`Parse` errors).
        problems: Vec<ConfigError>,
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
    /// `[variant.VALUE]` letters, by VALUE.
    pub variants: BTreeMap<String, Variant>,
    /// `[inbox]`, for `repmail inbox` over IMAP and the Sent copy; filled
    /// from the `[smtp]` provider when it has a mailbox.
    pub inbox: Option<Inbox>,
    /// `[sent]`: a copy of each letter in the Sent folder.
    pub sent: SentCopy,
    /// `[[followup]]` stages, in order (issue 21).
    pub followups: Vec<Followup>,
}

/// `[campaign]`.
#[derive(Debug, Clone)]
pub struct CampaignSection {
    /// The ledger key.
    pub name: String,
    /// Tera template string for the Subject.
    pub subject: String,
    /// The default letter's template files.
    pub letter: Letter,
    /// `variant_by`: the contacts column whose value picks a
    /// `[variant.VALUE]` letter.
    pub variant_by: Option<String>,
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
    /// Copies of every letter, shown in its Cc header (`[sender] cc`).
    pub cc: Vec<Mailbox>,
    /// Hidden copies of every letter (`[sender] bcc`): envelope only,
    /// never a header.
    pub bcc: Vec<Mailbox>,
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
    /// Column naming each row's own attachments (`;`-separated, relative
    /// to the campaign file).
    pub attachments_column: Option<String>,
    /// Column holding each recipient's IANA time zone (for `[rate] window`).
    pub timezone_column: Option<String>,
    /// Column with each row's own Cc addresses (`;`-separated).
    pub cc_column: Option<String>,
    /// The roster source the file was fetched from (`repmail roster
    /// update`; `check` warns when it is old).
    pub roster: Option<crate::roster::Source>,
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
    /// The preset named by `provider`, if any.
    pub provider: Option<&'static crate::providers::Provider>,
    /// How to sign in (default from the provider, else password).
    pub auth: crate::credentials::AuthMethod,
    /// Command whose output is the password.
    pub password_command: Option<String>,
    /// Command whose output is an OAuth2 access token.
    pub token_command: Option<String>,
    /// IMAP host of the provider (for `repmail inbox`).
    pub imap_host: Option<String>,
}

impl Smtp {
    /// What the sign-in needs, for [`crate::credentials`].
    pub fn credentials(&self) -> crate::credentials::Settings {
        crate::credentials::Settings {
            auth: self.auth,
            password_command: self.password_command.clone(),
            token_command: self.token_command.clone(),
            password_env: self.password_env.clone(),
        }
    }
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
    /// Optional sending window (`window` and `days`).
    pub window: Option<crate::schedule::Window>,
    /// The zone of the window for recipients without their own; UTC by
    /// default.
    pub timezone: chrono_tz::Tz,
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
    #[serde(default)]
    variant: BTreeMap<String, RawVariant>,
    inbox: Option<RawInbox>,
    sent: Option<RawSent>,
    #[serde(default)]
    followup: Vec<RawFollowup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    name: String,
    subject: String,
    letter: Option<PathBuf>,
    text: Option<PathBuf>,
    html: Option<PathBuf>,
    variant_by: Option<String>,
    #[serde(default)]
    attachments: Vec<PathBuf>,
    log: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSender {
    from: String,
    reply_to: Option<String>,
    #[serde(default)]
    cc: Vec<String>,
    #[serde(default)]
    bcc: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContacts {
    path: PathBuf,
    email_column: Option<String>,
    name: Option<String>,
    delimiter: Option<String>,
    encoding: Option<String>,
    attachments_column: Option<String>,
    timezone_column: Option<String>,
    cc_column: Option<String>,
    roster: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    provider: Option<String>,
    region: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    password_env: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_secs: Option<u64>,
    auth: Option<crate::credentials::AuthMethod>,
    password_command: Option<String>,
    token_command: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRate {
    per_minute: Option<u32>,
    burst: Option<u32>,
    per_domain_per_minute: Option<u32>,
    daily_cap: Option<u32>,
    concurrency: Option<u32>,
    window: Option<String>,
    days: Option<String>,
    timezone: Option<String>,
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

    /// Validates `text` as if read from `path` (used for the embedded
    /// example). Every unknown key and bad value is reported at once, each
    /// with its line.
    pub fn parse(path: &Path, text: &str) -> Result<Campaign, ConfigError> {
        keys::parse_all(path, text, Campaign::parse_typed)
    }

    /// Reads `text` into the typed sections; stops at the first problem.
    fn parse_typed(path: &Path, text: &str) -> Result<Campaign, ConfigError> {
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
            "{msg}; remove it or fix its spelling (every key is documented in the comments of the campaign file `repmail init` writes)"
        )
    } else if msg.starts_with("missing field") {
        format!("{msg}; this key is required (see the comments of the campaign file `repmail init` writes)")
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
        // A quoted name keeps the spaces inside its quotes (`" a" <…>`),
        // which no mail program shows and which reads back trimmed: the
        // name is what is left without them (a proptest case found it).
        mailbox.name = mailbox
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
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
        let letter = self.letter("campaign", c.letter, c.text, c.html)?;
        let variants = self.variants(raw.variant, &c.subject)?;
        let followups = self.followups(raw.followup, &c.subject)?;
        let variant_by = c.variant_by.filter(|v| !v.trim().is_empty());
        if variant_by.is_none() && !variants.is_empty() {
            return Err(self.invalid(
                "campaign.variant_by",
                "[variant.*] tables need `variant_by = \"COLUMN\"`: the contacts column whose value picks one",
            ));
        }
        let campaign = CampaignSection {
            subject: c.subject,
            letter,
            variant_by,
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
            cc: raw
                .sender
                .cc
                .iter()
                .map(|a| self.mailbox("sender.cc", a))
                .collect::<Result<_, _>>()?,
            bcc: raw
                .sender
                .bcc
                .iter()
                .map(|a| self.mailbox("sender.bcc", a))
                .collect::<Result<_, _>>()?,
        };

        let contacts = self.contacts(raw.contacts)?;
        let smtp = raw.smtp.map(|s| self.smtp(s)).transpose()?;
        let inbox = self.inbox(raw.inbox, smtp.as_ref())?;
        let sent = self.sent(raw.sent, inbox.as_ref())?;

        let r = raw.rate;
        // A provider's preset pace applies only where the user wrote none.
        let preset = smtp.as_ref().and_then(|s| s.provider);
        let rate = Rate {
            per_minute: self.positive(
                "rate.per_minute",
                r.per_minute,
                preset.map_or(DEFAULT_PER_MINUTE, |p| p.per_minute),
            )?,
            burst: self.positive("rate.burst", r.burst, DEFAULT_BURST)?,
            per_domain_per_minute: r
                .per_domain_per_minute
                .map(|n| self.positive("rate.per_domain_per_minute", Some(n), 1))
                .transpose()?,
            daily_cap: r
                .daily_cap
                .map(|n| self.positive("rate.daily_cap", Some(n), 1))
                .transpose()?
                .or(preset.and_then(|p| p.daily_cap)),
            concurrency: self.positive("rate.concurrency", r.concurrency, DEFAULT_CONCURRENCY)?,
            window: self.window(r.window.as_deref(), r.days.as_deref())?,
            timezone: match r.timezone.as_deref() {
                Some(z) => crate::schedule::parse_zone(z)
                    .map_err(|e| self.invalid("rate.timezone", e.0))?,
                None => chrono_tz::Tz::UTC,
            },
        };
        if rate.window.is_none() && contacts.timezone_column.is_some() {
            return Err(self.invalid(
                "contacts.timezone_column",
                "a recipient's zone is used only by a sending window: add `window` to [rate], or remove this key",
            ));
        }
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
            variants,
            inbox,
            sent,
            followups,
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
        if c.timezone_column
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err(self.invalid("contacts.timezone_column", "must name a column"));
        }
        let roster = c
            .roster
            .as_deref()
            .map(crate::roster::Source::parse)
            .transpose()
            .map_err(|e| self.invalid("contacts.roster", e.to_string()))?;
        Ok(Contacts {
            roster,
            path: self.resolve(&c.path),
            email_column,
            name: c.name,
            delimiter,
            encoding,
            attachments_column: c.attachments_column.filter(|c| !c.trim().is_empty()),
            timezone_column: c.timezone_column,
            cc_column: c.cc_column.filter(|c| !c.trim().is_empty()),
        })
    }

    /// `[rate] window` and `days`; `days` alone is an error.
    fn window(
        &self,
        window: Option<&str>,
        days: Option<&str>,
    ) -> Result<Option<crate::schedule::Window>, ConfigError> {
        match (window, days) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(self.invalid(
                "rate.days",
                "days need a window of hours: add e.g. `window = \"09:00-17:00\"` to [rate]",
            )),
            (Some(w), d) => crate::schedule::Window::parse(w, None)
                .map_err(|e| self.invalid("rate.window", e.0))
                .and_then(|_| {
                    crate::schedule::Window::parse(w, d).map_err(|e| self.invalid("rate.days", e.0))
                })
                .map(Some),
        }
    }

    fn smtp(&self, s: RawSmtp) -> Result<Smtp, ConfigError> {
        let provider = s
            .provider
            .as_deref()
            .map(crate::providers::find)
            .transpose()
            .map_err(|e| self.invalid("smtp.provider", e.to_string()))?;
        let region = s.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = region {
            if !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(self.invalid(
                    "smtp.region",
                    format!("`{r}` is not a region name; write e.g. \"eu-west-1\""),
                ));
            }
        }
        let host = match (&s.host, provider) {
            (Some(h), _) => h.trim().to_string(),
            (None, Some(p)) => p.host(region).ok_or_else(|| {
                self.invalid(
                    "smtp.region",
                    format!("provider `{}` has one server per region: add `region = \"eu-west-1\"` (your SES region) or `host` under [smtp]", p.name),
                )
            })?,
            (None, None) => {
                return Err(self.invalid(
                    "smtp.host",
                    "missing: write the server's host name, or `provider = \"NAME\"` for a known provider (e.g. \"gmail\")",
                ))
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.invalid("smtp.host", "must be a host name or IP address"));
        }
        let security = s
            .security
            .or(provider.map(|p| p.security))
            .unwrap_or(Security::Starttls);
        // A preset's port goes with its security; a user who changes the
        // security gets that mode's usual port.
        let port = match (s.port, provider) {
            (Some(p), _) => p,
            (None, Some(p)) if p.security == security => p.port,
            (None, _) => security.default_port(),
        };
        let timeout_secs = s.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if timeout_secs == 0 {
            return Err(self.invalid("smtp.timeout_secs", "must be at least 1"));
        }
        let auth = s
            .auth
            .or(provider.map(|p| p.auth))
            .unwrap_or(crate::credentials::AuthMethod::Password);
        let command = |key: &str, v: Option<String>| -> Result<Option<String>, ConfigError> {
            match v {
                Some(c) if c.trim().is_empty() => {
                    Err(self.invalid(key, "is empty; write the command, or remove the key"))
                }
                Some(c) if c.contains('\n') => Err(self.invalid(key, "must be one line")),
                other => Ok(other),
            }
        };
        let password_command = command("smtp.password_command", s.password_command)?;
        let token_command = command("smtp.token_command", s.token_command)?;
        let username = s.username.filter(|u| !u.is_empty());
        use crate::credentials::AuthMethod;
        match auth {
            AuthMethod::Oauth2 if token_command.is_none() => {
                return Err(self.invalid(
                    "smtp.token_command",
                    "auth = \"oauth2\" needs a command that prints a current access token, e.g. `token_command = \"oama access letters@example.org\"` (see the README: OAuth2); or set auth = \"password\"",
                ))
            }
            AuthMethod::Oauth2 if username.is_none() => {
                return Err(self.invalid(
                    "smtp.username",
                    "auth = \"oauth2\" signs in as an account: write its address as `username`",
                ))
            }
            AuthMethod::Password if token_command.is_some() => {
                return Err(self.invalid(
                    "smtp.token_command",
                    "is used only with auth = \"oauth2\"; add that, or remove token_command",
                ))
            }
            _ => {}
        }
        Ok(Smtp {
            port,
            host,
            security,
            username,
            password_env: s
                .password_env
                .unwrap_or_else(|| DEFAULT_PASSWORD_ENV.to_string()),
            ca_file: s.ca_file.as_deref().map(|p| self.resolve(p)),
            timeout_secs,
            provider,
            auth,
            password_command,
            token_command,
            imap_host: provider.and_then(|p| p.imap).map(|i| i.host.to_string()),
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
        assert_eq!(
            c.campaign.letter,
            Letter::Parts {
                text: "/camp/letter.txt.tera".into(),
                html: None
            }
        );
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
    fn spaces_inside_a_quoted_sender_name_are_not_part_of_it() {
        let text = MINIMAL.replace(
            "from = \"Group <letters@example.org>\"",
            "from = '\" a \" <letters@example.org>'\nreply_to = '\" \" <board@example.org>'",
        );
        let c = Campaign::parse(Path::new("x.toml"), &text).unwrap();
        assert_eq!(c.sender.from.name.as_deref(), Some("a"));
        assert_eq!(c.sender.reply_to.unwrap().name, None);
    }

    #[test]
    fn bad_from_names_key() {
        let text = MINIMAL.replace("Group <letters@example.org>", "not an address");
        let s = Campaign::parse(Path::new("x.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(s.contains("sender.from"), "{s}");
    }

    #[test]
    fn window_days_and_timezone() {
        let rate = "window = \"09:00-17:00\"\ndays = \"mon-fri\"\ntimezone = \"America/New_York\"";
        let text = format!("{MINIMAL}timezone_column = \"tz\"\n[rate]\n{rate}\n");
        let c = Campaign::parse(Path::new("x.toml"), &text).unwrap();
        assert!(c.rate.window.is_some());
        assert_eq!(c.rate.timezone, chrono_tz::Tz::America__New_York);
        assert_eq!(c.contacts.timezone_column.as_deref(), Some("tz"));
        let bad = |extra: &str, key: &str, says: &str| {
            let text = format!("{MINIMAL}\n[rate]\n{extra}\n");
            let s = Campaign::parse(Path::new("x.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(s.contains(key) && s.contains(says), "{extra}: {s}");
        };
        bad("window = \"9-5\"", "rate.window", "HH:MM-HH:MM");
        bad(
            "window = \"09:00-17:00\"\ndays = \"weekdays\"",
            "rate.days",
            "mon-fri",
        );
        bad("days = \"mon\"", "rate.days", "need a window");
        bad(
            "window = \"09:00-17:00\"\ntimezone = \"New York\"",
            "rate.timezone",
            "IANA",
        );
        let text = format!("{MINIMAL}timezone_column = \"tz\"\n");
        let s = Campaign::parse(Path::new("x.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(s.contains("contacts.timezone_column"), "{s}");
    }

    fn with_smtp(smtp: &str, rest: &str) -> Result<Campaign, ConfigError> {
        Campaign::parse(
            Path::new("x.toml"),
            &format!("{MINIMAL}\n[smtp]\n{smtp}\n{rest}"),
        )
    }

    #[test]
    fn provider_fills_smtp_and_rate() {
        let c = with_smtp(
            "provider = \"microsoft365\"\nusername = \"a@example.org\"\ntoken_command = \"t\"",
            "",
        )
        .unwrap();
        let s = c.smtp.unwrap();
        assert_eq!((s.host.as_str(), s.port), ("smtp.office365.com", 587));
        assert_eq!(s.auth, crate::credentials::AuthMethod::Oauth2);
        assert_eq!(s.imap_host.as_deref(), Some("outlook.office365.com"));
        assert_eq!(c.rate.per_minute, 20);
        assert_eq!(c.rate.daily_cap, Some(9000));
    }

    #[test]
    fn user_keys_win_over_the_preset() {
        let c = with_smtp(
            "provider = \"gmail\"\nhost = \"relay.example.org\"\nsecurity = \"tls\"",
            "[rate]\nper_minute = 5\ndaily_cap = 100\n",
        )
        .unwrap();
        let s = c.smtp.unwrap();
        assert_eq!((s.host.as_str(), s.port), ("relay.example.org", 465));
        assert_eq!((c.rate.per_minute, c.rate.daily_cap), (5, Some(100)));
    }

    #[test]
    fn unknown_provider_suggests_the_closest() {
        let s = with_smtp("provider = \"gmial\"", "")
            .unwrap_err()
            .to_string();
        assert!(
            s.contains("smtp.provider") && s.contains("did you mean `gmail`"),
            "{s}"
        );
    }

    #[test]
    fn amazon_ses_needs_a_region_or_host() {
        let s = with_smtp("provider = \"amazon-ses\"", "")
            .unwrap_err()
            .to_string();
        assert!(s.contains("smtp.region"), "{s}");
        let c = with_smtp("provider = \"amazon-ses\"\nregion = \"eu-west-1\"", "").unwrap();
        assert_eq!(c.smtp.unwrap().host, "email-smtp.eu-west-1.amazonaws.com");
    }

    #[test]
    fn oauth2_needs_token_command_and_username() {
        let s = with_smtp(
            "host = \"h.example.org\"\nauth = \"oauth2\"\nusername = \"a@example.org\"",
            "",
        )
        .unwrap_err()
        .to_string();
        assert!(s.contains("smtp.token_command"), "{s}");
        let s = with_smtp(
            "host = \"h.example.org\"\nauth = \"oauth2\"\ntoken_command = \"t\"",
            "",
        )
        .unwrap_err()
        .to_string();
        assert!(s.contains("smtp.username"), "{s}");
        let s = with_smtp("host = \"h.example.org\"\ntoken_command = \"t\"", "")
            .unwrap_err()
            .to_string();
        assert!(s.contains("only with auth"), "{s}");
    }

    #[test]
    fn missing_host_says_provider_is_an_option() {
        let s = with_smtp("port = 25", "").unwrap_err().to_string();
        assert!(s.contains("smtp.host") && s.contains("provider"), "{s}");
    }
}
