//! Left-to-right runs in a right-to-left text part (issue 24, item 8).
//!
//! A plain-text part has no markup to say which way a run reads, so a
//! mail client applies the Unicode Bidirectional Algorithm (UAX #9) to
//! each line. A URL's neutral characters (`/`, `.`, `:`) and the brackets
//! around it then join the Persian text around them and the line reads
//! `)https://…proposalبخوانید (.`. Wrapping each left-to-right run in a
//! left-to-right isolate, U+2066 LRI … U+2069 PDI
//! (UAX #9 §2.4, "Explicit Directional Isolates", Unicode 15.1, read
//! 2026-12-05), makes the run one neutral unit to the Persian line: it
//! keeps its own order inside and its brackets and full stop stay in the
//! sentence's order outside. The HTML part needs none of this: it has
//! `dir` and `<bdi>`.

const LRI: char = '\u{2066}';
const PDI: char = '\u{2069}';

/// Strong right-to-left: Hebrew, Arabic (and Persian, Urdu), Syriac,
/// Thaana, N'Ko… and their presentation forms.
fn is_rtl(c: char) -> bool {
    matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
        || matches!(c, '\u{10800}'..='\u{10FFF}' | '\u{1E800}'..='\u{1EFFF}')
}

/// Strong left-to-right, as far as a letter's text goes: a letter that is
/// not right-to-left (Latin, Greek, Cyrillic…).
fn is_ltr(c: char) -> bool {
    c.is_alphabetic() && !is_rtl(c)
}

/// The text part with each left-to-right run of a right-to-left line
/// isolated. A run is a stretch of words with left-to-right letters (and
/// the spaces between them); its edges are trimmed of the brackets and
/// punctuation around it (`(`, `).`), which belong to the sentence. Lines
/// with no right-to-left letter are left as they are.
pub fn isolate_ltr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.chars().any(is_rtl) {
            isolate_line(line, &mut out);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn isolate_line(line: &str, out: &mut String) {
    // Words: (start, end) byte ranges split on spaces.
    let words: Vec<(usize, usize)> = line
        .split(' ')
        .scan(0usize, |at, w| {
            let start = *at;
            *at += w.len() + 1;
            Some((start, start + w.len()))
        })
        .filter(|(s, e)| s < e)
        .collect();
    let ltr = |&(s, e): &(usize, usize)| {
        let w = &line[s..e];
        w.chars().any(is_ltr) && !w.chars().any(is_rtl)
    };
    let mut done = 0;
    let mut i = 0;
    while i < words.len() {
        if !ltr(&words[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < words.len() && ltr(&words[j + 1]) {
            j += 1;
        }
        let (start, end) = (words[i].0, words[j].1);
        let run = &line[start..end];
        // Brackets and punctuation at the edges stay outside; a URL's
        // closing `/` is part of it.
        let lead = run.len() - run.trim_start_matches(|c: char| !c.is_alphanumeric()).len();
        let kept = run[lead..].trim_end_matches(|c: char| !c.is_alphanumeric() && c != '/');
        out.push_str(&line[done..start + lead]);
        out.push(LRI);
        out.push_str(kept);
        out.push(PDI);
        done = start + lead + kept.len();
        i = j + 1;
    }
    out.push_str(&line[done..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_in_a_persian_line_is_isolated_without_its_brackets() {
        let line = "لطفاً پیشنهاد ما را بخوانید (https://example.org/proposal).";
        assert_eq!(
            isolate_ltr(line),
            "لطفاً پیشنهاد ما را بخوانید (\u{2066}https://example.org/proposal\u{2069})."
        );
        // A run of several words is one isolate; numbers alone are left.
        assert_eq!(
            isolate_ltr("از Human Rights Watch در سال 2026 گزارش"),
            "از \u{2066}Human Rights Watch\u{2069} در سال 2026 گزارش"
        );
        // A left-to-right line is untouched.
        assert_eq!(
            isolate_ltr("Test Group (https://example.org)"),
            "Test Group (https://example.org)"
        );
    }
}
