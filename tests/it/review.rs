//! `repmail log` over ledgers built by real sends to the loopback SMTP
//! server (tests/support): every figure checked against what the server
//! stored and what the ledger holds; export, HTML, filters, torn lines.

use crate::fixture;
use crate::support;

use std::collections::{BTreeMap, HashSet};

use chrono::SecondsFormat;
use fixture::{repmail, stderr, stdout, Campaign, TEXT};
use repmail::ledger::{Ledger, State, Status};
use serde_json::Value;
use support::{Fault, FaultPlan, ServerOptions, Stage, TestServer};

const LOG: &str = "logs/review-test.csv";

const CONTACTS: &str = "title,first_name,last_name,state,phone,email,contact_form\n\
Senator,Ann,Smith & Jones,Vermont,+1 555 0100,ann.smith@example.org,\n\
Representative,José,Núñez,Texas,+1 555 0101,jose.nunez@example.com,\n\
Senator,Bounce,Failed,Ohio,+1 555 0102,bounce@example.com,\n\
Senator,مریم,رضایی,California,,maryam@example.net,\n\
Representative,Busy,Deferred,Maine,\"+1 555 0103, ext. 4\",busy@example.net,https://busy.example.net/form\n\
Senator,Ben,Okafor,Utah,+1 555 0104,ben.okafor@house.test,\n\
Senator,Cleo,Park,Idaho,,Cleo.Park@House.test,\n";

/// Added after the run: one whose transaction "crashed" (a `sending` row
/// appended by hand) and one never attempted.
const LATER: &str = "Senator,Crash,Unknown,Iowa,,crash@house.test,\n\
Senator,Late,Never,Kansas,,late@example.org,\n";

const SENT: [&str; 5] = [
    "ann.smith@example.org",
    "jose.nunez@example.com",
    "maryam@example.net",
    "ben.okafor@house.test",
    "cleo.park@house.test",
];

fn config(port: u16) -> String {
    let rest =
        "[rate]\nper_minute = 6000\nburst = 100\n\n[retry]\nattempts = 1\nbackoff_secs = 0\n";
    fixture::CampaignFile::new("review-test")
        .loopback(port, "security = \"none\"")
        .sections(rest)
        .build()
}

/// Sends the campaign for real (550 for one recipient, 451 for another),
/// then simulates a crash mid-transaction for a third and adds a contact
/// that was never attempted.
fn sent_campaign() -> (TestServer, Campaign) {
    let server = TestServer::start(
        ServerOptions::plain()
            .with_fault(
                "bounce@example.com",
                FaultPlan::always(Stage::Rcpt, Fault::Reply(550)),
            )
            .with_fault(
                "busy@example.net",
                FaultPlan::always(Stage::Rcpt, Fault::Reply(451)),
            ),
    );
    let c = Campaign::with(&config(server.port()), TEXT, CONTACTS.as_bytes());
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "some failed or deferred: exit 3\nstdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(server.messages().len(), SENT.len());

    let now = chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut log = std::fs::read_to_string(c.path(LOG)).unwrap();
    log.push_str(&format!(
        "{now},review-test,crash@house.test,sending,1,,<crash.1@example.org>,\n"
    ));
    c.write(LOG, log.as_bytes());
    c.write("contacts.csv", format!("{CONTACTS}{LATER}").as_bytes());
    (server, c)
}

/// Runs `repmail --config C log ARGS`, expecting success, and checks the
/// ledger is byte-identical afterwards.
fn log(c: &Campaign, args: &[&str]) -> String {
    let before = std::fs::read(c.path(LOG)).ok();
    let mut all = vec!["log"];
    all.extend_from_slice(args);
    let out = c.cmd(&all).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        std::fs::read(c.path(LOG)).ok(),
        before,
        "log modified the ledger"
    );
    stdout(&out)
}

fn log_json(c: &Campaign, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&log(c, &all)).expect("log --format json is JSON")
}

/// A file in the campaign folder, as an argument (commands run elsewhere).
fn path_arg(c: &Campaign, rel: &str) -> String {
    c.path(rel).to_str().unwrap().to_string()
}

