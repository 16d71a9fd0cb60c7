//! HTML pages: the `log --html` report, the `preview --html` gallery and
//! the forms kit. Each page is a Tera template under `src/pages/templates/`
//! compiled into the binary, so a page's look changes by editing its
//! template, not Rust code.
//!
//! Every template ending in `.html` autoescapes: a value from a CSV file, a
//! log or a server reply can never add markup. Pages extend `base.html`,
//! which inlines the one shared stylesheet (`style.css`) and a
//! Content-Security-Policy that forbids loading anything, so opening a page
//! never touches the network. Page-specific rules go in the page's
//! `{% block style %}`.
//!
//! Adding a page: add `templates/NAME.html` (extending `base.html`), list
//! it in [`TEMPLATES`], add a [`Page`] variant, and pass the values it uses
//! in a [`Context`] to [`render`].

use std::sync::LazyLock;

pub use tera::Context;
use tera::{Tera, Value};

/// The shared stylesheet, inlined into every page by `base.html`.
pub const STYLESHEET: &str = include_str!("style.css");

/// Every template, by the name other templates `extend` or `include` it by.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("report.html", include_str!("templates/report.html")),
    ("forms.html", include_str!("templates/forms.html")),
    (
        "gallery_index.html",
        include_str!("templates/gallery_index.html"),
    ),
    (
        "gallery_letter.html",
        include_str!("templates/gallery_letter.html"),
    ),
];

/// A page repmail writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `repmail log --html`: the delivery report.
    Report,
    /// `repmail forms --html`: the kit for offices that take only a form.
    Forms,
    /// `repmail preview --html`: the index of every letter.
    GalleryIndex,
    /// `repmail preview --html`: one letter.
    GalleryLetter,
}

impl Page {
    /// The template that renders this page.
    pub fn template(self) -> &'static str {
        match self {
            Page::Report => "report.html",
            Page::Forms => "forms.html",
            Page::GalleryIndex => "gallery_index.html",
            Page::GalleryLetter => "gallery_letter.html",
        }
    }
}

/// A page could not be rendered: a value the template needs is missing or
/// of the wrong type. A bug in repmail, never in the user's files.
#[derive(Debug, thiserror::Error)]
#[error("cannot render the {page:?} page: {message}")]
pub struct PageError {
    /// The page.
    pub page: Page,
    /// Tera's error with its whole source chain.
    pub message: String,
}

impl From<PageError> for std::io::Error {
    fn from(e: PageError) -> Self {
        std::io::Error::other(e)
    }
}

static TERA: LazyLock<Tera> = LazyLock::new(|| {
    let mut tera = Tera::new();
    tera.autoescape_on([".html"]);
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .unwrap_or_else(|e| {
            panic!(
                "a page template does not compile: {}",
                crate::text::with_causes(e.to_string(), &e)
            )
        });
    // Safe: the stylesheet is ours, not user input; inlined verbatim.
    tera.global_context()
        .insert_value("stylesheet", Value::safe_string(STYLESHEET));
    tera.global_context().insert(
        "generator",
        &format!("repmail {}", env!("CARGO_PKG_VERSION")),
    );
    tera
});

/// Renders `page` with the values in `context`. Every string value is
/// HTML-escaped where the template prints it.
pub fn render(page: Page, context: &Context) -> Result<String, PageError> {
    TERA.render(page.template(), context)
        .map_err(|e| PageError {
            page,
            message: crate::text::with_causes(e.to_string(), &e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_the_stylesheet_cannot_close_its_element() {
        // Forces the LazyLock: a template that fails to compile panics here,
        // not in a user's `log --html`.
        assert!(TERA.get_template_names().count() >= TEMPLATES.len());
        assert!(!STYLESHEET.to_ascii_lowercase().contains("</style"));
        for forbidden in ["url(", "@import", "http:", "https:"] {
            assert!(
                !STYLESHEET.contains(forbidden),
                "{forbidden} in the stylesheet"
            );
        }
    }

    #[test]
    fn a_missing_value_is_an_error_not_an_empty_page() {
        let err = render(Page::Report, &Context::new()).unwrap_err();
        assert_eq!(err.page, Page::Report);
        assert!(!err.message.is_empty());
    }
}
