//! `repmail init [DIR]`.

use std::path::Path;

use super::{Exit, Output};

pub fn run(dir: &Path, provider: Option<&str>, out: Output) -> anyhow::Result<Exit> {
    let preset = provider
        .map(repmail::providers::find)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--provider: {e}"))?;
    let written = repmail::scaffold::init_with(dir, preset)?;
    if !out.quiet {
        for p in &written {
            say!("created {}", p.display());
        }
        let config = dir.join("repmail.toml");
        say!("");
        say!(
            "Next: edit {} and the files beside it, then run",
            config.display()
        );
        say!("  repmail --config {} check", config.display());
    }
    Ok(Exit::Ok)
}
