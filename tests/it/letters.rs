//! Letters as people write them: one Markdown template making both parts,
//! a letter per language (right to left too), per-recipient attachments.
//! Every test reads the written `.eml` files back with mailparse.

use crate::fixture;

use std::collections::HashMap;

use fixture::{files_with_ext, stderr, stdout, Campaign, CampaignFile};
use mailparse::{MailHeaderMap, ParsedMail};

/// Markdown letters, a Persian variant, an attachment per row.
fn config() -> String {
    CampaignFile::new("letters")
        .letter("letter.md.tera")
        .campaign_lines("variant_by = \"language\"")
        .contacts_lines("attachments_column = \"brief\"")
        .sections(
            "[variant.fa]\nsubject = \"نامه‌ای به {{ last_name }}\"\nletter = \"letter.fa.md.tera\"",
        )
        .build()
}

const LETTER: &str = "Dear {{ title }} {{ last_name }},\n\n\
We ask you to act **now**, with *care*:\n\n\
1. Support the people of {{ state }}.\n\
2. Read [our report](https://example.org/report).\n\n\
- first point\n\
- second point\n\n\
{{ organization }}\n";

// "We want" with its zero-width non-joiner (U+200C), a Persian comma and
// full stop: none of them may be lost or reordered.
const LETTER_FA: &str = "{{ last_name }} گرامی،\n\nما می\u{200c}خواهیم **حقوق بشر** را در نظر بگیرید.\n\nلطفاً [پیشنهاد ما را بخوانید](https://example.org/proposal).\n\n{{ organization }}\n";

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn contacts() -> String {
    format!(
        "title,first_name,last_name,state,email,language,brief\n\
         Senator,Ann,Smith,Vermont,ann@example.org,,briefs/vt.txt\n\
         Senator,مریم,رضایی,California,maryam@example.net,fa,briefs/ca.txt\n\
         Senator,Jo,Kim,Ohio,jo@example.com,de,\n\
         Senator,Bob,\"{HOSTILE} *Sons*\",Texas,bob@example.com,,\n"
    )
}

fn campaign() -> Campaign {
    let c = Campaign::with(&config(), "", contacts().as_bytes());
    c.write("letter.md.tera", LETTER.as_bytes());
    c.write("letter.fa.md.tera", LETTER_FA.as_bytes());
    c.write("briefs/vt.txt", b"Vermont brief");
    c.write("briefs/ca.txt", b"California brief");
    c
}

/// Writes every letter with `preview --out` and returns them by address.
fn letters(c: &Campaign) -> HashMap<String, Vec<u8>> {
    let out = c
        .cmd(&["preview", "--out"])
        .arg(c.path("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    files_with_ext(&c.path("out"), "eml")
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(p).unwrap())
        })
        .collect()
}

/// Every leaf part: (MIME type, decoded body, attachment file name).
fn leaves(mail: &ParsedMail) -> Vec<(String, String, Option<String>)> {
    if mail.subparts.is_empty() {
        let disp = mail.get_content_disposition();
        return vec![(
            mail.ctype.mimetype.clone(),
            mail.get_body().unwrap().replace("\r\n", "\n"),
            disp.params.get("filename").cloned(),
        )];
    }
    mail.subparts.iter().flat_map(leaves).collect()
}

fn part(mail: &ParsedMail, mime: &str) -> String {
    leaves(mail)
        .into_iter()
        .find(|(m, _, file)| m == mime && file.is_none())
        .unwrap_or_else(|| panic!("no {mime} part"))
        .1
}

fn attachments(mail: &ParsedMail) -> Vec<(String, String)> {
    leaves(mail)
        .into_iter()
        .filter_map(|(_, body, file)| file.map(|f| (f, body)))
        .collect()
}

