//! How problems reach the terminal: one place, so every command reports
//! the same way.

use std::collections::HashMap;

use repmail::config::Campaign;
use repmail::plan::{self, Prepared};
use repmail::problem::Diagnostic;

use super::Output;

/// Prints an error with its whole chain (tera and lettre hide the useful
/// part in the source).
///
/// An error's text may span lines (a list of problems, a server's reply of
/// several lines): each line after the first is indented under it, so no
/// text from outside starts a line of its own.
pub fn error(e: &anyhow::Error) {
    for (i, cause) in e.chain().enumerate() {
        let cause = cause.to_string();
        let mut lines = cause.split('\n');
        let first = lines.next().unwrap_or_default();
        if i == 0 {
            say_err!("error: {first}");
        } else {
            say_err!("  caused by: {first}");
        }
        for more in lines {
            say_err!("    {more}");
        }
    }
}

/// Opens the contacts and compiles the templates; if that fails, prints
/// every problem (grouped) and says so once.
pub fn prepare(campaign: &Campaign, out: Output) -> anyhow::Result<Prepared> {
    prepared_or_said(campaign, Vec::new, out)
}

/// [`prepare`] for `check`: when the first letter cannot be used, the
/// follow-ups' undefined variables are listed with its problems, so that
/// one `check` names every typo of every template.
pub fn prepare_all(campaign: &Campaign, out: Output) -> anyhow::Result<Prepared> {
    prepared_or_said(
        campaign,
        || plan::followup::undefined_in_stages(campaign),
        out,
    )
}

fn prepared_or_said(
    campaign: &Campaign,
    more: impl FnOnce() -> Vec<repmail::problem::Diagnostic>,
    out: Output,
) -> anyhow::Result<Prepared> {
    plan::prepare(campaign).or_else(|repmail::problem::Problems(found)| {
        let mut problems = ProblemGroups::default();
        for d in found.into_iter().chain(more()) {
            problems.add(d);
        }
        problems.print(out.quiet);
        anyhow::bail!("the campaign cannot be used: fix the problems above, then run again")
    })
}

/// Collects problems and prints them grouped: the same template error on
/// 300 rows is one message with the list of lines, not 300 messages.
#[derive(Default)]
pub struct ProblemGroups {
    order: Vec<String>,
    /// Each message's first diagnostic, the next few places and how many
    /// more: a problem on a million rows keeps five places, not a million.
    by_message: HashMap<String, (Diagnostic, Vec<String>, usize)>,
    pub errors: usize,
    pub warnings: usize,
}

/// How many places to list before "and N more".
const PLACES_SHOWN: usize = 5;

impl ProblemGroups {
    pub fn add(&mut self, d: Diagnostic) {
        if d.is_error() {
            self.errors += 1;
        } else {
            self.warnings += 1;
        }
        let key = format!("{:?}{}", d.severity, d.message);
        match self.by_message.get_mut(&key) {
            Some((_, places, more)) if places.len() >= PLACES_SHOWN => *more += 1,
            Some((_, places, _)) => places.push(d.place),
            None => {
                self.order.push(key.clone());
                self.by_message.insert(key, (d, Vec::new(), 0));
            }
        }
    }

    /// Prints to stderr; warnings are left out when `quiet`.
    pub fn print(&self, quiet: bool) {
        for key in &self.order {
            let (first, more, rest) = &self.by_message[key];
            if quiet && !first.is_error() {
                continue;
            }
            say_err!("{first}");
            if !more.is_empty() {
                let shown: Vec<&str> = more.iter().map(String::as_str).collect();
                let tail = if *rest > 0 {
                    format!(" and {rest} more")
                } else {
                    String::new()
                };
                say_err!("  (the same at {}{tail})", shown.join(", "));
            }
        }
    }
}
