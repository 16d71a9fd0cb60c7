//! Where a key sits in the campaign file's text: its line (for messages)
//! and its span (to blank it out and read the file again).

use toml::de::{DeTable, DeValue};

/// The line of `section.key` in `text`, if it is there.
pub(super) fn line_of(text: &str, dotted: &str) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let (section, key) = dotted.split_once('.')?;
    let (s, value) = doc.get_ref().iter().find(|(k, _)| k.get_ref() == section)?;
    match value.get_ref() {
        DeValue::Table(t) if t.iter().any(|(k, _)| k.get_ref() == key) => {
            Some(line_at(text, key_span(t, key).start))
        }
        _ => Some(line_at(text, s.span().start)),
    }
}

/// The span from `key` to the end of its value in `text`, if present: what
/// to blank out to read the file without it.
pub(super) fn entry_span(text: &str, dotted: &str) -> Option<std::ops::Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let (section, key) = dotted.split_once('.')?;
    let (_, value) = doc.get_ref().iter().find(|(k, _)| k.get_ref() == section)?;
    let DeValue::Table(t) = value.get_ref() else {
        return None;
    };
    let (k, v) = t.iter().find(|(k, _)| k.get_ref() == key)?;
    Some(k.span().start..v.span().end)
}

pub(super) fn key_span(table: &DeTable<'_>, key: &str) -> std::ops::Range<usize> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(k, _)| k.span())
        .unwrap_or(0..0)
}

pub(super) fn line_at(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_spans_of_keys() {
        let text = "[sender]\n\nfrom = \"x\"\n";
        assert_eq!(line_of(text, "sender.from"), Some(3));
        assert_eq!(line_of(text, "sender.reply_to"), Some(1));
        let span = entry_span(text, "sender.from").unwrap();
        assert_eq!(&text[span], "from = \"x\"");
    }
}
