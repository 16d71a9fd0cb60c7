//! One self-contained HTML page a coordinator can share with their board:
//! inline CSS, an inline SVG chart, no script, and a Content-Security-Policy
//! that forbids loading anything, so opening it never touches the network.
//!
//! The markup is the `report.html` page template (`src/pages/`), which
//! escapes every value: names and server replies are untrusted text. This
//! file only computes what the page shows (figures, chart geometry).

use std::io::{self, Write};

use serde::Serialize;

use super::{Exporter, Review, Standing, View};
use crate::pages::{self, Context, Page};
use crate::time::human_time;

mod chart;
use chart::chart;

/// The page.
pub struct Html;

impl Exporter for Html {
    fn write(&self, report: &Review, out: &mut dyn Write) -> io::Result<()> {
        let page = pages::render(Page::Report, &context(report))?;
        out.write_all(page.as_bytes())?;
        out.flush()
    }
}

fn color(outcome: Standing) -> &'static str {
    match outcome {
        Standing::Sent => "var(--sent)",
        Standing::Deferred => "var(--deferred)",
        Standing::Failed => "var(--failed)",
        Standing::Unknown => "var(--unknown)",
        Standing::Bounced => "var(--failed)",
        Standing::Never => "var(--never)",
        Standing::Form => "var(--form)",
        Standing::Unreachable => "var(--unreachable)",
        Standing::FormSent => "var(--sent)",
    }
}

fn outcomes(report: &Review) -> impl Iterator<Item = Standing> + '_ {
    report.outcomes()
}

/// One outcome's card, share of the bar and legend entry.
#[derive(Serialize)]
struct OutcomeView {
    label: &'static str,
    color: &'static str,
    count: usize,
    /// Percent of the bar, formatted; empty when it has no share.
    share: String,
    /// Whether the timeline's legend lists it (never-attempted and the
    /// offices without an address have no bars).
    legend: bool,
    /// Whether the domain table has a column for it (offices without an
    /// address have no domain).
    by_domain: bool,
}

#[derive(Serialize)]
struct DomainView<'a> {
    domain: &'a str,
    total: usize,
    counts: Vec<usize>,
}

#[derive(Serialize)]
struct RowView<'a> {
    status: &'a str,
    label: &'a str,
    name: &'a str,
    email: &'a str,
    time: String,
    n: String,
    code: String,
    detail: &'a str,
    /// The contact form of an office without an address, when it is a web
    /// address the page may link to.
    form: Option<String>,
    /// The recipient's subject as rendered, when subjects differ between
    /// recipients (else the page says it once, at the top).
    subject: Option<&'a str>,
}

fn context(report: &Review) -> Context {
    let a = &report.about;
    let s = &report.summary;
    let mut ctx = Context::new();
    ctx.insert(
        "title",
        &match &a.campaign {
            Some(name) => format!("Delivery report: {name}"),
            None => "Delivery report".to_string(),
        },
    );
    ctx.insert("generated", &human_time(chrono::Utc::now()));
    if let (Some(subject), Some(sender)) = (&a.subject, &a.sender) {
        ctx.insert("subject", subject);
        ctx.insert("sender", sender);
    }
    // The subject as recipients got it, not the template (issue 24, item
    // 9): one line when every recipient's is the same, else one per row.
    let subjects = a.subjects.as_ref();
    let mut distinct: Vec<&str> = subjects
        .map(|s| s.values().map(String::as_str).collect())
        .unwrap_or_default();
    distinct.sort_unstable();
    distinct.dedup();
    let per_row = distinct.len() > 1;
    if let [one] = distinct[..] {
        ctx.insert("rendered_subject", one);
    }
    ctx.insert("subjects_vary", &per_row);
    ctx.insert("subjects_rendered", &subjects.is_some());
    ctx.insert("log", &a.log.display().to_string());
    if let Some(c) = &a.contacts {
        ctx.insert("contacts", &c.display().to_string());
    }
    ctx.insert("torn_tail", &a.torn_tail);

    let total = s.counts.total();
    let views: Vec<OutcomeView> = outcomes(report)
        .map(|o| {
            let n = s.counts.get(o);
            OutcomeView {
                label: o.label(),
                color: color(o),
                count: n,
                share: if n > 0 && total > 0 {
                    format!("{:.3}", 100.0 * n as f64 / total as f64)
                } else {
                    String::new()
                },
                // A form is not an email: no bar in the timeline.
                legend: !o.needs_contacts() && o != Standing::FormSent,
                by_domain: o.has_domain(),
            }
        })
        .collect();
    ctx.insert("total", &total);
    ctx.insert("outcomes", &views);
    let time = |t: Option<_>| t.map_or_else(|| "–".to_string(), human_time);
    ctx.insert("attempts", &s.attempts);
    ctx.insert("first", &time(s.first));
    ctx.insert("last", &time(s.last));
    ctx.insert("chart", &chart(report));

    let domains: Vec<DomainView> = s
        .domains
        .iter()
        .map(|(domain, counts)| DomainView {
            domain,
            total: counts.total(),
            counts: outcomes(report)
                .filter(|o| o.has_domain())
                .map(|o| counts.get(o))
                .collect(),
        })
        .collect();
    ctx.insert("domains", &domains);

    let (title, tries) = match report.view {
        View::Current => ("Every recipient", "Tries"),
        View::History => ("Every event", "Try"),
    };
    ctx.insert("rows_title", title);
    ctx.insert("tries", tries);
    let rows: Vec<RowView> = report
        .rows
        .iter()
        .map(|r| RowView {
            status: r.status,
            label: r
                .status
                .parse::<Standing>()
                .map_or(r.status, Standing::label),
            name: &r.name,
            email: &r.email,
            time: r
                .time
                .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            n: match report.view {
                View::Current => r.attempts.to_string(),
                View::History => r.attempt.map_or(String::new(), |a| a.to_string()),
            },
            code: r.smtp_code.map_or(String::new(), |c| c.to_string()),
            detail: &r.detail,
            form: r.form.as_deref().and_then(crate::text::web_link),
            subject: subjects
                .filter(|_| per_row && !r.email.is_empty())
                .and_then(|s| s.get(&crate::ledger::recipient_key(&r.email)))
                .map(String::as_str),
        })
        .collect();
    // What came back after the 250 (`repmail inbox`): the bounces with
    // their reasons, the answers with who and when, and the response rate
    // over the letters that arrived (sent, not bounced).
    let bounces: Vec<&RowView> = rows.iter().filter(|r| r.status == "bounced").collect();
    let replies: Vec<&RowView> = rows
        .iter()
        .filter(|r| r.status == "replied" || r.status == "auto_replied")
        .collect();
    ctx.insert("bounces", &bounces);
    ctx.insert("replies", &replies);
    ctx.insert("replied", &s.replied);
    ctx.insert("auto_replied", &s.auto_replied);
    ctx.insert("response_rate", &response_rate(s.replied, s.counts.sent));
    ctx.insert("stages", &stage_views(&report.about.stages));
    ctx.insert("rows", &rows);
    ctx
}

