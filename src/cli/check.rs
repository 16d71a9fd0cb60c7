//! `repmail check`: every problem at once, nothing sent.

use std::collections::BTreeMap;
use std::path::Path;

use repmail::config::Campaign;
use repmail::plan::{Item, Selection};

use super::report::{prepare, Problems};
use super::{Exit, Output};

pub fn run(config: &Path, strict: bool, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    let prepared = prepare(&campaign, out)?;
    let mut problems = Problems::default();
    let mut ready = 0usize;
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
            Item::Problem(d) => problems.add(d),
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
