//! Follow-up stages (issue 21) against the in-process SMTP server: who is
//! due, the thread headers, the boundary of `after_days`, a kill and a
//! resume, and the daily cap. Delivery logs whose letters went days ago are
//! written by hand: no test sleeps for days.

use crate::fixture;
use crate::support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use fixture::{
    ledger_text, rep_contacts, rep_email, rep_emails, stderr, stdout, Campaign, CampaignFile,
};
use repmail::ledger::{Event, Ledger, State, Status};
use support::{Fault, FaultPlan, ServerOptions, Stage, TestServer};

const STAGES: &str = r#"
[[followup]]
after_days = 10
text = "followup1.txt.tera"

[[followup]]
after_days = 7
subject = "Still waiting, {{ title }} {{ last_name }}"
text = "followup2.txt.tera"
"#;

const FOLLOWUP1: &str = "Dear {{ title }} {{ last_name }},\n\nI wrote to you on {{ first_sent_on }} and have not heard back.\n";
const FOLLOWUP2: &str =
    "Dear {{ title }} {{ last_name }},\n\nFirst on {{ first_sent_on }}, again on {{ previous_sent_on }}.\n";

const MAIN_LOG: &str = "logs/fu.csv";
const STAGE1_LOG: &str = "logs/fu.followup-1.csv";

fn campaign(server: &TestServer, rate: &str, n: usize) -> Campaign {
    let rest = format!("{rate}\n[retry]\nattempts = 2\nbackoff_secs = 0\n{STAGES}");
    let c = CampaignFile::new("fu")
        .loopback(server.port(), "security = \"none\"")
        .sections(&rest)
        .write(fixture::TEXT, rep_contacts(&rep_emails(n)).as_bytes());
    c.write("followup1.txt.tera", FOLLOWUP1.as_bytes());
    c.write("followup2.txt.tera", FOLLOWUP2.as_bytes());
    c
}

const FAST: &str = "[rate]\nper_minute = 60000\nburst = 1000\n";

fn ago(days: i64, seconds: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days) - chrono::Duration::seconds(seconds)
}

fn letter_id(stage: usize, i: usize) -> String {
    format!("<stage{stage}-rep{i}@example.org>")
}

/// The `sending` and `sent` rows of recipient `i`'s letter of `stage`,
/// accepted at `when`.
fn sent(stage: usize, i: usize, when: DateTime<Utc>) -> Vec<Event> {
    let e = rep_email(i);
    let mut sending = Event::new("fu", &e, Status::Sending, 1).with_message_id(letter_id(stage, i));
    sending.time = when - chrono::Duration::seconds(1);
    let mut sent = Event::new("fu", &e, Status::Sent, 1)
        .with_smtp_code(Some(250))
        .with_message_id(letter_id(stage, i))
        .with_detail("250 2.0.0 Ok");
    sent.time = when;
    vec![sending, sent]
}

fn answer(i: usize, status: Status, detail: &str) -> Event {
    let mut e = Event::new("fu", rep_email(i), status, 1)
        .with_message_id(letter_id(0, i))
        .with_detail(detail);
    e.time = ago(1, 0);
    e
}

fn write_log(c: &Campaign, rel: &str, rows: &[Event]) {
    c.write(rel, ledger_text(rows).as_bytes());
}

fn send(c: &Campaign, args: &[&str]) -> std::process::Output {
    fixture::send_yes(c, "unused", args)
}

fn stage_log(c: &Campaign, rel: &str) -> Ledger {
    Ledger::read(&c.path(rel)).unwrap()
}

