//! `repmail preview`: the letters exactly as `send` would hand them to SMTP.

use std::path::Path;

use repmail::config::Campaign;
use repmail::outfile;
use repmail::plan::{Item, Selection};
use repmail::preview::{Destination, EmlFolder, Gallery, MboxFile, PreviewError, Written};
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
    // Made in this order, so a folder that cannot be made is said first;
    // letters go to the mbox first, then the files.
    let eml = args.out.as_deref().map(EmlFolder::create).transpose()?;
    let gallery = args.html.as_deref().map(Gallery::create).transpose()?;
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
    let mbox = args.mbox.as_deref().map(open_mbox).transpose()?;
    let mut stream: Option<Box<dyn Destination>> = mbox.map(|m| Box::new(m) as _);
    let mut files: Vec<Box<dyn Destination>> = Vec::new();
    files.extend(eml.map(|e| Box::new(e) as _));
    files.extend(gallery.map(|g| Box::new(g) as _));
    // With `--mbox -` standard output is the mbox: nothing else goes there.
    let to_stdout = args.mbox.as_deref() == Some(Path::new("-"));
    let warnings_quiet = out.quiet;
    let out = Output {
        quiet: out.quiet || to_stdout,
        ..out
    };
    let mut problems = ProblemGroups::default();
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
        for d in stream.iter_mut().chain(files.iter_mut()) {
            d.add(&recipient, &letter).map_err(failed)?;
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
    if let Some(m) = stream {
        if let Written::Mbox { letters, to } = m.finish().map_err(failed)? {
            if !out.quiet || to_stdout {
                say_err!(
                    "wrote {letters} letter{} to {}",
                    plural(letters),
                    if to_stdout {
                        "standard output".to_string()
                    } else {
                        to.display().to_string()
                    }
                );
            }
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
    for d in files {
        let written = d.finish().map_err(failed)?;
        if out.quiet {
            continue;
        }
        match written {
            Written::Eml { files, dir } => {
                say!(
                    "wrote {files} .eml file{} to {}",
                    plural(files),
                    dir.display()
                )
            }
            Written::Gallery { letters, index } => say!(
                "wrote a gallery of {letters} letter{} to {}: open it in a browser",
                plural(letters),
                index.display()
            ),
            Written::Mbox { .. } => {}
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

fn open_mbox(file: &Path) -> anyhow::Result<MboxFile> {
    if file == Path::new("-") {
        return Ok(MboxFile::over(Box::new(std::io::stdout()), file));
    }
    Ok(MboxFile::create(file)?)
}

/// A closed pipe (`preview --mbox - | head`) is the reader being done.
fn failed(e: PreviewError) -> anyhow::Error {
    if e.is_broken_pipe() {
        std::process::exit(0);
    }
    e.into()
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
