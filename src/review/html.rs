//! One self-contained HTML page a coordinator can share with their board:
//! inline CSS, an inline SVG chart, no script, and a Content-Security-Policy
//! that forbids loading anything, so opening it never touches the network.
//! Every value from the log or the contacts is escaped: names and server
//! replies are untrusted text.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{human_time, Exporter, Outcome, Report, View, MAX_BUCKETS};

/// The page.
pub struct Html;

/// The page's style sheet, inlined into every page.
const STYLE: &str = include_str!("report.css");

impl Exporter for Html {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut page = String::new();
        head(report, &mut page);
        summary(report, &mut page);
        timeline(report, &mut page);
        domains(report, &mut page);
        rows(report, &mut page);
        page.push_str("</main>\n</body>\n</html>\n");
        out.write_all(page.as_bytes())?;
        out.flush()
    }
}

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn color(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "var(--sent)",
        Outcome::Deferred => "var(--deferred)",
        Outcome::Failed => "var(--failed)",
        Outcome::Unknown => "var(--unknown)",
        Outcome::Bounced => "var(--failed)",
        Outcome::Never => "var(--never)",
    }
}

fn outcomes(report: &Report) -> impl Iterator<Item = Outcome> + '_ {
    Outcome::ALL
        .into_iter()
        .filter(|o| *o != Outcome::Never || report.with_contacts)
}

fn head(report: &Report, p: &mut String) {
    let a = &report.about;
    let title = match &a.campaign {
        Some(name) => format!("Delivery report: {name}"),
        None => "Delivery report".to_string(),
    };
    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"repmail {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>{}</h1>\n<div class=\"muted\">Generated {} by repmail from the delivery log.</div>\n<dl class=\"meta\">\n",
        env!("CARGO_PKG_VERSION"),
        esc(&title),
        esc(&title),
        human_time(chrono::Utc::now()),
    );
    let mut fact = |label: &str, value: String| {
        let _ = writeln!(p, "<dt>{label}</dt><dd>{value}</dd>");
    };
    match (&a.subject, &a.sender) {
        (Some(subject), Some(sender)) => {
            fact("Subject", format!("<code>{}</code>", esc(subject)));
            fact("Sender", esc(sender));
        }
        _ => fact(
            "Letter",
            "<span class=\"muted\">not known: reviewed from the log alone, without the campaign file</span>"
                .into(),
        ),
    }
    fact(
        "Delivery log",
        format!("<code>{}</code>", esc(&a.log.display().to_string())),
    );
    if let Some(c) = &a.contacts {
        fact(
            "Contacts",
            format!("<code>{}</code>", esc(&c.display().to_string())),
        );
    }
    p.push_str("</dl>\n");
    if a.torn_tail {
        p.push_str("<p class=\"note\">The log's last line was incomplete (a crash while writing it) and is not counted; the next send repairs it.</p>\n");
    }
}

fn summary(report: &Report, p: &mut String) {
    let s = &report.summary;
    let total = s.counts.total();
    p.push_str("<h2>Summary</h2>\n<div class=\"cards\">\n");
    let _ = writeln!(
        p,
        "<div class=\"card\"><b>{total}</b><span>recipients</span></div>"
    );
    for o in outcomes(report) {
        let _ = writeln!(
            p,
            "<div class=\"card\" style=\"--c:{}\"><b>{}</b><span>{}</span></div>",
            color(o),
            s.counts.get(o),
            o.label()
        );
    }
    p.push_str(
        "</div>\n<div class=\"bar\" role=\"img\" aria-label=\"share of recipients by outcome\">",
    );
    for o in outcomes(report) {
        let n = s.counts.get(o);
        if n > 0 && total > 0 {
            let pct = 100.0 * n as f64 / total as f64;
            let _ = write!(
                p,
                "<i style=\"width:{pct:.3}%;background:{}\" title=\"{n} {}\"></i>",
                color(o),
                o.label()
            );
        }
    }
    let time = |t: Option<_>| t.map_or_else(|| "–".to_string(), human_time);
    let _ = writeln!(
        p,
        "</div>\n<div class=\"facts\"><span><b>{}</b> messages started</span>\
         <span>first: {}</span><span>last: {}</span></div>",
        s.attempts,
        time(s.first),
        time(s.last)
    );
}

fn legend(report: &Report, p: &mut String) {
    p.push_str("<div class=\"legend\">");
    for o in outcomes(report).filter(|o| *o != Outcome::Never) {
        let _ = write!(
            p,
            "<span><i style=\"background:{}\"></i>{}</span>",
            color(o),
            o.label()
        );
    }
    p.push_str("</div>\n");
}

