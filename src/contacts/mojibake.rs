//! Garbled text ("mojibake"): a file decoded with the wrong encoding still
//! decodes, and "José Núñez" goes to a senator as "JosÃ© NÃºÃ±ez". Two
//! cases are common with spreadsheets: UTF-8 read as Windows-1252 (or
//! another single-byte encoding), and Windows-1252 read as UTF-8, which
//! leaves U+FFFD replacement characters where the accents were.

use encoding_rs::Encoding;

use crate::problem::Diagnostic;

/// Ends the warning: it is given once per file, at the first such row.
const ONCE: &str = " (the first such row; others may follow)";

/// The warning about garbled text at `place`.
pub fn warning(
    place: &str,
    value: &str,
    garble: &Garble,
    configured: Option<&'static Encoding>,
) -> Diagnostic {
    Diagnostic::warning(
        place,
        format!("{}{ONCE}", explain(value, garble, configured)),
    )
}

/// Whether `d` is the garbled-text warning (it is a row of its own before
/// the row it is about).
pub fn is_warning(d: &Diagnostic) -> bool {
    !d.is_error() && d.message.ends_with(ONCE)
}

/// What a decoded value suggests about the file's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Garble {
    /// The bytes were UTF-8 but were decoded as the single-byte encoding
    /// named: `repaired` is the value read as UTF-8.
    Utf8ReadAs {
        /// The encoding the file was decoded with.
        encoding: &'static Encoding,
        /// The value as it reads in UTF-8.
        repaired: String,
    },
    /// Some bytes could not be decoded at all (U+FFFD in the value).
    Undecodable,
}

/// Looks at one decoded value, read with `encoding` (`None`: UTF-8).
///
/// A value is taken as UTF-8 read as a single-byte encoding when encoding
/// it back gives valid UTF-8 with at least one multi-byte character: real
/// Windows-1252 text ("José" is `4A 6F 73 E9`) is almost never valid UTF-8,
/// so genuine accented names are not flagged. A UTF-8 file holding such
/// text was garbled before it was saved; it is looked for under
/// Windows-1252, the usual culprit.
pub fn garble(value: &str, encoding: Option<&'static Encoding>) -> Option<Garble> {
    if value.is_ascii() {
        return None;
    }
    if value.contains('\u{fffd}') {
        return Some(Garble::Undecodable);
    }
    let read_as = match encoding {
        Some(e) if e != encoding_rs::UTF_8 && e.is_single_byte() => e,
        _ => encoding_rs::WINDOWS_1252,
    };
    let (bytes, _, unmappable) = read_as.encode(value);
    if unmappable || bytes.is_ascii() {
        return None;
    }
    let repaired = std::str::from_utf8(&bytes).ok()?;
    Some(Garble::Utf8ReadAs {
        encoding: read_as,
        repaired: repaired.to_string(),
    })
}

/// The warning's text for `value` at its row, saying what to do.
fn explain(value: &str, garble: &Garble, configured: Option<&'static Encoding>) -> String {
    let shown = value.escape_debug();
    match (garble, configured) {
        (Garble::Utf8ReadAs { encoding, repaired }, Some(c)) if c != encoding_rs::UTF_8 => {
            format!(
                "`{shown}` looks like UTF-8 text read as {} (in UTF-8 it reads `{}`): the file is probably UTF-8; remove `encoding = \"{}\"` under [contacts] (the default is UTF-8), then run check again",
                encoding.name().to_ascii_lowercase(),
                repaired.escape_debug(),
                c.name().to_ascii_lowercase(),
            )
        }
        (Garble::Utf8ReadAs { repaired, .. }, _) => format!(
            "`{shown}` looks garbled: UTF-8 text that was once read as Windows-1252 and saved again (it should read `{}`); export the file again from its source as \"CSV UTF-8\", or correct these values",
            repaired.escape_debug(),
        ),
        (Garble::Undecodable, Some(c)) if c != encoding_rs::WINDOWS_1252 => format!(
            "`{shown}` holds characters that are not valid {}: the file is probably Windows-1252 (what Excel's plain \"CSV\" writes); set `encoding = \"windows-1252\"` under [contacts], or save the file as \"CSV UTF-8\"",
            c.name().to_ascii_lowercase(),
        ),
        (Garble::Undecodable, _) => format!(
            "`{shown}` holds the replacement character `\u{fffd}`: text was lost in an earlier conversion; correct these values in the file"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{UTF_8, WINDOWS_1252};

    fn as_1252(utf8: &str) -> String {
        WINDOWS_1252.decode(utf8.as_bytes()).0.into_owned()
    }

    #[test]
    fn utf8_read_as_windows_1252_is_found_and_repaired() {
        for name in ["José Núñez", "Órfhlaith Begley", "مریم رضایی", "O’Connor"] {
            let garbled = as_1252(name);
            assert_eq!(
                garble(&garbled, Some(WINDOWS_1252)),
                Some(Garble::Utf8ReadAs {
                    encoding: WINDOWS_1252,
                    repaired: name.to_string()
                }),
                "{garbled}"
            );
            // The same garbled text saved into a UTF-8 file.
            assert!(garble(&garbled, None).is_some(), "{garbled}");
        }
    }

    #[test]
    fn real_accents_and_scripts_are_not_flagged() {
        for text in [
            "José Núñez",
            "Zoë Brontë-Lefèvre",
            "Ciarán Mac Giolla Rua",
            "Glyndŵr",
            "Εθνικό Λαϊκό Μέτωπο",
            "MARCZUŁAJTIS-WALCZAK",
            "مریم",
            "plain ascii",
        ] {
            assert_eq!(garble(text, None), None, "{text}");
            assert_eq!(garble(text, Some(UTF_8)), None, "{text}");
            assert_eq!(garble(text, Some(WINDOWS_1252)), None, "{text}");
        }
    }

    #[test]
    fn windows_1252_read_as_utf8_leaves_replacement_characters() {
        let (text, _, _) = UTF_8.decode(b"Jos\xe9");
        assert_eq!(garble(&text, Some(UTF_8)), Some(Garble::Undecodable));
        let msg = explain(&text, &Garble::Undecodable, Some(UTF_8));
        assert!(msg.contains("encoding = \"windows-1252\""), "{msg}");
    }

    #[test]
    fn the_fix_depends_on_the_setting() {
        let g = garble(&as_1252("José"), Some(WINDOWS_1252)).unwrap();
        let msg = explain("JosÃ©", &g, Some(WINDOWS_1252));
        assert!(
            msg.contains("remove `encoding = \"windows-1252\"`"),
            "{msg}"
        );
        assert!(msg.contains("`José`"), "{msg}");
        let msg = explain("JosÃ©", &g, None);
        assert!(msg.contains("export the file again"), "{msg}");
    }
}
