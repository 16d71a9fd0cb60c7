//! A text or HTML part's body, encoded byte for byte as lettre's
//! `Body::new` encodes a `String` (lettre 0.11): the transfer encoding
//! chosen on the text as written (`email_encoding`'s chooser, no SMTPUTF8
//! assumed), line endings made CRLF, then 7bit as is, quoted-printable or
//! base64.
//!
//! Why not `Body::new` itself: it makes the line endings CRLF by inserting
//! a `\r` into the string before each `\n`, one insertion (a move of the
//! rest of the letter) per line. Measured 2026-12-05 with callgrind on the
//! send benchmark (`templates/letter.txt.tera`, 69 lines): 58,000
//! instructions of about 320,000 per letter rendered, on the dispatch
//! loop's thread. Here the CRLF copy is one pass.

use email_encoding::body::Encoding;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::Body;

/// `text` encoded for a MIME part, as `Body::new(text.to_string())` does.
pub(super) fn encoded(text: &str) -> Body {
    // Chosen before the line endings change, as lettre does: a line's
    // length for the 76-character rule does not count a `\r` added here.
    let encoding = choose(text.as_bytes());
    let crlf = crlf_line_endings(text);
    match encoding {
        Encoding::SevenBit => {
            Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
        }
        // Only with SMTPUTF8 assumed, which is not: kept for the match.
        Encoding::EightBit => {
            Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
        }
        Encoding::QuotedPrintable => Body::dangerous_pre_encoded(
            super::qp::encode(crlf.as_bytes()),
            ContentTransferEncoding::QuotedPrintable,
        ),
        Encoding::Base64 => {
            let mut out =
                String::with_capacity(email_encoding::body::base64::encoded_len(crlf.len()));
            // Writing into a String cannot fail.
            let _ = email_encoding::body::base64::encode(crlf.as_bytes(), &mut out);
            Body::dangerous_pre_encoded(out.into_bytes(), ContentTransferEncoding::Base64)
        }
    }
}

/// The encoding `email_encoding::body::Encoding::choose(text, false)`
/// picks (0.4, what `Body::new` asks): 7bit for ASCII whose lines are
/// short enough, else quoted-printable unless more than a third of the
/// bytes need escaping, else base64. The same rules with the counting
/// done in one pass the compiler can vectorise: that crate's count was a
/// tenth of rendering a letter (callgrind, 2026-12-05).
fn choose(b: &[u8]) -> Encoding {
    if b.is_ascii() && !line_too_long(b) {
        return Encoding::SevenBit;
    }
    // Counted in blocks of 255 in a byte, which cannot overflow.
    let escaped: usize = b
        .chunks(255)
        .map(|block| {
            let n = block
                .iter()
                .fold(0u8, |n, &c| n + u8::from(!matches!(c, b'\t' | b' '..=b'~')));
            usize::from(n)
        })
        .sum();
    if escaped <= b.len() / 3 {
        Encoding::QuotedPrintable
    } else {
        Encoding::Base64
    }
}

/// The chooser's line rule, as it measures: from one `\n` to the next
/// (the first line from the start), 76 or more is too long.
fn line_too_long(b: &[u8]) -> bool {
    let mut last = 0;
    for (i, _) in b.iter().enumerate().filter(|(_, &c)| c == b'\n') {
        if i - last >= 76 {
            return true;
        }
        last = i;
    }
    b.len() - last >= 76
}

/// `text` with a `\r` before every `\n` that does not follow one (what
/// lettre does to a `String` body), in one pass.
fn crlf_line_endings(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 16 + 1);
    let mut from = 0;
    for (i, _) in text.match_indices('\n') {
        // `\r` and `\n` are ASCII: a byte test is a character test.
        if i == 0 || bytes[i - 1] != b'\r' {
            out.push_str(&text[from..i]);
            out.push('\r');
            from = i;
        }
    }
    out.push_str(&text[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What lettre makes of the same text.
    fn lettre(text: &str) -> (ContentTransferEncoding, Vec<u8>) {
        let b = Body::new(text.to_string());
        (b.encoding(), b.into_vec())
    }

    fn ours(text: &str) -> (ContentTransferEncoding, Vec<u8>) {
        let b = encoded(text);
        (b.encoding(), b.into_vec())
    }

    #[test]
    fn same_bytes_as_lettre_on_the_edges() {
        let long = |n: usize| "a".repeat(n);
        let cases = [
            String::new(),
            "\n".into(),
            "\r".into(),
            "\r\n".into(),
            "\n\n\r\n\r\r\n".into(),
            "Dear Senator,\nThank you.\n".into(),
            "women’s rights\n".into(),
            "trailing space \nand tab\t\n".into(),
            "a = b\n".into(),
            format!("{}\n", long(74)),
            format!("{}\n", long(75)),
            format!("{}\n", long(76)),
            format!("{}\r\n{}", long(75), long(80)),
            format!("{}’\n", long(74)),
            format!("x\n{}\n", long(74)),
            format!("x\n{}\n", long(75)),
            format!("x\n{}", long(75)),
            format!("x\n{}", long(74)),
            "ab’".into(),
            "abcdef’".into(),
            "abcdefgh’".into(),
            "📬📬📬📬📬📬📬📬📬📬\n".into(),
            std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/letter.txt.tera"
            ))
            .expect("the example letter"),
        ];
        for text in &cases {
            assert_eq!(ours(text), lettre(text), "text {text:?}");
        }
    }

    proptest! {
        #[test]
        fn same_bytes_as_lettre(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("\n".to_string()),
                    Just("\r".to_string()),
                    Just("\r\n".to_string()),
                    Just(" ".to_string()),
                    Just("\t".to_string()),
                    Just("=".to_string()),
                    Just("’".to_string()),
                    Just("📬".to_string()),
                    "[a-zA-Z ,.]{1,90}",
                ],
                0..40,
            )
        ) {
            let text = parts.concat();
            prop_assert_eq!(ours(&text), lettre(&text));
        }
    }
}