/// One row of the report's follow-up table (issue 21).
#[derive(Serialize)]
struct StageView {
    name: String,
    sent: usize,
    answered: usize,
    rate: String,
}

fn stage_views(stages: &[crate::plan::stages::StageCount]) -> Vec<StageView> {
    stages
        .iter()
        .map(|c| StageView {
            name: match c.stage {
                0 => "first letter".to_string(),
                k => format!("follow-up {k}"),
            },
            sent: c.sent,
            answered: c.answered,
            rate: response_rate(c.answered, c.sent),
        })
        .collect()
}

/// Replies per delivered letter, as people read it ("12.5%"); a dash
/// before anything was delivered.
fn response_rate(replied: usize, delivered: usize) -> String {
    if delivered == 0 {
        return "–".to_string();
    }
    format!("{:.1}%", 100.0 * replied as f64 / delivered as f64)
}

#[cfg(test)]
mod tests {
    use super::super::{build, About, Filter};
    use super::*;
    use crate::ledger::{Event, Ledger, Status};

    #[test]
    fn untrusted_text_is_escaped_and_nothing_external_is_loaded() {
        let evil = "<script>alert('x')</script>\" onmouseover=\"x";
        let ledger = Ledger::from_events([
            Event::new("hrf", "a@example.org", Status::Sending, 1),
            Event::new("hrf", "a@example.org", Status::Failed, 1)
                .with_smtp_code(Some(550))
                .with_detail(evil),
        ]);
        let about = About {
            campaign: Some("<b>hrf</b>".into()),
            subject: Some("{{ title }} & <i>".into()),
            sender: Some("Group <letters@example.org>".into()),
            log: "logs/hrf.csv".into(),
            ..About::default()
        };
        let report = build(&ledger, None, &Filter::default(), View::Current, about);
        let mut out = Vec::new();
        Html.write(&report, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<b>hrf"));
        assert!(page
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;x"));
        assert!(page.contains("{{ title }} &amp; &lt;i&gt;"));
        assert!(page.contains("Group &lt;letters@example.org&gt;"));
        for external in ["http://", "https://", "src=", "href=", "@import", "url("] {
            assert!(!page.contains(external), "{external} in the page");
        }
        assert!(page.contains("<svg"), "a timeline");
        assert!(page.contains("default-src 'none'"));
    }

    #[test]
    fn a_name_with_markup_stays_text() {
        let ledger = Ledger::from_events([
            Event::new("hrf", "a@example.org", Status::Sending, 1),
            Event::new("hrf", "a@example.org", Status::Sent, 1),
        ]);
        let mut report = build(
            &ledger,
            None,
            &Filter::default(),
            View::Current,
            About::default(),
        );
        report.rows[0].name = r#"<img src=x onerror=alert(1)> & 'Sons'"#.into();
        let mut out = Vec::new();
        Html.write(&report, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &#39;Sons&#39;<br>"));
    }
}