#[test]
fn markdown_makes_a_readable_text_part_and_a_styled_html_part() {
    let c = campaign();
    let all = letters(&c);
    let mail = mailparse::parse_mail(&all["ann@example.org"]).unwrap();
    assert_eq!(mail.ctype.mimetype, "multipart/mixed");
    let text = part(&mail, "text/plain");
    assert!(
        text.starts_with("Dear Senator Smith,\n\nWe ask you to act now, with care:\n"),
        "{text}"
    );
    assert!(!text.contains('*') && !text.contains("]("), "{text}");
    assert!(text.contains("\n1. Support the people of Vermont.\n2. Read our report (https://example.org/report).\n"), "{text}");
    assert!(text.contains("\n- first point\n- second point\n"), "{text}");

    let html = part(&mail, "text/html");
    assert!(
        html.contains("<strong>now</strong>, with <em>care</em>"),
        "{html}"
    );
    assert!(html.contains("<ol style="), "{html}");
    assert!(
        html.contains("<li style=\"margin:0 0 8px 0\">Support the people of Vermont.</li>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://example.org/report\""),
        "{html}"
    );
    assert!(html.contains("<ul style="), "{html}");
    assert!(html.contains("<p style="), "inline styles: {html}");
    for external in ["<link", "<img", "<script", "src=", "url("] {
        assert!(!html.contains(external), "{external} in {html}");
    }
}

#[test]
fn the_persian_variant_has_its_subject_direction_and_language() {
    let c = campaign();
    let all = letters(&c);
    let mail = mailparse::parse_mail(&all["maryam@example.net"]).unwrap();
    assert_eq!(
        mail.headers.get_first_value("Subject").unwrap(),
        "نامه\u{200c}ای به رضایی"
    );
    let html = part(&mail, "text/html");
    assert!(html.contains("<html lang=\"fa\" dir=\"rtl\">"), "{html}");
    assert!(
        html.contains("dir=\"rtl\" style="),
        "on the body's container too: {html}"
    );
    assert!(
        html.contains("می\u{200c}خواهیم <strong>حقوق بشر</strong> را"),
        "{html}"
    );
    let text = part(&mail, "text/plain");
    assert_eq!(
        text,
        "رضایی گرامی،\n\nما می\u{200c}خواهیم حقوق بشر را در نظر بگیرید.\n\n\
         لطفاً پیشنهاد ما را بخوانید (\u{2066}https://example.org/proposal\u{2069}).\n\nTest Group\n",
        "the URL is isolated so the Persian line reads in order (issue 24, item 8)"
    );
}

#[test]
fn an_empty_or_unknown_value_gets_the_default_letter_and_check_lists_them() {
    let c = campaign();
    let all = letters(&c);
    for who in ["ann@example.org", "jo@example.com"] {
        let mail = mailparse::parse_mail(&all[who]).unwrap();
        assert!(mail
            .headers
            .get_first_value("Subject")
            .unwrap()
            .starts_with("A letter to Senator"));
        let html = part(&mail, "text/html");
        assert!(
            html.contains("dir=\"ltr\"") && !html.contains("rtl"),
            "{who}: {html}"
        );
    }
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("letters by `language`:"), "{said}");
    assert!(said.contains("(default)    3"), "{said}");
    assert!(said.contains("fa           1"), "{said}");
    assert!(
        said.contains("no [variant.*] table (they got the default letter): `de` (1)"),
        "{said}"
    );
}

#[test]
fn a_name_with_markup_or_markdown_stays_literal_in_both_parts() {
    let c = campaign();
    let all = letters(&c);
    let mail = mailparse::parse_mail(&all["bob@example.com"]).unwrap();
    let text = part(&mail, "text/plain");
    assert!(
        text.starts_with(&format!("Dear Senator {HOSTILE} *Sons*,\n")),
        "{text}"
    );
    let html = part(&mail, "text/html");
    assert!(
        html.contains("Dear Senator &lt;img src=x onerror=alert(1)&gt; *Sons*,"),
        "{html}"
    );
    assert!(
        !html.contains("<img") && !html.contains("<em>Sons"),
        "{html}"
    );
    assert!(!html.contains("\\*"), "no stray backslashes: {html}");
}

