//! Writing mboxrd, as a stream: `preview --mbox`.

use std::io::{self, Write};

use chrono::{DateTime, Utc};

/// Writes messages one after another into an mboxrd stream.
pub struct MboxWriter<W: Write> {
    out: W,
    written: usize,
}

impl<W: Write> MboxWriter<W> {
    /// A writer over `out` (buffer it: every line is a separate write).
    pub fn new(out: W) -> MboxWriter<W> {
        MboxWriter { out, written: 0 }
    }

    /// Appends one message (RFC 5322 bytes, as sent) from envelope sender
    /// `sender`, dated `when` in its `From ` line.
    pub fn append(&mut self, sender: &str, when: DateTime<Utc>, message: &[u8]) -> io::Result<()> {
        // The From_ line's address is one token: a sender with a space in
        // it (possible in a quoted local part) would end it early.
        let sender: String = sender
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .collect();
        let sender = if sender.is_empty() {
            "MAILER-DAEMON"
        } else {
            &sender
        };
        // asctime(3) form, as in every From_ line: `Tue Dec  1 21:53:53 2026`.
        writeln!(
            self.out,
            "From {sender} {}",
            when.format("%a %b %e %H:%M:%S %Y")
        )?;
        let body = message.strip_suffix(b"\n").unwrap_or(message);
        for line in body.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if needs_quote(line) {
                self.out.write_all(b">")?;
            }
            self.out.write_all(line)?;
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// Messages appended so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// `From `, `>From `, `>>From `…: a line a reader could take for a
/// message boundary, or one it will unquote.
fn needs_quote(line: &[u8]) -> bool {
    let rest = &line[line.iter().take_while(|&&b| b == b'>').count()..];
    rest.starts_with(b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn mbox(messages: &[&[u8]]) -> String {
        let when = Utc.with_ymd_and_hms(2026, 12, 1, 9, 5, 7).unwrap();
        let mut w = MboxWriter::new(Vec::new());
        for m in messages {
            w.append("letters@example.org", when, m).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn from_lines_are_quoted_once_more_and_crlf_becomes_lf() {
        let out = mbox(&[b"Subject: x\r\n\r\nFrom here\r\n>From there\r\nFromage\r\n"]);
        assert_eq!(
            out,
            "From letters@example.org Tue Dec  1 09:05:07 2026\n\
             Subject: x\n\nFrom here\n>>From there\nFromage\n\n"
                .replace("\nFrom here", "\n>From here")
        );
    }

    #[test]
    fn messages_are_separated_by_an_empty_line() {
        let out = mbox(&[b"A: 1\r\n\r\none\r\n", b"A: 2\r\n\r\ntwo"]);
        assert_eq!(
            out.matches("\nFrom letters@example.org ").count(),
            1,
            "{out}"
        );
        assert!(out.contains("one\n\nFrom "), "{out}");
        assert!(out.ends_with("two\n\n"), "{out}");
    }
}
