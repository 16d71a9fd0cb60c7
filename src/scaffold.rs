//! `init`: a new campaign folder from the embedded example campaign.

use std::path::{Path, PathBuf};

/// The example campaign, as shipped in the repository: (path in the new
/// folder, contents). The config becomes `repmail.toml`, the name `repmail`
/// looks for by default.
pub const EXAMPLE: [(&str, &str); 3] = [
    ("repmail.toml", include_str!("../config.example.toml")),
    (
        "templates/letter.md.tera",
        include_str!("../templates/letter.md.tera"),
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
    let targets: Vec<(PathBuf, &str)> = EXAMPLE.iter().map(|(p, c)| (dir.join(p), *c)).collect();
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
