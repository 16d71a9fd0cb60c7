//! `init`: a new campaign folder from the embedded example campaign.

use std::path::{Path, PathBuf};

use crate::credentials::AuthMethod;
use crate::providers::{Host, Provider};

/// The repository's example campaign file, which [`campaign_file`] turns
/// into the new campaign's own.
const EXAMPLE_CONFIG: &str = include_str!("../config.example.toml");

/// The name of the campaign file `init` writes: the one `repmail` reads
/// when `--config` is not given.
pub const CAMPAIGN_FILE: &str = "repmail.toml";

/// The other files of the example campaign, as shipped in the repository:
/// (path in the new folder, contents).
pub const EXAMPLE: [(&str, &str); 3] = [
    (
        "templates/letter.md.tera",
        include_str!("../templates/letter.md.tera"),
    ),
    (
        "templates/followup.md.tera",
        include_str!("../templates/followup.md.tera"),
    ),
    (
        "contacts/representatives.csv",
        include_str!("../contacts/representatives.csv"),
    ),
];

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Some of the files exist; nothing was overwritten.
    #[error("{} already exists; nothing was written. Choose an empty folder: `repmail init NEW_FOLDER`", .0.display())]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The example's campaign file as the new campaign's own: its comments
/// speak of `repmail.toml` and commands without `--config`, not of the
/// repository's `config.example.toml`, which is not in the new folder.
pub fn campaign_file() -> String {
    const FOR_THE_EXAMPLE: &str =
        "# For your own campaign, copy this file (e.g. to repmail.toml, the default
# name, so --config can be left out), edit it, and run the three commands
# above again.";
    const FOR_THIS_CAMPAIGN: &str =
        "# This is your campaign's file, repmail.toml: repmail reads it from the
# current folder (elsewhere, pass --config PATH). Edit it and the files
# beside it, and run the three commands above again.";
    EXAMPLE_CONFIG
        .replace("repmail --config config.example.toml ", "repmail ")
        .replace(FOR_THE_EXAMPLE, FOR_THIS_CAMPAIGN)
}

/// Writes the example campaign into `dir` (created if needed) and returns
/// the files written. Refuses before writing anything if any would be
/// overwritten.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    init_with(dir, None)
}

/// Like [`init`], with the `[smtp]` and `[rate]` of the example campaign
/// set up for `provider`'s preset.
pub fn init_with(dir: &Path, provider: Option<&Provider>) -> Result<Vec<PathBuf>, InitError> {
    let mut config = campaign_file();
    if let Some(p) = provider {
        config = with_provider(&config, p);
    }
    let targets: Vec<(PathBuf, &str)> = std::iter::once((CAMPAIGN_FILE, config.as_str()))
        .chain(EXAMPLE)
        .map(|(p, c)| (dir.join(p), c))
        .collect();
    if let Some((p, _)) = targets.iter().find(|(p, _)| p.exists()) {
        return Err(InitError::Exists(p.clone()));
    }
    write_all(targets)
}

/// Writes a campaign for a fetched roster into `dir`: the example
/// campaign file with `[contacts]` pointing at `contacts/<contacts_file>`
/// (`roster = "<source>"`), and the example letter addressed through the
/// roster's columns. The roster file itself is the caller's to write.
/// Refuses before writing anything if any file, the roster's included,
/// would be overwritten.
pub fn init_for_roster(
    dir: &Path,
    provider: Option<&Provider>,
    source: &str,
    contacts_file: &str,
) -> Result<Vec<PathBuf>, InitError> {
    let mut config = for_roster(&campaign_file(), source, contacts_file);
    if let Some(p) = provider {
        config = with_provider(&config, p);
    }
    let letter = roster_letter(EXAMPLE[0].1);
    // The example's follow-up greets as the letter does.
    let followup = roster_letter(EXAMPLE[1].1);
    let targets = [
        (dir.join(CAMPAIGN_FILE), config.as_str()),
        (dir.join(EXAMPLE[0].0), letter.as_str()),
        (dir.join(EXAMPLE[1].0), followup.as_str()),
    ];
    let roster = dir.join("contacts").join(contacts_file);
    if let Some(p) = targets
        .iter()
        .map(|(p, _)| p)
        .chain([&roster])
        .find(|p| p.exists())
    {
        return Err(InitError::Exists(p.clone()));
    }
    write_all(targets)
}

