//! The one HTML sanitiser. Every HTML part — a Markdown letter's, an `html`
//! template's, a variant's — passes through [`html_part`] before it is
//! sent, written by `preview` or shown in the gallery, so what was reviewed
//! is what leaves.
//!
//! Policy (docs/design.md, "Hostile input: files, HTML, headers"): a letter
//! keeps text formatting, headings, lists, quotes, tables, `lang`/`dir`
//! (right-to-left letters), inline styles limited to text, colour, spacing
//! and borders, links to `http:`, `https:` and `mailto:`, and images only
//! from `cid:` (a part of the message) or `data:image/…`. Everything that
//! runs, loads or navigates is removed: `<script>`, `<iframe>`, `<object>`,
//! `<embed>`, `<form>`, `<meta>` (refresh), `<link>`, `<style>` blocks,
//! event handlers, CSS properties that can take `url()`, `javascript:` and
//! `data:` links, relative links and remote images.
//!
//! Built on ammonia's `Builder` (docs.rs/ammonia/4.2.5: `tags`,
//! `clean_content_tags`, `tag_attributes`, `generic_attributes`,
//! `url_schemes`, `url_relative(UrlRelative::Deny)`, `attribute_filter`,
//! `filter_style_properties`; read 2026-12-05). ammonia parses a fragment
//! the way a browser does (html5ever), so the document skeleton
//! (`<html>`, `<head>`, `<body>`) is repmail's own, written around the
//! cleaned fragment by [`html_part`].

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

use crate::config::Direction;

/// Elements a letter may use.
#[rustfmt::skip]
const TAGS: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code",
    "col", "colgroup", "dd", "del", "div", "dl", "dt", "em", "figcaption", "figure", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
];

/// Elements removed with everything inside them (their text is code, a
/// page title or a fallback, not part of the letter).
#[rustfmt::skip]
const GONE_WITH_CONTENT: &[&str] = &[
    "script", "style", "title", "iframe", "object", "noscript", "template", "textarea", "select",
    "noembed", "noframes", "xmp",
];

/// Attributes any element may carry.
const GENERIC: &[&str] = &["lang", "dir", "title", "style"];

/// Attributes of particular elements.
#[rustfmt::skip]
const PER_TAG: &[(&str, &[&str])] = &[
    ("a", &["href"]),
    ("img", &["src", "alt", "width", "height"]),
    ("ol", &["start", "type"]),
    ("ul", &["type"]),
    // `role="presentation"`: layout tables in mail, for screen readers.
    ("table", &["width", "border", "cellpadding", "cellspacing", "align", "bgcolor", "role"]),
    ("tr", &["align", "valign", "bgcolor"]),
    ("td", &["align", "valign", "width", "bgcolor", "colspan", "rowspan"]),
    ("th", &["align", "valign", "width", "bgcolor", "colspan", "rowspan", "scope"]),
    ("col", &["span", "width"]),
    ("colgroup", &["span", "width"]),
];

/// CSS properties kept in `style` attributes: none of them takes a
/// `url()` (no `background`, `background-image`, `list-style`,
/// `border-image`, `cursor`, `content`), so no style can fetch anything.
#[rustfmt::skip]
const STYLE: &[&str] = &[
    "color", "background-color", "font", "font-family", "font-size", "font-style",
    "font-weight", "font-variant", "line-height", "letter-spacing", "word-spacing",
    "text-align", "text-decoration", "text-indent", "text-transform", "vertical-align",
    "white-space", "direction", "unicode-bidi", "display", "width", "max-width", "min-width",
    "height", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left", "border",
    "border-top", "border-right", "border-bottom", "border-left", "border-color",
    "border-style", "border-width", "border-top-width", "border-right-width",
    "border-bottom-width", "border-left-width", "border-collapse", "border-spacing",
    "border-radius", "list-style-type",
];

static POLICY: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(GONE_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC.iter().copied().collect())
        .tag_attributes(
            PER_TAG
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect::<HashSet<_>>()))
                .collect(),
        )
        // Schemes any URL attribute may have; which one where is narrowed
        // by the filter below.
        .url_schemes(["http", "https", "mailto", "cid", "data"].into())
        // A relative link has nothing to be relative to in a letter.
        .url_relative(UrlRelative::Deny)
        .filter_style_properties(STYLE.iter().copied().collect())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .attribute_filter(|element, attribute, value| {
            let keep = match (element, attribute) {
                ("img", "src") => is_inline_image(value),
                (_, "href") => is_link(value),
                _ => true,
            };
            keep.then(|| value.into())
        });
    b
});

/// `http:`, `https:` or `mailto:` (never `javascript:`, `data:`, `cid:`).
fn is_link(url: &str) -> bool {
    let url = url.trim_start().to_ascii_lowercase();
    ["http:", "https:", "mailto:"]
        .iter()
        .any(|s| url.starts_with(s))
}

/// An image inside the message: `cid:` or a raster `data:` image (SVG can
/// carry scripts and links). A remote image is a tracking pixel to the
/// recipient's mail program: blocked by most, counted by spam filters.
fn is_inline_image(url: &str) -> bool {
    let url = url.trim_start().to_ascii_lowercase();
    url.starts_with("cid:")
        || ["png", "gif", "jpeg", "jpg", "webp"]
            .iter()
            .any(|t| url.starts_with(&format!("data:image/{t};")))
}

/// A cleaned HTML part and what the sanitiser took out of it, in words,
/// for `check` (empty when nothing was removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The complete HTML document as sent.
    pub html: String,
    /// What was removed, one short phrase each (`<script>`, "a remote
    /// image (`<img src=\"http…\">`)", "the `onerror` attribute"…).
    pub removed: Vec<String>,
}