#[test]
fn each_recipient_gets_their_own_attachment_and_no_other() {
    let c = campaign();
    let all = letters(&c);
    let got = |who: &str| attachments(&mailparse::parse_mail(&all[who]).unwrap());
    assert_eq!(
        got("ann@example.org"),
        [("vt.txt".to_string(), "Vermont brief".to_string())]
    );
    assert_eq!(
        got("maryam@example.net"),
        [("ca.txt".to_string(), "California brief".to_string())]
    );
    assert!(got("jo@example.com").is_empty());
    // Beside the campaign-wide attachment, not instead of it.
    let c = campaign();
    c.write("all.txt", b"for everyone");
    let config = config().replace("variant_by", "attachments = [\"all.txt\"]\nvariant_by");
    c.write("repmail.toml", config.as_bytes());
    let all = letters(&c);
    let names: Vec<String> = attachments(&mailparse::parse_mail(&all["ann@example.org"]).unwrap())
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(names, ["all.txt", "vt.txt"]);
}

fn check_fails(c: &Campaign, wanted: &[&str]) {
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for w in wanted {
        assert!(err.contains(w), "expected {w:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_missing_attachment_names_the_csv_line_and_the_file() {
    let c = campaign();
    std::fs::remove_file(c.path("briefs/ca.txt")).unwrap();
    check_fails(&c, &["contacts.csv:3", "briefs/ca.txt", "column `brief`"]);
    let out = c
        .cmd(&["preview", "--out"])
        .arg(c.path("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn large_attachments_are_a_warning() {
    let c = campaign();
    c.write("briefs/vt.txt", &vec![b'x'; 11 * 1024 * 1024]);
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("contacts.csv:2") && err.contains("11.0 MB"),
        "{err}"
    );
}

#[test]
fn bad_letter_keys_name_the_file_and_key() {
    let c = campaign();
    c.write(
        "repmail.toml",
        config()
            .replace(
                "letter = \"letter.md.tera\"",
                "letter = \"letter.md.tera\"\ntext = \"t.txt\"",
            )
            .as_bytes(),
    );
    check_fails(&c, &["repmail.toml", "campaign.letter", "remove `text`"]);

    c.write(
        "repmail.toml",
        config()
            .replace("letter = \"letter.fa.md.tera\"\n", "lang = \"fa\"\n")
            .as_bytes(),
    );
    check_fails(&c, &["repmail.toml", "variant.fa.letter", "no letter"]);

    c.write(
        "repmail.toml",
        config()
            .replace(
                "letter = \"letter.fa.md.tera\"",
                "letter = \"nope.md.tera\"",
            )
            .as_bytes(),
    );
    check_fails(&c, &["nope.md.tera", "cannot read template"]);

    c.write(
        "repmail.toml",
        config()
            .replace("variant_by = \"language\"\n", "")
            .as_bytes(),
    );
    check_fails(&c, &["campaign.variant_by"]);

    c.write(
        "repmail.toml",
        config()
            .replace("variant_by = \"language\"", "variant_by = \"lang\"")
            .as_bytes(),
    );
    check_fails(&c, &["contacts.csv:2", "no column `lang`"]);
}

#[test]
fn the_text_and_html_form_still_works_in_a_variant() {
    let c = campaign();
    let config = config().replace(
        "letter = \"letter.fa.md.tera\"",
        "text = \"fa.txt.tera\"\nhtml = \"fa.html.tera\"\ndirection = \"rtl\"",
    );
    c.write("repmail.toml", config.as_bytes());
    c.write("fa.txt.tera", "سلام {{ last_name }}\n".as_bytes());
    c.write(
        "fa.html.tera",
        "<p dir=\"rtl\">سلام {{ last_name }}</p>\n".as_bytes(),
    );
    let all = letters(&c);
    let mail = mailparse::parse_mail(&all["maryam@example.net"]).unwrap();
    assert_eq!(part(&mail, "text/plain"), "سلام رضایی\n");
    // The author's HTML inside repmail's document, with the variant's
    // direction (the one sanitiser passes every HTML part).
    let html = part(&mail, "text/html");
    assert!(
        html.contains("\n<p dir=\"rtl\">سلام رضایی</p>\n</body>"),
        "{html}"
    );
    assert!(html.contains("<html lang=\"fa\" dir=\"rtl\">"), "{html}");
    let bob = mailparse::parse_mail(&all["bob@example.com"]).unwrap();
    assert!(
        part(&bob, "text/html").contains("&lt;img"),
        "the default letter is still Markdown"
    );
}

/// Undoes the five escapes the page templates write.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn the_gallery_lists_every_letter_and_shows_each_one_inert() {
    let c = campaign();
    let dir = c.path("gallery");
    let out = c.cmd(&["preview", "--html"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("wrote a gallery of 4 letters"),
        "{}",
        stdout(&out)
    );
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(index.starts_with("<!DOCTYPE html>"));
    assert!(index.contains("default-src 'none'"), "{index}");
    // One row per letter, each linking to a page that exists.
    let links: Vec<&str> = index
        .split("<a href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(links.len(), 4, "{index}");
    assert_eq!(index.matches("<tr>").count(), 5, "header + 4 rows");
    for link in &links {
        assert!(dir.join(link).is_file(), "{link}");
    }
    assert!(
        index.contains("<td>fa</td>") && index.contains("<td>default (de)</td>"),
        "{index}"
    );
    assert!(index.contains("ca.txt"), "attachments listed");
    assert!(
        index.contains("&lt;img src=x onerror=alert(1)&gt; *Sons*"),
        "{index}"
    );

    let eml = letters(&c);
    for (i, link) in links.iter().enumerate() {
        let page = std::fs::read_to_string(dir.join(link)).unwrap();
        // Nothing runs and nothing is fetched: no markup from a value
        // anywhere, the letter only inside a sandboxed frame.
        for bad in [
            "<img",
            "<script",
            "onerror=alert(1)>",
            "http-equiv=\"refresh",
        ] {
            assert!(!page.contains(bad), "{bad} in {link}");
        }
        assert_eq!(page.matches("<iframe").count(), 1, "{link}");
        assert!(
            page.contains("<iframe class=\"letter\" sandbox=\"\""),
            "{link}"
        );
        let srcdoc = page.split("srcdoc=\"").nth(1).unwrap();
        let srcdoc = unescape(&srcdoc[..srcdoc.find('"').unwrap()]);
        assert!(srcdoc.starts_with(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"
        ));
        assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
        // The frame holds exactly the HTML part that would be sent.
        let to = page.split("<dt>To</dt><dd>").nth(1).unwrap();
        let to = unescape(&to[..to.find("</dd>").unwrap()]);
        let email = to
            .rsplit('<')
            .next()
            .unwrap()
            .trim_end_matches('>')
            .to_string();
        let mail = mailparse::parse_mail(&eml[&email]).unwrap();
        assert_eq!(
            srcdoc.split_once('\n').unwrap().1,
            part(&mail, "text/html"),
            "{link}"
        );
        assert!(page.contains("<pre class=\"text\" dir=\"auto\">"), "{link}");
        assert_eq!(page.contains("next &rarr;"), i + 1 < links.len(), "{link}");
    }
}

#[test]
fn the_example_letter_in_markdown_stays_faithful_to_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = fixture::repmail()
        .arg("--config")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"))
        .args([
            "preview",
            "--recipient",
            "e.whitcombe@senate.example.org",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bytes = std::fs::read(dir.path().join("e.whitcombe@senate.example.org.eml")).unwrap();
    let mail = mailparse::parse_mail(&bytes).unwrap();
    let text = part(&mail, "text/plain");
    assert!(
        text.starts_with("Dear Senator Whitcombe,\n\nAs a group of Iranian Social Democrats,"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n\n- Millions of Iranian people are currently held captive by the\n  authoritarian"
        ),
        "{text}"
    );
    assert!(
        text.contains("\n\n3. Human rights are the most important demand"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "observes Human Rights.\n\nSociety of Social Democracy for Iran\n\nDecember 20, 2020\n"
        ),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 72), "{text}");
    assert!(!text.contains('*') && !text.contains("<bdi>"), "{text}");
    let html = part(&mail, "text/html");
    assert!(
        html.contains("Dear Senator <bdi>Whitcombe</bdi>,"),
        "{html}"
    );
    assert_eq!(html.matches("<li ").count(), 6, "{html}");
    assert!(
        html.contains("<strong>Society of Social Democracy for Iran</strong>"),
        "{html}"
    );
}
