//! The kit as one self-contained HTML page: a Tera template with
//! autoescape, embedded in the binary; nothing is loaded from the network
//! (its Content-Security-Policy forbids it) and every value from the
//! contacts is escaped.

use std::io::{self, Write};

use serde::Serialize;

use super::Kit;

const TEMPLATE: &str = "forms.html";
const SOURCE: &str = include_str!("kit.html.tera");

#[derive(Serialize)]
struct Office<'a> {
    n: usize,
    line: u64,
    name: &'a str,
    form: &'a str,
    has_link: bool,
    link: &'a str,
    subject: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct Unreachable<'a> {
    line: u64,
    name: &'a str,
}

/// Writes the kit's page.
pub fn write_html(kit: &Kit, out: &mut dyn Write) -> io::Result<()> {
    let mut tera = tera::Tera::new();
    tera.add_raw_template(TEMPLATE, SOURCE)
        .map_err(|e| io::Error::other(format!("the forms page template: {e}")))?;
    tera.autoescape_on(vec![TEMPLATE]);
    let forms: Vec<Office> = kit
        .forms
        .iter()
        .enumerate()
        .map(|(i, f)| Office {
            n: i + 1,
            line: f.line,
            name: &f.name,
            form: &f.form,
            has_link: f.link.is_some(),
            link: f.link.as_deref().unwrap_or_default(),
            subject: &f.subject,
            text: &f.text,
        })
        .collect();
    let unreachable: Vec<Unreachable> = kit
        .unreachable
        .iter()
        .map(|u| Unreachable {
            line: u.line,
            name: &u.name,
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("campaign", &kit.campaign);
    ctx.insert("forms_count", &forms.len());
    ctx.insert("forms", &forms);
    ctx.insert("unreachable_count", &unreachable.len());
    ctx.insert("unreachable", &unreachable);
    let page = tera
        .render(TEMPLATE, &ctx)
        .map_err(|e| io::Error::other(format!("the forms page: {e}")))?;
    out.write_all(page.as_bytes())
}
