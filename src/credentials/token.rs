//! XOAUTH2 tokens for each new connection, renewed by running
//! `token_command` again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use super::{CredentialError, Secret, SignInSettings};

/// How long an access token is used for new connections before
/// `token_command` is asked again. OAuth2 helpers print a cached token
/// until it nears expiry, so asking costs little; Google's and Microsoft's
/// access tokens last about an hour (Google Identity, "Using OAuth 2.0 to
/// Access Google APIs": `expires_in` 3599 s; Microsoft identity platform,
/// "Access tokens": 60–90 minutes; read 2026-12-01).
pub const TOKEN_REUSE: Duration = Duration::from_secs(30 * 60);

/// XOAUTH2 sign-in for each new connection, with tokens from
/// `token_command`: the first fetched before any connection, a new one
/// when the server refused the last or it is older than [`TOKEN_REUSE`].
pub struct TokenAuth {
    user: String,
    settings: SignInSettings,
    state: Mutex<TokenState>,
}

struct TokenState {
    token: Secret,
    fetched: Instant,
    stale: bool,
}

impl TokenAuth {
    /// Signs in as `user`, first with `first` (already fetched).
    pub fn new(user: String, settings: SignInSettings, first: Secret) -> TokenAuth {
        TokenAuth {
            user,
            settings,
            state: Mutex::new(TokenState {
                token: first,
                fetched: Instant::now(),
                stale: false,
            }),
        }
    }

    fn renew(&self) -> Result<Secret, CredentialError> {
        let run = || {
            self.settings.token().unwrap_or_else(|| {
                // The config requires token_command with oauth2.
                Err(CredentialError::Spawn {
                    key: "token_command",
                    command: String::new(),
                    message: "no token_command is set".into(),
                })
            })
        };
        // Running the command blocks; on a multi-threaded runtime let the
        // other tasks (the ledger loop) move on meanwhile.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }
}

impl TokenAuth {
    /// The token for a new connection (SMTP or IMAP): the last one, or a
    /// new one when the server refused it or it is older than
    /// [`TOKEN_REUSE`].
    pub fn current(&self) -> Result<Secret, CredentialError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.stale || st.fetched.elapsed() >= TOKEN_REUSE {
            st.token = self.renew()?;
            st.fetched = Instant::now();
            st.stale = false;
        }
        Ok(st.token.clone())
    }
}

impl super::Auth for TokenAuth {
    fn credentials(&self) -> Result<Option<(Credentials, Vec<Mechanism>)>, String> {
        let token = self.current().map_err(|e| e.to_string())?;
        // lettre's XOAUTH2 takes the token as the credentials' secret and
        // sends `user=U^Aauth=Bearer T^A^A` (DESIGN.md, pitfalls).
        let c = Credentials::new(self.user.clone(), token.expose().to_string());
        Ok(Some((c, vec![Mechanism::Xoauth2])))
    }

    fn refused(&self) -> bool {
        // The connection is opened once more (and only once) with a token
        // fetched anew: an expired token is renewed, a token refused twice
        // in a row stops the run.
        self.state.lock().unwrap_or_else(|e| e.into_inner()).stale = true;
        true
    }
}
