//! The report's timeline as an inline SVG chart: the geometry is computed
//! here, the template draws it.

use serde::Serialize;

use super::super::{Review, Standing, MAX_BUCKETS};
use super::color;

/// The timeline's geometry: coordinates computed here, drawn by the
/// template. Numbers are pre-formatted so the SVG stays compact.
#[derive(Serialize)]
pub(super) struct Chart {
    unit: String,
    w: String,
    h: String,
    left: String,
    tick_y: String,
    grid: Vec<GridLine>,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
}

#[derive(Serialize)]
struct GridLine {
    y: String,
    x2: String,
    tx: String,
    ty: String,
    label: String,
}

#[derive(Serialize)]
struct Bar {
    tip: String,
    rects: Vec<Rect>,
}

#[derive(Serialize)]
struct Rect {
    x: String,
    y: String,
    w: String,
    h: String,
    fill: &'static str,
}

#[derive(Serialize)]
struct Tick {
    x: String,
    anchor: &'static str,
    label: String,
}

pub(super) fn chart(report: &Review) -> Option<Chart> {
    let tl = report.timeline(MAX_BUCKETS)?;
    let unit = match tl.minutes {
        1 => "minute".to_string(),
        m if m % 1440 == 0 && m > 1440 => format!("{} days", m / 1440),
        1440 => "day".to_string(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    };
    let (w, h, left, bottom, top) = (1000.0, 220.0, 40.0, 28.0, 10.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let peak = tl.peak().max(1) as f64;
    let slot = plot_w / tl.buckets.len() as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let grid = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|frac| {
            let y = top + plot_h * (1.0 - frac);
            GridLine {
                y: format!("{y:.1}"),
                x2: num(w - 10.0),
                tx: num(left - 6.0),
                ty: format!("{:.1}", y + 4.0),
                label: fmt_tick(peak * frac),
            }
        })
        .collect();
    let spans_days = tl.bucket_start(tl.buckets.len() - 1).date_naive() != tl.start.date_naive();
    let label = |t: chrono::DateTime<chrono::Utc>| {
        if spans_days || tl.minutes >= 1440 {
            t.format("%b %-d %H:%M").to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    };
    let mut bars = Vec::new();
    for (i, bucket) in tl.buckets.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        let mut tip: Vec<String> = Vec::new();
        let mut rects = Vec::new();
        for o in [
            Standing::Sent,
            Standing::Deferred,
            Standing::Failed,
            Standing::Unknown,
        ] {
            let n = bucket.get(o);
            if n == 0 {
                continue;
            }
            let bh = plot_h * n as f64 / peak;
            y -= bh;
            tip.push(format!("{n} {}", o.label()));
            rects.push(Rect {
                x: format!("{x:.2}"),
                y: format!("{y:.2}"),
                w: format!("{bar_w:.2}"),
                h: format!("{bh:.2}"),
                fill: color(o),
            });
        }
        if !tip.is_empty() {
            bars.push(Bar {
                tip: format!("{}: {}", label(tl.bucket_start(i)), tip.join(", ")),
                rects,
            });
        }
    }
    let last = tl.buckets.len() - 1;
    let mut at = vec![0, last / 2, last];
    at.dedup();
    let ticks = at
        .into_iter()
        .map(|i| {
            let x = left + slot * i as f64 + slot / 2.0;
            let (anchor, x) = if i == 0 && last > 0 {
                ("start", x - slot / 2.0)
            } else if i == last && last > 0 {
                ("end", x + slot / 2.0)
            } else {
                ("middle", x)
            };
            Tick {
                x: format!("{x:.1}"),
                anchor,
                label: label(tl.bucket_start(i)),
            }
        })
        .collect();
    Some(Chart {
        unit,
        w: num(w),
        h: num(h),
        left: num(left),
        tick_y: num(h - 8.0),
        grid,
        bars,
        ticks,
    })
}

/// A whole coordinate as Rust's `Display` writes it (`1000`, not `1000.0`).
fn num(v: f64) -> String {
    v.to_string()
}

fn fmt_tick(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