/// Cleans `fragment` (the letter's body HTML) and writes it into repmail's
/// own document: `lang` and `dir` on `<html>`, the subject as its title.
pub fn html_part(fragment: &str, lang: Option<&str>, dir: Direction, title: &str) -> Cleaned {
    let clean = POLICY.clean(fragment).to_string();
    let removed = super::removed::describe(fragment, &clean);
    let dir = match dir {
        Direction::Ltr => "ltr",
        Direction::Rtl => "rtl",
    };
    let mut lang_attr = String::new();
    if let Some(l) = lang {
        lang_attr = format!(" lang=\"{}\"", attr(l));
    }
    let html = format!(
        "<!DOCTYPE html>\n<html{lang_attr} dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n<body style=\"margin:0;padding:0;background-color:#ffffff;\">\n\
         {clean}{}</body>\n</html>\n",
        attr(title),
        if clean.ends_with('\n') { "" } else { "\n" },
    );
    Cleaned { html, removed }
}

/// Escapes text for HTML content and double-quoted attributes.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
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
    out
}

/// The removals of a set of letters, counted, for one line of `check`.
pub fn summary(removed: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in removed {
        *counts.entry(r).or_default() += 1;
    }
    counts
        .iter()
        .map(|(what, n)| match n {
            1 => what.to_string(),
            n => format!("{what} ×{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> Cleaned {
        html_part(html, None, Direction::Ltr, "t")
    }

    fn body(c: &Cleaned) -> &str {
        let start = c.html.find("<body").unwrap();
        &c.html[start..]
    }

    #[test]
    fn what_runs_loads_or_navigates_is_removed_and_named() {
        for (input, gone, named) in [
            ("<p>a<script>alert(1)</script></p>", "alert", "<script>"),
            (
                "<iframe src=\"https://x.example\">f</iframe>",
                "x.example",
                "<iframe>",
            ),
            (
                "<object data=\"x.swf\"></object><embed src=\"y.swf\">",
                "swf",
                "<embed>",
            ),
            (
                "<form action=\"https://x.example\"><input name=a></form>",
                "action",
                "<form>",
            ),
            ("<img src=x onerror=\"alert(1)\">", "onerror", "`onerror`"),
            ("<p onclick=\"go()\">a</p>", "onclick", "`onclick`"),
            (
                "<meta http-equiv=\"refresh\" content=\"0;url=https://x.example\">",
                "refresh",
                "<meta",
            ),
            (
                "<p style=\"background:url(https://x.example/t.png);color:red\">a</p>",
                "url(",
                "`background`",
            ),
            (
                "<img src=\"http://x.example/t.png\">",
                "x.example",
                "remote image",
            ),
            (
                "<a href=\"javascript:alert(1)\">a</a>",
                "javascript",
                "link",
            ),
            ("<a href=\"data:text/html,<script>\">a</a>", "data:", "link"),
            ("<a href=\"cid:part\">a</a>", "cid:", "link"),
            ("<a href=\"page.html\">a</a>", "page.html", "link"),
            (
                "<img src=\"data:image/svg+xml,<svg onload=x>\">",
                "svg",
                "`src`",
            ),
            (
                "<img src=\"//pixel.example/o.gif\">",
                "pixel",
                "remote image",
            ),
            (
                "<link rel=stylesheet href=\"https://x.example/s.css\">",
                "s.css",
                "<link>",
            ),
            (
                "<style>p{background:url(https://x.example)}</style>",
                "x.example",
                "<style>",
            ),
        ] {
            let c = clean(input);
            assert!(!body(&c).contains(gone), "{input}: {}", c.html);
            assert!(
                c.removed.iter().any(|r| r.contains(named)),
                "{input}: {:?}",
                c.removed
            );
        }
    }

    #[test]
    fn a_letter_keeps_formatting_links_tables_and_direction() {
        let input = "<div lang=\"fa\" dir=\"rtl\" style=\"text-align:right;color:#1a1a1a\">\
            <p><strong>a</strong> <em>b</em> <bdi>c</bdi> <a href=\"https://example.org/r\">r</a> \
            <a href=\"mailto:x@example.org\">m</a></p>\
            <table border=\"1\" role=\"presentation\"><tr><td colspan=\"2\">t</td></tr></table>\
            <img src=\"cid:logo\" alt=\"logo\"><img src=\"data:image/png;base64,iVBORw0KGgo=\"></div>";
        let c = clean(input);
        assert!(c.removed.is_empty(), "{:?}", c.removed);
        for kept in [
            "lang=\"fa\" dir=\"rtl\"",
            "text-align:right",
            "<strong>a</strong>",
            "<bdi>c</bdi>",
            "href=\"https://example.org/r\"",
            "href=\"mailto:x@example.org\"",
            "<td colspan=\"2\">t</td>",
            "src=\"cid:logo\"",
            "src=\"data:image/png;base64,iVBORw0KGgo=\"",
        ] {
            assert!(c.html.contains(kept), "{kept}: {}", c.html);
        }
    }

    #[test]
    fn the_document_is_repmails_own() {
        let c = html_part(
            "<html dir=\"ltr\"><head><title>x</title></head><body>hi</body></html>",
            Some("fa"),
            Direction::Rtl,
            "a \"subject\"",
        );
        assert!(c
            .html
            .starts_with("<!DOCTYPE html>\n<html lang=\"fa\" dir=\"rtl\">"));
        assert!(c.html.contains("<title>a &quot;subject&quot;</title>"));
        assert!(c.html.contains(">\nhi\n</body>"), "{}", c.html);
        assert!(
            c.removed.is_empty(),
            "a skeleton is not a removal: {:?}",
            c.removed
        );
    }
}
