//! `repmail forms`: the kit for the offices that take only a web form, and
//! `forms --done`, which records those reached in the delivery log.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Args;
use repmail::config::Campaign;
use repmail::forms::{mark_done, write_html, DoneError, Kit};
use repmail::outfile;

use super::check::plural;
use super::report::ProblemGroups;
use super::{Exit, Output};

#[derive(Debug, Args)]
#[command(after_help = "\
Working through the forms: write the kit (--html FILE), open each office's
form, paste its subject and letter, send it; then record it for everyone:
`repmail forms --done 12` (its contacts line) or `--done URL` (its form).
Recorded offices count as reached (`form_sent`) in `repmail log`, the HTML
report and the next kit. Marking one twice changes nothing; a KEY that
names no office without an address records nothing and exits 1.")]
pub struct FormsArgs {
    /// Write the kit to FILE: each form-only office's form as a link, with
    /// its personalised subject and letter ready to copy (offices already
    /// recorded as reached are marked done), then the unreachable offices.
    /// Without it, list the offices with their contacts line.
    #[arg(long, value_name = "FILE", conflicts_with = "done")]
    pub html: Option<PathBuf>,
    /// Record these offices as reached by their contact form (status
    /// `form_sent` in the delivery log). KEY: the office's line in the
    /// contacts file, or its form's address as the file gives it
    #[arg(long, value_name = "KEY", num_args = 1..)]
    pub done: Vec<String>,
}

pub fn run(config: &Path, args: &FormsArgs, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    if !args.done.is_empty() {
        return done(&campaign, &args.done, out);
    }
    let kit = Kit::build(&campaign).or_else(|repmail::problem::Problems(found)| {
        let mut problems = ProblemGroups::default();
        for d in found {
            problems.add(d);
        }
        problems.print(out.quiet);
        bail!("the campaign cannot be used: fix the problems above, then run again")
    })?;
    if kit.has_errors() {
        let mut problems = ProblemGroups::default();
        for d in kit.problems.iter().cloned() {
            problems.add(d);
        }
        problems.print(out.quiet);
        bail!("the kit would be incomplete: fix the errors above (`repmail check` lists them too), then run again");
    }
    let (forms, unreachable) = (kit.forms.len(), kit.unreachable.len());
    // Said only once there is one: a kit before any is recorded is the
    // usual case, and "0 recorded" would be noise there.
    let done = match kit.done() {
        0 => String::new(),
        n => format!(" ({n} recorded as reached)"),
    };
    match &args.html {
        Some(path) => {
            let own = [
                &campaign.contacts.path,
                &campaign.path,
                &campaign.campaign.log,
            ];
            if outfile::is_one_of(path, &own).is_some() {
                bail!(
                    "{} is the campaign's contacts, campaign or log file; choose another file name",
                    path.display()
                );
            }
            let file = outfile::create_fresh(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = BufWriter::new(file);
            write_html(&kit, &mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
            if !out.quiet {
                say!(
                    "wrote the forms kit to {}: {forms} office{} to reach by contact form{done}, {unreachable} unreachable",
                    path.display(),
                    plural(forms)
                );
            }
        }
        None if !out.quiet => {
            for f in &kit.forms {
                match &f.done {
                    Some(when) => say!(
                        "line {:>5}  {}  {}  (done: recorded {when})",
                        f.line,
                        f.name,
                        f.form
                    ),
                    None => say!("line {:>5}  {}  {}", f.line, f.name, f.form),
                }
            }
            for u in &kit.unreachable {
                say!(
                    "line {:>5}  {}  (unreachable: no address, no form)",
                    u.line,
                    u.name
                );
            }
            say!(
                "{forms} office{} to reach by contact form{done}, {unreachable} unreachable; `repmail forms --html FILE` writes their letters, `repmail forms --done LINE` records one as reached",
                plural(forms)
            );
        }
        None => {}
    }
    if forms == 0 && unreachable == 0 && !out.quiet {
        say_err!(
            "note: every contact has an address ({} letter{} go by email); no office needs a form",
            kit.emailed,
            plural(kit.emailed)
        );
    }
    Ok(Exit::Ok)
}

/// `forms --done KEY…`: records the offices, or says why none was.
fn done(campaign: &Campaign, keys: &[String], out: Output) -> anyhow::Result<Exit> {
    let reached = match mark_done(campaign, keys) {
        Ok(reached) => reached,
        Err(DoneError::Keys(problems)) => {
            for p in &problems {
                say_err!("error: {p}");
            }
            bail!(
                "nothing recorded: {} KEY{} name{} no office to reach by its form",
                problems.len(),
                plural(problems.len()),
                if problems.len() == 1 { "s" } else { "" }
            );
        }
        Err(e) => return Err(e.into()),
    };
    let log = campaign.campaign.log.display();
    let mut fresh = 0;
    for r in &reached {
        match r.before {
            None => {
                fresh += 1;
                if !out.quiet {
                    say!("recorded line {}  {}  {}", r.line, r.name, r.form);
                }
            }
            Some(when) if !out.quiet => say!(
                "already recorded line {}  {}  (on {}): nothing written",
                r.line,
                r.name,
                when.format("%Y-%m-%d %H:%M UTC")
            ),
            Some(_) => {}
        }
    }
    if !out.quiet {
        say!(
            "{fresh} office{} recorded as reached by contact form in {log}",
            plural(fresh)
        );
    }
    Ok(Exit::Ok)
}
