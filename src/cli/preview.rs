//! `repmail preview`: the letters exactly as `send` would hand them to SMTP.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use repmail::config::Campaign;
use repmail::plan::{Item, Selection};
use repmail::render::Rendered;

use super::check::plural;
use super::report::{prepare, Problems};
use super::{Exit, Output, PreviewArgs};

pub fn run(config: &Path, args: &PreviewArgs, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    let prepared = prepare(&campaign, out)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    }
    let selection = Selection {
        recipients: args.recipient.clone(),
        limit: args.limit,
    };
    let mut problems = Problems::default();
    let mut names = HashSet::new();
    let mut shown = 0usize;
    let mut forms = 0usize;
    for item in prepared.letters(selection) {
        let (recipient, letter) = match item {
            Item::Letter(r, l) => (r, l),
            Item::Office(o) => {
                forms += usize::from(o.form.is_some());
                if let Some(d) = o.warning {
                    problems.add(d);
                }
                continue;
            }
            Item::Problem(d) => {
                problems.add(d);
                continue;
            }
        };
        if shown == 0 && args.out.is_none() && !out.quiet {
            print_full(&letter);
        }
        shown += 1;
        if let Some(dir) = &args.out {
            let path = eml_path(dir, recipient.email.as_ref(), &mut names);
            std::fs::write(&path, letter.message.formatted())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if !out.quiet {
            say!(
                "line {:>5}  {}  {}",
                recipient.line,
                letter.to,
                letter.subject
            );
        }
    }
    problems.print(out.quiet);
    for wanted in &args.recipient {
        if shown == 0 {
            eprintln!(
                "error: {wanted} is not an addressable recipient in {}",
                campaign.contacts.path.display()
            );
        }
    }
    if let (Some(dir), false) = (&args.out, out.quiet) {
        say!(
            "wrote {shown} .eml file{} to {}",
            plural(shown),
            dir.display()
        );
    }
    // A campaign of form-only offices has no email to preview: its
    // letters are in the forms kit.
    if shown == 0 && forms > 0 && problems.errors == 0 && args.recipient.is_empty() {
        if !out.quiet {
            say!(
                "no letters to email: {forms} office{} take{} only a contact form; `repmail forms --html FILE` writes their letters",
                plural(forms),
                if forms == 1 { "s" } else { "" }
            );
        }
        return Ok(Exit::Ok);
    }
    Ok(if problems.errors > 0 || shown == 0 {
        Exit::Error
    } else {
        Exit::Ok
    })
}

fn print_full(letter: &Rendered) {
    let headers = letter.message.headers();
    let show = |name: &str| headers.get_raw(name).map(|v| say!("{name}: {v}"));
    say!("From: {}", headers.get_raw("From").unwrap_or_default());
    say!("To: {}", letter.to);
    show("Reply-To");
    say!("Subject: {}", letter.subject);
    show("Date");
    show("Message-ID");
    say!("");
    say!("{}", letter.text.trim_end());
    say!("\n---- one line per letter (write the exact messages with --out DIR) ----");
}

/// `Jane.Doe@Example.org` → `jane.doe@example.org.eml`: only characters
/// that are safe in a file name on every system, never a path separator or
/// a leading dot, so no address can write outside `dir`.
fn eml_path(dir: &Path, email: &str, used: &mut HashSet<String>) -> PathBuf {
    let mut stem: String = email
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+') {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    stem = stem.trim_start_matches('.').to_string();
    if stem.is_empty() {
        stem = "recipient".into();
    }
    let mut name = format!("{stem}.eml");
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{stem}-{n}.eml");
        n += 1;
    }
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_names_stay_inside_dir() {
        let mut used = HashSet::new();
        let dir = Path::new("out");
        for email in [
            "../../etc/passwd@x.test",
            "/abs@x.test",
            "..@x.test",
            "a\\b@x.test",
            "ü@x.test",
        ] {
            let p = eml_path(dir, email, &mut used);
            assert_eq!(p.parent(), Some(dir), "{email} → {}", p.display());
            let name = p.file_name().unwrap().to_str().unwrap();
            assert!(
                !name.starts_with('.') && !name.contains('/') && !name.contains('\\'),
                "{name}"
            );
        }
        let a = eml_path(dir, "A@x.test", &mut used);
        let b = eml_path(dir, "a@x.test", &mut used);
        assert_ne!(a, b);
    }
}
