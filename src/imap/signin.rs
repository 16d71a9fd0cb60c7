//! SASL XOAUTH2 for IMAP, and refusals explained in plain words.

use crate::credentials::Secret;

/// The XOAUTH2 client: its one message is `user=U^Aauth=Bearer T^A^A`;
/// when the server refuses the token it sends a base64 JSON error as a
/// continuation, which the client answers with an empty line to get the
/// tagged `NO` (Google, "OAuth 2.0 Mechanism",
/// developers.google.com/gmail/imap/xoauth2-protocol; Microsoft Learn,
/// "Authenticate an IMAP, POP or SMTP connection using OAuth"; read
/// 2026-12-05). No `Debug`: it holds the token.
pub struct Xoauth2 {
    message: Option<Vec<u8>>,
}

impl Xoauth2 {
    /// The client for `user` with `token`.
    pub fn new(user: &str, token: &Secret) -> Xoauth2 {
        Xoauth2 {
            message: Some(
                format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes(),
            ),
        }
    }
}

impl async_imap::Authenticator for Xoauth2 {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        // The first (empty) challenge gets the token; any later one is the
        // server's error report, answered with nothing: the token is never
        // sent twice on a connection.
        self.message.take().unwrap_or_default()
    }
}

/// What to do about a refused sign-in, from the server's words. The
/// words quoted are what the big providers answer (Gmail: `NO [ALERT]
/// Application-specific password required`; Microsoft: `NO AUTHENTICATE
/// failed.`; Dovecot and RFC 5530: `NO [AUTHENTICATIONFAILED]`).
pub fn explain_refusal(message: &str, token: bool) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("application-specific password required") {
        return "Gmail takes no account password from other programs: make an app password (Google Account → Security → 2-Step Verification → App passwords) and use it, or set auth = \"oauth2\" with a token_command".into();
    }
    if lower.contains("authenticate failed") {
        return "Microsoft refused the sign-in: the token must be for this account and carry the IMAP scope (https://outlook.office.com/IMAP.AccessAsUser.All), and IMAP must be turned on for the mailbox; run the token_command yourself to check it".into();
    }
    if token {
        return "the access token was refused: check that token_command prints a current token for this very account, with the mail scope (Google: https://mail.google.com/; Microsoft: https://outlook.office.com/IMAP.AccessAsUser.All)".into();
    }
    "check [inbox] username and the password (password_command, password_env or what you typed); many providers need an app password here".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::Authenticator as _;

    #[test]
    fn the_token_goes_once_and_never_shows() {
        let mut x = Xoauth2::new("me@example.org", &Secret::new("tok-123".into()));
        assert_eq!(
            x.process(b""),
            b"user=me@example.org\x01auth=Bearer tok-123\x01\x01"
        );
        assert_eq!(x.process(b"{\"status\":\"400\"}"), b"");
    }

    #[test]
    fn refusals_in_plain_words() {
        let gmail = explain_refusal(
            "no response: code: Some(Alert), info: Some(\"Application-specific password required\")",
            false,
        );
        assert!(gmail.contains("app password"), "{gmail}");
        assert!(explain_refusal("no response: AUTHENTICATE failed.", true).contains("Microsoft"));
        assert!(
            explain_refusal("[AUTHENTICATIONFAILED] Authentication failed.", true)
                .contains("token was refused")
        );
        assert!(explain_refusal("[AUTHENTICATIONFAILED] x", false).contains("password"));
    }
}
