//! `repmail forms`: the kit for the offices that take only a web form.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Args;
use repmail::config::Campaign;
use repmail::forms::{write_html, Kit};
use repmail::outfile;

use super::check::plural;
use super::report::ProblemGroups;
use super::{Exit, Output};

#[derive(Debug, Args)]
pub struct FormsArgs {
    /// Write the kit to FILE: each form-only office's form as a link, with
    /// its personalised subject and letter ready to copy, then the
    /// unreachable offices. Without it, list the offices.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

pub fn run(config: &Path, args: &FormsArgs, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
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
                    "wrote the forms kit to {}: {forms} office{} to reach by contact form, {unreachable} unreachable",
                    path.display(),
                    plural(forms)
                );
            }
        }
        None if !out.quiet => {
            for f in &kit.forms {
                say!("line {:>5}  {}  {}", f.line, f.name, f.form);
            }
            for u in &kit.unreachable {
                say!(
                    "line {:>5}  {}  (unreachable: no address, no form)",
                    u.line,
                    u.name
                );
            }
            say!(
                "{forms} office{} to reach by contact form, {unreachable} unreachable; `repmail forms --html FILE` writes their letters",
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
