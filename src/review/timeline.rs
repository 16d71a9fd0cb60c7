//! Finished attempts over time, bucketed for a bar chart: per minute for a
//! run, wider buckets when the log spans days of runs (so the page never
//! draws thousands of empty bars).

use chrono::{DateTime, Duration, Utc};

use super::{Counts, Review};

/// Most bars a timeline draws before it widens its buckets.
pub const MAX_BUCKETS: usize = 120;

/// Bucket widths tried in turn, in minutes: a minute, then units people
/// read easily.
const WIDTHS_MIN: [i64; 9] = [1, 2, 5, 10, 15, 30, 60, 360, 1440];

/// Attempts per time bucket, by outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Start of the first bucket (aligned to the bucket width, UTC).
    pub start: DateTime<Utc>,
    /// Width of every bucket, in minutes.
    pub minutes: i64,
    /// One entry per bucket, consecutive, empty buckets included.
    pub buckets: Vec<Counts>,
}

impl Timeline {
    /// Start of bucket `i`.
    pub fn bucket_start(&self, i: usize) -> DateTime<Utc> {
        self.start + Duration::minutes(self.minutes * i as i64)
    }

    /// The tallest bucket's total.
    pub fn peak(&self) -> usize {
        self.buckets.iter().map(Counts::total).max().unwrap_or(0)
    }
}

impl Review {
    /// The report's activity in at most `max` buckets; `None` when nothing
    /// was attempted.
    pub fn timeline(&self, max: usize) -> Option<Timeline> {
        let first = self.activity.iter().map(|(t, _)| *t).min()?;
        let last = self.activity.iter().map(|(t, _)| *t).max()?;
        let max = max.max(1) as i64;
        let floor = |t: DateTime<Utc>, minutes: i64| t.timestamp().div_euclid(minutes * 60);
        // The widest fixed width may still be too narrow for a log spanning
        // years: then grow whole days.
        let span_days = floor(last, 1440) - floor(first, 1440) + 1;
        let fallback = 1440 * ((span_days + max - 1) / max);
        let minutes = WIDTHS_MIN
            .into_iter()
            .find(|&m| floor(last, m) - floor(first, m) < max)
            .unwrap_or(fallback);
        let first_bucket = floor(first, minutes);
        let count = (floor(last, minutes) - first_bucket + 1) as usize;
        let mut buckets = vec![Counts::default(); count];
        for (t, outcome) in &self.activity {
            buckets[(floor(*t, minutes) - first_bucket) as usize].add(*outcome);
        }
        let start = DateTime::from_timestamp(first_bucket * minutes * 60, 0)
            .expect("a bucket start within the range of the log's own times");
        Some(Timeline {
            start,
            minutes,
            buckets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{About, Standing, Summary, View};
    use super::*;
    use chrono::TimeZone;

    fn report(activity: Vec<(DateTime<Utc>, Standing)>) -> Review {
        Review {
            about: About::default(),
            view: View::Current,
            with_contacts: false,
            summary: Summary::default(),
            rows: Vec::new(),
            activity,
        }
    }

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, h, m, s).unwrap()
    }

    #[test]
    fn per_minute_with_empty_minutes_kept() {
        let r = report(vec![
            (t(14, 0, 5), Standing::Sent),
            (t(14, 0, 59), Standing::Failed),
            (t(14, 3, 0), Standing::Sent),
        ]);
        let tl = r.timeline(MAX_BUCKETS).unwrap();
        assert_eq!((tl.start, tl.minutes), (t(14, 0, 0), 1));
        let totals: Vec<_> = tl.buckets.iter().map(Counts::total).collect();
        assert_eq!(totals, [2, 0, 0, 1]);
        assert_eq!(tl.buckets[0].failed, 1);
        assert_eq!(tl.peak(), 2);
        assert_eq!(tl.bucket_start(3), t(14, 3, 0));
    }

    #[test]
    fn long_spans_get_wider_buckets() {
        let r = report(vec![
            (t(9, 0, 0), Standing::Sent),
            (t(17, 59, 0), Standing::Sent),
        ]);
        let tl = r.timeline(MAX_BUCKETS).unwrap();
        assert_eq!(tl.minutes, 5);
        assert!(tl.buckets.len() <= MAX_BUCKETS);
        assert_eq!(tl.buckets.iter().map(Counts::total).sum::<usize>(), 2);

        let years = report(vec![
            (t(0, 0, 0), Standing::Sent),
            (t(0, 0, 0) + Duration::days(800), Standing::Deferred),
        ]);
        let tl = years.timeline(MAX_BUCKETS).unwrap();
        assert!(tl.buckets.len() <= MAX_BUCKETS, "{}", tl.buckets.len());
        assert_eq!(tl.minutes % 1440, 0);
    }

    #[test]
    fn nothing_attempted_has_no_timeline() {
        assert!(report(Vec::new()).timeline(MAX_BUCKETS).is_none());
    }
}
