//! `preview --mbox`: every letter in one mboxrd file, read back by a real
//! mbox reader (Python 3's `mailbox.mbox`) and compared with the `--out`
//! files byte for byte, apart from what differs between two renderings
//! (Date, Message-ID, MIME boundaries).

use crate::fixture;

use std::path::Path;
use std::process::Command;

use fixture::{config, files_with_ext, stderr, stdout, Campaign, CONTACTS};

/// Lines that an mbox must quote: a reader that does not would split the
/// letter in two, or lose a `>`.
const TEXT: &str = "Dear {{ title }} {{ last_name }},\n\nFrom the people of {{ state }}:\n>From a quoted line\n\nPlease put human rights first.\n\n{{ organization }}\n";
const HTML: &str =
    "<p>Dear {{ title }} {{ last_name }},</p>\n<p>From {{ state }}, with respect.</p>\n";

fn campaign() -> Campaign {
    let config = config().replace(
        "text = \"letter.txt.tera\"",
        "text = \"letter.txt.tera\"\nhtml = \"letter.html.tera\"",
    );
    let c = Campaign::with(&config, TEXT, CONTACTS.as_bytes());
    c.write("letter.html.tera", HTML.as_bytes());
    c
}

/// The reader: Python's `mailbox.mbox` splits the file; mboxrd unquoting
/// (one `>` off a `>…From ` line) and LF → CRLF give back the bytes as
/// sent. Writes message i to `dir/i.eml`; returns how many.
const READER: &str = r#"
import mailbox, re, sys
box = mailbox.mbox(sys.argv[1], create=False)
n = 0
for i, key in enumerate(box.keys()):
    raw = box.get_bytes(key)
    raw = re.sub(rb"(?m)^>(>*From )", rb"\1", raw)
    raw = raw.replace(b"\n", b"\r\n")
    open("%s/%d.eml" % (sys.argv[2], i), "wb").write(raw)
    n += 1
print(n)
"#;

fn read_mbox(mbox: &Path, dir: &Path) -> Vec<Vec<u8>> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(READER)
        .arg(mbox)
        .arg(dir)
        .output()
        .expect("python3 runs (it is on every machine this project supports)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    (0..n)
        .map(|i| std::fs::read(dir.join(format!("{i}.eml"))).unwrap())
        .collect()
}

/// The message with its Date and Message-ID values and its MIME
/// boundaries replaced by fixed text: what legitimately differs between
/// two renderings of the same letter.
fn masked(bytes: &[u8]) -> String {
    let s = String::from_utf8(bytes.to_vec()).expect("letters are UTF-8");
    let mut out = String::new();
    for line in s.split_inclusive("\r\n") {
        if line.starts_with("Date: ") {
            out.push_str("Date: (masked)\r\n");
        } else if line.starts_with("Message-ID: ") {
            out.push_str("Message-ID: (masked)\r\n");
        } else {
            out.push_str(line);
        }
    }
    let mut boundaries = Vec::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("boundary=\"") {
        let tail = &rest[i + 10..];
        let end = tail.find('"').unwrap();
        boundaries.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    for (i, b) in boundaries.iter().enumerate() {
        out = out.replace(b.as_str(), &format!("BOUNDARY{i}"));
    }
    out
}

fn to_of(masked: &str) -> String {
    masked
        .lines()
        .find(|l| l.starts_with("To: "))
        .unwrap()
        .to_string()
}

#[test]
fn every_letter_reads_back_identical_to_its_eml_file() {
    let c = campaign();
    let out_dir = tempfile::tempdir().unwrap();
    let read_dir = tempfile::tempdir().unwrap();
    let mbox = c.path("letters.mbox");

    let out = c
        .cmd(&["preview", "--mbox", mbox.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrote 3 letters to"),
        "{}",
        stderr(&out)
    );
    let out = c
        .cmd(&["preview", "--out", out_dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let from_mbox = read_mbox(&mbox, read_dir.path());
    let emls = files_with_ext(out_dir.path(), "eml");
    assert_eq!(from_mbox.len(), 3, "one message per recipient");
    assert_eq!(emls.len(), 3);
    let mut expected: Vec<String> = emls
        .iter()
        .map(|p| masked(&std::fs::read(p).unwrap()))
        .collect();
    expected.sort_by_key(|m| to_of(m));
    let mut got: Vec<String> = from_mbox.iter().map(|m| masked(m)).collect();
    got.sort_by_key(|m| to_of(m));
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            g.contains("\r\nFrom the people of"),
            "the From line survived"
        );
        assert!(g.contains("\r\n>From a quoted line"), "its > survived");
        assert!(g.contains("multipart/alternative"), "both parts");
        assert_eq!(g, e, "mbox message and .eml file differ");
    }
}

#[test]
fn limit_and_recipient_apply_and_dash_is_standard_output() {
    let c = campaign();
    let read_dir = tempfile::tempdir().unwrap();

    let out = c
        .cmd(&["preview", "--mbox", "-", "--limit", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("From letters@example.org "), "{text}");
    assert!(!text.contains("line "), "no summary lines in the mbox");
    let piped = c.path("piped.mbox");
    std::fs::write(&piped, &out.stdout).unwrap();
    assert_eq!(read_mbox(&piped, read_dir.path()).len(), 2);

    let mbox = c.path("one.mbox");
    let out = c
        .cmd(&[
            "preview",
            "--mbox",
            mbox.to_str().unwrap(),
            "--recipient",
            "JOSE.NUNEZ@example.com",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let one = read_mbox(&mbox, read_dir.path());
    assert_eq!(one.len(), 1);
    assert!(to_of(&masked(&one[0])).contains("<jose.nunez@example.com>"));
}

#[test]
fn an_mbox_that_cannot_be_created_names_the_file() {
    let c = campaign();
    let bad = c.path("no/such/folder/letters.mbox");
    let out = c
        .cmd(&["preview", "--mbox", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot create the mbox file")
            && stderr(&out).contains("letters.mbox"),
        "{}",
        stderr(&out)
    );
}
