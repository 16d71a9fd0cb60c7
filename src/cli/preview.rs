//! `repmail preview`: the letters exactly as `send` would hand them to SMTP.

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use repmail::config::Campaign;
use repmail::mbox::MboxWriter;
use repmail::outfile;
use repmail::pages::gallery::Gallery;
use repmail::plan::{Item, Selection};
use repmail::render::Rendered;

use super::check::plural;
use super::report::{prepare, ProblemGroups};
use super::{Exit, Output, PreviewArgs};

pub fn run(config: &Path, args: &PreviewArgs, out: Output) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(config)?;
    let mut prepared = prepare(&campaign, out)?;
    if let Some(k) = args.stage.filter(|k| *k > 0) {
        // A follow-up as it would go: replying to the letters the logs
        // record, or to stand-ins where there are none yet.
        prepared.renderer = super::followup::preview_renderer(&campaign, k, out)?;
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    }
    let mut gallery = match &args.html {
        Some(dir) => Some(
            Gallery::create(dir)
                .with_context(|| format!("cannot create the gallery folder {}", dir.display()))?,
        ),
        None => None,
    };
    let selection = Selection {
        recipients: args.recipient.clone(),
        limit: args.limit,
    };
    let own = [
        &campaign.campaign.log,
        &campaign.contacts.path,
        &campaign.path,
    ];
    if let Some(file) = args.mbox.as_deref() {
        if outfile::is_one_of(file, &own).is_some() {
            anyhow::bail!(
                "{} is the campaign's delivery log, contacts or campaign file; choose another file name",
                file.display()
            );
        }
    }
    let mut mbox = args.mbox.as_deref().map(open_mbox).transpose()?;
    // With `--mbox -` standard output is the mbox: nothing else goes there.
    let to_stdout = args.mbox.as_deref() == Some(Path::new("-"));
    let warnings_quiet = out.quiet;
    let out = Output {
        quiet: out.quiet || to_stdout,
        ..out
    };
    let mut problems = ProblemGroups::default();
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
        // Writing files (`--out`, `--html`, `--mbox`), the per-letter list
        // is noise: the closing line says what was written (issue 24,
        // item 9). On the terminal alone, the first letter in full and
        // one line per letter.
        let on_terminal = args.out.is_none() && args.html.is_none() && args.mbox.is_none();
        if shown == 0 && on_terminal && !out.quiet {
            print_full(&letter);
        }
        shown += 1;
        if let (Some(w), Some(file)) = (mbox.as_mut(), &args.mbox) {
            write_mbox(w, &letter, file)?;
        }
        if let Some(dir) = &args.out {
            let path = eml_path(dir, recipient.email.as_ref(), &mut names);
            // Replaced, never written through: a link planted in DIR
            // under a letter's name must not aim the letter elsewhere.
            outfile::write_fresh(&path, &letter.message.formatted())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some(g) = &mut gallery {
            g.add(recipient.line, &letter)
                .context("cannot write the gallery")?;
        }
        if !out.quiet && on_terminal {
            say!(
                "line {:>5}  {}  {}",
                recipient.line,
                letter.to,
                letter.subject
            );
        }
    }
    if let (Some(w), Some(file)) = (mbox, &args.mbox) {
        let written = w.written();
        w.finish().map_err(|e| mbox_error(e, file))?;
        if !out.quiet || to_stdout {
            say_err!(
                "wrote {written} letter{} to {}",
                plural(written),
                if to_stdout {
                    "standard output".to_string()
                } else {
                    file.display().to_string()
                }
            );
        }
    }
    problems.print(warnings_quiet);
    for wanted in &args.recipient {
        if shown == 0 {
            say_err!(
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
    if let Some(g) = gallery {
        let index = g.finish().context("cannot write the gallery")?;
        if !out.quiet {
            say!(
                "wrote a gallery of {shown} letter{} to {}: open it in a browser",
                plural(shown),
                index.display()
            );
        }
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

type Mbox = MboxWriter<Box<dyn Write>>;

fn open_mbox(file: &Path) -> anyhow::Result<Mbox> {
    let w: Box<dyn Write> = if file == Path::new("-") {
        Box::new(BufWriter::with_capacity(MBOX_BUFFER, std::io::stdout()))
    } else {
        let f = outfile::create_fresh(file)
            .with_context(|| format!("cannot create the mbox file {}", file.display()))?;
        Box::new(BufWriter::with_capacity(MBOX_BUFFER, f))
    };
    Ok(MboxWriter::new(w))
}

/// Enough for a few letters per write, whatever their number: the file
/// grows as letters are rendered, memory does not.
const MBOX_BUFFER: usize = 256 * 1024;

fn write_mbox(w: &mut Mbox, letter: &Rendered, file: &Path) -> anyhow::Result<()> {
    let envelope = letter.message.envelope();
    let sender = envelope.from().map(|a| a.to_string()).unwrap_or_default();
    w.append(&sender, Utc::now(), &letter.message.formatted())
        .map_err(|e| mbox_error(e, file))
}

/// A closed pipe (`preview --mbox - | head`) is the reader being done.
fn mbox_error(e: std::io::Error, file: &Path) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    anyhow::Error::new(e).context(format!("cannot write the mbox file {}", file.display()))
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
    // The body on several lines, each one cleaned for the terminal; the
    // exact bytes are what `--out` and `--mbox` write.
    for text in letter.text.trim_end().lines() {
        say!("{text}");
    }
    say!("");
    say!("---- one line per letter (write the exact messages with --out DIR) ----");
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
