//! The offline half: `check`, `preview`, `init` on good and bad campaigns.

use crate::fixture;

use std::path::{Path, PathBuf};

use fixture::{config, files_with_ext, repmail, stderr, stdout, Campaign, CONTACTS, TEXT};
use mailparse::{addrparse_header, MailHeaderMap, ParsedMail};

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

/// Runs `check` and returns (exit code, stderr).
fn check(c: &Campaign) -> (i32, String) {
    let out = c.cmd(&["check"]).output().unwrap();
    (out.status.code().unwrap(), stderr(&out))
}

fn assert_check_fails(c: &Campaign, wanted: &[&str]) {
    let (code, err) = check(c);
    assert_eq!(code, 1, "stderr: {err}");
    for w in wanted {
        assert!(err.contains(w), "expected {w:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// Checks every structural property of a written message and returns it.
fn parse_eml(bytes: &[u8]) -> ParsedMail<'_> {
    let mail = mailparse::parse_mail(bytes).expect("a standard message");
    // Exactly one of each single-instance header: nothing injected or lost.
    for h in [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
    ] {
        assert_eq!(mail.headers.get_all_headers(h).len(), 1, "header {h}");
    }
    assert!(mail.headers.get_first_header("Bcc").is_none());
    mailparse::dateparse(&mail.headers.get_first_value("Date").unwrap()).expect("a valid Date");
    // Every leaf part decodes and the first (the plain text) is not empty.
    let mut leaves = vec![&mail];
    while let Some(first) = leaves.last().and_then(|m| m.subparts.first()) {
        leaves.push(first);
    }
    let text = leaves.last().unwrap();
    assert_eq!(text.ctype.mimetype, "text/plain");
    assert!(!text.get_body().expect("a decodable body").trim().is_empty());
    mail
}

fn single_mailbox(mail: &ParsedMail, header: &str) -> mailparse::SingleInfo {
    let h = mail.headers.get_first_header(header).unwrap();
    let list = addrparse_header(h).unwrap();
    assert_eq!(list.len(), 1, "{header}");
    match &list[0] {
        mailparse::MailAddr::Single(s) => s.clone(),
        other => panic!("{header} is a group: {other:?}"),
    }
}

fn domain(addr: &str) -> &str {
    addr.rsplit('@').next().unwrap()
}

#[test]
fn example_campaign_checks_clean() {
    let out = repmail()
        .arg("--config")
        .arg(example_config())
        .arg("check")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The contact-form-only row is reported, with its line; in the same
    // words on every such row, so they are one warning (issue 24, item 9).
    assert!(err.contains("representatives.csv:3: no address"), "{err}");
    assert!(err.contains("the office has a contact form"), "{err}");
    assert!(
        stdout(&out).contains("31 letters ready"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn example_preview_writes_standard_messages() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = repmail()
        .arg("--config")
        .arg(example_config())
        .args(["preview", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Expected values straight from the CSV, the way the templates use them.
    let csv_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contacts/representatives.csv");
    let mut rdr = csv::Reader::from_path(csv_path).unwrap();
    let mut expected = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let email = rec[7].trim().to_string();
        if email.is_empty() {
            continue;
        }
        let name = format!("{} {}", rec[1].trim(), rec[2].trim());
        let subject = format!(
            "Human rights first: a letter to {} {}",
            rec[0].trim(),
            rec[2].trim()
        );
        expected.push((email, name, subject));
    }
    let files = files_with_ext(out_dir.path(), "eml");
    assert_eq!(
        files.len(),
        expected.len(),
        "one .eml per addressable recipient"
    );

    let mut persian = 0;
    let mut accented = 0;
    for (email, name, subject) in &expected {
        let path = out_dir.path().join(format!("{}.eml", email.to_lowercase()));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mail = parse_eml(&bytes);
        assert_eq!(&mail.headers.get_first_value("Subject").unwrap(), subject);
        let to = single_mailbox(&mail, "To");
        assert_eq!(&to.addr, email);
        assert_eq!(to.display_name.as_deref(), Some(name.as_str()));
        let from = single_mailbox(&mail, "From");
        let mid = mail.headers.get_first_value("Message-ID").unwrap();
        assert!(mid.starts_with('<') && mid.ends_with('>'), "{mid}");
        assert_eq!(
            domain(mid.trim_end_matches('>')),
            domain(&from.addr),
            "Message-ID on the From domain"
        );
        if name.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c)) {
            persian += 1;
        }
        if name.chars().any(|c| "éúñëèçôåøá".contains(c)) {
            accented += 1;
        }
        // multipart/alternative with the personalised salutation in both.
        assert_eq!(mail.ctype.mimetype, "multipart/alternative");
        let text = mail.subparts[0].get_body().unwrap();
        assert!(
            text.contains(&format!("Dear {}", subject.rsplit("to ").next().unwrap())),
            "{text}"
        );
        assert_eq!(mail.subparts[1].ctype.mimetype, "text/html");
    }
    assert!(persian >= 3, "Persian names round-trip ({persian})");
    assert!(accented >= 3, "accented names round-trip ({accented})");
}

#[test]
fn preview_selects_one_recipient() {
    let c = Campaign::new();
    let out = c
        .cmd(&["preview", "--recipient", "JOSE.NUNEZ@example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("Subject: A letter to Representative Núñez"),
        "{s}"
    );
    assert!(s.contains("Dear Representative Núñez,"), "{s}");
    assert!(!s.contains("ann.smith"), "{s}");
}

#[test]
fn preview_limit() {
    let c = Campaign::new();
    let dir = c.path("out");
    let out = c
        .cmd(&["preview", "--limit", "2", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(files_with_ext(&dir, "eml").len(), 2);
}

#[test]
fn missing_email_column() {
    let c = Campaign::with(
        &config(),
        TEXT,
        b"title,first_name,last_name,state,mail\nSen.,A,B,C,a@example.org\n",
    );
    assert_check_fails(&c, &["contacts.csv:1", "no `email` column", "email_column"]);
}

#[test]
fn invalid_address_names_line() {
    let data = format!("{CONTACTS}Senator,Bad,Address,Ohio,bad.address.example.org\n");
    let c = Campaign::with(&config(), TEXT, data.as_bytes());
    assert_check_fails(
        &c,
        &[
            "contacts.csv:5",
            "bad.address.example.org",
            "not a valid email address",
        ],
    );
}

#[test]
fn duplicate_address_is_sent_once_and_reported() {
    let data = format!("{CONTACTS}Senator,Ann,Again,Vermont,ANN.SMITH@example.org\n");
    let c = Campaign::with(&config(), TEXT, data.as_bytes());
    // A warning per DESIGN.md: the campaign proceeds without the row…
    let (code, err) = check(&c);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: ") && err.contains("contacts.csv:5: duplicate address"),
        "{err}"
    );
    // …and `--strict` turns it into a failing check for careful users.
    let out = c.cmd(&["check", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let dir = c.path("out");
    c.cmd(&["preview", "--out", dir.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(files_with_ext(&dir, "eml").len(), 3);
}

#[test]
fn ragged_row_names_line() {
    let data = format!("{CONTACTS}Senator,Too,Many,Fields,x@example.org,extra\n");
    let c = Campaign::with(&config(), TEXT, data.as_bytes());
    assert_check_fails(
        &c,
        &[
            "contacts.csv:5",
            "6 fields",
            "header has 5",
            "double quotes",
        ],
    );
}

const WIN1252: &[u8] =
    b"title,first_name,last_name,state,email\nSenator,Jos\xe9,N\xfa\xf1ez,Texas,jose@example.org\n";

#[test]
fn windows_1252_without_encoding_suggests_the_key() {
    let c = Campaign::with(&config(), TEXT, WIN1252);
    assert_check_fails(&c, &["contacts.csv:2", "encoding = \"windows-1252\""]);
}

#[test]
fn windows_1252_with_encoding_works() {
    let config = config().replace("[contacts]\n", "[contacts]\nencoding = \"windows-1252\"\n");
    let c = Campaign::with(&config, TEXT, WIN1252);
    assert_eq!(check(&c).0, 0);
    let out = c.cmd(&["preview"]).output().unwrap();
    assert!(
        stdout(&out).contains("Dear Senator Núñez,"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn semicolon_separated_file_works() {
    let c = Campaign::with(&config(), TEXT, CONTACTS.replace(',', ";").as_bytes());
    let out = c.cmd(&["preview"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Dear Senator Smith,"));
    assert!(stdout(&out).contains("maryam@example.net"));
}

#[test]
fn unknown_config_key() {
    let config = config().replace("[contacts]\n", "[contacts]\nemial_column = \"email\"\n");
    let c = Campaign::with(&config, TEXT, CONTACTS.as_bytes());
    assert_check_fails(
        &c,
        &[
            "repmail.toml:12",
            "unknown key `emial_column` in [contacts] (did you mean `email_column`?)",
        ],
    );
}

#[test]
fn every_mistyped_key_and_bad_value_in_one_pass() {
    let config = config()
        .replace("[contacts]\n", "[contacts]\nemial_column = \"email\"\n")
        .replace("reply_to = ", "replyto = ")
        .replace("[vars]", "[rate]\nper_minute = \"fast\"\n\n[vars]");
    let c = Campaign::with(&config, TEXT, CONTACTS.as_bytes());
    assert_check_fails(
        &c,
        &[
            "3 problems in",
            "repmail.toml:9: unknown key `replyto` in [sender] (did you mean `reply_to`?)",
            "repmail.toml:12: unknown key `emial_column`",
            // Plain words, with the key, the value and what is expected
            // (issue 24, item 9).
            "repmail.toml:17: [rate] `per_minute = \"fast\"`: expected a whole number (0 or more), not text",
        ],
    );
}

#[test]
fn missing_required_key() {
    let config = config().replace(
        "subject = \"A letter to {{ title }} {{ last_name }}\"\n",
        "",
    );
    let c = Campaign::with(&config, TEXT, CONTACTS.as_bytes());
    assert_check_fails(
        &c,
        &["repmail.toml:", "missing field `subject`", "required"],
    );
}

#[test]
fn template_syntax_error() {
    let c = Campaign::with(&config(), "Dear {{ title }\n", CONTACTS.as_bytes());
    assert_check_fails(&c, &["letter.txt.tera", "syntax error", "line 1"]);
}

#[test]
fn undefined_variable_names_variable_template_and_line() {
    let c = Campaign::with(
        &config(),
        "Dear {{ title }},\n\n{{ district }}\n",
        CONTACTS.as_bytes(),
    );
    assert_check_fails(&c, &["letter.txt.tera:3", "`district`"]);
}

/// Issue 24, item 4: every typo of every template in one `check`, each
/// with its place and the closest column, not one per run.
#[test]
fn every_template_typo_comes_in_one_check_with_the_closest_column() {
    let config = config().replace(
        "{{ title }} {{ last_name }}\"",
        "{{ titel }} {{ last_name }}\"",
    );
    let c = Campaign::with(
        &config,
        "Dear {{ Title }} {{ lastname }},\n\n{% if district %}{{ district }}{% endif %}\n{{ organisation }}\n",
        CONTACTS.as_bytes(),
    );
    assert_check_fails(
        &c,
        &[
            "letter.txt.tera:1: `{{ Title }}`",
            "letter.txt.tera:1: `{{ lastname }}`",
            "did you mean `last_name`?",
            "letter.txt.tera:4: `{{ organisation }}`",
            "did you mean `organization`?",
            "`{{ titel }}`",
            "did you mean `title`?",
        ],
    );
    let (_, err) = check(&c);
    assert!(
        !err.contains("`district`"),
        "a guarded name is no typo: {err}"
    );
}

#[test]
fn line_breaks_in_a_name_cannot_inject_headers() {
    let data = "title,first_name,last_name,state,email\n\
                Senator,\"Ann\r\nBcc: victim@example.net\r\nX-Evil: 1\",Smith,\"Vermont\nSubject: spam\",ann@example.org\n";
    let config = config().replace(
        "{{ title }} {{ last_name }}\"",
        "{{ first_name }} {{ state }}\"",
    );
    let c = Campaign::with(&config, TEXT, data.as_bytes());
    let dir = c.path("out");
    let out = c
        .cmd(&["preview", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bytes = std::fs::read(dir.join("ann@example.org.eml")).unwrap();
    let mail = parse_eml(&bytes);
    assert!(mail.headers.get_first_header("X-Evil").is_none());
    assert_eq!(
        mail.headers.get_first_value("Subject").unwrap(),
        "A letter to Ann Bcc: victim@example.net X-Evil: 1 Vermont Subject: spam"
    );
    let to = single_mailbox(&mail, "To");
    assert_eq!(to.addr, "ann@example.org");
    assert_eq!(
        to.display_name.as_deref(),
        Some("Ann Bcc: victim@example.net X-Evil: 1 Smith")
    );
}

#[test]
fn missing_attachment_file() {
    let config = config().replace(
        "text = \"letter.txt.tera\"\n",
        "text = \"letter.txt.tera\"\nattachments = [\"letter.pdf\"]\n",
    );
    let c = Campaign::with(&config, TEXT, CONTACTS.as_bytes());
    assert_check_fails(&c, &["campaign.attachments", "letter.pdf"]);
}

#[test]
fn attachment_makes_multipart_mixed() {
    let config = config().replace(
        "text = \"letter.txt.tera\"\n",
        "text = \"letter.txt.tera\"\nattachments = [\"letter.pdf\"]\n",
    );
    let c = Campaign::with(&config, TEXT, CONTACTS.as_bytes());
    c.write("letter.pdf", b"%PDF-1.4 not really\n");
    let dir = c.path("out");
    c.cmd(&["preview", "--out", dir.to_str().unwrap()])
        .assert()
        .success();
    let bytes = std::fs::read(dir.join("ann.smith@example.org.eml")).unwrap();
    let mail = parse_eml(&bytes);
    assert_eq!(mail.ctype.mimetype, "multipart/mixed");
    assert_eq!(mail.subparts[1].ctype.mimetype, "application/pdf");
    assert_eq!(
        mail.subparts[1].get_body_raw().unwrap(),
        b"%PDF-1.4 not really\n"
    );
}

#[test]
fn empty_contacts_file() {
    let c = Campaign::with(&config(), TEXT, b"");
    assert_check_fails(&c, &["contacts.csv", "empty"]);
    let c = Campaign::with(&config(), TEXT, b"title,first_name,last_name,state,email\n");
    assert_check_fails(&c, &["contacts.csv", "no recipients"]);
}

#[test]
fn missing_config_file_says_what_to_do() {
    let out = repmail()
        .args(["--config", "/nonexistent/repmail.toml", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("repmail init"), "{}", stderr(&out));
}

#[test]
fn usage_error_exits_2() {
    let out = repmail()
        .args(["check", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_scaffolds_a_working_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new-campaign");
    repmail().arg("init").arg(&target).assert().success();
    let out = repmail()
        .current_dir(&target)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Its comments and the hints of its errors speak of its own file.
    let config = std::fs::read_to_string(target.join("repmail.toml")).unwrap();
    assert!(!config.contains("config.example"), "{config}");
    assert!(config.contains("#   repmail check "), "{config}");
    let broken = config
        .replace("\nname = ", "\nnmae = ")
        .replace("subject = ", "subjcet = ");
    std::fs::write(target.join("repmail.toml"), broken).unwrap();
    let out = repmail()
        .current_dir(&target)
        .arg("check")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("3 problems in repmail.toml"), "{err}");
    assert!(
        err.contains("(did you mean `name`?)") && err.contains("(did you mean `subject`?)"),
        "{err}"
    );
    assert!(!err.contains("config.example"), "{err}");
    std::fs::write(target.join("repmail.toml"), &config).unwrap();
    // A second init refuses and changes nothing.
    std::fs::write(target.join("templates/letter.md.tera"), "mine").unwrap();
    let out = repmail().arg("init").arg(&target).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(target.join("templates/letter.md.tera")).unwrap(),
        "mine"
    );
}

/// Issue 23: the inbox trusts a returned Message-ID as proof that a report
/// is about a letter, so a Message-ID must not be guessable: two renders of
/// the same letter differ in 128 random bits, and the right side is still
/// the sender's domain.
#[test]
fn message_ids_carry_a_random_part_on_the_senders_domain() {
    let c = Campaign::new();
    let mut ids = Vec::new();
    for dir in ["a", "b"] {
        let out = c.path(dir);
        c.cmd(&["preview", "--out", out.to_str().unwrap()])
            .assert()
            .success();
        let bytes = std::fs::read(out.join("ann.smith@example.org.eml")).unwrap();
        let mail = parse_eml(&bytes);
        ids.push(mail.headers.get_first_value("Message-ID").unwrap());
    }
    assert_ne!(ids[0], ids[1]);
    for id in &ids {
        let (left, right) = id
            .trim_start_matches('<')
            .trim_end_matches('>')
            .split_once('@')
            .unwrap();
        assert_eq!(right, "example.org", "{id}");
        let random = left.rsplit('.').next().unwrap();
        assert!(
            random.len() >= 24 && random.chars().all(|c| c.is_ascii_hexdigit()),
            "at least 96 random bits: {id}"
        );
    }
    // Same time and counter aside, the random parts differ.
    let tail = |id: &str| id.split('.').nth(2).unwrap().to_string();
    assert_ne!(tail(&ids[0]), tail(&ids[1]));
}

/// Issue 24, item 9: offices reached by their forms are one warning with
/// the list of lines, not a long warning per row; writing files, preview
/// prints no per-letter list.
#[test]
fn quiet_output_forms_said_once_and_preview_files_without_the_list() {
    let contacts = "title,first_name,last_name,state,email,contact_form\n\
        Senator,Ann,Smith,Vermont,ann.smith@example.org,\n\
        Senator,Bo,Lee,Ohio,,https://a.example.org/contact\n\
        Senator,Cy,Ray,Iowa,,https://b.example.org/form\n\
        Senator,Di,Fox,Utah,,https://c.example.org/write\n";
    let c = Campaign::with(&config(), TEXT, contacts.as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(
        err.matches("the office has a contact form").count(),
        1,
        "{err}"
    );
    assert!(err.contains("(the same at"), "{err}");
    let dir = c.path("out");
    let out = c
        .cmd(&["preview", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        !said.lines().any(|l| l.starts_with("line ")),
        "no per-letter list: {said}"
    );
    assert!(said.contains("wrote 1 .eml file"), "{said}");
}

/// Issue 24, item 10: completions and a man page from the same clap
/// definition.
#[test]
fn completions_and_man_page_are_printed() {
    let c = Campaign::with(&config(), TEXT, CONTACTS.as_bytes());
    let out = c.cmd(&["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(
        script.contains("_repmail()") && script.contains("--test-to"),
        "{script}"
    );
    let out = c.cmd(&["man"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.contains(".TH repmail 1") && page.contains("repmail\\-send(1)"),
        "{page}"
    );
    // A command's own page, with its options.
    let out = c.cmd(&["man", "send"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let send = stdout(&out);
    assert!(
        send.contains(".TH repmail-send 1") && send.contains("\\-\\-resend\\-unknown"),
        "{send}"
    );
    let out = c.cmd(&["man", "sned"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no command `sned`"),
        "{}",
        stderr(&out)
    );
    // Where man(1) is installed, it reads the page as the user would.
    if let Some(shown) = rendered_by_man(&page) {
        assert!(
            shown.contains("NAME") && shown.contains("repmail-send(1)"),
            "{shown}"
        );
    }
}

/// `page` as `man -l` shows it, or `None` where man(1) is not installed.
fn rendered_by_man(page: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("repmail.1");
    std::fs::write(&file, page).unwrap();
    let out = std::process::Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