fn ledger(c: &Campaign) -> Ledger {
    Ledger::read(&c.path(LOG)).unwrap()
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn row<'a>(json: &'a Value, email: &str) -> &'a Value {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"].as_str().unwrap().eq_ignore_ascii_case(email))
        .unwrap_or_else(|| panic!("no row for {email}"))
}

#[test]
fn every_figure_matches_the_server_and_the_ledger() {
    let (server, c) = sent_campaign();
    let json = log_json(&c, &[]);
    let ledger = ledger(&c);
    let s = &json["summary"];

    // Counts by status: what the server stored, and the ledger's states.
    assert_eq!(s["sent"], server.messages().len());
    let states: Vec<State> = ledger
        .latest()
        .map(|e| e.state().expect("a delivery row"))
        .collect();
    for (word, state) in [
        ("sent", State::Sent),
        ("deferred", State::Deferred),
        ("failed", State::Failed),
        ("unknown", State::Unknown),
    ] {
        let n = states.iter().filter(|s| **s == state).count();
        assert_eq!(s[word], n, "{word}");
    }
    assert_eq!(
        (
            &s["sent"],
            &s["deferred"],
            &s["failed"],
            &s["unknown"],
            &s["never"]
        ),
        (&5.into(), &1.into(), &1.into(), &1.into(), &1.into())
    );
    assert_eq!(s["recipients"], 9);

    // Attempts: every `sending` row; the server saw one RCPT per attempt of
    // the run (the hand-written crash row never reached it).
    let sending = ledger
        .events()
        .iter()
        .filter(|e| e.status == Status::Sending)
        .count();
    assert_eq!(s["attempts"], sending);
    let rcpts: u32 = CONTACTS
        .lines()
        .skip(1)
        .map(|l| server.attempts(l.split(',').rev().nth(1).unwrap()))
        .sum();
    assert_eq!(sending, rcpts as usize + 1);

    // First and last event.
    let times: Vec<_> = ledger.events().iter().map(|e| e.time).collect();
    assert_eq!(s["first"], time(*times.iter().min().unwrap()));
    assert_eq!(s["last"], time(*times.iter().max().unwrap()));

    // By domain.
    let domains: BTreeMap<String, (u64, u64, u64)> = s["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap();
            (
                d["domain"].as_str().unwrap().to_string(),
                (n("recipients"), n("sent"), n("never")),
            )
        })
        .collect();
    let expected: BTreeMap<String, (u64, u64, u64)> = [
        ("example.org", (2, 1, 1)),
        ("example.com", (2, 1, 0)),
        ("example.net", (2, 1, 0)),
        ("house.test", (3, 2, 0)),
    ]
    .into_iter()
    .map(|(d, n)| (d.to_string(), n))
    .collect();
    assert_eq!(domains, expected);

    // Rows: every stored message is a `sent` row carrying its Message-ID
    // and the ledger's time; failures carry the server's code and reply.
    assert_eq!(json["rows"].as_array().unwrap().len(), 9);
    for m in server.messages() {
        let r = row(&json, &m.rcpts[0]);
        assert_eq!(r["status"], "sent");
        assert_eq!(r["message_id"], m.header("Message-ID").unwrap().as_str());
        let (_, event) = ledger.state(&m.rcpts[0]).unwrap();
        assert_eq!(r["time"], time(event.time));
        assert_eq!(r["smtp_code"], event.smtp_code.unwrap());
        assert_eq!(r["attempts"], 1);
    }
    for sent in SENT {
        assert_eq!(server.messages_to(sent).len(), 1, "{sent}");
    }
    let failed = row(&json, "bounce@example.com");
    assert_eq!(
        (&failed["status"], &failed["smtp_code"]),
        (&"failed".into(), &550.into())
    );
    assert!(failed["detail"]
        .as_str()
        .unwrap()
        .contains("injected fault"));
    let deferred = row(&json, "busy@example.net");
    assert_eq!(
        (&deferred["status"], &deferred["smtp_code"]),
        (&"deferred".into(), &451.into())
    );
    assert!(server.messages_to("bounce@example.com").is_empty());
    assert!(server.messages_to("busy@example.net").is_empty());
    let unknown = row(&json, "crash@house.test");
    assert_eq!(unknown["status"], "unknown");
    assert_eq!(unknown["message_id"], "<crash.1@example.org>");
    let never = row(&json, "late@example.org");
    assert_eq!(never["status"], "never");
    assert_eq!(
        (&never["time"], &never["attempt"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(row(&json, "jose.nunez@example.com")["name"], "José Núñez");

    // History: every ledger event, in order.
    let history = log_json(&c, &["--history"]);
    let rows = history["rows"].as_array().unwrap();
    assert_eq!(rows.len(), ledger.events().len());
    for (r, e) in rows.iter().zip(ledger.events()) {
        assert_eq!(r["status"], e.status.as_str());
        assert_eq!(r["time"], time(e.time));
        assert_eq!(r["email"], e.email.as_str());
    }
    assert_eq!(history["summary"], json["summary"]);
}

/// The numbers the table shows under `recipients`, by label.
fn table_counts(table: &str) -> BTreeMap<String, u64> {
    table
        .lines()
        .take_while(|l| !l.starts_with("DOMAIN"))
        .filter_map(|l| {
            let (label, value) = l.trim().rsplit_once(' ')?;
            Some((label.trim().to_string(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn json_counts_equal_the_tables() {
    let (_server, c) = sent_campaign();
    for filter in [
        &[][..],
        &["--status", "failed,never"],
        &["--status", "sent"],
    ] {
        let json = log_json(&c, filter);
        let table = log(&c, filter);
        let counts = table_counts(&table);
        let s = &json["summary"];
        for (label, key) in [
            ("recipients", "recipients"),
            ("sent", "sent"),
            ("deferred", "deferred"),
            ("failed", "failed"),
            ("unknown", "unknown"),
            ("never attempted", "never"),
            ("attempts", "attempts"),
        ] {
            assert_eq!(
                counts.get(label).copied(),
                s[key].as_u64(),
                "{label} in {filter:?}:\n{table}"
            );
        }
        // One table row per JSON row, after the header.
        let rows = table.lines().skip_while(|l| !l.starts_with("TIME")).skip(1);
        assert_eq!(rows.count(), json["rows"].as_array().unwrap().len());
    }
}

#[test]
fn export_round_trips_into_a_follow_up_campaign() {
    let (_server, c) = sent_campaign();
    let target = path_arg(&c, "follow-up.csv");
    let out = log(
        &c,
        &["--export", &target, "--status", "failed,deferred,unknown"],
    );
    assert!(out.contains("wrote 3 recipients"), "{out}");
    let exported = std::fs::read_to_string(c.path("follow-up.csv")).unwrap();
    let mut lines = exported.lines();
    assert_eq!(lines.next(), CONTACTS.lines().next(), "the original header");
    // Original rows, values and all (the quoted phone keeps its comma).
    assert!(exported.contains("Senator,Bounce,Failed,Ohio,+1 555 0102,bounce@example.com,\n"));
    assert!(exported.contains(
        "Representative,Busy,Deferred,Maine,\"+1 555 0103, ext. 4\",busy@example.net,https://busy.example.net/form\n"
    ));
    assert!(exported.contains("crash@house.test"));
    assert_eq!(lines.count(), 3);

    let follow_up = config(1)
        .replace("name = \"review-test\"", "name = \"review-follow-up\"")
        .replace("path = \"contacts.csv\"", "path = \"follow-up.csv\"");
    c.write("follow-up.toml", follow_up.as_bytes());
    let cmd = |args: &[&str]| {
        repmail()
            .arg("--config")
            .arg(c.path("follow-up.toml"))
            .args(args)
            .output()
            .unwrap()
    };
    let check = cmd(&["check", "--strict"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("3 letters ready"),
        "{}",
        stdout(&check)
    );
    let preview = cmd(&["preview"]);
    assert_eq!(preview.status.code(), Some(0), "{}", stderr(&preview));
    let listed: Vec<String> = stdout(&preview)
        .lines()
        .filter(|l| l.starts_with("line "))
        .map(String::from)
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    for (line, email) in
        listed
            .iter()
            .zip(["bounce@example.com", "busy@example.net", "crash@house.test"])
    {
        assert!(line.contains(email), "{line}");
    }

    // Without --status the export is everyone the letter has not reached.
    log(&c, &["--export", &path_arg(&c, "rest.csv")]);
    let rest = std::fs::read_to_string(c.path("rest.csv")).unwrap();
    assert_eq!(rest.lines().count(), 5, "{rest}");
    assert!(rest.contains("late@example.org"));
    assert!(!rest.contains("ann.smith@example.org"));

    // It never overwrites what it reads.
    let contacts = std::fs::read(c.path("contacts.csv")).unwrap();
    let ledger = std::fs::read(c.path(LOG)).unwrap();
    for target in ["contacts.csv", LOG] {
        for flag in ["--export", "--html"] {
            let out = c
                .cmd(&["log", flag, &path_arg(&c, target)])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{flag} {target}");
            assert!(stderr(&out).contains("choose another file name"));
        }
    }
    assert_eq!(std::fs::read(c.path("contacts.csv")).unwrap(), contacts);
    assert_eq!(std::fs::read(c.path(LOG)).unwrap(), ledger);
}

#[test]
fn a_torn_last_line_is_ignored_and_left_byte_identical() {
    let (_server, c) = sent_campaign();
    let before = log_json(&c, &[]);
    let mut bytes = std::fs::read(c.path(LOG)).unwrap();
    bytes.extend_from_slice(
        b"2030-01-01T00:00:00.000Z,review-test,late@example.org,sent,1,250,,2.0.0 Ok: que",
    );
    c.write(LOG, &bytes);

    let out = c.cmd(&["log", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("incomplete"), "{}", stderr(&out));
    assert_eq!(std::fs::read(c.path(LOG)).unwrap(), bytes, "byte-identical");
    let after: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(after["torn_tail"], true);
    assert_eq!(after["summary"], before["summary"]);
    assert_eq!(row(&after, "late@example.org")["status"], "never");
}

#[test]
fn a_log_alone_needs_no_campaign_file() {
    let (_server, c) = sent_campaign();
    let empty = tempfile::tempdir().unwrap();
    let out = repmail()
        .current_dir(empty.path())
        .args(["log", "--format", "json", "--log"])
        .arg(c.path(LOG))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let s = &json["summary"];
    assert_eq!(
        json["campaign"], "review-test",
        "named by the ledger's rows"
    );
    assert_eq!(json["contacts"], Value::Null);
    assert_eq!(s["never"], Value::Null, "unknowable without the contacts");
    assert_eq!(
        (&s["recipients"], &s["sent"], &s["unknown"]),
        (&8.into(), &5.into(), &1.into())
    );

    // Named explicitly but missing: a clear error.
    let missing = repmail()
        .current_dir(empty.path())
        .args(["log", "--log", "nowhere.csv"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no delivery log at nowhere.csv"),
        "{}",
        stderr(&missing)
    );

    // What needs the contacts says so.
    let never = repmail()
        .current_dir(empty.path())
        .args(["log", "--status", "never", "--log"])
        .arg(c.path(LOG))
        .output()
        .unwrap();
    assert_eq!(never.status.code(), Some(1));
    assert!(stderr(&never).contains("--config"), "{}", stderr(&never));
}

#[test]
fn the_html_report_is_complete_and_self_contained() {
    let (server, c) = sent_campaign();
    let target = path_arg(&c, "report.html");
    let out = log(&c, &["--html", &target]);
    assert!(
        out.contains(&format!("wrote the report to {target}")),
        "{out}"
    );
    let page = std::fs::read_to_string(c.path("report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // The letter: subject template and sender, escaped.
    assert!(page.contains("A letter to {{ title }} {{ last_name }}"));
    assert!(page.contains("Test Group &lt;letters@example.org&gt;"));
    // Every recipient with their outcome; names escaped.
    for email in SENT
        .iter()
        .chain(&["bounce@example.com", "busy@example.net"])
    {
        assert!(page.to_lowercase().contains(email), "{email}");
    }
    assert!(page.contains("Ann Smith &amp; Jones"));
    assert!(page.contains("never attempted"));
    assert!(page.contains("<svg"), "the timeline");
    assert!(page.contains(&format!(
        "<b>{}</b><span>sent</span>",
        server.messages().len()
    )));
    // Nothing to fetch: no script, no links, no external resources.
    for external in [
        "<script", "src=", "href=", "url(", "@import", "http://", "https://",
    ] {
        assert!(!page.contains(external), "{external}");
    }
}

#[test]
fn filters_narrow_the_rows() {
    let (_server, c) = sent_campaign();
    let csv = log(
        &c,
        &[
            "--format", "csv", "--status", "failed", "--status", "deferred",
        ],
    );
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time,email,name,status,attempt,attempts,smtp_code,message_id,detail,form")
    );
    let emails: HashSet<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(
        emails,
        HashSet::from(["bounce@example.com", "busy@example.net"])
    );

    let one = log_json(&c, &["--recipient", "CLEO.PARK@house.test", "--history"]);
    let statuses: Vec<&str> = one["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["sending", "sent"]);

    let future = log_json(&c, &["--since", "2999-01-01"]);
    assert_eq!(future["rows"].as_array().unwrap().len(), 0);
    assert_eq!(future["summary"]["recipients"], 0);

    let bad = c.cmd(&["log", "--status", "bouncing"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "usage error");
    assert!(
        stderr(&bad).contains("expected sent, deferred"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn before_any_send_everyone_is_never_attempted() {
    let c = Campaign::with(&config(25), TEXT, CONTACTS.as_bytes());
    let out = c.cmd(&["log", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing sent yet"),
        "{}",
        stderr(&out)
    );
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (&json["summary"]["never"], &json["summary"]["recipients"]),
        (&7.into(), &7.into())
    );
    assert!(!c.path(LOG).exists(), "reading creates nothing");
}

/// Offices without an address, between recipients: one with a form (its
/// URL hostile), one whose cell says so in words.
const WITH_OFFICES: &str = "title,first_name,last_name,state,phone,email,contact_form\n\
Senator,Ann,Smith,Vermont,,ann.smith@example.org,\n\
Senator,Harlan,<b>Wade</b>,Montana,,,https://wade.example.org/contact?a=1&b=<x>\n\
Senator,Nora,Absent,Ohio,,No email found,\n\
Senator,Ben,Okafor,Utah,,ben.okafor@house.test,\n";

#[test]
fn offices_without_an_address_stay_visible_in_every_review() {
    let server = TestServer::start(ServerOptions::plain());
    let c = Campaign::with(&config(server.port()), TEXT, WITH_OFFICES.as_bytes());
    let out = c.cmd(&["send", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 2, "nothing sent to the offices");

    let json = log_json(&c, &[]);
    let s = &json["summary"];
    assert_eq!(
        (&s["sent"], &s["form"], &s["unreachable"]),
        (&2.into(), &1.into(), &1.into())
    );
    assert_eq!(s["recipients"], 4);
    let domains: Vec<&str> = s["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains.len(), 2, "offices have no domain: {domains:?}");
    // In file order, with the form's URL.
    let rows = json["rows"].as_array().unwrap();
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sent", "form", "unreachable", "sent"]);
    assert_eq!(rows[1]["name"], "Harlan <b>Wade</b>");
    assert_eq!(
        rows[1]["form"],
        "https://wade.example.org/contact?a=1&b=<x>"
    );
    assert_eq!(rows[2]["form"], Value::Null);
    assert!(rows[2]["detail"]
        .as_str()
        .unwrap()
        .contains("contacts line 4"));

    // The table names them and counts them.
    let table = log(&c, &[]);
    let counts = table_counts(&table);
    assert_eq!(counts.get("contact form only"), Some(&1), "{table}");
    assert_eq!(counts.get("unreachable"), Some(&1), "{table}");
    assert!(table.contains("Harlan <b>Wade</b>"), "{table}");
    // `--status form` selects them alone.
    let only = log_json(&c, &["--status", "form"]);
    assert_eq!(only["rows"].as_array().unwrap().len(), 1);
    // CSV carries the form in its own column.
    let csv = log(&c, &["--format", "csv", "--status", "form"]);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .ends_with(",https://wade.example.org/contact?a=1&b=<x>"),
        "{csv}"
    );

    // The export includes them by default, in their place in the file.
    log(&c, &["--export", &path_arg(&c, "rest.csv")]);
    let rest = std::fs::read_to_string(c.path("rest.csv")).unwrap();
    let lines: Vec<&str> = rest.lines().collect();
    assert_eq!(lines.len(), 3, "{rest}");
    assert!(
        lines[1].starts_with("Senator,Harlan") && lines[2].starts_with("Senator,Nora"),
        "{rest}"
    );
    log(
        &c,
        &["--export", &path_arg(&c, "sent.csv"), "--status", "sent"],
    );
    let sent = std::fs::read_to_string(c.path("sent.csv")).unwrap();
    assert!(!sent.contains("Harlan"), "{sent}");

    // The HTML report shows them, the name escaped.
    log(&c, &["--html", &path_arg(&c, "report.html")]);
    let page = std::fs::read_to_string(c.path("report.html")).unwrap();
    assert!(
        page.contains("Harlan &lt;b&gt;Wade&lt;&#x2F;b&gt;")
            || page.contains("Harlan &lt;b&gt;Wade&lt;/b&gt;"),
        "the name, escaped"
    );
    assert!(!page.contains("<b>Wade</b>"));
    // The form as a link, escaped; counted in the summary.
    assert!(
        page.contains("<a href=\"https://wade.example.org/contact?a=1&amp;b=&lt;x&gt;\" rel=\"noopener noreferrer\">"),
        "{page}"
    );
    assert!(
        page.contains("<b>1</b><span>contact form only</span>"),
        "{page}"
    );
    assert!(page.contains("<b>1</b><span>unreachable</span>"), "{page}");
    assert_eq!(page.matches("href=").count(), 1, "one link: the form");
}

/// What the page shows of a text: the template engine's HTML escaping.
fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

#[test]
fn the_html_report_shows_each_letters_subject_as_the_server_got_it() {
    // Issue 24, item 9: the report showed the subject template
    // (`A letter to {{ title }} {{ last_name }}`), not what anyone got.
    let (server, c) = sent_campaign();
    let target = path_arg(&c, "report.html");
    log(&c, &["--html", &target]);
    let page = std::fs::read_to_string(c.path("report.html")).unwrap();
    assert!(
        page.contains("one per recipient, shown in each row"),
        "{page}"
    );
    let stored = server.messages();
    assert_eq!(stored.len(), SENT.len());
    for m in stored {
        let rcpt = m.rcpts[0].to_lowercase();
        let subject = m.header("Subject").expect("a Subject");
        let row = page
            .split("<tr>")
            .find(|r| r.to_lowercase().contains(&rcpt))
            .unwrap_or_else(|| panic!("no row for {rcpt}"));
        let shown = format!("Subject: {}</span>", html_escaped(&subject));
        assert!(row.contains(&shown), "{rcpt}: {shown}\n{row}");
    }
    // A subject every recipient shares is said once, at the top.
    let same = CONFIG_SAME_SUBJECT;
    let config = std::fs::read_to_string(c.config()).unwrap().replace(
        "subject = \"A letter to {{ title }} {{ last_name }}\"",
        same,
    );
    assert!(config.contains(same), "{config}");
    c.write("repmail.toml", config.as_bytes());
    log(&c, &["--html", &target]);
    let page = std::fs::read_to_string(c.path("report.html")).unwrap();
    assert!(
        page.contains("<dt>Subject</dt><dd>Human rights first, in every state"),
        "{page}"
    );
    assert!(!page.contains("Subject: Human"), "not repeated per row");
}

const CONFIG_SAME_SUBJECT: &str = "subject = \"Human rights first, in every state\"";
