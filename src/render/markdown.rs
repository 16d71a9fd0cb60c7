//! A Markdown (CommonMark) letter → its two parts: plain text that reads
//! well as text (no `**`, lists numbered, links as "text (URL)", wrapped at
//! [`WIDTH`]) and an HTML body that mail clients render well (inline
//! styles only, nothing fetched: an image becomes a link), which then
//! passes the one sanitiser (`super::sanitise`) like every HTML part.
//!
//! Values reach the Markdown source through [`escape`], Tera's escape
//! function for letter templates: it writes every ASCII punctuation
//! character as a numeric character reference (`&#42;`), so the Markdown
//! parser itself prints a value as text. A name like `*Sons*` or
//! `<img src=x>` can add no structure in either part, and the HTML writer
//! below escapes all text. Unlike a backslash escape, a reference also
//! means the character inside the author's raw HTML (`<a href="{{ site
//! }}">`), where CommonMark passes text through untouched.

use std::io::{self, Write};

use crate::config::Direction;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub use super::plain::{to_text, WIDTH};

/// Tera escape function for Markdown letter templates. CommonMark:
/// numeric character references are recognised everywhere but code, and
/// "cannot be used in place of symbols indicating structure" (spec 0.31.2,
/// §2.5), so `&#42;` is always a literal `*`; in raw HTML the browser
/// decodes it the same way, in text and in attribute values alike (a
/// backslash escape would stay in a raw `href` as `https\:\/\/`). A run of
/// white space in a value becomes one space (a line break could start a
/// new block), and the value is trimmed (four leading spaces could start a
/// code block).
pub fn escape(input: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = String::with_capacity(input.len() + 8);
    for c in input.trim().chars() {
        match c {
            c if c.is_whitespace() && c != '\u{a0}' => {
                if !buf.ends_with(' ') {
                    buf.push(' ');
                }
            }
            c if c.is_ascii_punctuation() => {
                buf.push_str("&#");
                buf.push_str(&u32::from(c).to_string());
                buf.push(';');
            }
            c => buf.push(c),
        }
    }
    out.write_all(buf.as_bytes())
}

pub(super) fn parser(source: &str) -> Parser<'_> {
    Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH)
}

/// A line at least this long (in characters) is prose; see
/// [`keeps_breaks`].
pub const SHORT_LINE: usize = 60;

/// The line-break rule of Markdown letters (issue 24, item 6): a paragraph
/// (or list item) whose every line is shorter than [`SHORT_LINE`]
/// characters is a block written line by line — an address, a signature,
/// a list of names — and keeps its line breaks in both parts; a paragraph
/// with a longer line is prose wrapped in the editor, and is joined and
/// re-wrapped (CommonMark's own rule, spec 0.31.2 §6.8 "soft line
/// breaks"). A break is always kept where the author asks for it: two
/// spaces or `\` at the end of the line. `block` is the paragraph's
/// source; a value's escaped character (`&#46;`) counts as one.
pub(super) fn keeps_breaks(block: &str) -> bool {
    block.lines().count() > 1 && block.lines().all(|l| visible_len(l.trim()) < SHORT_LINE)
}

/// Characters a reader sees in a source line: a numeric reference
/// (`&#46;`, how [`escape`] writes a value's punctuation) is one.
fn visible_len(line: &str) -> usize {
    let mut n = 0;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let reference = rest.strip_prefix("&#").and_then(|r| {
            r.find(';')
                .filter(|&i| i > 0 && r[..i].bytes().all(|b| b.is_ascii_digit()))
        });
        rest = match reference {
            Some(i) => &rest[i + 3..],
            None => &rest[c.len_utf8()..],
        };
        n += 1;
    }
    n
}