#[test]
fn replied_and_bounced_get_no_follow_up_an_out_of_office_does_and_the_thread_is_kept() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 5);
    let mut rows: Vec<Event> = (0..5).flat_map(|i| sent(0, i, ago(11, 0))).collect();
    rows.push(answer(1, Status::Replied, "from rep1 thanks"));
    rows.push(answer(2, Status::AutoReplied, "out of office"));
    // A hard bounce matched by address only leaves rep3 `sent` in the
    // log: it must stop the chain all the same.
    rows.push(answer(
        3,
        Status::Bounced,
        "5.1.1 no such user (matched by address only)",
    ));
    write_log(&c, MAIN_LOG, &rows);
    let before = std::fs::read(c.path(MAIN_LOG)).unwrap();

    let out = send(&c, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    for (i, want) in [(0, 1), (1, 0), (2, 1), (3, 0), (4, 1)] {
        assert_eq!(
            server.messages_to(&rep_email(i)).len(),
            want,
            "rep{i}: {}",
            stdout(&out)
        );
    }
    let m = &server.messages_to(&rep_email(0))[0];
    assert_eq!(
        m.header("In-Reply-To").as_deref(),
        Some(letter_id(0, 0).as_str())
    );
    assert_eq!(
        m.header("References").as_deref(),
        Some(letter_id(0, 0).as_str())
    );
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Re: A letter to Senator Last0")
    );
    let body = String::from_utf8_lossy(m.message()).into_owned();
    let first = ago(11, 0).format("%Y-%m-%d").to_string();
    assert!(
        body.contains(&format!("I wrote to you on {first}")),
        "{body}"
    );

    // The first letter's log is read, never rewritten; the stage has its own.
    assert_eq!(std::fs::read(c.path(MAIN_LOG)).unwrap(), before);
    let stage1 = stage_log(&c, STAGE1_LOG);
    assert_eq!(stage1.state(&rep_email(0)).unwrap().0, State::Sent);
    assert!(stage1.state(&rep_email(1)).is_none());

    // Stage 2 is not due yet (stage 1 went just now); a second run sends
    // nothing more.
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 3);
    assert!(stdout(&out).contains("stage 2"), "{}", stdout(&out));
}

#[test]
fn the_second_stage_replies_to_the_first_follow_up_and_references_the_chain() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 2);
    let main: Vec<Event> = (0..2).flat_map(|i| sent(0, i, ago(30, 0))).collect();
    write_log(&c, MAIN_LOG, &main);
    // rep0 had its follow-up 8 days ago (due: 7), rep1 6 days ago (not yet).
    let mut stage1 = sent(1, 0, ago(8, 0));
    stage1.extend(sent(1, 1, ago(6, 0)));
    write_log(&c, STAGE1_LOG, &stage1);

    let out = send(&c, &["--stage", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 1, "{}", stdout(&out));
    let m = &server.messages_to(&rep_email(0))[0];
    assert_eq!(
        m.header("In-Reply-To").as_deref(),
        Some(letter_id(1, 0).as_str())
    );
    assert_eq!(
        m.header("References").as_deref(),
        Some(format!("{} {}", letter_id(0, 0), letter_id(1, 0)).as_str())
    );
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Still waiting, Senator Last0")
    );
    let body = String::from_utf8_lossy(m.message()).into_owned();
    assert!(
        body.contains(&format!("again on {}", ago(8, 0).format("%Y-%m-%d"))),
        "{body}"
    );
    let stage2 = stage_log(&c, "logs/fu.followup-2.csv");
    assert_eq!(stage2.state(&rep_email(0)).unwrap().0, State::Sent);
    assert!(stage2.state(&rep_email(1)).is_none());
}

#[test]
fn never_before_after_days_on_the_boundary_and_the_dry_run_says_when() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 2);
    // rep0: 10 days and a minute ago (due); rep1: a minute short of 10 days.
    let mut rows = sent(0, 0, ago(10, 60));
    rows.extend(sent(0, 1, ago(10, -60)));
    write_log(&c, MAIN_LOG, &rows);

    let dry = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let said = stdout(&dry);
    assert!(
        said.contains("stage 1 (10 days after the letter before): 1 due now"),
        "{said}"
    );
    assert!(said.contains("1 more become due, the next"), "{said}");
    assert!(
        said.contains(&format!("due later  line     3  {}", rep_email(1))),
        "{said}"
    );
    assert_eq!(server.messages().len(), 0, "a dry run sends nothing");

    let out = send(&c, &["--stage", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.messages_to(&rep_email(0)).len(), 1);
    assert_eq!(
        server.messages_to(&rep_email(1)).len(),
        0,
        "not before after_days"
    );
}

