//! The plain-text part of a Markdown letter: text that reads well as
//! text — no `**`, lists numbered, links as "text (URL)", quotes with `> `,
//! paragraphs wrapped at [`WIDTH`].

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};

use super::markdown::{keeps_breaks, parser};

/// Column the text part is wrapped at (RFC 5322 §2.1.1 recommends lines of
/// at most 78 characters; 72 leaves room for quoting in replies).
pub const WIDTH: usize = 72;

/// A container the text writer is inside.
enum Block {
    Quote,
    List {
        next: Option<u64>,
    },
    Item {
        marker: String,
        started: bool,
        loose: bool,
    },
}

/// The plain-text part.
pub fn to_text(source: &str) -> String {
    let mut w = TextWriter::default();
    let mut links: Vec<String> = Vec::new();
    // The line-break rule: see `keeps_breaks`.
    let mut keep = false;
    for (event, range) in parser(source).into_offset_iter() {
        if matches!(event, Event::Start(Tag::Paragraph | Tag::Item)) {
            keep = keeps_breaks(&source[range]);
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => {
                    if let Some(Block::Item { loose, .. }) = w.stack.last_mut() {
                        *loose = true;
                    }
                }
                Tag::BlockQuote(_) => {
                    w.flush();
                    w.stack.push(Block::Quote);
                }
                Tag::List(start) => {
                    w.flush();
                    w.last_tight = false;
                    w.stack.push(Block::List { next: start });
                }
                Tag::Item => {
                    let marker = match w.stack.last_mut() {
                        Some(Block::List { next: Some(n) }) => {
                            *n += 1;
                            format!("{}. ", *n - 1)
                        }
                        _ => "- ".to_string(),
                    };
                    w.stack.push(Block::Item {
                        marker,
                        started: false,
                        loose: false,
                    });
                }
                Tag::CodeBlock(_) => {
                    w.flush();
                    w.code = true;
                }
                Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                    links.push(dest_url.to_string());
                    w.link_start = w.inline.len();
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => w.flush(),
                TagEnd::Heading(level) => {
                    let title = std::mem::take(&mut w.inline);
                    let rule = match level {
                        HeadingLevel::H1 => Some('='),
                        HeadingLevel::H2 => Some('-'),
                        _ => None,
                    };
                    let width = title.trim().chars().count();
                    w.inline = title;
                    w.flush();
                    if let Some(c) = rule {
                        w.out.push_str(&c.to_string().repeat(width));
                        w.out.push('\n');
                    }
                }
                TagEnd::BlockQuote(_) | TagEnd::List(_) => {
                    w.flush();
                    w.stack.pop();
                    w.last_tight = false;
                }
                TagEnd::Item => {
                    w.flush();
                    w.stack.pop();
                }
                TagEnd::CodeBlock => {
                    let code = std::mem::take(&mut w.inline);
                    w.code = false;
                    w.separate(false);
                    for line in code.trim_end_matches('\n').lines() {
                        let prefix = w.prefix();
                        w.out.push_str(format!("{prefix}    {line}").trim_end());
                        w.out.push('\n');
                    }
                }
                TagEnd::Link | TagEnd::Image => {
                    let dest = links.pop().unwrap_or_default();
                    let shown = dest.strip_prefix("mailto:").unwrap_or(&dest).to_string();
                    let text = w.inline[w.link_start.min(w.inline.len())..]
                        .trim()
                        .to_string();
                    if text.is_empty() {
                        w.inline.push_str(&shown);
                    } else if text != shown && !shown.is_empty() {
                        w.inline.push_str(&format!(" ({shown})"));
                    }
                }
                _ => {}
            },
            Event::Text(t) | Event::Code(t) => w.inline.push_str(&t),
            Event::InlineHtml(h) if h.trim_start().to_ascii_lowercase().starts_with("<br") => {
                w.inline.push('\n')
            }
            Event::SoftBreak if !keep => w.inline.push(' '),
            Event::SoftBreak | Event::HardBreak => w.inline.push('\n'),
            Event::Rule => {
                w.flush();
                w.separate(false);
                w.out.push_str("----------\n");
            }
            _ => {}
        }
    }
    w.flush();
    let mut text = w.out.trim_end().to_string();
    text.push('\n');
    text
}

#[derive(Default)]
struct TextWriter {
    out: String,
    inline: String,
    stack: Vec<Block>,
    /// Inside a code block (its text is kept as written).
    code: bool,
    /// Where the current link's text starts in `inline`.
    link_start: usize,
    /// The last block written was a line of a tight list.
    last_tight: bool,
}

impl TextWriter {
    /// The prefix of a continuation line: quotes and item indents.
    fn prefix(&self) -> String {
        let mut p = String::new();
        for b in &self.stack {
            match b {
                Block::Quote => p.push_str("> "),
                Block::Item { marker, .. } => p.push_str(&" ".repeat(marker.chars().count())),
                Block::List { .. } => {}
            }
        }
        p
    }

    /// A blank line between blocks; none between the items of a tight list.
    fn separate(&mut self, tight: bool) {
        if !(self.out.is_empty() || tight && self.last_tight) {
            let quote = self.prefix();
            let quote: String = quote.trim_end().to_string();
            self.out.push_str(&quote);
            self.out.push('\n');
        }
        self.last_tight = tight;
    }

    /// Writes the pending inline text as one wrapped block.
    fn flush(&mut self) {
        if self.code {
            return;
        }
        let text = std::mem::take(&mut self.inline);
        if text.trim().is_empty() {
            return;
        }
        let rest = self.prefix();
        // The first line of an item carries its marker instead of the
        // indent, once.
        let mut first = String::new();
        let mut tight = false;
        for b in self.stack.iter_mut() {
            match b {
                Block::Quote => first.push_str("> "),
                Block::Item {
                    marker,
                    started,
                    loose,
                } => {
                    if *started {
                        first.push_str(&" ".repeat(marker.chars().count()));
                    } else {
                        first.push_str(marker);
                        *started = true;
                    }
                    tight = !*loose;
                }
                Block::List { .. } => {}
            }
        }
        self.separate(tight);
        let width = WIDTH.saturating_sub(rest.chars().count()).max(20);
        let mut lead = first;
        for segment in text.split('\n') {
            for line in wrap(segment, width) {
                self.out.push_str(&lead);
                self.out.push_str(&line);
                self.out.push('\n');
                lead = rest.clone();
            }
        }
    }
}

/// Greedy word wrap on spaces; a word longer than `width` (a URL) stays
/// whole. Only U+0020 breaks: a no-break space or a zero-width non-joiner
/// (Persian) never does.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let n = word.chars().count();
        if len > 0 && len + 1 + n > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += n;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_as_text() {
        let md = "Dear **Ms** *Ode*,\n\n1. first\n2. second [site](https://example.org/a)\n\n- one\n- two\n\n<https://example.org/x>\n";
        let text = to_text(md);
        assert_eq!(
            text,
            "Dear Ms Ode,\n\n1. first\n2. second site (https://example.org/a)\n\n- one\n- two\n\nhttps://example.org/x\n"
        );
    }

    #[test]
    fn long_paragraphs_wrap_and_loose_items_hang() {
        let long = "word ".repeat(40);
        let text = to_text(&format!("{long}\n\n3. {long}\n\n4. short\n"));
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.contains("\n\n3. word"), "{text}");
        assert!(text.contains("\n   word"), "hanging indent: {text}");
        assert!(text.contains("\n\n4. short"), "{text}");
    }
}
