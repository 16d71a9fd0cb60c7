//! Hostile input, second pass (issue 23): what a contacts cell, a template
//! or a planted file can make repmail do. Files a cell names, the HTML
//! part, header lines, huge cells, and the files `log --export` and
//! `preview --out` write. Each test closes a class, through the CLI.

use crate::fixture;
use crate::support;

use std::path::Path;

use fixture::{stderr, stdout, Campaign, CampaignFile};
use support::{ServerOptions, TestServer};

const PASSWORD: &str = "hostile-input-Pa55word";

fn both(out: &std::process::Output) -> String {
    format!("{}\n{}", stdout(out), stderr(out))
}

// ---------------------------------------------------------------------------
// 1. A contacts cell names a file: only regular files inside the campaign
//    folder may be attached.

/// A campaign sending to `port` with `[contacts] attachments_column =
/// "brief"`; the second row's brief is `cell`, the first's a good file.
fn attaching(port: u16, cell: &str) -> Campaign {
    let config = CampaignFile::new("attach")
        .contacts_lines("attachments_column = \"brief\"")
        .loopback(port, "security = \"none\"")
        .sections(fixture::FAST)
        .build();
    let contacts = format!(
        "title,first_name,last_name,state,email,brief\n\
         Senator,Ann,Smith,Ohio,ann@example.org,briefs/ok.txt\n\
         Senator,Bo,Kim,Ohio,bo@example.org,{cell}\n"
    );
    let c = Campaign::with(&config, fixture::TEXT, contacts.as_bytes());
    c.write("briefs/ok.txt", b"our brief");
    c
}

/// `check` fails naming line 3 and the column, and says what to do.
fn check_refuses(c: &Campaign, why: &str) {
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    for want in ["contacts.csv:3", "column `brief`", why] {
        assert!(err.contains(want), "{want:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_cell_cannot_attach_files_outside_the_campaign_folder() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), PASSWORD).unwrap();
    for (cell, why) in [
        (
            "../../../../etc/passwd",
            "climbs out of the campaign folder",
        ),
        ("/etc/passwd", "is an absolute path"),
        ("/proc/self/environ", "is an absolute path"),
        ("leak.txt", "through a symbolic link"),
        ("environ", "through a symbolic link"),
        ("dir/secret.txt", "through a symbolic link"),
        ("briefs", "not a regular file"),
    ] {
        let c = attaching(1, cell);
        let link = |target: &Path, at: &str| {
            std::os::unix::fs::symlink(target, c.path(at)).unwrap();
        };
        link(&outside.path().join("secret.txt"), "leak.txt");
        link(Path::new("/proc/self/environ"), "environ");
        link(outside.path(), "dir");
        check_refuses(&c, why);
    }
}

#[test]
fn send_refuses_a_letter_with_an_escaping_attachment_before_anything_leaves() {
    let server = TestServer::start(ServerOptions::plain());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), PASSWORD).unwrap();
    let c = attaching(server.port(), "leak.txt");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), c.path("leak.txt")).unwrap();
    let out = fixture::send_yes(&c, PASSWORD, &[]);
    assert_ne!(out.status.code(), Some(0), "{}", both(&out));
    let err = stderr(&out);
    assert!(
        err.contains("contacts.csv:3") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(server.messages().is_empty(), "nothing sent, not even row 2");
    assert_eq!(server.connections(), 0, "no connection made");
    assert!(
        !both(&out).contains(PASSWORD),
        "the file's contents never shown"
    );
}