#[test]
fn a_follow_up_is_never_sent_twice_across_a_kill_and_a_resume() {
    let n = 8;
    let server = TestServer::start(ServerOptions::plain().with_fault(
        &rep_email(4),
        FaultPlan::first(1, Stage::DataEnd, Fault::Stall),
    ));
    let c = campaign(&server, "[rate]\nper_minute = 600\nburst = 1\n", n);
    let cfg = std::fs::read_to_string(c.config())
        .unwrap()
        .replace("timeout_secs = 2", "timeout_secs = 30");
    c.write("repmail.toml", cfg.as_bytes());
    let rows: Vec<Event> = (0..n).flat_map(|i| sent(0, i, ago(12, 0))).collect();
    write_log(&c, MAIN_LOG, &rows);

    let mut child = fixture::spawn_send(&c, false);
    assert!(support::wait_for(
        || server.attempts(&rep_email(4)) == 1,
        Duration::from_secs(20)
    ));
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(server.messages().len(), 4, "rep0..rep3 before the kill");
    assert_eq!(
        stage_log(&c, STAGE1_LOG).state(&rep_email(4)).unwrap().0,
        State::Unknown
    );

    let out = send(&c, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Issue 24, item 3: named at the start of the next run and after it,
    // with the command for its stage.
    let named = format!("1 letter may or may not have gone ({})", rep_email(4));
    let todo = format!(
        "send --stage 1 --resend-unknown --recipient {}`",
        rep_email(4)
    );
    assert!(
        stdout(&out).contains(&named) && stdout(&out).contains(&todo),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains(&named), "{}", stderr(&out));
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for i in 0..n {
        let want = usize::from(i != 4);
        assert_eq!(server.messages_to(&rep_email(i)).len(), want, "rep{i}");
    }
    // The command the hint gives sends it.
    let out = send(
        &c,
        &[
            "--stage",
            "1",
            "--resend-unknown",
            "--recipient",
            &rep_email(4),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.messages_to(&rep_email(4)).len(), 1);
}

#[test]
fn the_daily_cap_counts_follow_ups() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(
        &server,
        "[rate]\nper_minute = 60000\nburst = 100\ndaily_cap = 3\n",
        6,
    );
    // rep0..rep4 had the first letter 11 days ago; rep5 none yet.
    let rows: Vec<Event> = (0..5).flat_map(|i| sent(0, i, ago(11, 0))).collect();
    write_log(&c, MAIN_LOG, &rows);

    let out = send(&c, &["--stage", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("daily cap of 3 reached"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.messages().len(), 3);
    // The first letter to rep5 waits too: three follow-ups used the cap.
    let out = send(&c, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 3, "{}", stdout(&out));
    assert_eq!(server.messages_to(&rep_email(5)).len(), 0);
}

#[test]
fn check_renders_every_follow_up_and_names_the_stage_of_a_broken_one() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 2);
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    c.write("followup2.txt.tera", b"Dear {{ titel }},\n");
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let said = stderr(&out) + &stdout(&out);
    assert!(said.contains("follow-up stage 2:"), "{said}");
    assert!(said.contains("titel"), "{said}");
    std::fs::remove_file(c.path("followup1.txt.tera")).unwrap();
    let out = c.cmd(&["check"]).output().unwrap();
    let said = stderr(&out) + &stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("followup1.txt.tera"), "{said}");
}

