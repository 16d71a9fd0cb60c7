//! `repmail init [DIR] [--provider NAME] [--roster SOURCE [--url BASE]]`.

use std::path::Path;

use repmail::roster::{file, Publisher};
use repmail::scaffold;

use super::{Exit, Output};

/// `roster`: the source and `--url`, for a campaign over a fresh roster.
pub fn run(
    dir: &Path,
    provider: Option<&str>,
    roster: Option<(&str, Option<&str>)>,
    out: Output,
) -> anyhow::Result<Exit> {
    let preset = provider
        .map(repmail::providers::find)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--provider: {e}"))?;
    let written = match roster {
        None => scaffold::init_with(dir, preset)?,
        Some((name, url)) => {
            let source = Publisher::parse(name)?;
            let file_name = source.file_name();
            let contacts = scaffold::roster_path(dir, &file_name);
            // Refuse before the network: a folder already in use would
            // waste the fetch (init_for_roster checks again).
            if let Some(p) = [dir.join(scaffold::CAMPAIGN_FILE), contacts.clone()]
                .into_iter()
                .find(|p| p.exists())
            {
                return Err(scaffold::InitError::Exists(p).into());
            }
            // Fetched first: a failed fetch leaves no half campaign.
            let fetched = super::roster::fetch(&source, url, out)?;
            let mut written = scaffold::init_for_roster(dir, preset, &fetched.source, &file_name)?;
            file::write(&contacts, &fetched, chrono::Utc::now())?;
            if !out.quiet {
                say!("fetched {}", super::roster::counts(&fetched));
            }
            written.push(contacts);
            written
        }
    };
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
        say!("  {}", super::hint::command(&config, "check"));
    }
    Ok(Exit::Ok)
}
