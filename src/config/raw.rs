//! The campaign file as written: the serde structs TOML is read into,
//! before any value is checked (unknown keys are refused here).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::followup::RawFollowup;
use super::letter::RawVariant;
use super::mailbox::{RawInbox, RawSent};
use crate::tls::Security;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) campaign: RawCampaign,
    pub(super) sender: RawSender,
    pub(super) contacts: RawContacts,
    pub(super) smtp: Option<RawSmtp>,
    #[serde(default)]
    pub(super) rate: RawRate,
    #[serde(default)]
    pub(super) retry: RawRetry,
    #[serde(default)]
    pub(super) vars: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub(super) variant: BTreeMap<String, RawVariant>,
    pub(super) inbox: Option<RawInbox>,
    pub(super) sent: Option<RawSent>,
    #[serde(default)]
    pub(super) followup: Vec<RawFollowup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    pub(super) name: String,
    pub(super) subject: String,
    pub(super) letter: Option<PathBuf>,
    pub(super) text: Option<PathBuf>,
    pub(super) html: Option<PathBuf>,
    pub(super) variant_by: Option<String>,
    #[serde(default)]
    pub(super) attachments: Vec<PathBuf>,
    pub(super) log: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSender {
    pub(super) from: String,
    pub(super) reply_to: Option<String>,
    #[serde(default)]
    pub(super) cc: Vec<String>,
    #[serde(default)]
    pub(super) bcc: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContacts {
    pub(super) path: PathBuf,
    pub(super) email_column: Option<String>,
    pub(super) name: Option<String>,
    pub(super) delimiter: Option<String>,
    pub(super) encoding: Option<String>,
    pub(super) attachments_column: Option<String>,
    pub(super) timezone_column: Option<String>,
    pub(super) cc_column: Option<String>,
    pub(super) roster: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) provider: Option<String>,
    pub(super) region: Option<String>,
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) security: Option<Security>,
    pub(super) username: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) auth: Option<crate::credentials::AuthMethod>,
    pub(super) password_command: Option<String>,
    pub(super) token_command: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRate {
    pub(super) per_minute: Option<u32>,
    pub(super) burst: Option<u32>,
    pub(super) per_domain_per_minute: Option<u32>,
    pub(super) daily_cap: Option<u32>,
    pub(super) concurrency: Option<u32>,
    pub(super) window: Option<String>,
    pub(super) days: Option<String>,
    pub(super) timezone: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) attempts: Option<u32>,
    pub(super) backoff_secs: Option<u64>,
}
