//! `log --export FILE` and `log --html FILE`: a file written beside the
//! campaign, never over the files a review reads.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use repmail::outfile;
use repmail::review::{ContactList, ExportFormat, Exported, Review};

use crate::cli::check::plural;
use crate::cli::Output;

/// The follow-up list from a held review, and what it wrote.
pub(super) fn export(
    path: &Path,
    report: &Review,
    list: &ContactList,
    format: ExportFormat,
    protected: &[PathBuf],
    out: Output,
) -> anyhow::Result<()> {
    let mut exported = Exported::default();
    write_file(path, protected, |w| {
        exported = report.export(list, format, w)?;
        Ok(())
    })?;
    let statuses: Vec<&str> = exported.statuses.into_iter().collect();
    let (written, missing) = (exported.written, exported.missing);
    said_export(path, written, missing, &statuses, out);
    Ok(())
}

/// What an export wrote, and who it could not.
pub(super) fn said_export(
    path: &Path,
    written: usize,
    missing: usize,
    statuses: &[&str],
    out: Output,
) {
    if out.quiet {
        return;
    }
    say!(
        "wrote {written} recipient{} ({}) to {}",
        plural(written),
        if statuses.is_empty() {
            "none matched".to_string()
        } else {
            statuses.join(", ")
        },
        path.display()
    );
    if missing > 0 {
        say_err!(
            "note: {missing} selected recipient{} {} in the log but no longer in the contacts \
             file, so not in the export",
            plural(missing),
            if missing == 1 { "is" } else { "are" }
        );
    }
}

/// Creates `path` and fills it; refuses to overwrite the delivery log or
/// the contacts file (a review must never destroy what it reads).
pub(super) fn write_file(
    path: &Path,
    protected: &[PathBuf],
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    // By device and inode: a hard link to the log is the log too.
    if let Some(own) = outfile::is_one_of(path, protected) {
        bail!(
            "{} is the campaign's delivery log, contacts or campaign file ({}); choose another file name",
            path.display(),
            own.display()
        );
    }
    let file =
        outfile::create_fresh(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(file);
    fill(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}