/// The roster's file in a campaign made by [`init_for_roster`].
pub fn roster_path(dir: &Path, contacts_file: &str) -> PathBuf {
    dir.join("contacts").join(contacts_file)
}

/// The example campaign file over a roster: every roster has `name`,
/// `salutation` ("Senator Smith" or the name) and `email`, not the
/// example contacts' `first_name`/`last_name`.
fn for_roster(example: &str, source: &str, contacts_file: &str) -> String {
    example
        .replace(
            "path = \"contacts/representatives.csv\"",
            &format!("path = \"contacts/{contacts_file}\""),
        )
        .replace(
            "\nemail_column = \"email\"\n",
            &format!("\nemail_column = \"email\"\nroster = \"{source}\"\n"),
        )
        .replace(
            "name = \"{{ first_name }} {{ last_name }}\"",
            "name = \"{{ name }}\"",
        )
        .replace("{{ title }} {{ last_name }}", "{{ salutation }}")
}

/// The example letter over a roster's columns (see [`for_roster`]).
fn roster_letter(example: &str) -> String {
    example
        .replace(
            "Dear {{ title }} <bdi>{{ last_name }}</bdi>,",
            "Dear <bdi>{{ salutation }}</bdi>,",
        )
        .replace(
            " representing\nthe people of {{ state }}{% if district %} in District {{ district }}{% endif %}, you have",
            "{% if district %}\n({{ district }}){% endif %}, you have",
        )
}