#[test]
fn the_campaigns_own_attachments_obey_the_same_rule() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), PASSWORD).unwrap();
    let secret = outside.path().join("secret.txt");
    for (listed, why) in [
        (secret.display().to_string(), "is an absolute path"),
        ("../x.txt".to_string(), "climbs out"),
        ("leak.txt".to_string(), "through a symbolic link"),
    ] {
        let c = Campaign::new();
        std::os::unix::fs::symlink(&secret, c.path("leak.txt")).unwrap();
        let config = fixture::config().replace(
            "text = \"letter.txt.tera\"",
            &format!("text = \"letter.txt.tera\"\nattachments = [\"{listed}\"]"),
        );
        c.write("repmail.toml", config.as_bytes());
        let out = c.cmd(&["check"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("campaign.attachments") && err.contains(why),
            "{why}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------
// 4. Every HTML part passes one sanitiser; `check` says what it removed.

/// A Markdown letter campaign over `contacts` (columns `email`, `name`,
/// `site`) with `letter` as its template.
fn markdown(letter: &str, contacts: &str) -> Campaign {
    let c = CampaignFile::new("html")
        .subject("A letter to {{ name }}")
        .letter("letter.md.tera")
        .contacts("path = \"contacts.csv\"\nname = \"{{ name }}\"")
        .vars("")
        .write("", contacts.as_bytes());
    c.write("letter.md.tera", letter.as_bytes());
    c
}

/// The decoded HTML part of each letter `preview --out` writes, by file
/// name (the address).
fn html_parts(c: &Campaign) -> std::collections::BTreeMap<String, String> {
    let dir = c.path("out");
    let out = c.cmd(&["preview", "--out"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    fixture::files_with_ext(&dir, "eml")
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let mail = mailparse::parse_mail(&bytes).unwrap();
            let html = mail
                .subparts
                .iter()
                .find(|m| m.ctype.mimetype == "text/html")
                .expect("an HTML part")
                .get_body()
                .unwrap();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), html)
        })
        .collect()
}

const HOSTILE_LETTER: &str = "Dear {{ name }},\n\n\
<script>alert('script')</script>\n\n\
<iframe src=\"https://frame.example/\"></iframe>\n\n\
<p onmouseover=\"alert('handler')\">Read this.</p>\n\n\
<meta http-equiv=\"refresh\" content=\"0;url=https://refresh.example/\">\n\n\
<p style=\"background-image:url(https://css.example/t.png);color:#333333\">Styled.</p>\n\n\
<img src=\"http://pixel.example/open.gif\" alt=\"\">\n\n\
Our **report** and <bdi>{{ name }}</bdi>.\n";

#[test]
fn raw_html_that_runs_or_fetches_never_reaches_the_html_part() {
    let c = markdown(HOSTILE_LETTER, "email,name\nann@example.org,Ann Smith\n");
    let html = &html_parts(&c)["ann@example.org"];
    for gone in [
        "<script",
        "alert(",
        "<iframe",
        "frame.example",
        "onmouseover",
        "<meta http-equiv=\"refresh",
        "refresh.example",
        "url(",
        "css.example",
        "pixel.example",
    ] {
        assert!(!html.contains(gone), "{gone} in:\n{html}");
    }
    for kept in [
        "<strong>report</strong>",
        "<bdi>Ann Smith</bdi>",
        "color:#333333",
        "Read this.",
    ] {
        assert!(html.contains(kept), "{kept} kept in:\n{html}");
    }

    // `check` names the template and each class, the remote image with
    // why it matters; it is a warning (the letter goes without them).
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    for want in [
        "warning: ",
        "contacts.csv:2",
        "`letter.md.tera`",
        "<script>",
        "<iframe>",
        "`onmouseover`",
        "<meta>",
        "`background-image`",
        "remote image",
        "blocked by most mail programs and counted by spam filters",
    ] {
        assert!(err.contains(want), "{want:?} in:\n{err}");
    }
    let strict = c.cmd(&["check", "--strict"]).output().unwrap();
    assert_eq!(strict.status.code(), Some(1), "{}", both(&strict));

    // The gallery frames exactly what is sent: nothing of the above.
    let dir = c.path("gallery");
    let out = c.cmd(&["preview", "--html"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let page = std::fs::read_to_string(dir.join("letters/00001.html")).unwrap();
    for gone in ["alert(", "pixel.example", "css.example", "frame.example"] {
        assert!(!page.contains(gone), "{gone} in the gallery:\n{page}");
    }
}

#[test]
fn a_contact_value_cannot_make_a_javascript_link() {
    let c = markdown(
        "Dear {{ name }}, see [your page]({{ site }}) and <a href=\"{{ site }}\">this</a>.\n",
        "email,name,site\n\
         ann@example.org,Ann,javascript:alert(1)\n\
         bo@example.org,Bo, JaVaScRiPt:alert(document.cookie)\n\
         cy@example.org,Cy,\"data:text/html;base64,PHNjcmlwdD4=\"\n\
         di@example.org,Di,\"x\"\" onclick=\"\"alert(1)\"\n",
    );
    for (who, html) in html_parts(&c) {
        let lower = html.to_ascii_lowercase();
        for bad in ["javascript:", "data:text"] {
            assert!(!lower.contains(bad), "{who}: {bad} in\n{html}");
        }
        // Di's quote cannot close the attribute: no tag gains a handler or
        // keeps the broken target (the words stay as text).
        for tag in lower.split('<').filter_map(|t| t.split('>').next()) {
            assert!(
                !tag.contains("onclick") && !tag.contains("href=\"x"),
                "{who}: <{tag}> in\n{html}"
            );
        }
    }
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("contacts.csv:2")
            && err.contains("a link that is not http:, https: or mailto:"),
        "{err}"
    );
}

#[test]
fn a_value_in_a_raw_html_attribute_of_a_markdown_letter_is_a_working_link() {
    let c = markdown(
        "Dear {{ name }}, see <a href=\"{{ site }}\">this</a> and [that]({{ site }}).\n",
        "email,name,site\nann@example.org,Ann,https://example.org/a/b?x=1&y=(2)\n",
    );
    let html = &html_parts(&c)["ann@example.org"];
    assert_eq!(
        html.matches("href=\"https://example.org/a/b?x=1&amp;y=(2)\"")
            .count(),
        2,
        "{html}"
    );
    assert!(!html.contains('\\') && !html.contains("&amp;#"), "{html}");
    let out = c.cmd(&["check"]).output().unwrap();
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn an_html_template_passes_the_same_sanitiser() {
    let c = Campaign::new();
    let config = fixture::config().replace(
        "text = \"letter.txt.tera\"",
        "text = \"letter.txt.tera\"\nhtml = \"letter.html.tera\"",
    );
    c.write("repmail.toml", config.as_bytes());
    c.write(
        "letter.html.tera",
        b"<html><head><style>p{background:url(https://css.example/)}</style></head>\
          <body><p>Dear {{ last_name }}</p><img src=\"https://pixel.example/o.gif\">\
          <script>alert(1)</script></body></html>",
    );
    let parts = html_parts(&c);
    let html = &parts["ann.smith@example.org"];
    assert!(html.contains("<p>Dear Smith</p>"), "{html}");
    for gone in ["css.example", "pixel.example", "alert("] {
        assert!(!html.contains(gone), "{gone} in\n{html}");
    }
    let err = stderr(&c.cmd(&["check"]).output().unwrap());
    assert!(
        err.contains("`letter.html.tera`")
            && err.contains("remote image")
            && err.contains("<style>"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// 10. Header lines stay within 998 octets; a huge cell is reported.

/// The header block of an RFC 5322 message.
fn head(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    &bytes[..end]
}

#[test]
fn a_long_name_and_subject_without_spaces_keep_every_header_line_short() {
    let name = "N".repeat(2000);
    let subject = "S".repeat(2000);
    let c = markdown(
        "Dear {{ name }},\n",
        &format!("email,name,subject\nann@example.org,{name},{subject}\n"),
    );
    let config = std::fs::read_to_string(c.config()).unwrap().replace(
        "subject = \"A letter to {{ name }}\"",
        "subject = \"{{ subject }}\"",
    );
    c.write("repmail.toml", config.as_bytes());
    let dir = c.path("out");
    let out = c.cmd(&["preview", "--out"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let bytes = std::fs::read(dir.join("ann@example.org.eml")).unwrap();
    for line in head(&bytes).split(|&b| b == b'\n') {
        assert!(
            line.len() <= 998,
            "a header line of {} octets: {}",
            line.len(),
            String::from_utf8_lossy(&line[..60])
        );
    }
    use mailparse::MailHeaderMap;
    let mail = mailparse::parse_mail(&bytes).unwrap();
    assert_eq!(mail.headers.get_first_value("Subject").unwrap(), subject);
    let to = mailparse::addrparse_header(mail.headers.get_first_header("To").unwrap()).unwrap();
    let mailparse::MailAddr::Single(to) = &to[0] else {
        panic!("{to:?}")
    };
    assert_eq!(to.display_name.as_deref(), Some(name.as_str()));
    assert_eq!(to.addr, "ann@example.org");
}

#[test]
fn a_huge_cell_is_a_warning_naming_its_line_and_column() {
    // 700 KB, used twice: the letter passes 1 MB (10 MB works the same,
    // slowly in a debug build).
    let big = "x".repeat(700 * 1024);
    let c = markdown(
        "Dear {{ name }},\n\n{{ note }}\n\n{{ note }}\n",
        &format!("email,name,note\nann@example.org,Ann,short\nbo@example.org,Bo,{big}\n"),
    );
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        err.contains("contacts.csv:3") && err.contains("column `note` holds 700 KB"),
        "{err}"
    );
    assert!(err.contains("this letter is"), "{err}");
    assert!(
        !err.contains("contacts.csv:2"),
        "the short row is fine: {err}"
    );
    let strict = c.cmd(&["check", "--strict"]).output().unwrap();
    assert_eq!(strict.status.code(), Some(1));
    // `send` shows it before asking (here: before the dry run's plan).
    let dry = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert!(
        stderr(&dry).contains("column `note` holds 700 KB"),
        "{}",
        both(&dry)
    );
}

// ---------------------------------------------------------------------------
// 12. What `log` and `preview` write never lands on the campaign's files,
//     and never goes through a link planted where it writes.

#[test]
fn log_export_refuses_the_delivery_log_under_another_name() {
    let c = Campaign::new();
    let log = c.path("logs/test-campaign.csv");
    c.write(
        "logs/test-campaign.csv",
        fixture::ledger_text(&fixture::sent_rows()).as_bytes(),
    );
    let before = std::fs::read(&log).unwrap();
    std::fs::hard_link(&log, c.path("hard.csv")).unwrap();
    std::os::unix::fs::symlink(&log, c.path("soft.csv")).unwrap();
    std::fs::hard_link(c.path("contacts.csv"), c.path("people.csv")).unwrap();
    for name in [
        "hard.csv",
        "soft.csv",
        "people.csv",
        "logs/../logs/test-campaign.csv",
    ] {
        for flag in ["--export", "--html"] {
            let out = c.cmd(&["log", flag]).arg(c.path(name)).output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{flag} {name}: {}", both(&out));
            assert!(
                stderr(&out).contains("choose another file name"),
                "{}",
                stderr(&out)
            );
        }
    }
    assert_eq!(std::fs::read(&log).unwrap(), before, "the log is untouched");
    assert_eq!(
        std::fs::read_to_string(c.path("contacts.csv")).unwrap(),
        fixture::CONTACTS
    );
    let out = c
        .cmd(&["log", "--export"])
        .arg(c.path("rest.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

#[test]
fn preview_replaces_a_link_planted_in_its_output_folder() {
    let c = Campaign::new();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("keep.txt");
    std::fs::write(&target, "keep").unwrap();
    let eml = c.path("out/ann.smith@example.org.eml");
    let page = c.path("gallery/letters/00001.html");
    for planted in [&eml, &page] {
        std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&target, planted).unwrap();
    }
    let out = c
        .cmd(&["preview", "--out"])
        .arg(c.path("out"))
        .arg("--html")
        .arg(c.path("gallery"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    for written in [&eml, &page] {
        let meta = std::fs::symlink_metadata(written).unwrap();
        assert!(meta.is_file(), "{} is a file of its own", written.display());
    }
    let letter = std::fs::read(&eml).unwrap();
    assert!(String::from_utf8_lossy(head(&letter)).contains("ann.smith@example.org"));
}
