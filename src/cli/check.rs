//! `repmail check`: every problem at once, nothing sent.

use std::path::Path;

use repmail::config::Campaign;
use repmail::credentials::Readiness;
use repmail::diag::Diagnostic;
use repmail::plan::{Item, Selection};

use super::report::{prepare, Problems};
use super::{Exit, Output};

pub fn run(config: &Path, strict: bool, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    let prepared = prepare(&campaign, out)?;
    let mut problems = Problems::default();
    let mut ready = 0usize;
    for item in prepared.letters(Selection::default()) {
        match item {
            Item::Letter(..) => ready += 1,
            Item::Problem(d) => problems.add(d),
        }
    }
    if let Some(smtp) = &campaign.smtp {
        let place = campaign.path.display().to_string();
        for d in repmail::providers::warnings(smtp, &campaign.rate, &place) {
            problems.add(d);
        }
        match super::signin::describe(smtp) {
            Some(Readiness::Ready(how)) if !out.quiet => {
                say!(
                    "sign-in: {} for {}, {how}",
                    smtp.auth.as_str(),
                    smtp.username.as_deref().unwrap_or("")
                )
            }
            // Often checked before the password is set: a note, not a
            // warning that `--strict` would fail on.
            Some(Readiness::NotNow(why)) if !out.quiet => say!("sign-in: not ready now: {why}"),
            Some(Readiness::Missing(why)) => {
                problems.add(Diagnostic::warning(&place, format!("sign-in: {why}")))
            }
            _ => {}
        }
    }
    problems.print(out.quiet);
    if ready == 0 && problems.errors == 0 {
        eprintln!(
            "error: {}: no recipients with an address; add rows to the contacts file",
            campaign.contacts.path.display()
        );
        return Ok(Exit::Error);
    }
    let summary = format!(
        "{ready} letter{} ready, {} error{}, {} warning{}",
        plural(ready),
        problems.errors,
        plural(problems.errors),
        problems.warnings,
        plural(problems.warnings)
    );
    if problems.errors > 0 || (strict && problems.warnings > 0) {
        let what = if problems.errors > 0 {
            "errors"
        } else {
            "warnings (--strict)"
        };
        eprintln!("{summary}: fix the {what} above, then run check again");
        Ok(Exit::Error)
    } else {
        if !out.quiet {
            say!("{summary}");
        }
        Ok(Exit::Ok)
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
