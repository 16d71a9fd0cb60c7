//! The copy of each letter in the account's Sent folder (`[sent]`, issue
//! 20): whether a run makes one. Most groups expect what went out to show
//! in their mail program's Sent folder; some providers file a copy of
//! what is submitted over SMTP themselves, and a second copy there would
//! be a duplicate (see each preset's `files_sent` and its sources in
//! [`crate::providers`]).

mod copier;
pub mod spool;

pub use copier::{Copied, Copier, CopyReport, Sink};

use crate::config::{CopyMode, Inbox, SentCopy, Smtp};

/// What a run does about the Sent copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Append each letter to this folder (`None`: the one the server
    /// marks `\Sent`, RFC 6154).
    Append(Option<String>),
    /// No copy, and why (for `check` and the plan).
    Skip(String),
}

/// Whether letters get a copy: `never` never; `always` always; `auto`
/// unless the `[smtp]` provider files its own, or there is no mailbox.
pub fn decide(sent: &SentCopy, smtp: Option<&Smtp>, inbox: Option<&Inbox>) -> Decision {
    let provider = smtp.and_then(|s| s.provider);
    match (sent.copy, provider, inbox) {
        (CopyMode::Never, _, _) => Decision::Skip("off ([sent] copy = \"never\")".into()),
        (CopyMode::Auto, Some(p), _) if p.files_sent => Decision::Skip(format!(
            "{} files its own copy of each letter in Sent ([sent] copy = \"auto\"; \"always\" adds one anyway)",
            p.label
        )),
        (_, _, None) => Decision::Skip(
            "no mailbox: add an [inbox] section with the IMAP host to get a copy in Sent".into(),
        ),
        (_, _, Some(_)) => Decision::Append(sent.folder.clone()),
    }
}

impl Decision {
    /// One line for `check` and the plan.
    pub fn describe(&self) -> String {
        match self {
            Decision::Append(Some(f)) => format!("a copy of each letter in the folder \"{f}\""),
            Decision::Append(None) => {
                "a copy of each letter in the folder the server marks \\Sent".into()
            }
            Decision::Skip(why) => format!("no copy: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Campaign;

    fn campaign(smtp: &str, sent: &str) -> Campaign {
        let text = format!(
            "[campaign]\nname = \"t\"\nsubject = \"Hi\"\ntext = \"l.txt\"\n\
             [sender]\nfrom = \"letters@example.org\"\n[contacts]\npath = \"c.csv\"\n\
             {smtp}\n{sent}\n"
        );
        Campaign::parse(std::path::Path::new("/tmp/x/campaign.toml"), &text).unwrap()
    }

    fn decision(smtp: &str, sent: &str) -> Decision {
        let c = campaign(smtp, sent);
        decide(&c.sent, c.smtp.as_ref(), c.inbox.as_ref())
    }

    #[test]
    fn auto_skips_the_presets_that_file_their_own() {
        for p in crate::providers::PROVIDERS {
            let mut smtp = format!(
                "[smtp]\nprovider = \"{}\"\nusername = \"letters@example.org\"\n",
                p.name
            );
            if p.auth == crate::credentials::AuthMethod::Oauth2 {
                smtp.push_str("token_command = \"printf tok\"\n");
            }
            if p.name == "amazon-ses" {
                smtp.push_str("region = \"eu-west-1\"\n");
            }
            let d = decision(&smtp, "");
            match (p.files_sent, p.imap, &d) {
                (true, _, Decision::Skip(why)) => assert!(why.contains(p.label), "{why}"),
                (false, Some(_), Decision::Append(None)) => {}
                (false, None, Decision::Skip(why)) => assert!(why.contains("no mailbox"), "{why}"),
                _ => panic!("{}: {d:?}", p.name),
            }
            // `always` appends wherever there is a mailbox; `never` never.
            let d = decision(&smtp, "[sent]\ncopy = \"never\"\n");
            assert!(matches!(d, Decision::Skip(_)), "{}", p.name);
            if p.imap.is_some() {
                let d = decision(
                    &smtp,
                    "[sent]\ncopy = \"always\"\nfolder = \"Sent Items\"\n",
                );
                assert_eq!(d, Decision::Append(Some("Sent Items".into())), "{}", p.name);
            }
        }
        for name in [
            "gmail",
            "google-workspace",
            "microsoft365",
            "outlook",
            "proton-bridge",
        ] {
            assert!(crate::providers::find(name).unwrap().files_sent, "{name}");
        }
        for name in ["yahoo", "icloud", "fastmail", "zoho"] {
            assert!(!crate::providers::find(name).unwrap().files_sent, "{name}");
        }
    }

    #[test]
    fn a_self_hosted_server_gets_a_copy_under_auto() {
        let d = decision(
            "[smtp]\nhost = \"mail.example.org\"\n[inbox]\nhost = \"mail.example.org\"",
            "",
        );
        assert_eq!(d, Decision::Append(None));
        let d = decision("[smtp]\nhost = \"mail.example.org\"", "");
        assert!(
            matches!(d, Decision::Skip(ref w) if w.contains("no mailbox")),
            "{d:?}"
        );
    }
}
