//! Provider presets through the CLI, offline: the dry-run plan, a user key
//! winning, an unknown name refused, `check` warnings, `init --provider`,
//! and where the password or token will come from.

use crate::fixture;

use fixture::{repmail, stderr, stdout, Campaign, CampaignFile, CONTACTS, TEXT};

fn config(smtp: &str, rate: &str) -> String {
    CampaignFile::new("presets")
        .contacts("path = \"contacts.csv\"")
        .smtp(smtp)
        .sections(rate)
        .build()
}

fn campaign(smtp: &str, rate: &str) -> Campaign {
    Campaign::with(&config(smtp, rate), TEXT, CONTACTS.as_bytes())
}

fn dry_run(c: &Campaign) -> std::process::Output {
    c.cmd(&["send", "--dry-run"]).output().unwrap()
}

#[test]
fn preset_shows_in_the_dry_run_plan() {
    let c = campaign(
        "provider = \"gmail\"\nusername = \"letters@example.org\"",
        "",
    );
    let out = dry_run(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = stdout(&out);
    assert!(plan.contains("provider   Gmail (preset `gmail`"), "{plan}");
    assert!(
        plan.contains("server     smtp.gmail.com:587 (starttls)"),
        "{plan}"
    );
    assert!(plan.contains("pace       20 per minute"), "{plan}");
    assert!(plan.contains("at most 450 per 24 h"), "{plan}");

    let c = campaign(
        "provider = \"microsoft365\"\nusername = \"letters@example.org\"\ntoken_command = \"oama access letters@example.org\"",
        "",
    );
    let plan = stdout(&dry_run(&c));
    assert!(plan.contains("smtp.office365.com:587 (starttls)"), "{plan}");
    assert!(plan.contains("at most 9000 per 24 h"), "{plan}");
    assert!(plan.contains("sign-in    oauth2"), "{plan}");
}

#[test]
fn keys_the_user_writes_win_over_the_preset() {
    let c = campaign(
        "provider = \"yahoo\"\nhost = \"relay.example.org\"\nport = 2525\nusername = \"u@example.org\"",
        "[rate]\nper_minute = 3\ndaily_cap = 40\n",
    );
    let plan = stdout(&dry_run(&c));
    assert!(
        plan.contains("server     relay.example.org:2525 (tls)"),
        "{plan}"
    );
    assert!(plan.contains("pace       3 per minute"), "{plan}");
    assert!(plan.contains("at most 40 per 24 h"), "{plan}");
}

#[test]
fn unknown_provider_is_refused_with_the_closest_name() {
    let c = campaign("provider = \"outlok\"", "");
    for args in [&["check"][..], &["send", "--dry-run"]] {
        let out = c.cmd(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("smtp.provider"), "{err}");
        assert!(err.contains("did you mean `outlook`"), "{err}");
    }
}

#[test]
fn check_warns_about_pace_over_the_limit_and_refused_passwords() {
    let c = campaign(
        "provider = \"microsoft365\"\nusername = \"letters@example.org\"\nauth = \"password\"",
        "[rate]\nper_minute = 45\ndaily_cap = 12000\n",
    );
    let out = c
        .cmd(&["check"])
        .env("REPMAIL_SMTP_PASSWORD", "x")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "warnings only: {err}");
    assert!(err.contains("per_minute = 45 is above"), "{err}");
    assert!(err.contains("daily_cap = 12000 is above"), "{err}");
    assert!(err.contains("refuses passwords"), "{err}");
    assert!(err.contains("auth = \"oauth2\""), "{err}");
    let strict = c
        .cmd(&["check", "--strict"])
        .env("REPMAIL_SMTP_PASSWORD", "x")
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));

    // Within the limits: no warning.
    let c = campaign(
        "provider = \"microsoft365\"\nusername = \"letters@example.org\"\ntoken_command = \"printf tok\"",
        "[rate]\nper_minute = 30\n",
    );
    let out = c.cmd(&["check", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn check_and_dry_run_say_where_the_secret_comes_from_without_running_it() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    // A command that would leave a trace if it were run.
    let cmd = format!("touch '{}'; printf tok", marker.display());
    let c = campaign(
        &format!(
            "provider = \"outlook\"\nusername = \"letters@example.org\"\ntoken_command = \"{cmd}\""
        ),
        "",
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let out = c.cmd(&["check"]).env("PATH", &path).output().unwrap();
    assert!(
        stdout(&out).contains("from token_command"),
        "{}",
        stdout(&out)
    );
    let out = c
        .cmd(&["send", "--dry-run"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("sign-in    oauth2 from token_command"),
        "{}",
        stdout(&out)
    );
    assert!(!marker.exists(), "the command was run");

    // A helper that is not installed is reported, not run.
    let c = campaign(
        "provider = \"outlook\"\nusername = \"letters@example.org\"\ntoken_command = \"no-such-oauth-helper access x\"",
        "",
    );
    let out = c.cmd(&["check"]).env("PATH", &path).output().unwrap();
    assert!(
        stderr(&out).contains("`no-such-oauth-helper` is not found on PATH"),
        "{}",
        stderr(&out)
    );
    let plan = stdout(
        &c.cmd(&["send", "--dry-run"])
            .env("PATH", &path)
            .output()
            .unwrap(),
    );
    assert!(plan.contains("NOT READY"), "{plan}");

    // The variable: set or not.
    let c = campaign(
        "host = \"smtp.example.org\"\nusername = \"u@example.org\"",
        "",
    );
    let out = c
        .cmd(&["send", "--dry-run"])
        .env("REPMAIL_SMTP_PASSWORD", "secret-value-xyz")
        .output()
        .unwrap();
    let plan = stdout(&out);
    assert!(
        plan.contains("from the variable REPMAIL_SMTP_PASSWORD (set)"),
        "{plan}"
    );
    assert!(!plan.contains("secret-value-xyz"), "{plan}");
    let plan = stdout(&dry_run(&c));
    assert!(plan.contains("REPMAIL_SMTP_PASSWORD is not set"), "{plan}");
}

#[test]
fn init_with_a_provider_scaffolds_its_preset() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("camp");
    let out = repmail()
        .args(["init", "--provider", "microsoft365"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(target.join("repmail.toml")).unwrap();
    assert!(text.contains("provider = \"microsoft365\""), "{text}");
    assert!(text.contains("auth = \"oauth2\""), "{text}");
    let out = repmail()
        .arg("--config")
        .arg(target.join("repmail.toml"))
        .args(["send", "--dry-run"])
        .output()
        .unwrap();
    let plan = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(plan.contains("smtp.office365.com:587 (starttls)"), "{plan}");

    let out = repmail()
        .args(["init", "--provider", "gmial"])
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `gmail`"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("other").exists(), "nothing written");
}
