//! The campaign as the rest of repmail uses it: every section typed, with
//! defaults applied and paths resolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use super::followup::Followup;
use super::letter::{Letter, Variant};
use super::mailbox::{Inbox, SentCopy};
use super::smtp::Smtp;
use super::window::Window;

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
/// Default contacts column holding the address.
pub const DEFAULT_EMAIL_COLUMN: &str = "email";

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
    /// The folder relative paths are resolved from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}