/// Escapes text for HTML content and double-quoted attributes.
fn esc(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

const P: &str = "margin:0 0 16px 0;";
const LI: &str = "margin:0 0 8px 0;";
const QUOTE: &str =
    "margin:0 0 16px 0;padding:0 12px;border-color:#cccccc;border-style:solid;border-width:0;";
const CODE: &str = "font-family:Consolas,Menlo,monospace;font-size:14px;background-color:#f3f3f3;";
const BODY: &str = "max-width:640px;margin:0 auto;padding:24px 16px;font-family:Georgia,'Times New Roman',serif;font-size:16px;line-height:1.55;color:#1a1a1a;";

/// The HTML part, sanitised: see [`body_html`] and
/// [`super::sanitise::html_part`].
pub fn to_html(source: &str, lang: Option<&str>, dir: Direction, title: &str) -> String {
    super::sanitise::html_part(&body_html(source, lang, dir), lang, dir, title).html
}

/// The letter's body as HTML, before the sanitiser: a container with
/// `lang` and `dir` (some clients drop the `<html>` attributes) holding the
/// Markdown and the author's raw HTML.
pub fn body_html(source: &str, lang: Option<&str>, dir: Direction) -> String {
    let mut out = String::with_capacity(source.len() * 2 + 1024);
    let (dir_attr, side) = match dir {
        Direction::Ltr => ("ltr", "left"),
        Direction::Rtl => ("rtl", "right"),
    };
    let mut lang_attr = String::new();
    if let Some(l) = lang {
        lang_attr.push_str(" lang=\"");
        esc(l, &mut lang_attr);
        lang_attr.push('"');
    }
    out.push_str(&format!(
        "<div{lang_attr} dir=\"{dir_attr}\" style=\"{BODY}text-align:{side};\">\n"
    ));
    let list = format!("margin:0 0 16px 0;padding-{side}:24px;");
    let quote = format!("{QUOTE}border-{side}-width:3px;");
    let mut keep = false;
    for (event, range) in parser(source).into_offset_iter() {
        if matches!(event, Event::Start(Tag::Paragraph | Tag::Item)) {
            keep = keeps_breaks(&source[range]);
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str(&format!("<p style=\"{P}\">")),
                Tag::Heading { level, .. } => {
                    let size = match level {
                        HeadingLevel::H1 => 24,
                        HeadingLevel::H2 => 20,
                        _ => 17,
                    };
                    out.push_str(&format!(
                        "<{level} style=\"margin:0 0 12px 0;font-size:{size}px;line-height:1.3;\">"
                    ));
                }
                Tag::BlockQuote(_) => out.push_str(&format!("<blockquote style=\"{quote}\">")),
                Tag::CodeBlock(_) => out.push_str(&format!(
                    "<pre style=\"{P}{CODE}padding:8px;white-space:pre-wrap;\" dir=\"ltr\"><code>"
                )),
                Tag::List(None) => out.push_str(&format!("<ul style=\"{list}\">\n")),
                Tag::List(Some(1)) => out.push_str(&format!("<ol style=\"{list}\">\n")),
                Tag::List(Some(n)) => {
                    out.push_str(&format!("<ol start=\"{n}\" style=\"{list}\">\n"))
                }
                Tag::Item => out.push_str(&format!("<li style=\"{LI}\">")),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Link {
                    dest_url, title, ..
                }
                | Tag::Image {
                    dest_url, title, ..
                } => {
                    out.push_str("<a href=\"");
                    esc(&dest_url, &mut out);
                    out.push('"');
                    if !title.is_empty() {
                        out.push_str(" title=\"");
                        esc(&title, &mut out);
                        out.push('"');
                    }
                    out.push_str(" style=\"color:#1a4f8b;\">");
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("</p>\n"),
                TagEnd::Heading(level) => out.push_str(&format!("</{level}>\n")),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>\n"),
                TagEnd::CodeBlock => out.push_str("</code></pre>\n"),
                TagEnd::List(false) => out.push_str("</ul>\n"),
                TagEnd::List(true) => out.push_str("</ol>\n"),
                TagEnd::Item => out.push_str("</li>\n"),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Link | TagEnd::Image => out.push_str("</a>"),
                _ => {}
            },
            Event::Text(t) => esc(&t, &mut out),
            Event::Code(t) => {
                out.push_str(&format!("<code style=\"{CODE}\">"));
                esc(&t, &mut out);
                out.push_str("</code>");
            }
            // The template author's own markup (never a value's: values
            // are escaped before parsing); the sanitiser decides what stays.
            Event::Html(h) | Event::InlineHtml(h) => out.push_str(&h),
            Event::SoftBreak if !keep => out.push('\n'),
            Event::SoftBreak | Event::HardBreak => out.push_str("<br>\n"),
            Event::Rule => out
                .push_str("<hr style=\"border:0;border-top:1px solid #cccccc;margin:16px 0;\">\n"),
            _ => {}
        }
    }
    out.push_str("</div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(v: &str) -> String {
        let mut out = Vec::new();
        escape(v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Issue 24, item 6: a signature or an address keeps its lines in both
    /// parts; prose wrapped in the editor is joined.
    #[test]
    fn short_line_blocks_keep_their_breaks_and_prose_is_joined() {
        let org = escaped("Iranian Social Democrats, Inc.");
        let source = format!(
            "We would like to bring to your attention some important issues\nabout it.\n\n**{org}**\n5 December 2026\n\n1600 Main St.\nSpringfield, IL 62701\n"
        );
        let html = body_html(&source, None, Direction::Ltr);
        assert!(html.contains("issues\nabout it."), "{html}");
        assert!(!html.contains("issues<br>"), "{html}");
        assert!(
            html.contains("Inc.</strong><br>\n5 December 2026"),
            "{html}"
        );
        assert!(html.contains("1600 Main St.<br>\nSpringfield"), "{html}");
        let text = to_text(&source);
        assert!(text.contains("important issues about it.\n"), "{text}");
        assert!(text.contains("Inc.\n5 December 2026\n"), "{text}");
        assert!(
            text.contains("1600 Main St.\nSpringfield, IL 62701\n"),
            "{text}"
        );
    }

    #[test]
    fn html_has_styles_and_no_external_assets() {
        let html = to_html(
            "# T\n\n*a* **b** ![logo](https://example.org/l.png)\n",
            Some("en"),
            Direction::Ltr,
            "t",
        );
        assert!(html.contains("<em>a</em> <strong>b</strong>"), "{html}");
        assert!(html.contains("<h1 style="), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org/l.png\""),
            "{html}"
        );
    }

    #[test]
    fn escaped_values_stay_literal_in_both_parts() {
        for evil in [
            "<img src=x onerror=alert(1)>",
            "*Sons*",
            "**bold** _x_ `c`",
            "[link](https://evil.example)",
            "# Heading",
            "1. list",
            "- item",
            "&amp; &#60;",
            "a\n\n    code\n\n# h",
            "\\*back\\slash",
        ] {
            let md = format!("Dear {},\n", escaped(evil));
            let html = body_html(&md, None, Direction::Ltr);
            let text = to_text(&md);
            let flat = evil.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(text, format!("Dear {flat},\n"), "{evil}: {md}");
            let mut want = String::new();
            esc(&flat, &mut want);
            assert!(
                html.contains(&format!("<p style=\"{P}\">Dear {want},</p>")),
                "{evil}: {html}"
            );
        }
    }

    #[test]
    fn values_inside_the_authors_raw_html_stay_text_and_attributes_stay_whole() {
        let name = escaped("<img src=x onerror=alert(1)> & \"Sons\"");
        let site = escaped("https://example.org/a?b=1&c=2");
        let md = format!("<p>Dear {name}</p>\n\nSee <a href=\"{site}\">this</a>.\n");
        let html = body_html(&md, None, Direction::Ltr);
        assert!(
            html.contains("<p>Dear &#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;"),
            "{html}"
        );
        let part = to_html(&md, None, Direction::Ltr, "");
        assert!(!part.contains("<img"), "{part}");
        assert!(
            part.contains("Dear &lt;img src=x onerror=alert(1)&gt; &amp; \"Sons\""),
            "{part}"
        );
        assert!(
            part.contains("href=\"https://example.org/a?b=1&amp;c=2\""),
            "{part}"
        );
    }

    #[test]
    fn rtl_letters_carry_dir_and_lang_and_keep_zwnj() {
        let md = "سلام می\u{200c}خواهیم، *دوست*.\n";
        let html = to_html(md, Some("fa"), Direction::Rtl, "نامه");
        assert!(html.contains("<html lang=\"fa\" dir=\"rtl\">"), "{html}");
        assert!(html.contains("padding-right") || html.contains("text-align:right"));
        assert!(html.contains("می\u{200c}خواهیم، <em>دوست</em>."));
        assert_eq!(to_text(md), "سلام می\u{200c}خواهیم، دوست.\n");
    }
}
