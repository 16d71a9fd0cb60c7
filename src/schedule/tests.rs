//! The schedule on a fake clock: no sleeping, every time exact.

use chrono::TimeDelta;

use super::*;

fn t0() -> DateTime<Utc> {
    // Tuesday 2026-12-01 12:00 UTC.
    DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

fn pace(per_minute: u32, burst: u32) -> Option<Pace> {
    Some(Pace { per_minute, burst })
}

/// A schedule of letters named by their domain letter and number
/// ("a0", "b3"), in the given file order.
fn schedule(rules: Rules, cap: Option<DailyCap>, letters: &[(&str, Tz)]) -> Schedule<String> {
    let mut s = Schedule::new(rules, cap);
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (i, (d, zone)) in letters.iter().enumerate() {
        let n = count.entry(d).or_default();
        s.push(
            i as u64 + 2,
            &format!("{d}.example.org"),
            *zone,
            format!("{d}{n}"),
        );
        *n += 1;
    }
    s
}

/// Drives `s` on a fake clock from `start` until it is empty, jumping to
/// each `until`; every letter with the time it went.
fn drain(s: &mut Schedule<String>, start: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
    let mut now = start;
    let mut went = Vec::new();
    loop {
        match s.next(now, 0) {
            Next::Go(l) => {
                s.record_sent(now);
                went.push((l, now));
            }
            Next::Wait { until: Some(t), .. } => {
                assert!(t > now, "a wait ends in the future");
                // Never idle: nothing may go a moment before `until`.
                let just_before = t - TimeDelta::milliseconds(1);
                if just_before > now {
                    assert!(matches!(s.next(just_before, 0), Next::Wait { .. }));
                }
                now = t;
            }
            other => {
                assert!(matches!(other, Next::Empty), "{other:?}");
                return went;
            }
        }
    }
}

fn utc_letters(spec: &[&'static str]) -> Vec<(&'static str, Tz)> {
    spec.iter().map(|d| (*d, Tz::UTC)).collect()
}

#[test]
fn a_slow_domain_does_not_hold_the_others_back() {
    // A×5 then B×5, 12 a minute per domain (one every 5 s), fast globally.
    let rules = Rules {
        global: pace(600, 1),
        per_domain: pace(12, 1),
        ..Rules::default()
    };
    let letters = utc_letters(&["a", "a", "a", "a", "a", "b", "b", "b", "b", "b"]);
    let mut s = schedule(rules.clone(), None, &letters);
    let went = drain(&mut s, t0());
    let order: Vec<&str> = went.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        order,
        ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"]
    );
    // b0 waits only for the global pace (100 ms), not for a's 5 s.
    assert_eq!(went[1].1, t0() + TimeDelta::milliseconds(100));
    // The whole run takes one domain's time: 4 intervals of 5 s (+100 ms).
    let last = went.last().unwrap().1;
    assert_eq!(last - t0(), secs(20) + TimeDelta::milliseconds(100));
    // The estimate is the same schedule.
    let est = estimate(
        &rules,
        None,
        letters
            .iter()
            .enumerate()
            .map(|(i, (d, z))| (i as u64, *d, *z)),
        t0(),
    );
    assert_eq!(est.finish, last);
    assert!(!est.waits());
}

#[test]
fn the_first_letter_in_file_order_that_may_go_goes() {
    let rules = Rules {
        per_domain: pace(1, 1),
        ..Rules::default()
    };
    let mut s = schedule(rules, None, &utc_letters(&["a", "a", "b", "c", "b"]));
    let got: Vec<String> = (0..3)
        .map(|_| match s.next(t0(), 0) {
            Next::Go(l) => l,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, ["a0", "b0", "c0"]);
    match s.next(t0(), 0) {
        Next::Wait { until, hold } => {
            assert_eq!(until, Some(t0() + secs(60)));
            assert_eq!(hold, Hold::Pace);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_global_pace_and_its_burst() {
    let rules = Rules {
        global: pace(20, 3),
        ..Rules::default()
    };
    let mut s = schedule(rules, None, &utc_letters(&["a"; 5]));
    let went = drain(&mut s, t0());
    let times: Vec<TimeDelta> = went.iter().map(|(_, t)| *t - t0()).collect();
    assert_eq!(times, [secs(0), secs(0), secs(0), secs(3), secs(6)]);
}

#[test]
fn the_daily_cap_holds_until_the_oldest_send_leaves_the_window() {
    let earlier = t0() - TimeDelta::hours(23);
    let cap = DailyCap::new(2, vec![earlier]);
    let mut s = schedule(Rules::default(), Some(cap), &utc_letters(&["a", "b", "c"]));
    assert!(matches!(s.next(t0(), 0), Next::Go(_)));
    // One in flight fills the cap: its outcome decides.
    match s.next(t0(), 1) {
        Next::Wait { until, hold } => assert_eq!((until, hold), (None, Hold::InFlight)),
        other => panic!("{other:?}"),
    }
    s.record_sent(t0());
    match s.next(t0(), 0) {
        Next::Wait { until, hold } => {
            assert_eq!(hold, Hold::DailyCap);
            assert_eq!(until, Some(earlier + TimeDelta::hours(24)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.next(t0() + TimeDelta::hours(1), 0), Next::Go(_)));
}

#[test]
fn a_retry_waits_for_its_backoff_but_not_the_others() {
    let mut s = schedule(Rules::default(), None, &utc_letters(&["b"]));
    s.push_retry(1, "a.example.org", Tz::UTC, t0() + secs(30), "a0".into());
    assert!(matches!(s.next(t0(), 0), Next::Go(l) if l == "b0"));
    match s.next(t0(), 0) {
        Next::Wait { until, hold } => {
            assert_eq!((until, hold), (Some(t0() + secs(30)), Hold::Backoff))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.next(t0() + secs(30), 0), Next::Go(l) if l == "a0"));
    assert!(matches!(s.next(t0() + secs(30), 0), Next::Empty));
}

/// What the run reads at its end and when it stops (cargo-mutants found
/// no test telling these from a constant): the letters still queued,
/// fresh and retries apart, and the cap the stop names.
#[test]
fn the_queues_and_the_cap_are_told_as_they_stand() {
    let cap = DailyCap::new(7, Vec::new());
    let mut s = schedule(Rules::default(), Some(cap), &utc_letters(&["b"]));
    assert_eq!(s.cap().map(DailyCap::cap), Some(7));
    s.push_retry(1, "a.example.org", Tz::UTC, t0() + secs(30), "a0".into());
    assert_eq!((s.fresh_len(), s.retry_len()), (1, 1));
    assert!(matches!(s.next(t0(), 0), Next::Go(l) if l == "b0"));
    assert_eq!((s.fresh_len(), s.retry_len()), (0, 1));
    assert!(matches!(s.next(t0() + secs(30), 0), Next::Go(l) if l == "a0"));
    assert_eq!((s.fresh_len(), s.retry_len()), (0, 0));
    let uncapped = schedule(Rules::default(), None, &utc_letters(&["b"]));
    assert!(uncapped.cap().is_none());
}

/// When two limits free a letter at the same instant, the hold names the
/// one checked first (pace, then backoff, then the domain's pace, then the
/// window): a later one takes over only when strictly later. It matters
/// for the window: at the instant it opens it is open, so a run without
/// `--wait` waits for the pace or backoff instead of ending on it.
#[test]
fn a_tie_between_limits_is_named_by_the_first() {
    let wait_of = |s: &mut Schedule<String>, now| match s.next(now, 0) {
        Next::Wait { until, hold } => (until, hold),
        other => panic!("{other:?}"),
    };
    // Backoff and the window's opening (13:00 UTC) at the same instant.
    let rules = Rules {
        window: Some(Window::parse("13:00-17:00", None).unwrap()),
        ..Rules::default()
    };
    let mut s: Schedule<String> = Schedule::new(rules, None);
    let one = t0() + TimeDelta::hours(1);
    s.push_retry(2, "a.example.org", Tz::UTC, one, "a0".into());
    assert_eq!(wait_of(&mut s, t0()), (Some(one), Hold::Backoff));
    // The global pace and a backoff.
    let rules = Rules {
        global: pace(1, 1),
        ..Rules::default()
    };
    let mut s = schedule(rules, None, &utc_letters(&["b"]));
    assert!(matches!(s.next(t0(), 0), Next::Go(_)));
    s.push_retry(2, "a.example.org", Tz::UTC, t0() + secs(60), "a0".into());
    assert_eq!(wait_of(&mut s, t0()), (Some(t0() + secs(60)), Hold::Pace));
    // A backoff and the domain's pace.
    let rules = Rules {
        per_domain: pace(1, 1),
        ..Rules::default()
    };
    let mut s = schedule(rules, None, &utc_letters(&["a"]));
    assert!(matches!(s.next(t0(), 0), Next::Go(_)));
    s.push_retry(2, "a.example.org", Tz::UTC, t0() + secs(60), "a1".into());
    assert_eq!(
        wait_of(&mut s, t0()),
        (Some(t0() + secs(60)), Hold::Backoff)
    );
}

#[test]
fn a_closed_window_holds_only_its_zone() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
    // 15:00 UTC: 10:00 in New York (open), 00:00 in Tokyo (closed).
    let now = t0() + TimeDelta::hours(3);
    let rules = Rules {
        window: Some(Window::parse("09:00-17:00", Some("mon-fri")).unwrap()),
        ..Rules::default()
    };
    let letters = [("t", tokyo), ("n", ny), ("t", tokyo), ("n", ny)];
    let mut s = schedule(rules.clone(), None, &letters);
    assert!(matches!(s.next(now, 0), Next::Go(l) if l == "n0"));
    assert!(matches!(s.next(now, 0), Next::Go(l) if l == "n1"));
    let tokyo_opens = DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
        .unwrap()
        .to_utc();
    match s.next(now, 0) {
        Next::Wait { until, hold } => {
            assert_eq!(hold, Hold::Window { zone: tokyo });
            assert_eq!(until, Some(tokyo_opens));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.held_by_window(now),
        [Held {
            zone: tokyo,
            opens: tokyo_opens,
            letters: 2
        }]
    );
    assert!(matches!(s.next(tokyo_opens, 0), Next::Go(l) if l == "t0"));
}

/// Los Angeles and Tokyo 10 s before Tokyo's 09:00 opening (Wed 00:00
/// UTC): zones, the opening, now.
fn la_and_tokyo_before_the_opening() -> (Tz, Tz, DateTime<Utc>, DateTime<Utc>) {
    let opening = DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
        .unwrap()
        .to_utc();
    (
        "America/Los_Angeles".parse().unwrap(),
        "Asia/Tokyo".parse().unwrap(),
        opening,
        opening - secs(10),
    )
}

#[test]
fn without_waiting_a_closed_window_is_the_last_reason_given() {
    // Tue 23:59:50 UTC: 15:59:50 in Los Angeles (open), 08:59:50 on
    // Wednesday in Tokyo (opens in 10 s). The second LA letter waits 30 s
    // for its domain's pace.
    let (la, tokyo, opening, now) = la_and_tokyo_before_the_opening();
    let letters = [("u", la), ("u", la), ("t", tokyo)];
    for (wait, until, hold) in [
        // A run that does not wait goes on with what it can send.
        (false, now + secs(30), Hold::Pace),
        // One that waits wakes at the opening.
        (true, opening, Hold::Window { zone: tokyo }),
    ] {
        let rules = Rules {
            per_domain: pace(2, 1),
            window: Some(Window::parse("09:00-17:00", None).unwrap()),
            wait_for_window: wait,
            ..Rules::default()
        };
        let mut s = schedule(rules, None, &letters);
        assert!(matches!(s.next(now, 0), Next::Go(l) if l == "u0"));
        match s.next(now, 0) {
            Next::Wait { until: u, hold: h } => {
                assert_eq!((u, h), (Some(until), hold), "wait={wait}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_estimate_waits_for_windows_whatever_the_run_does() {
    // The setting of the test above, with a global pace of one a second:
    // the estimate of a run without `--wait` still sends the Tokyo letter
    // when its window opens (10 s), before the second LA letter (30 s),
    // and so ends at 30 s; a schedule that did not wait would send it
    // after that one, at 31 s (cargo-mutants, 2026-12-05: the estimate's
    // `wait_for_window` was not checked by any test).
    let (la, tokyo, _, now) = la_and_tokyo_before_the_opening();
    let rules = Rules {
        global: pace(60, 1),
        per_domain: pace(2, 1),
        window: Some(Window::parse("09:00-17:00", None).unwrap()),
        wait_for_window: false,
    };
    let letters = [
        (0, "u.example.org", la),
        (1, "u.example.org", la),
        (2, "t.example.org", tokyo),
    ];
    let est = estimate(&rules, None, letters, now);
    assert_eq!(est.finish, now + secs(30));
    assert_eq!(est.batches.iter().map(|b| b.letters).sum::<usize>(), 3);
}

#[test]
fn a_wait_of_exactly_the_batch_gap_starts_no_new_batch() {
    // 08:50 UTC, the window opens at 09:00: a wait of BATCH_GAP itself,
    // not longer than it, so the letters are one batch that waited for
    // nothing worth telling (cargo-mutants, 2026-12-05: `>` made `>=`
    // was missed).
    let rules = Rules {
        global: pace(60, 1),
        window: Some(Window::parse("09:00-17:00", None).unwrap()),
        ..Rules::default()
    };
    let start = t0() - TimeDelta::hours(3) - TimeDelta::minutes(10);
    let letters = (0..2).map(|i| (i as u64, "a.example.org", Tz::UTC));
    let est = estimate(&rules, None, letters, start);
    assert_eq!(est.batches.len(), 1);
    assert_eq!(est.batches[0].start, start + BATCH_GAP);
    assert_eq!(est.batches[0].after, None);
    assert!(!est.waits());
    // A minute longer, and the batch is said to wait for the window.
    let letters = (0..2).map(|i| (i as u64, "a.example.org", Tz::UTC));
    let est = estimate(&rules, None, letters, start - TimeDelta::minutes(1));
    assert_eq!(est.batches[0].after, Some(Hold::Window { zone: Tz::UTC }));
}

#[test]
fn the_estimate_counts_the_daily_cap_and_the_window() {
    let rules = Rules {
        global: pace(60, 1),
        window: Some(Window::parse("09:00-17:00", None).unwrap()),
        ..Rules::default()
    };
    // Tue 18:00 UTC: closed until Wed 09:00; a cap of 2 a day.
    let start = t0() + TimeDelta::hours(6);
    let letters = (0..5).map(|i| (i as u64, "a.example.org", Tz::UTC));
    let est = estimate(&rules, Some(DailyCap::new(2, vec![])), letters, start);
    let wed9 = DateTime::parse_from_rfc3339("2026-12-02T09:00:00Z")
        .unwrap()
        .to_utc();
    let counts: Vec<usize> = est.batches.iter().map(|b| b.letters).collect();
    assert_eq!(counts, [2, 2, 1]);
    assert_eq!(est.batches[0].start, wed9);
    assert_eq!(est.batches[0].after, Some(Hold::Window { zone: Tz::UTC }));
    assert_eq!(est.batches[1].after, Some(Hold::DailyCap));
    // The cap frees 24 h after the first send, inside Thursday's window.
    assert_eq!(est.batches[1].start, wed9 + TimeDelta::hours(24));
    assert_eq!(est.batches[2].start, wed9 + TimeDelta::hours(48));
    assert_eq!(est.finish, est.batches[2].end);
    assert!(est.waits());
    assert_eq!(est.duration(), (est.finish - start).to_std().unwrap());
}

/// Cells taken from the global pace and from the domains' (governor's
/// state, counted by the schedule's own store).
fn cells(s: &Schedule<String>) -> (u64, u64) {
    (
        s.global.as_ref().map_or(0, |g| g.taken()),
        s.domains.as_ref().map_or(0, |d| d.taken()),
    )
}

#[test]
fn one_domain_and_a_binding_cap_take_exactly_one_cell_per_letter() {
    // The domain's pace (one every 6 s) is slower than the global one (one
    // every second): at most instants the global cell is free while the
    // domain refuses. A cell taken from the global pace then would be lost
    // (the next letter would wait for nothing), one taken twice would slow
    // the run; the cap of 3 ends it with letters left.
    let rules = Rules {
        global: pace(60, 1),
        per_domain: pace(10, 1),
        ..Rules::default()
    };
    let cap = DailyCap::new(3, Vec::new());
    let mut s = schedule(rules, Some(cap), &utc_letters(&["a"; 5]));
    let mut now = t0();
    let mut went = Vec::new();
    let hold = loop {
        match s.next(now, 0) {
            Next::Go(l) => {
                s.record_sent(now);
                went.push((l, now - t0()));
                assert_eq!(cells(&s), (went.len() as u64, went.len() as u64));
            }
            Next::Wait {
                until: Some(t),
                hold: Hold::Pace,
            } => {
                // Asked again while it waits, when the global cell is free
                // but the domain's is not: nothing taken.
                for at in [now, now + (t - now) / 2, t - TimeDelta::milliseconds(1)] {
                    assert!(matches!(s.next(at, 0), Next::Wait { .. }));
                }
                now = t;
            }
            Next::Wait { hold, .. } => break hold,
            Next::Empty => panic!("the cap ends the run first"),
        }
    };
    let times: Vec<TimeDelta> = went.iter().map(|w| w.1).collect();
    assert_eq!(times, [secs(0), secs(6), secs(12)]);
    assert_eq!(hold, Hold::DailyCap);
    assert_eq!(cells(&s), (3, 3), "one cell of each pace per letter");
    assert_eq!(s.fresh_len(), 2);
}

#[test]
fn an_idle_minute_refills_the_burst_and_no_more() {
    // 20 a minute (one every 3 s), a burst of 3: governor's GCRA.
    let rules = Rules {
        global: pace(20, 3),
        ..Rules::default()
    };
    let mut s = schedule(rules, None, &utc_letters(&["a"; 8]));
    let later = t0() + secs(60);
    for now in [t0(), later] {
        for _ in 0..3 {
            assert!(matches!(s.next(now, 0), Next::Go(_)));
        }
        match s.next(now, 0) {
            Next::Wait { until, hold } => {
                assert_eq!((until, hold), (Some(now + secs(3)), Hold::Pace))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(cells(&s), (6, 0));
}

/// One letter every 100 ms, a domain one every 10 s.
fn a_tenth_of_a_second_and_a_domain_ten_seconds() -> Rules {
    Rules {
        global: pace(600, 1),
        per_domain: pace(6, 1),
        ..Rules::default()
    }
}

/// Letters a0, a1, b0, c0 under those paces: a0 started at `t0`, then, all
/// slots busy, the letters due within 250 ms picked ahead: b0 (due in
/// 100 ms) and c0 (200 ms); a1 (10 s) is not.
fn a0_started_b0_and_c0_picked_ahead() -> Schedule<String> {
    let rules = a_tenth_of_a_second_and_a_domain_ten_seconds();
    let mut s = schedule(rules, None, &utc_letters(&["a", "a", "b", "c"]));
    let ms = TimeDelta::milliseconds;
    assert!(matches!(s.next(t0(), 0), Next::Go(l) if l == "a0"));
    assert_eq!(s.pick(t0(), 1, ms(250)).as_deref(), Some("b0"));
    assert_eq!(s.pick(t0(), 2, ms(250)).as_deref(), Some("c0"));
    assert_eq!(s.pick(t0(), 3, ms(250)), None);
    assert_eq!(cells(&s), (1, 1), "picking takes no cell");
    s
}

#[test]
fn a_letter_started_moments_before_its_pace_takes_its_cells_at_the_instant_it_allows() {
    // A start may be granted up to 50 ms before the pace allows it, at the
    // instant it does.
    let mut s = a0_started_b0_and_c0_picked_ahead();
    let ms = TimeDelta::milliseconds;
    // b0, asked 30 ms early: granted at 100 ms, when the global pace frees.
    assert_eq!(
        s.start("b.example.org", t0() + ms(70), ms(50)),
        Ok(t0() + ms(100))
    );
    assert_eq!(cells(&s), (2, 2));
    // c0 waits from b0's granted instant, not from when b0 was asked.
    assert_eq!(
        s.start("c.example.org", t0() + ms(70), ms(50)),
        Err(t0() + ms(200))
    );
    assert_eq!(cells(&s), (2, 2), "a refused start takes nothing");
    assert_eq!(
        s.start("c.example.org", t0() + ms(160), ms(50)),
        Ok(t0() + ms(200))
    );
    // A start asked after its pace freed is granted when asked.
    assert_eq!(s.pick(t0() + ms(200), 0, secs(11)).as_deref(), Some("a1"));
    assert_eq!(
        s.start("a.example.org", t0() + secs(12), ms(50)),
        Ok(t0() + secs(12))
    );
    assert_eq!(cells(&s), (4, 4));
    // A domain's own pace counts too: a's next cell is 10 s after a1's.
    let rules = a_tenth_of_a_second_and_a_domain_ten_seconds();
    let mut s = schedule(rules, None, &utc_letters(&["a", "a"]));
    assert!(matches!(s.next(t0(), 0), Next::Go(l) if l == "a0"));
    assert_eq!(s.pick(t0(), 1, secs(11)).as_deref(), Some("a1"));
    assert_eq!(
        s.start("a.example.org", t0() + ms(9_949), ms(50)),
        Err(t0() + secs(10))
    );
    assert_eq!(
        s.start("a.example.org", t0() + ms(9_950), ms(50)),
        Ok(t0() + secs(10))
    );
}

#[test]
fn a_letter_picked_ahead_takes_its_cells_when_it_starts() {
    // The letter picked ahead takes nothing until it starts, and then
    // exactly its cells.
    let mut s = a0_started_b0_and_c0_picked_ahead();
    let ms = TimeDelta::milliseconds;
    // Starting sooner than its pace allows: refused, with the time.
    assert_eq!(
        s.start("B.example.org", t0() + ms(50), ms(0)),
        Err(t0() + ms(100))
    );
    assert_eq!(cells(&s), (1, 1));
    assert_eq!(
        s.start("b.example.org", t0() + ms(150), ms(0)),
        Ok(t0() + ms(150))
    );
    // c0 waits for the global pace from b0's real start, not the foreseen.
    assert_eq!(
        s.start("c.example.org", t0() + ms(200), ms(0)),
        Err(t0() + ms(250))
    );
    assert_eq!(
        s.start("c.example.org", t0() + ms(250), ms(0)),
        Ok(t0() + ms(250))
    );
    assert_eq!(cells(&s), (3, 3));
    // A fresh pick sees the real starts: the global pace is next free at
    // 350 ms, and a1 waits for its domain (10 s after a0).
    assert_eq!(s.pick(t0() + ms(250), 0, ms(500)), None);
    match s.next(t0() + ms(250), 0) {
        Next::Wait { until, hold } => {
            assert_eq!((until, hold), (Some(t0() + secs(10)), Hold::Pace))
        }
        other => panic!("{other:?}"),
    }
}