/// The example config with `provider = "NAME"` instead of host, port and
/// security, and the preset's pace written out (so the user sees it and
/// can lower it).
pub fn with_provider(example: &str, p: &Provider) -> String {
    let mut out = String::with_capacity(example.len() + 512);
    // Only the [smtp] section's lines are the preset's to rewrite: other
    // sections (e.g. [inbox]) have lines that look the same.
    let mut section = "";
    for line in example.lines() {
        if line.starts_with('[') {
            section = line;
        }
        if section == "[inbox]" {
            // A provider with a mailbox fills [inbox] itself: the example's
            // own server would override it (the newcomer's walk found
            // `init --provider gmail` reading imap.example.org).
            match (p.imap, line) {
                (Some(imap), "host = \"imap.example.org\"") => {
                    out.push_str(&format!("# host = \"{}\"\n", imap.host))
                }
                (Some(imap), "port = 993") => out.push_str(&format!("# port = {}\n", imap.port)),
                (Some(imap), "security = \"tls\"") => {
                    out.push_str(&format!("# security = \"{}\"\n", imap.security.as_str()))
                }
                (Some(_), "username = \"letters@example.org\"") => {
                    out.push_str("# username = \"letters@example.org\"\n")
                }
                _ => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            continue;
        }
        if section != "[smtp]" && section != "[rate]" {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        match line {
            "host = \"smtp.example.org\"" => {
                out.push_str(&format!(
                    "# The preset `{}` fills host, port, security and auth; a key written\n# below wins over it. Sign in with {}.\nprovider = \"{}\"\n",
                    p.name, p.sign_in, p.name
                ));
                match p.host {
                    Host::Fixed(h) => out.push_str(&format!("# host = \"{h}\"\n")),
                    Host::Regional(_) => {
                        out.push_str("# region: the provider's region (its host is made from it).\nregion = \"us-east-1\"\n")
                    }
                }
            }
            "port = 587" => out.push_str(&format!("# port = {}\n", p.port)),
            "security = \"starttls\"" => {
                out.push_str(&format!("# security = \"{}\"\n", p.security.as_str()))
            }
            "username = \"letters@example.org\"" => {
                out.push_str(line);
                out.push('\n');
                if p.auth == AuthMethod::Oauth2 {
                    out.push_str("\n# This provider signs in with OAuth2: token_command prints a current\n# access token (see the README, \"Signing in with OAuth2\").\nauth = \"oauth2\"\ntoken_command = \"oama access letters@example.org\"\n");
                }
            }
            "per_minute = 20" => out.push_str(&format!("per_minute = {}\n", p.per_minute)),
            "daily_cap = 450" => match p.daily_cap {
                Some(c) => out.push_str(&format!("daily_cap = {c}\n")),
                None => out.push_str("# daily_cap = 450\n"),
            },
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Writes each file with its folders; returns their paths.
fn write_all<'a>(
    targets: impl IntoIterator<Item = (PathBuf, &'a str)>,
) -> Result<Vec<PathBuf>, InitError> {
    let targets: Vec<_> = targets.into_iter().collect();
    for (path, contents) in &targets {
        let io = |source| InitError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(path, contents).map_err(io)?;
    }
    Ok(targets.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_scaffolds_a_campaign_that_loads() {
        for p in crate::providers::PROVIDERS {
            let text = with_provider(&campaign_file(), p);
            assert!(
                text.contains(&format!("provider = \"{}\"", p.name)),
                "{}",
                p.name
            );
            let c = crate::config::Campaign::parse(Path::new("/c/repmail.toml"), &text)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            let smtp = c.smtp.unwrap();
            assert_eq!(smtp.provider.map(|q| q.name), Some(p.name));
            assert_eq!(smtp.port, p.port, "{}", p.name);
            assert_eq!(smtp.auth, p.auth, "{}", p.name);
            assert_eq!(c.rate.per_minute, p.per_minute, "{}", p.name);
            assert_eq!(c.rate.daily_cap, p.daily_cap, "{}", p.name);
            // The provider's mailbox, not the example's server.
            if let Some(imap) = p.imap {
                let inbox = c.inbox.as_ref().expect(p.name);
                assert_eq!(
                    (inbox.host.as_str(), inbox.port, inbox.security),
                    (imap.host, imap.port, imap.security),
                    "{}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn a_roster_campaign_reads_only_roster_columns() {
        let text = for_roster(&campaign_file(), "openstates/il", "openstates-il.csv");
        let c = crate::config::Campaign::parse(Path::new("/c/repmail.toml"), &text).unwrap();
        assert_eq!(c.contacts.path, Path::new("/c/contacts/openstates-il.csv"));
        assert_eq!(
            c.contacts.roster.map(|s| s.name()).as_deref(),
            Some("openstates/il")
        );
        let letter = roster_letter(EXAMPLE[0].1);
        // Columns a roster does not have: each rewrite above must match.
        for gone in ["last_name", "first_name", "state }}"] {
            assert!(
                !text
                    .lines()
                    .any(|l| !l.starts_with('#') && l.contains(gone)),
                "{gone}"
            );
            assert!(!letter.contains(gone), "{gone} in the letter");
            assert!(
                !roster_letter(EXAMPLE[1].1).contains(gone),
                "{gone} in the follow-up"
            );
        }
        assert!(letter.contains("{{ salutation }}"));
        assert!(
            letter.contains("member of the {{ chamber }}{% if district %}\n({{ district }}){% endif %}, you have"),
            "{letter}"
        );
    }

    #[test]
    fn the_campaign_file_speaks_of_itself() {
        let text = campaign_file();
        assert!(
            !text.contains("config.example"),
            "a line of config.example.toml names itself; teach campaign_file() to rewrite it"
        );
        assert!(text.contains("#   repmail check "), "{text}");
        assert!(text.contains("This is your campaign's file, repmail.toml"));
        // Only comments change: the same campaign.
        let path = Path::new("/c/repmail.toml");
        let a = crate::config::Campaign::parse(path, &text).unwrap();
        let b = crate::config::Campaign::parse(path, EXAMPLE_CONFIG).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }
}
