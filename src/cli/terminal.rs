//! Text for a terminal: the one place where text that someone else wrote —
//! a contacts cell, a server's reply, an incoming message's From or
//! Subject, an error's text — is made safe to print.
//!
//! A terminal obeys what it is sent: ESC starts a control sequence (clear
//! the screen, set the window title, move the cursor), BEL rings, CR goes
//! back to the start of the line so the text after it overwrites what
//! repmail printed, and the Unicode bidi overrides reorder what follows
//! them (the "Trojan Source" characters, Boucher & Anderson, CVE-2021-42574,
//! read 2026-12-05). Each of them lets a spreadsheet or a server forge a
//! line such as `sent 200 letters`. Here every such character becomes a
//! visible escape (`\u{1b}`), so nothing is hidden and nothing obeyed.
//!
//! Right-to-left *letters* (Persian, Arabic, Hebrew…) are text and stay as
//! they are; only the invisible controls that override the direction of
//! other text are escaped. The implicit marks U+200E/U+200F stay: they
//! change the direction of neutral characters next to them, not of a run.
//!
//! Every line a command prints goes through the macros in `cli/mod.rs`
//! (`say!`, `tell!`, `say_err!`), which format the whole line and clean it
//! here before writing; `std`'s `println!` and friends are refused by
//! clippy (`clippy.toml`), so new code cannot forget. Machine formats
//! (`log --format csv|json`, the messages of `preview --out` / `--mbox`)
//! are data and are written byte-true, not through here.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The text as one terminal line: every control character, a line break
/// included, shown as an escape; a tab as a space.
pub fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            // A tab is harmless but moves the columns around.
            '\t' => out.push(' '),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` must not reach a terminal as it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (U+0080–U+009F)
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        // Line and paragraph separators: some terminals break the line.
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A writer for the human formats a library exporter writes (`log`'s
/// table): each line is cleaned as [`line`] cleans it before it reaches
/// the terminal. Machine formats (CSV, JSON) are written without it.
pub struct CleanLines<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> CleanLines<W> {
    pub fn new(inner: W) -> CleanLines<W> {
        CleanLines {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending);
        self.inner.write_all(line(&text).as_bytes())?;
        self.pending.clear();
        Ok(())
    }
}

impl<W: Write> Write for CleanLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            self.pending.extend_from_slice(&rest[..at]);
            self.emit()?;
            self.inner.write_all(b"\n")?;
            rest = &rest[at + 1..];
        }
        self.pending.extend_from_slice(rest);
        Ok(buf.len())
    }

    /// Writes a line not yet ended too: called once, at the end.
    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.emit()?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_control_but_keeps_text() {
        assert_eq!(line("Jane Doe"), "Jane Doe");
        assert!(matches!(line("Jane Doe"), Cow::Borrowed(_)));
        assert_eq!(line("a\x1b]0;pwned\x07b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(line("x\x1b[2Jy"), "x\\u{1b}[2Jy");
        assert_eq!(line("ok\rsent"), "ok\\rsent");
        assert_eq!(line("a\nb"), "a\\nb");
        assert_eq!(line("a\tb"), "a b");
        assert_eq!(line("a\x7fb\u{9b}c"), "a\\u{7f}b\\u{9b}c");
        assert_eq!(line("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
        assert_eq!(line("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(line("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn right_to_left_letters_stay() {
        let persian = "نامه به نماینده\u{200f}";
        assert_eq!(line(persian), persian);
        assert_eq!(line("שלום"), "שלום");
    }

    #[test]
    fn lines_writer_cleans_each_line() {
        let mut out = CleanLines::new(Vec::new());
        out.write_all(b"ok\x1b[2J\nsec").unwrap();
        out.write_all(b"ond\r\n\x07").unwrap();
        out.flush().unwrap();
        assert_eq!(out.inner, b"ok\\u{1b}[2J\nsecond\\r\n\\u{7}".to_vec());
    }
}
