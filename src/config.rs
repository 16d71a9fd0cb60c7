//! The campaign file (TOML), validated once into typed values.
//!
//! Every key is documented in `config.example.toml`. Unknown keys are errors
//! (a typo must not silently fall back to a default), and relative paths are
//! resolved from the config file's folder so a campaign folder can be run
//! from anywhere.

use std::path::Path;

mod campaign;
mod check;
mod error;
mod fields;
mod followup;
mod letter;
mod mailbox;
mod place;
pub(crate) mod problems;
mod provider;
mod raw;
mod smtp;
mod validate;
mod window;

pub use campaign::{
    Campaign, CampaignSection, Contacts, Rate, Retry, Sender, DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF_SECS, DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_EMAIL_COLUMN,
    DEFAULT_PER_MINUTE, MAX_BACKOFF_SECS,
};
pub use error::ConfigError;
pub use followup::{log_beside, reply_subject, stage_log, Followup, MAX_AFTER_DAYS};
pub use letter::{direction_of, Direction, Letter, Variant};
pub use mailbox::{CopyMode, Inbox, SentCopy};
pub use smtp::{Smtp, DEFAULT_PASSWORD_ENV, DEFAULT_TIMEOUT_SECS};
pub use window::{parse_zone, Window, WindowError};

use check::Validator;
use raw::RawFile;

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
