//! `repmail check`: every problem at once, nothing sent.

use std::collections::BTreeMap;
use std::path::Path;

use repmail::config::Campaign;
use repmail::credentials::Readiness;
use repmail::plan::{Item, Selection};
use repmail::problem::Diagnostic;

use super::report::{prepare_all, ProblemGroups};
use super::{Exit, Output};

pub fn run(config: &Path, strict: bool, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    // The follow-ups' undefined variables join the first letter's, so
    // that one `check` lists them all.
    let prepared = prepare_all(&campaign, out)?;
    let form_only = prepared.contacts.columns().email.is_none();
    let mut problems = ProblemGroups::default();
    let (mut ready, mut forms, mut unreachable) = (0usize, 0usize, 0usize);
    // Letters per variant (`None`: the default) and unknown values with
    // their count, for a campaign with `variant_by`.
    let mut variants: BTreeMap<Option<String>, usize> = BTreeMap::new();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for item in prepared.letters(Selection::default()) {
        match item {
            Item::Letter(_, letter) => {
                ready += 1;
                let letter = *letter;
                *variants.entry(letter.variant).or_default() += 1;
                if let Some(value) = letter.unknown_variant {
                    *unknown.entry(value).or_default() += 1;
                }
                for w in letter.warnings {
                    problems.add(w);
                }
            }
            Item::Office(o) => {
                if o.form.is_some() {
                    forms += 1;
                } else {
                    unreachable += 1;
                }
                if let Some(d) = o.warning {
                    problems.add(d);
                }
            }
            Item::Problem(d) => problems.add(d),
        }
    }
    // Each follow-up's letter too: a typo in it shows today, not in ten
    // days when the stage falls due.
    for d in repmail::plan::followup::check_stages(&campaign) {
        problems.add(d);
    }
    for d in campaign.provider_warnings() {
        problems.add(d);
    }
    if let Some(smtp) = &campaign.smtp {
        let place = campaign.path.display().to_string();
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
    if let Some(inbox) = &campaign.inbox {
        let place = campaign.path.display().to_string();
        let who = inbox.username.as_deref().unwrap_or("");
        match super::signin::describe_inbox(inbox) {
            Readiness::Ready(how) if !out.quiet => say!(
                "inbox sign-in: {} for {who} at {}:{}, {how}",
                inbox.auth.as_str(),
                inbox.host,
                inbox.port
            ),
            Readiness::NotNow(why) if !out.quiet => say!("inbox sign-in: not ready now: {why}"),
            Readiness::Missing(why) => {
                problems.add(Diagnostic::warning(&place, format!("inbox sign-in: {why}")))
            }
            _ => {}
        }
    }
    if !out.quiet {
        let d = repmail::sent::decide(
            &campaign.sent,
            campaign.smtp.as_ref(),
            campaign.inbox.as_ref(),
        );
        say!("sent copy: {}", d.describe());
    }
    if let Some(source) = &campaign.contacts.roster {
        let path = &campaign.contacts.path;
        let now = chrono::Utc::now();
        if let Some(d) = repmail::roster::file::staleness(path, &source.name(), now) {
            problems.add(d);
        }
    }
    problems.print(out.quiet);
    if let (Some(column), false) = (&campaign.campaign.variant_by, out.quiet) {
        say!("letters by `{column}`:");
        for (value, n) in &variants {
            match value {
                Some(v) => say!("  {v:<12} {n}"),
                None => say!("  {:<12} {n}", "(default)"),
            }
        }
        // Variants nobody got are listed too: a typo in a table name
        // shows as 0 here and as an unknown value below.
        for v in campaign.variants.keys() {
            if !variants.contains_key(&Some(v.to_string())) {
                say!("  {v:<12} 0");
            }
        }
        if !unknown.is_empty() {
            let list: Vec<String> = unknown
                .iter()
                .map(|(v, n)| format!("`{v}` ({n})"))
                .collect();
            say!(
                "  values with no [variant.*] table (they got the default letter): {}",
                list.join(", ")
            );
        }
    }
    if ready == 0 && forms == 0 && problems.errors == 0 {
        say_err!(
            "error: {}: no recipients with an address or a contact form; add rows to the contacts file",
            campaign.contacts.path.display()
        );
        return Ok(Exit::Error);
    }
    if form_only && !out.quiet {
        say_err!(
            "note: {} has no `{}` column, only contact forms: no email is sent; `repmail forms --html FILE` writes each office's letter for its form",
            campaign.contacts.path.display(),
            campaign.contacts.email_column
        );
    }
    let mut offices = String::new();
    if forms > 0 {
        offices.push_str(&format!(
            ", {forms} office{} to reach by contact form",
            plural(forms)
        ));
    }
    if unreachable > 0 {
        offices.push_str(&format!(
            ", {unreachable} office{} unreachable (no address, no form)",
            plural(unreachable)
        ));
    }
    let summary = format!(
        "{ready} letter{} ready{offices}, {} error{}, {} warning{}",
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
        say_err!("{summary}: fix the {what} above, then run check again");
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