fn timeline(report: &Report, p: &mut String) {
    let Some(tl) = report.timeline(MAX_BUCKETS) else {
        p.push_str("<h2>Timeline</h2>\n<p class=\"muted\">Nothing has been sent yet.</p>\n");
        return;
    };
    let unit = match tl.minutes {
        1 => "minute".to_string(),
        m if m % 1440 == 0 && m > 1440 => format!("{} days", m / 1440),
        1440 => "day".to_string(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    };
    let _ = writeln!(
        p,
        "<h2>Timeline</h2>\n<div class=\"muted small\">Attempts finished per {unit} (UTC), by outcome; unknown ones at the time they started.</div>"
    );
    legend(report, p);
    let (w, h, left, bottom, top) = (1000.0, 220.0, 40.0, 28.0, 10.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let peak = tl.peak().max(1) as f64;
    let slot = plot_w / tl.buckets.len() as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let _ = writeln!(
        p,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"attempts per {unit}\">"
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h * (1.0 - frac);
        let _ = writeln!(
            p,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e7ec\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - 10.0,
            left - 6.0,
            y + 4.0,
            fmt_tick(peak * frac)
        );
    }
    let spans_days = tl.bucket_start(tl.buckets.len() - 1).date_naive() != tl.start.date_naive();
    let label = |t: chrono::DateTime<chrono::Utc>| {
        if spans_days || tl.minutes >= 1440 {
            t.format("%b %-d %H:%M").to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    };
    for (i, bucket) in tl.buckets.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        let mut tip: Vec<String> = Vec::new();
        let mut rects = String::new();
        for o in [
            Outcome::Sent,
            Outcome::Deferred,
            Outcome::Failed,
            Outcome::Unknown,
        ] {
            let n = bucket.get(o);
            if n == 0 {
                continue;
            }
            let bh = plot_h * n as f64 / peak;
            y -= bh;
            tip.push(format!("{n} {}", o.label()));
            let _ = write!(
                rects,
                "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{bar_w:.2}\" height=\"{bh:.2}\" fill=\"{}\"/>",
                color(o)
            );
        }
        if !tip.is_empty() {
            let _ = writeln!(
                p,
                "<g><title>{}: {}</title>{rects}</g>",
                label(tl.bucket_start(i)),
                tip.join(", ")
            );
        }
    }
    let last = tl.buckets.len() - 1;
    let mut ticks = vec![0, last / 2, last];
    ticks.dedup();
    for i in ticks {
        let x = left + slot * i as f64 + slot / 2.0;
        let anchor = if i == 0 && last > 0 {
            "start"
        } else if i == last && last > 0 {
            "end"
        } else {
            "middle"
        };
        let x = match anchor {
            "start" => x - slot / 2.0,
            "end" => x + slot / 2.0,
            _ => x,
        };
        let _ = writeln!(
            p,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            h - 8.0,
            label(tl.bucket_start(i))
        );
    }
    p.push_str("</svg>\n");
}

fn fmt_tick(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn domains(report: &Report, p: &mut String) {
    if report.summary.domains.is_empty() {
        return;
    }
    p.push_str("<h2>By recipient domain</h2>\n<table>\n<tr><th>Domain</th><th class=\"num\">Recipients</th>");
    for o in outcomes(report) {
        let _ = write!(p, "<th class=\"num\">{}</th>", o.label());
    }
    p.push_str("</tr>\n");
    for (domain, counts) in &report.summary.domains {
        let _ = write!(
            p,
            "<tr><td>{}</td><td class=\"num\">{}</td>",
            esc(domain),
            counts.total()
        );
        for o in outcomes(report) {
            let _ = write!(p, "<td class=\"num\">{}</td>", counts.get(o));
        }
        p.push_str("</tr>\n");
    }
    p.push_str("</table>\n");
}

fn rows(report: &Report, p: &mut String) {
    let (title, tries) = match report.view {
        View::Current => ("Every recipient", "Tries"),
        View::History => ("Every event", "Try"),
    };
    let _ = writeln!(
        p,
        "<h2>{title}</h2>\n<table>\n<tr><th>Status</th><th>Recipient</th><th>Time (UTC)</th>\
         <th class=\"num\">{tries}</th><th class=\"num\">Code</th><th>Server reply</th></tr>"
    );
    if report.rows.is_empty() {
        p.push_str("<tr><td colspan=\"6\" class=\"muted\">No rows match.</td></tr>\n");
    }
    for r in &report.rows {
        let who = if r.name.is_empty() {
            esc(&r.email)
        } else {
            format!(
                "{}<br><span class=\"muted small\">{}</span>",
                esc(&r.name),
                esc(&r.email)
            )
        };
        let n = match report.view {
            View::Current => r.attempts.to_string(),
            View::History => r.attempt.map_or(String::new(), |a| a.to_string()),
        };
        let status = esc(r.status);
        let _ =
            writeln!(
            p,
            "<tr><td class=\"badge s-{status}\"><i style=\"background:currentColor\"></i>{}</td>\
             <td class=\"email\">{who}</td><td class=\"time\">{}</td><td class=\"num\">{n}</td>\
             <td class=\"num\">{}</td><td class=\"detail\">{}</td></tr>",
            if r.status == "never" { "never attempted" } else { &status },
            r.time.map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            r.smtp_code.map_or(String::new(), |c| c.to_string()),
            esc(&r.detail),
        );
    }
    p.push_str("</table>\n");
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
    fn escapes_every_special_character() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
