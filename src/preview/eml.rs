//! `preview --out DIR`: one RFC 5322 `.eml` file per letter, named after
//! its recipient.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Destination, PreviewError, Written};
use crate::contacts::Recipient;
use crate::outfile;
use crate::render::Rendered;

/// A folder of `.eml` files being written.
pub struct EmlFolder {
    dir: PathBuf,
    /// File names given so far: two addresses that make the same name get
    /// `-2`, `-3`…
    names: HashSet<String>,
    files: usize,
}

impl EmlFolder {
    /// Creates `dir` (and its parents) if need be.
    pub fn create(dir: &Path) -> Result<EmlFolder, PreviewError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            PreviewError::new(
                format!("cannot create the output folder {}", dir.display()),
                e,
            )
        })?;
        Ok(EmlFolder {
            dir: dir.to_path_buf(),
            names: HashSet::new(),
            files: 0,
        })
    }
}

impl Destination for EmlFolder {
    fn add(&mut self, recipient: &Recipient, letter: &Rendered) -> Result<(), PreviewError> {
        let path = eml_path(&self.dir, recipient.email.as_ref(), &mut self.names);
        // Replaced, never written through: a link planted in DIR under a
        // letter's name must not aim the letter elsewhere.
        outfile::write_fresh(&path, &letter.message.formatted())
            .map_err(|e| PreviewError::new(format!("cannot write {}", path.display()), e))?;
        self.files += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Written, PreviewError> {
        Ok(Written::Eml {
            files: self.files,
            dir: self.dir,
        })
    }
}

/// `Jane.Doe@Example.org` → `jane.doe@example.org.eml`: only characters
/// that are safe in a file name on every system, never a path separator or
/// a leading dot, so no address can write outside `dir`.
fn eml_path(dir: &Path, email: &str, used: &mut HashSet<String>) -> PathBuf {
    let mut stem: String = email
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+') {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    stem = stem.trim_start_matches('.').to_string();
    if stem.is_empty() {
        stem = "recipient".into();
    }
    let mut name = format!("{stem}.eml");
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{stem}-{n}.eml");
        n += 1;
    }
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_names_stay_inside_dir() {
        let mut used = HashSet::new();
        let dir = Path::new("out");
        for email in [
            "../../etc/passwd@x.test",
            "/abs@x.test",
            "..@x.test",
            "a\\b@x.test",
            "ü@x.test",
        ] {
            let p = eml_path(dir, email, &mut used);
            assert_eq!(p.parent(), Some(dir), "{email} → {}", p.display());
            let name = p.file_name().unwrap().to_str().unwrap();
            assert!(
                !name.starts_with('.') && !name.contains('/') && !name.contains('\\'),
                "{name}"
            );
        }
        let a = eml_path(dir, "A@x.test", &mut used);
        let b = eml_path(dir, "a@x.test", &mut used);
        assert_ne!(a, b);
    }
}
