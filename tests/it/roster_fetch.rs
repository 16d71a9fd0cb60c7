//! `repmail roster`: each publisher's layout served at its own paths by a
//! loopback HTTP server (`--url`), the file `check` then reads, the
//! faults (429 with Retry-After, 500s, a refused connection, a renamed
//! field), `roster update`, and `init --roster` followed by a dry run.

use crate::fixture;
use crate::support::http;

use std::path::Path;
use std::time::Duration;

use fixture::{repmail, stderr, stdout, Campaign, CampaignFile};
use http::{fixtures, publishers, Reply, Server};

/// A campaign over a roster file with nothing in `[contacts]` but the
/// path: the common columns are all a letter needs.
fn config() -> String {
    CampaignFile::new("roster")
        .subject("A letter to {{ salutation }}")
        .contacts("path = \"roster.csv\"")
        .vars("")
        .build()
}

const LETTER: &str = "Dear {{ salutation }},\n\nAs a member of the {{ chamber }} for {{ district }} ({{ party }}), {{ name }} ({{ title }} {{ given_name }} {{ family_name }}, {{ source }} {{ source_id }}) …\n";

/// `roster fetch SOURCE --url BASE --out FILE` in `dir`.
fn fetch(base: &str, source: &str, out: &Path) -> std::process::Output {
    repmail()
        .args(["roster", "fetch", source, "--url", base, "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// Fetches `source` from the fixtures into a campaign and runs `check`
/// on it; returns the campaign, the check's stdout and the server.
fn fetched_and_checked(source: &str) -> (Campaign, String, Server) {
    let server = Server::start(publishers);
    let c = Campaign::with(&config(), LETTER, b"");
    let out = fetch(&server.base, source, &c.path("roster.csv"));
    assert!(out.status.success(), "{}", stderr(&out));
    let check = c.cmd(&["check"]).output().unwrap();
    assert!(
        check.status.success(),
        "{}\n{}",
        stdout(&check),
        stderr(&check)
    );
    (c, stdout(&check), server)
}

fn read(c: &Campaign, rel: &str) -> String {
    std::fs::read_to_string(c.path(rel)).unwrap()
}

#[test]
fn open_states_letters_and_one_unreachable_with_names_intact() {
    let (c, check, server) = fetched_and_checked("openstates/il");
    assert!(
        check.contains("4 letters ready, 1 office unreachable (no address, no form), 0 errors"),
        "{check}"
    );
    assert_eq!(server.targets(), ["/people/current/il.csv"]);
    let hit = &server.hits()[0];
    assert!(hit.user_agent.starts_with("repmail/"), "{}", hit.user_agent);
    let csv = read(&c, "roster.csv");
    assert!(csv.starts_with("title,name,given_name,family_name,chamber,district,party,email,contact_form,source,source_id,salutation,"), "{csv}");
    // Byte for byte: accents (precomposed, as published) and Persian.
    for name in [
        "Aarón Ortíz",
        "Ángel Peña Ramírez",
        "مریم رضایی",
        "Partido Popular Democrático",
    ] {
        assert!(csv.contains(name), "{name} in {csv}");
    }
    assert!(csv.contains("Representative,مریم رضایی,مریم,رضایی,House of Representatives,21,Democratic,maryam@example.net,,openstates/il,ocd-person/00000000-0000-4000-8000-000000000003,Representative رضایی"), "{csv}");
    // The quoted address with commas is one field.
    assert!(
        csv.contains("\"3500 W. 47th St., Suite 2, Chicago, IL 60632\""),
        "{csv}"
    );
}

#[test]
fn us_congress_is_forms_only() {
    let (c, check, server) = fetched_and_checked("us-congress");
    assert!(
        check.contains("0 letters ready, 3 offices to reach by contact form, 1 office unreachable (no address, no form), 0 errors"),
        "{check}"
    );
    assert_eq!(
        server.targets(),
        ["/congress-legislators/legislators-current.csv"]
    );
    let csv = read(&c, "roster.csv");
    assert!(csv.contains("Senator,José Núñez,José,Núñez,Senate,TX,Republican,,https://www.nunez.senate.example/contact,us-congress,N000902,Senator Núñez"), "{csv}");
    assert!(csv.contains("\"Eric A. \"\"Rick\"\" Crawford\""), "{csv}");
    assert!(csv.contains("سارا احمدی"), "{csv}");
}

#[test]
fn uk_commons_pages_by_count_and_keeps_the_mp_without_email() {
    let (c, check, server) = fetched_and_checked("uk-commons");
    assert!(
        check.contains("21 letters ready, 1 office unreachable (no address, no form), 0 errors"),
        "{check}"
    );
    let targets = server.targets();
    let search = "/api/Members/Search?House=1&IsCurrentMember=true";
    assert_eq!(
        targets[..2],
        [
            format!("{search}&skip=0&take=20"),
            format!("{search}&skip=20&take=20")
        ]
    );
    // Then one contact request per MP, and nothing else.
    let contacts: Vec<String> = (9001..=9022)
        .map(|id| format!("/api/Members/{id}/Contact"))
        .collect();
    assert_eq!(targets[2..], contacts[..]);
    let csv = read(&c, "roster.csv");
    assert_eq!(csv.lines().count(), 23, "{csv}");
    // The Parliamentary office's address wins over the constituency's.
    assert!(csv.contains(",mp9001@parliament.example,"), "{csv}");
    assert!(!csv.contains("constituency@"), "{csv}");
    let unreachable: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",,,uk-commons,"))
        .collect();
    assert_eq!(unreachable.len(), 1, "{csv}");
    assert!(unreachable[0].contains("Morag Ross"), "{}", unreachable[0]);
    for name in [
        "Siân Jones",
        "Órla Begley",
        "Ní Chuilín",
        "نسرین کریمی",
        "Glyndŵr",
    ] {
        assert!(csv.contains(name), "{name}");
    }
    // Four requests a second at most: 24 requests take ~5.75 s.
    let hits = server.hits();
    let gaps: Vec<Duration> = hits.windows(2).map(|w| w[1].at - w[0].at).collect();
    // The client counts from the end of the previous answer, so even the
    // arrivals here are never closer than the rate allows.
    let shortest = gaps.iter().min().unwrap();
    assert!(*shortest >= Duration::from_millis(250), "{gaps:?}");
}

#[test]
fn canada_commons_follows_meta_next_at_its_rate() {
    let (c, check, server) = fetched_and_checked("canada-commons");
    assert!(
        check.contains("2 letters ready, 1 office unreachable (no address, no form), 0 errors"),
        "{check}"
    );
    assert_eq!(
        server.targets(),
        [
            "/representatives/house-of-commons/?limit=100",
            "/representatives/house-of-commons/?limit=2&offset=2"
        ]
    );
    let hits = server.hits();
    // Represent allows 60 requests a minute.
    assert!(hits[1].at - hits[0].at >= Duration::from_secs(1));
    let csv = read(&c, "roster.csv");
    for name in [
        "Élise Côté",
        "ليلى حداد",
        "Mississauga—Lakeshore",
        "Bloc Québécois",
    ] {
        assert!(csv.contains(name), "{name}");
    }
    assert!(csv.contains("https://www.ourcommons.example/Members/en/arjun-patel(90002)"));
}

/// A campaign folder with a previous roster file, for the faults.
fn with_previous() -> (Campaign, Vec<u8>) {
    let c = Campaign::with(
        &config(),
        LETTER,
        b"title,name,email\nMP,Old,old@example.org\n",
    );
    let before = std::fs::read(c.path("contacts.csv")).unwrap();
    (c, before)
}

/// Nothing but the previous file (no temporary files left either).
fn untouched(c: &Campaign, before: &[u8]) {
    assert_eq!(std::fs::read(c.path("contacts.csv")).unwrap(), before);
    assert!(!c.path("contacts.csv.roster.json").exists());
    let mut names: Vec<String> = std::fs::read_dir(c.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["contacts.csv", "letter.txt.tera", "repmail.toml"]);
}

#[test]
fn a_429_with_retry_after_is_waited_out() {
    let server = Server::start(|target, n| {
        if n == 0 {
            // Longer than the first backoff (1 s): only honouring the
            // header makes the gap this long.
            Reply::status(429).header("Retry-After", "3")
        } else {
            publishers(target, n)
        }
    });
    let (c, _) = with_previous();
    let out = fetch(&server.base, "openstates/il", &c.path("contacts.csv"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 429"), "{}", stderr(&out));
    let hits = server.hits();
    assert_eq!(hits.len(), 2);
    let gap = hits[1].at - hits[0].at;
    assert!(gap >= Duration::from_millis(2900), "{gap:?}");
    assert!(read(&c, "contacts.csv").contains("Aarón Ortíz"));
}

#[test]
fn a_retry_after_too_long_to_wait_ends_the_fetch_saying_so() {
    let server = Server::start(|_, _| Reply::status(503).header("Retry-After", "3600"));
    let (c, before) = with_previous();
    let started = std::time::Instant::now();
    let out = fetch(&server.base, "us-congress", &c.path("contacts.csv"));
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = stderr(&out);
    assert!(
        err.contains("answered HTTP 503 and asks to wait 3600 s; try again later"),
        "{err}"
    );
    assert_eq!(server.hits().len(), 1);
    untouched(&c, &before);
}

#[test]
fn two_500s_then_success() {
    let server = Server::start(|target, n| {
        if n < 2 {
            Reply::status(500)
        } else {
            publishers(target, n)
        }
    });
    let (c, _) = with_previous();
    let out = fetch(&server.base, "us-congress", &c.path("contacts.csv"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.hits().len(), 3);
    assert!(read(&c, "contacts.csv").contains("José Núñez"));
}

#[test]
fn a_500_that_stays_fails_and_writes_nothing() {
    let server = Server::start(|_, _| Reply::status(503));
    let (c, before) = with_previous();
    let out = fetch(&server.base, "us-congress", &c.path("contacts.csv"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("answered HTTP 503 after 4 tries"), "{err}");
    assert!(err.contains("Nothing was written"), "{err}");
    untouched(&c, &before);
}

#[test]
fn a_refused_connection_is_named_and_writes_nothing() {
    let base = http::refused_base();
    let (c, before) = with_previous();
    let out = fetch(&base, "openstates/il", &c.path("contacts.csv"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "openstates/il: cannot reach {base}/people/current/il.csv: connection refused"
        )),
        "{err}"
    );
    untouched(&c, &before);
}

#[test]
fn a_renamed_column_names_source_url_and_column() {
    let server = Server::start(|target, n| {
        let r = publishers(target, n);
        let text = String::from_utf8(r.body).unwrap();
        Reply::ok(text.replacen(",email,", ",e_mail,", 1))
    });
    let (c, before) = with_previous();
    let out = fetch(&server.base, "openstates/il", &c.path("contacts.csv"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("openstates/il: {}/people/current/il.csv: no `email` in the answer: the publisher changed its layout", server.base)),
        "{err}"
    );
    untouched(&c, &before);
}

#[test]
fn a_renamed_field_on_a_later_page_writes_nothing() {
    let server = Server::start(|target, n| {
        let r = publishers(target, n);
        if target.contains("offset=2") {
            let text = String::from_utf8(r.body).unwrap();
            Reply::ok(text.replace("\"district_name\"", "\"riding_name\""))
        } else {
            r
        }
    });
    let (c, before) = with_previous();
    let out = fetch(&server.base, "canada-commons", &c.path("contacts.csv"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("canada-commons: {}/representatives/house-of-commons/?limit=2&offset=2: no `district_name`", server.base)),
        "{err}"
    );
    untouched(&c, &before);
}

#[test]
fn the_file_is_replaced_not_rewritten_in_place() {
    // A reader that opened the old file (here: a second link to it) keeps
    // the old roster whole; writing in place would change it under them.
    let server = Server::start(publishers);
    let (c, before) = with_previous();
    std::fs::hard_link(c.path("contacts.csv"), c.path("reader.csv")).unwrap();
    let out = fetch(&server.base, "openstates/il", &c.path("contacts.csv"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(c.path("reader.csv")).unwrap(), before);
    assert!(read(&c, "contacts.csv").contains("Aarón Ortíz"));
}

/// The update fixture's campaign: the roster fetched from `il.csv`, a
/// delivery log with a letter sent, `[contacts] roster` set.
fn campaign_for_update() -> (Campaign, Server) {
    let server = Server::start(|target, n| {
        // The first fetch sees il.csv; every later one il-next.csv.
        if target == "/people/current/il.csv" && n > 0 {
            Reply::ok(std::fs::read(fixtures().join("openstates/il-next.csv")).unwrap())
        } else {
            publishers(target, n)
        }
    });
    let config = config().replace(
        "path = \"roster.csv\"",
        "path = \"roster.csv\"\nroster = \"openstates/il\"",
    );
    let c = Campaign::with(&config, LETTER, b"");
    let out = fetch(&server.base, "openstates/il", &c.path("roster.csv"));
    assert!(out.status.success(), "{}", stderr(&out));
    c.write(
        "logs/roster.csv",
        b"time,campaign,email,status,attempt,smtp_code,message_id,detail\n2026-12-01T10:00:00Z,roster,aaron.ortiz@example.org,sent,1,250,<1@example.org>,250 OK\n",
    );
    (c, server)
}

#[test]
fn update_shows_exactly_who_joined_left_and_moved_and_writes_only_when_asked() {
    let (c, server) = campaign_for_update();
    let roster = std::fs::read(c.path("roster.csv")).unwrap();
    let log = std::fs::read(c.path("logs/roster.csv")).unwrap();
    let out = c
        .cmd(&["roster", "update", "--url", &server.base])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let changes: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("left") || l.starts_with("joined") || l.starts_with("address"))
        .collect();
    let id = |n: u8| format!("ocd-person/00000000-0000-4000-8000-00000000000{n}");
    assert_eq!(
        changes,
        [
            format!(
                "left     Ángel Peña Ramírez (12) [{}]  angel.pena@example.com",
                id(2)
            ),
            format!(
                "left     Wilma Preston (16) [{}]  wilma.preston@example.org",
                id(5)
            ),
            format!(
                "address  مریم رضایی (21) [{}]  maryam@example.net -> maryam.rezaei@example.net",
                id(3)
            ),
            format!(
                "joined   Zoë Lindqvist (At-Large) [{}]  zoe.lindqvist@example.org",
                id(6)
            ),
        ],
        "{text}"
    );
    assert!(
        text.contains("1 joined, 2 left, 1 changed address"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(c.path("roster.csv")).unwrap(),
        roster,
        "written without --write"
    );

    let out = c
        .cmd(&["roster", "update", "--write", "--url", &server.base])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = read(&c, "roster.csv");
    assert!(csv.contains("Zoë Lindqvist") && csv.contains("maryam.rezaei@example.net"));
    assert!(!csv.contains("Wilma Preston") && !csv.contains("Ángel"));
    assert_eq!(std::fs::read(c.path("logs/roster.csv")).unwrap(), log);
    // The campaign reads the new roster, and the sent letter stays sent.
    let dry = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert!(dry.status.success(), "{}", stderr(&dry));
    let plan = stdout(&dry);
    assert!(plan.contains("zoe.lindqvist@example.org"), "{plan}");
    // Nothing changed since: a second update says so.
    let again = c
        .cmd(&["roster", "update", "--url", &server.base])
        .output()
        .unwrap();
    assert!(
        stdout(&again).contains("0 joined, 0 left, 0 changed address"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn check_warns_when_the_roster_is_a_month_old() {
    let (c, _server) = campaign_for_update();
    let fresh = c.cmd(&["check"]).output().unwrap();
    assert!(!stderr(&fresh).contains("days ago") && !stdout(&fresh).contains("days ago"));
    let state = read(&c, "roster.csv.roster.json");
    let old = (chrono_now_minus_days(31)).to_string();
    let mut v: serde_json::Value = serde_json::from_str(&state).unwrap();
    v["fetched"] = serde_json::Value::String(old);
    c.write("roster.csv.roster.json", v.to_string().as_bytes());
    let stale = c.cmd(&["check"]).output().unwrap();
    let all = format!("{}{}", stdout(&stale), stderr(&stale));
    assert!(
        all.contains("the roster `openstates/il` was fetched 31 days ago"),
        "{all}"
    );
    assert!(all.contains("repmail roster update"), "{all}");
}

/// RFC 3339 time `days` days (and a minute) ago.
fn chrono_now_minus_days(days: i64) -> String {
    let at = chrono::Utc::now() - chrono::Duration::days(days) - chrono::Duration::minutes(1);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn init_with_a_roster_then_a_dry_run() {
    let server = Server::start(publishers);
    let dir = tempfile::tempdir().unwrap();
    let campaign = dir.path().join("letters");
    let out = repmail()
        .arg("init")
        .arg(&campaign)
        .args(["--roster", "openstates/il", "--url", &server.base])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let config = campaign.join("repmail.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("path = \"contacts/openstates-il.csv\"\n"),
        "{text}"
    );
    assert!(text.contains("\nroster = \"openstates/il\"\n"), "{text}");
    let dry = repmail()
        .arg("--config")
        .arg(&config)
        .args(["send", "--dry-run"])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}\n{}", stdout(&dry), stderr(&dry));
    let plan = stdout(&dry);
    assert!(plan.contains("aaron.ortiz@example.org"), "{plan}");
    let preview = repmail()
        .arg("--config")
        .arg(&config)
        .args(["preview", "--limit", "1"])
        .output()
        .unwrap();
    assert!(preview.status.success(), "{}", stderr(&preview));
    assert!(
        stdout(&preview).contains("As a member of the House of Representatives (1), you"),
        "{}",
        stdout(&preview)
    );
    assert!(
        stdout(&preview).contains("Dear Representative Ortíz"),
        "{}",
        stdout(&preview)
    );
}

#[test]
fn list_names_every_source() {
    let out = repmail().args(["roster", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    for s in [
        "openstates/<state>",
        "us-congress",
        "uk-commons",
        "canada-commons",
    ] {
        assert!(text.contains(s), "{s}");
    }
}

#[test]
fn a_failed_init_leaves_no_campaign_and_a_used_folder_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = dir.path().join("letters");
    let out = repmail()
        .arg("init")
        .arg(&campaign)
        .args(["--roster", "openstates/il", "--url", &http::refused_base()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));
    assert!(!campaign.join("repmail.toml").exists());
    assert!(!campaign.join("contacts").exists());

    // A folder in use: refused before any request is made.
    std::fs::create_dir_all(&campaign).unwrap();
    std::fs::write(campaign.join("repmail.toml"), "mine").unwrap();
    let server = Server::start(publishers);
    let out = repmail()
        .arg("init")
        .arg(&campaign)
        .args(["--roster", "openstates/il", "--url", &server.base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(server.hits().is_empty());
    assert_eq!(
        std::fs::read_to_string(campaign.join("repmail.toml")).unwrap(),
        "mine"
    );
}

#[test]
fn update_needs_the_roster_key() {
    let c = Campaign::with(&config(), LETTER, b"title,name,email\n");
    let out = c.cmd(&["roster", "update"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("[contacts] has no `roster` key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_roster_key_is_a_config_error() {
    let config = config().replace(
        "path = \"roster.csv\"",
        "path = \"roster.csv\"\nroster = \"openstates/illinois\"",
    );
    let c = Campaign::with(&config, LETTER, b"title,name,email\n");
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("contacts.roster"), "{err}");
    assert!(
        err.contains("unknown roster source `openstates/illinois`"),
        "{err}"
    );
}
