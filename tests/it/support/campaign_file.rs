//! The campaign file (`repmail.toml`) of a test, built from its parts: the
//! one place that knows how a campaign file is laid out, so a test says
//! only what its campaign changes. (`crate::fixture` writes one into a
//! campaign folder: `CampaignFile::write`.)

/// A campaign file. [`CampaignFile::new`] is the usual campaign (the one
/// `fixture::config` writes, without its `reply_to`); each method changes
/// one part. Sections come in the order `repmail init` writes them, one
/// blank line apart, after a blank first line (tests that check a line
/// number in an error count from this layout).
#[derive(Clone, Debug)]
pub struct CampaignFile {
    campaign: Vec<String>,
    sender: Vec<String>,
    contacts: Vec<String>,
    smtp: Option<Vec<String>>,
    vars: Vec<String>,
    rest: Vec<String>,
}

/// `s` as a TOML string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

impl CampaignFile {
    /// Campaign `name`: the subject "A letter to {{ title }} {{ last_name
    /// }}", the template `letter.txt.tera`, the sender Test Group at
    /// example.org, `contacts.csv` named by first and last name, and
    /// `organization = "Test Group"` in `[vars]`.
    pub fn new(name: &str) -> CampaignFile {
        CampaignFile {
            campaign: vec![
                format!("name = {}", quoted(name)),
                "subject = \"A letter to {{ title }} {{ last_name }}\"".to_owned(),
                "text = \"letter.txt.tera\"".to_owned(),
            ],
            sender: vec!["from = \"Test Group <letters@example.org>\"".to_owned()],
            contacts: lines("path = \"contacts.csv\"\nname = \"{{ first_name }} {{ last_name }}\""),
            smtp: None,
            vars: vec!["organization = \"Test Group\"".to_owned()],
            rest: Vec::new(),
        }
    }

    /// The subject template.
    pub fn subject(mut self, subject: &str) -> Self {
        self.campaign[1] = format!("subject = {}", quoted(subject));
        self
    }

    /// The text template in `file` instead of `letter.txt.tera`.
    pub fn text(mut self, file: &str) -> Self {
        self.campaign[2] = format!("text = {}", quoted(file));
        self
    }

    /// A Markdown letter in `file` instead of the text template.
    pub fn letter(mut self, file: &str) -> Self {
        self.campaign[2] = format!("letter = {}", quoted(file));
        self
    }

    /// More lines under `[campaign]` (`variant_by = …`).
    pub fn campaign_lines(mut self, more: &str) -> Self {
        self.campaign.extend(lines(more));
        self
    }

    /// The sender's address (`from`).
    pub fn from(mut self, from: &str) -> Self {
        self.sender[0] = format!("from = {}", quoted(from));
        self
    }

    /// Where replies go (`reply_to`).
    pub fn reply_to(mut self, address: &str) -> Self {
        self.sender.push(format!("reply_to = {}", quoted(address)));
        self
    }

    /// More lines under `[sender]` (`cc`, `bcc`).
    pub fn sender_lines(mut self, more: &str) -> Self {
        self.sender.extend(lines(more));
        self
    }

    /// `[contacts]` as given, instead of `contacts.csv` by name.
    pub fn contacts(mut self, body: &str) -> Self {
        self.contacts = lines(body);
        self
    }

    /// More lines under `[contacts]` (a column, an encoding).
    pub fn contacts_lines(mut self, more: &str) -> Self {
        self.contacts.extend(lines(more));
        self
    }

    /// `[smtp]` as given (a provider preset, a host of its own).
    pub fn smtp(mut self, body: &str) -> Self {
        self.smtp = Some(lines(body));
        self
    }

    /// `[smtp]` for the test server on loopback `port`, with `more` lines
    /// (`security`, `username`, …) and `timeout_secs = 2` unless `more`
    /// sets it: short, so a stalled server fails the test quickly.
    pub fn loopback(self, port: u16, more: &str) -> Self {
        let mut body = format!("host = \"127.0.0.1\"\nport = {port}\n{more}");
        if !more.contains("timeout_secs") {
            body.push_str("\ntimeout_secs = 2");
        }
        self.smtp(&body)
    }

    /// `[vars]` as given; empty: no `[vars]` section.
    pub fn vars(mut self, body: &str) -> Self {
        self.vars = lines(body);
        self
    }

    /// Whole sections after the others (`[rate]`, `[retry]`, `[inbox]`, …).
    pub fn sections(mut self, text: &str) -> Self {
        self.rest.extend(lines(text));
        self
    }

    /// The file's text.
    pub fn build(&self) -> String {
        let mut out = String::from("\n");
        let mut section = |name: &str, body: &[String]| {
            out.push_str(&format!("[{name}]\n"));
            for l in body {
                out.push_str(l);
                out.push('\n');
            }
            out.push('\n');
        };
        section("campaign", &self.campaign);
        section("sender", &self.sender);
        section("contacts", &self.contacts);
        if let Some(smtp) = &self.smtp {
            section("smtp", smtp);
        }
        if !self.vars.is_empty() {
            section("vars", &self.vars);
        }
        for l in &self.rest {
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}
