//! The review walked from the files (issue 23): the current view as a
//! table, CSV or JSON, and `--export`, without holding the log, the
//! contacts or the rows.

use std::path::Path;

use anyhow::{bail, Context as _};
use chrono::Utc;
use repmail::config::Campaign;
use repmail::review::{ContactSource, ExportFormat, Exported, Filter, Standing, Walk};

use super::{
    about, notes, print, said_export, same_campaign, stages, write_file, Facts, LogArgs, StatusArg,
    DEFAULT_FORMAT,
};
use crate::cli::{Exit, Output};

/// The default review (the current view as a table, CSV or JSON), walked
/// from the files rather than held: its memory does not grow with the
/// rows (issue 23). Says and refuses what the held review does.
pub(super) fn walk(
    log: &Path,
    campaign: Option<&Campaign>,
    needs_contacts: bool,
    filter: &Filter,
    args: &LogArgs,
    out: Output,
) -> anyhow::Result<Exit> {
    let mut walk = Walk::read(log)?;
    let first = walk.first_campaign().map(str::to_string);
    let campaign = campaign.filter(|c| same_campaign(c, first.as_deref(), args, out));
    if needs_contacts && campaign.is_none() {
        bail!(
            "--export and --status never, form or unreachable need the campaign's \
             contacts: pass the campaign file with --config PATH"
        );
    }
    if let Some(c) = campaign {
        match ContactSource::of(c) {
            Ok(source) => walk.join(source),
            Err(d) if needs_contacts => bail!("{d}"),
            Err(d) => say_err!("warning: {d}; reviewing the log alone"),
        }
    }
    let about = about(log, first.as_deref(), walk.torn_tail(), campaign);
    let cannot = "cannot read the contacts or the delivery log";
    let (Some(path), Some(c)) = (&args.export, campaign) else {
        let report = walk.review(filter, about).context(cannot)?;
        notes(log, facts(&walk), campaign, out);
        let format = args.format.unwrap_or(DEFAULT_FORMAT);
        let exit = print(&report, &walk, format)?;
        stages(campaign, format, args, out)?;
        return Ok(exit);
    };
    walk.review(&follow_up(filter), about).context(cannot)?;
    notes(log, facts(&walk), Some(c), out);
    let protected = [log.to_path_buf(), c.contacts.path.clone()];
    let mut exported = Exported::default();
    write_file(path, &protected, |w| {
        exported = walk.export(ExportFormat::of(&c.contacts), w)?;
        Ok(())
    })?;
    let Exported {
        written,
        missing,
        statuses,
    } = exported;
    said_export(
        path,
        written,
        missing,
        &statuses.into_iter().collect::<Vec<_>>(),
        out,
    );
    Ok(Exit::Ok)
}

fn facts(walk: &Walk) -> Facts {
    Facts {
        torn_tail: walk.torn_tail(),
        empty: walk.log_is_empty(),
        skipped: walk.skipped(),
    }
}

/// An export's selection: as given, else everyone not certainly reached.
pub(super) fn follow_up(filter: &Filter) -> Filter {
    Filter {
        statuses: if filter.statuses.is_empty()
            && filter.answers.is_empty()
            && filter.unanswered_before.is_none()
        {
            Standing::FOLLOW_UP.to_vec()
        } else {
            filter.statuses.clone()
        },
        ..filter.clone()
    }
}

/// What `--status`, `--recipient`, `--since` and `--unanswered` select.
pub(super) fn filter(args: &LogArgs) -> Filter {
    Filter {
        statuses: args
            .status
            .iter()
            .filter_map(|s| match s {
                StatusArg::Standing(o) => Some(*o),
                StatusArg::Answer(_) => None,
            })
            .collect(),
        answers: args
            .status
            .iter()
            .filter_map(|s| match s {
                StatusArg::Answer(a) => Some(*a),
                StatusArg::Standing(_) => None,
            })
            .collect(),
        recipients: args.recipient.clone(),
        since: args.since,
        unanswered_before: args
            .unanswered
            .map(|days| Utc::now() - chrono::Duration::days(i64::from(days))),
    }
}
