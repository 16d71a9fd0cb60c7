//! Quoted-printable (RFC 2045 §6.7) as text, byte for byte what the
//! `quoted_printable` crate's `encode` (0.5, the encoder lettre calls)
//! writes: lines of at most 76 characters with soft breaks (`=` CRLF),
//! CRLF kept as a hard break, a lone CR written `=0D`, a space or tab
//! before a hard break or at the end encoded.
//!
//! Why our own: that crate pushes the letter one `char` at a time, which
//! was the largest cost of rendering a letter (callgrind, 2026-12-05, the
//! send benchmark's letter: 115,000 of about 280,000 instructions per
//! letter, on the dispatch loop's thread). Here runs of bytes that need
//! no encoding are copied whole. The same quirks are kept on purpose (a
//! soft break inserted before the last thing written when a line is
//! exactly full), so that a letter's bytes do not change: the tests
//! compare the two on edge cases and generated text.

/// Longest encoded line, without its CRLF (RFC 2045 §6.7, rule 5).
const LIMIT: usize = 76;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether a byte must be written `=XX`: anything but printable ASCII and
/// tab, and `=` itself.
fn needs_encoding(b: u8) -> bool {
    !matches!(b, b'\t' | b' '..=b'~') || b == b'='
}

/// How many bytes at the start of `bytes` need no encoding: tested 16
/// at a time without an early exit (which the compiler turns into vector
/// instructions), then byte by byte in the block that has one.
fn clean_prefix(bytes: &[u8]) -> usize {
    let mut n = 0;
    for block in bytes.chunks_exact(16) {
        if block
            .iter()
            .fold(0u8, |any, &b| any | u8::from(needs_encoding(b)))
            != 0
        {
            break;
        }
        n += 16;
    }
    n + bytes[n..]
        .iter()
        .position(|&b| needs_encoding(b))
        .unwrap_or(bytes.len() - n)
}

/// The encoder's state: the output, the length of its current line, and
/// where the last thing written starts (a soft break may go there).
struct Out {
    buf: Vec<u8>,
    on_line: usize,
    backup: usize,
}

impl Out {
    /// Writes `piece` (one character, or an `=XX`), breaking the line
    /// first if it would not fit.
    fn append(&mut self, piece: &[u8]) {
        if self.on_line + piece.len() > LIMIT {
            if self.on_line == LIMIT {
                // No room for the `=` of a soft break: it goes before the
                // last thing written, which moves to the next line.
                self.on_line = self.buf.len() - self.backup;
                self.buf.splice(self.backup..self.backup, *b"=\r\n");
            } else {
                self.buf.extend_from_slice(b"=\r\n");
                self.on_line = 0;
            }
        }
        self.buf.extend_from_slice(piece);
        self.on_line += piece.len();
        self.backup = self.buf.len() - piece.len();
    }

    fn append_byte(&mut self, b: u8) {
        if needs_encoding(b) {
            self.append(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
        } else {
            self.append(&[b]);
        }
    }

    /// A space or tab may not end an encoded line: encode the last one.
    fn encode_trailing_space_tab(&mut self) {
        let encoded: &[u8] = match self.buf.last() {
            Some(b' ') => b"=20",
            Some(b'\t') => b"=09",
            _ => return,
        };
        self.on_line -= 1;
        self.buf.pop();
        self.append(encoded);
    }
}

/// `input` encoded as quoted-printable text.
pub(super) fn encode(input: &[u8]) -> Vec<u8> {
    let mut out = Out {
        buf: Vec::with_capacity(input.len() + input.len() / 16),
        on_line: 0,
        backup: 0,
    };
    let mut was_cr = false;
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        i += 1;
        if was_cr {
            if byte == b'\n' {
                out.encode_trailing_space_tab();
                out.buf.extend_from_slice(b"\r\n");
                out.on_line = 0;
                was_cr = false;
                continue;
            }
            out.append(b"=0D");
        }
        was_cr = byte == b'\r';
        if was_cr {
            continue;
        }
        if LIMIT - out.on_line >= 3 && !needs_encoding(byte) {
            // A run of bytes written as they are, up to two short of the
            // line's end (the crate's fast path, same bounds).
            let max = LIMIT - out.on_line - 2;
            let start = i - 1;
            let run = clean_prefix(&input[start..input.len().min(start + max)]);
            out.buf.extend_from_slice(&input[start..start + run]);
            out.on_line += run;
            out.backup = out.buf.len();
            i = start + run;
            continue;
        }
        out.append_byte(byte);
    }
    if was_cr {
        out.append(b"=0D");
    } else {
        out.encode_trailing_space_tab();
    }
    out.buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(input: &[u8]) {
        assert_eq!(
            String::from_utf8_lossy(&encode(input)),
            String::from_utf8_lossy(&quoted_printable::encode(input)),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }

    #[test]
    fn same_bytes_as_the_crate_on_the_edges() {
        let a = |n: usize| "a".repeat(n);
        for text in [
            String::new(),
            "\r".into(),
            "\n".into(),
            "\r\n".into(),
            "\r\r\n".into(),
            " \r\n\t\r\n".into(),
            "end with space ".into(),
            "end with tab\t".into(),
            "a=b".into(),
            "women’s rights\r\n".into(),
            a(73),
            a(74),
            a(75),
            a(76),
            a(77),
            a(200),
            format!("{} \r\n", a(75)),
            format!("{}\t\r\n", a(74)),
            format!("{}’", a(73)),
            format!("{}==", a(74)),
            format!("{}=\r", a(75)),
            format!("{} {}", a(74), a(3)),
        ] {
            same(text.as_bytes());
        }
        same(&[0, 255, 127, b'=', b'\r', 200]);
    }

    proptest! {
        #[test]
        fn same_bytes_as_the_crate(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(b"\r\n".to_vec()),
                    Just(b"\r".to_vec()),
                    Just(b"\n".to_vec()),
                    Just(b" ".to_vec()),
                    Just(b"\t".to_vec()),
                    Just(b"=".to_vec()),
                    Just("’".as_bytes().to_vec()),
                    proptest::collection::vec(any::<u8>(), 1..4),
                    "[a-z ]{1,80}".prop_map(String::into_bytes),
                ],
                0..60,
            )
        ) {
            let input = parts.concat();
            prop_assert_eq!(encode(&input), quoted_printable::encode(&input));
        }
    }
}
