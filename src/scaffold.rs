//! `init`: a new campaign folder from the embedded example campaign.

use std::path::{Path, PathBuf};

use crate::credentials::AuthMethod;
use crate::providers::{Host, Provider};

/// The example campaign, as shipped in the repository: (path in the new
/// folder, contents). The config becomes `repmail.toml`, the name `repmail`
/// looks for by default.
pub const EXAMPLE: [(&str, &str); 4] = [
    ("repmail.toml", include_str!("../config.example.toml")),
    (
        "templates/letter.txt.tera",
        include_str!("../templates/letter.txt.tera"),
    ),
    (
        "templates/letter.html.tera",
        include_str!("../templates/letter.html.tera"),
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

/// Writes the example campaign into `dir` (created if needed) and returns
/// the files written. Refuses before writing anything if any would be
/// overwritten.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    init_with(dir, None)
}

/// Like [`init`], with the `[smtp]` and `[rate]` of the example campaign
/// set up for `provider`'s preset.
pub fn init_with(dir: &Path, provider: Option<&Provider>) -> Result<Vec<PathBuf>, InitError> {
    let config = provider.map(|p| with_provider(EXAMPLE[0].1, p));
    let targets: Vec<(PathBuf, &str)> = EXAMPLE
        .iter()
        .map(|(p, c)| {
            let c = match (&config, *p) {
                (Some(text), "repmail.toml") => text.as_str(),
                _ => c,
            };
            (dir.join(p), c)
        })
        .collect();
    if let Some((p, _)) = targets.iter().find(|(p, _)| p.exists()) {
        return Err(InitError::Exists(p.clone()));
    }
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

/// The example config with `provider = "NAME"` instead of host, port and
/// security, and the preset's pace written out (so the user sees it and
/// can lower it).
pub fn with_provider(example: &str, p: &Provider) -> String {
    let mut out = String::with_capacity(example.len() + 512);
    for line in example.lines() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_scaffolds_a_campaign_that_loads() {
        for p in crate::providers::PROVIDERS {
            let text = with_provider(EXAMPLE[0].1, p);
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
        }
    }
}