#[test]
fn a_follow_up_run_counts_the_first_letters_of_the_last_24_hours() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(
        &server,
        "[rate]\nper_minute = 60000\nburst = 100\ndaily_cap = 3\n",
        5,
    );
    // rep0..rep2 are due; rep3 and rep4 had their first letter two hours
    // ago, which leaves one message of the cap.
    let mut rows: Vec<Event> = (0..3).flat_map(|i| sent(0, i, ago(11, 0))).collect();
    rows.extend((3..5).flat_map(|i| sent(0, i, ago(0, 7200))));
    write_log(&c, MAIN_LOG, &rows);
    let out = send(&c, &["--stage", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("daily cap of 3 reached"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn an_answer_to_a_follow_up_is_matched_by_its_references_and_ends_the_chain() {
    // A staff member (not the address written to) answers the follow-up;
    // their mail program keeps the thread's References.
    let reply = format!(
        "From: Chief of Staff <staff@example.org>\r\nTo: letters@example.org\r\n\
         Subject: Re: A letter to Senator Last0\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <answer-1@example.org>\r\nIn-Reply-To: {}\r\nReferences: {} {}\r\n\r\n\
         Thank you, the Senator has read your letters.\r\n",
        letter_id(1, 0),
        letter_id(0, 0),
        letter_id(1, 0)
    );
    an_answer_to_the_first_office_ends_its_chain(&reply);
}

/// A casework system that answers the follow-up with its own Message-ID
/// only (no References of the first letter), from another address: the
/// inbox knows the follow-up's Message-ID too, so the chain ends.
#[test]
fn an_answer_naming_only_the_follow_up_is_matched_and_ends_the_chain() {
    let reply = format!(
        "From: Casework <casework@office.example.net>\r\nTo: letters@example.org\r\n\
         Subject: Re: your letter\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <case-77@office.example.net>\r\nIn-Reply-To: {}\r\n\r\n\
         Your message has been logged as case 77.\r\n",
        letter_id(1, 0)
    );
    an_answer_to_the_first_office_ends_its_chain(&reply);
}

/// Two offices with their letter (30 days ago) and stage 1 (8 days ago);
/// `inbox` reads `reply`: it is recorded as the first office's answer, and
/// stage 2 goes only to the second office.
fn an_answer_to_the_first_office_ends_its_chain(reply: &str) {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 2);
    let main: Vec<Event> = (0..2).flat_map(|i| sent(0, i, ago(30, 0))).collect();
    write_log(&c, MAIN_LOG, &main);
    let stage1: Vec<Event> = (0..2).flat_map(|i| sent(1, i, ago(8, 0))).collect();
    write_log(&c, STAGE1_LOG, &stage1);
    c.write("mail/answer.eml", reply.as_bytes());
    let out = c
        .cmd(&[
            "inbox",
            "--from",
            c.path("mail/answer.eml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let main = stage_log(&c, MAIN_LOG);
    assert!(
        main.answer(&rep_email(0), Status::Replied).is_some(),
        "{}",
        stdout(&out)
    );
    let out = send(&c, &["--stage", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        server.messages_to(&rep_email(0)).len(),
        0,
        "answered: no stage 2"
    );
    assert_eq!(server.messages_to(&rep_email(1)).len(), 1);
}

#[test]
fn preview_shows_a_follow_up_replying_to_the_recorded_letter_or_a_stand_in() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 2);
    write_log(&c, MAIN_LOG, &sent(0, 0, ago(3, 0)));
    let dir = c.path("eml");
    let out = c
        .cmd(&["preview", "--stage", "1", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let read = |i: usize| {
        let path = fixture::files_with_ext(&dir, "eml")
            .into_iter()
            .find(|p| p.to_string_lossy().contains(&format!("rep{i}")))
            .unwrap();
        std::fs::read_to_string(path).unwrap()
    };
    let recorded = read(0);
    assert!(
        recorded.contains(&format!("In-Reply-To: {}", letter_id(0, 0))),
        "{recorded}"
    );
    assert!(
        recorded.contains("Subject: Re: A letter to Senator Last0"),
        "{recorded}"
    );
    let stand_in = read(1);
    assert!(
        stand_in.contains("In-Reply-To: <preview.stage-0@example.org>"),
        "{stand_in}"
    );
    let out = c.cmd(&["preview", "--stage", "3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has 2 follow-up stages"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn log_shows_each_stage_with_its_answers_and_a_recipients_chain() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 4);
    let mut main: Vec<Event> = (0..4).flat_map(|i| sent(0, i, ago(30, 0))).collect();
    let mut early = answer(0, Status::Replied, "thanks");
    early.time = ago(25, 0);
    main.push(early);
    main.push(answer(1, Status::Replied, "thanks after the follow-up"));
    write_log(&c, MAIN_LOG, &main);
    let stage1: Vec<Event> = (1..4).flat_map(|i| sent(1, i, ago(15, 0))).collect();
    write_log(&c, STAGE1_LOG, &stage1);

    let rep1 = rep_email(1);
    let out = c.cmd(&["log", "--recipient", &rep1]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("first             4 sent       1 answered  (25%)"),
        "{said}"
    );
    assert!(
        said.contains("follow-up 1       3 sent       1 answered  (33%)"),
        "{said}"
    );
    assert!(
        said.contains("follow-up 2       0 sent       0 answered  (-)"),
        "{said}"
    );
    let chain = format!(
        "{rep1}: first letter {} → follow-up 1 {} → answered {}",
        ago(30, 0).format("%Y-%m-%d"),
        ago(15, 0).format("%Y-%m-%d"),
        ago(1, 0).format("%Y-%m-%d")
    );
    assert!(said.contains(&chain), "{said}");
    // Data formats stay data.
    let out = c.cmd(&["log", "--format", "csv"]).output().unwrap();
    assert!(!stdout(&out).contains("by stage"), "{}", stdout(&out));
}

#[test]
fn the_report_shows_the_response_rate_of_each_stage() {
    let server = TestServer::start(ServerOptions::plain());
    let c = campaign(&server, FAST, 4);
    let mut main: Vec<Event> = (0..4).flat_map(|i| sent(0, i, ago(30, 0))).collect();
    let mut early = answer(0, Status::Replied, "thanks");
    early.time = ago(25, 0);
    main.push(early);
    main.push(answer(1, Status::Replied, "thanks after the follow-up"));
    write_log(&c, MAIN_LOG, &main);
    let stage1: Vec<Event> = (1..4).flat_map(|i| sent(1, i, ago(15, 0))).collect();
    write_log(&c, STAGE1_LOG, &stage1);
    let page = c.path("report.html");
    let out = c
        .cmd(&["log", "--html", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    for row in [
        "<tr><td>first letter</td><td>4</td><td>1</td><td>25.0%</td></tr>",
        "<tr><td>follow-up 1</td><td>3</td><td>1</td><td>33.3%</td></tr>",
        "<tr><td>follow-up 2</td><td>0</td><td>0</td><td>–</td></tr>",
    ] {
        assert!(html.contains(row), "{row} in {html}");
    }
}

/// Issue 24, item 4 (the newcomer's walk): a typo in a follow-up's letter
/// is in the same `check` as the first letter's, once, with its place and
/// the closest column, not once per row after the first letter is fixed.
#[test]
fn one_check_names_the_typos_of_the_letter_and_of_every_follow_up_once_each() {
    let config = format!(
        "{}\n[[followup]]\nafter_days = 7\ntext = \"followup.txt.tera\"\n",
        fixture::config()
    );
    let c = Campaign::with(
        &config,
        "Dear {{ lastname }},\n",
        fixture::CONTACTS.as_bytes(),
    );
    c.write(
        "followup.txt.tera",
        b"Dear {{ last_name }}, on {{ first_sent_on }}\n{{ organisation }} wrote.\n",
    );
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`lastname`") && err.contains("did you mean `last_name`"),
        "{err}"
    );
    let stage: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("follow-up stage 1"))
        .collect();
    assert_eq!(stage.len(), 1, "{err}");
    assert!(
        stage[0].contains("followup.txt.tera:2")
            && stage[0].contains("`organisation`")
            && stage[0].contains("did you mean `organization`"),
        "{err}"
    );
    // The thread's dates are the follow-up's own variables, not typos.
    assert!(!err.contains("first_sent_on"), "{err}");

    // With the letter fixed, the follow-up's typo is still said once.
    c.write("letter.txt.tera", b"Dear {{ last_name }},\n");
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("`organisation`").count(), 1, "{err}");
}
