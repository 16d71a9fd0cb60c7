//! The checks that turn the file as written ([`super::raw`]) into the typed
//! campaign: every value checked, every path resolved from the campaign
//! file's folder, each problem naming its key.

use super::campaign::{
    Campaign, CampaignSection, Contacts, Rate, Retry, Sender, DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF_SECS, DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_EMAIL_COLUMN,
    DEFAULT_PER_MINUTE, MAX_BACKOFF_SECS,
};
use super::check::Validator;
use super::error::ConfigError;
use super::raw::{RawContacts, RawFile, RawSmtp};
use super::smtp::{Smtp, DEFAULT_PASSWORD_ENV, DEFAULT_TIMEOUT_SECS};
use super::window::{parse_zone, Window};
use crate::tls::Security;

impl Validator<'_> {
    pub(super) fn campaign(&self, raw: RawFile) -> Result<Campaign, ConfigError> {
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
                Some(z) => parse_zone(z).map_err(|e| self.invalid("rate.timezone", e.0))?,
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

    pub(super) fn contacts(&self, c: RawContacts) -> Result<Contacts, ConfigError> {
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
            .map(crate::roster::Publisher::parse)
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
    pub(super) fn window(
        &self,
        window: Option<&str>,
        days: Option<&str>,
    ) -> Result<Option<Window>, ConfigError> {
        match (window, days) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(self.invalid(
                "rate.days",
                "days need a window of hours: add e.g. `window = \"09:00-17:00\"` to [rate]",
            )),
            (Some(w), d) => Window::parse(w, None)
                .map_err(|e| self.invalid("rate.window", e.0))
                .and_then(|_| Window::parse(w, d).map_err(|e| self.invalid("rate.days", e.0)))
                .map(Some),
        }
    }

    pub(super) fn smtp(&self, s: RawSmtp) -> Result<Smtp, ConfigError> {
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
