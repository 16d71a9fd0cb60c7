//! `init`: a new campaign folder from the embedded example campaign.

use std::path::{Path, PathBuf};

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
    let config = campaign_file();
    let targets: Vec<(PathBuf, &str)> = std::iter::once((CAMPAIGN_FILE, config.as_str()))
        .chain(EXAMPLE)
        .map(|(p, c)| (dir.join(p), c))
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

#[cfg(test)]
mod tests {
    use super::*;

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
