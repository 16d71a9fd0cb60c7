//! The checker every section's validation goes through: it knows the
//! campaign file (for errors naming it) and its folder (for paths), and
//! checks the values every section has (addresses, counts).

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use super::error::ConfigError;

pub(super) struct Validator<'a> {
    pub(super) path: &'a Path,
    pub(super) base: PathBuf,
}

impl Validator<'_> {
    pub(super) fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(super) fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    pub(super) fn mailbox(&self, key: &str, value: &str) -> Result<Mailbox, ConfigError> {
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
        mailbox.email = crate::address::sendable_address(&mailbox.email)
            .map_err(|why| self.invalid(key, format!("`{value}`: {}", why.reason())))?;
        Ok(mailbox)
    }

    pub(super) fn positive(
        &self,
        key: &str,
        value: Option<u32>,
        default: u32,
    ) -> Result<u32, ConfigError> {
        match value.unwrap_or(default) {
            0 => Err(self.invalid(key, "must be at least 1")),
            n => Ok(n),
        }
    }
}
