//! `repmail init [DIR]`.

use std::path::Path;

use super::{Exit, Output};

pub fn run(dir: &Path, out: Output) -> anyhow::Result<Exit> {
    let written = repmail::scaffold::init(dir)?;
    if !out.quiet {
        for p in &written {
            say!("created {}", p.display());
        }
        let config = dir.join("repmail.toml");
        say!(
            "\nNext: edit {} and the files beside it, then run\n  repmail --config {} check",
            config.display(),
            config.display()
        );
    }
    Ok(Exit::Ok)
}
