//! What `check` warns about the campaign's provider preset: a pace set
//! above the provider's documented limits, a password where the provider
//! refuses passwords. The figures are the preset's ([`crate::providers`]);
//! the judgement is about this campaign's settings, so it lives here.

use super::campaign::Campaign;
use crate::credentials::AuthMethod;
use crate::problem::Diagnostic;
use crate::providers::Passwords;

impl Campaign {
    /// The warnings about `[smtp] provider`'s limits and sign-in, placed
    /// at the campaign file; none without a provider.
    pub fn provider_warnings(&self) -> Vec<Diagnostic> {
        let Some(smtp) = &self.smtp else {
            return Vec::new();
        };
        let Some(p) = smtp.provider else {
            return Vec::new();
        };
        let place = self.path.display().to_string();
        let mut out: Vec<Diagnostic> = p
            .pace_warnings(self.rate.per_minute, self.rate.daily_cap)
            .into_iter()
            .map(|m| Diagnostic::warning(&place, m))
            .collect();
        if smtp.auth == AuthMethod::Password && smtp.username.is_some() {
            match p.passwords {
                Passwords::Refused => out.push(Diagnostic::warning(
                    &place,
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
}
