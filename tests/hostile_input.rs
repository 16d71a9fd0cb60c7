//! Hostile input, second pass (issue 23): what a contacts cell, a template
//! or a planted file can make repmail do. Files a cell names, the HTML
//! part, header lines, huge cells, and the files `log --export` and
//! `preview --out` write. Each test closes a class, through the CLI.

mod fixture;
mod support;

use std::path::Path;

use fixture::{stderr, stdout, Campaign};
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
    let config = fixture::smtp_config("attach", port, "security = \"none\"", fixture::FAST)
        .replace(
            "name = \"{{ first_name }} {{ last_name }}\"",
            "name = \"{{ first_name }} {{ last_name }}\"\nattachments_column = \"brief\"",
        );
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
        let config = fixture::CONFIG.replace(
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
