//! The campaign file (TOML), validated once into typed values.
//!
//! Every key is documented in `config.example.toml`. Unknown keys are errors
//! (a typo must not silently fall back to a default), and relative paths are
//! resolved from the config file's folder so a campaign folder can be run
//! from anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use crate::tls::Security;

mod fields;
mod place;
pub(crate) mod problems;

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
mod provider;
mod raw;
mod validate;
mod window;
use raw::*;
use validate::Validator;

use followup::RawFollowup;
pub use followup::{reply_subject, stage_log, Followup, MAX_AFTER_DAYS};
use letter::RawVariant;
pub use letter::{direction_of, Direction, Letter, Variant};
pub use mailbox::{CopyMode, Inbox, SentCopy};
use mailbox::{RawInbox, RawSent};
pub use window::{parse_zone, Window, WindowError};

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
    pub roster: Option<crate::roster::Publisher>,
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
    pub fn credentials(&self) -> crate::credentials::SignInSettings {
        crate::credentials::SignInSettings {
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
    pub window: Option<Window>,
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
        problems::parse_all(path, text, Campaign::parse_typed)
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
