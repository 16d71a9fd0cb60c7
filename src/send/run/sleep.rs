//! The waits for the pace: the loop's — a wait of a few tens of
//! microseconds yielded away, one under a millisecond slept on the loop's
//! own thread, precisely, a longer one on tokio's timer — and a letter's
//! own, in its task, for a pace granted moments ahead ([`yield_until`]).

use std::time::{Duration, Instant};

/// Waits shorter than this are slept on the loop's thread: tokio's timer
/// counts whole milliseconds, so at a relay's pace (a letter every 60 µs)
/// each wait for the pace would last a millisecond and the pace would be
/// the timer's. The loop's thread only runs the loop (its fsyncs block it
/// too); transactions go on on the runtime's workers.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// Waits shorter than this are not slept but yielded away: putting a
/// thread to sleep and waking it on time costs about as much as such a
/// wait (a timer armed, two context switches; on a virtual machine each
/// an exit to the host), and at a relay's pace (a letter every 60 µs)
/// most waits are this short. Yielding lets the transactions' threads run
/// meanwhile. Measured 2026-12-05 (2-core VM, concurrency 4, a relay's
/// pace, the log on disk, 2,000 letters, 9 runs each): 8,400 msg/s with
/// every such wait slept, 9,200 with those under 100 µs yielded.
const YIELD_BELOW: Duration = Duration::from_micros(100);

/// How soon the pace must free a letter prepared ahead for the loop to
/// launch it at once, its cells taken at the instant the pace allows
/// ([`Schedule::start`](crate::schedule::Schedule::start)) and its own
/// task waiting until then ([`yield_until`]) before the transaction
/// begins. The loop does not wait for such a pace itself: it goes on
/// writing outcomes and preparing letters, which at a relay's pace (a
/// letter every 60 µs) is where its time went. Measured 2026-12-05
/// (2-core VM, concurrency 4, a relay's pace, the log on disk, 4,000
/// letters, 6 runs each): 9,600 msg/s with the loop waiting, 10,900 with
/// the letter's task waiting; the same with 1 ms, so the shorter, which
/// spins a worker less.
pub(in crate::send) const LAUNCH_WITHIN: chrono::TimeDelta = chrono::TimeDelta::microseconds(100);

/// Waits in a letter's own task until `t`, at most [`LAUNCH_WITHIN`]
/// away: the runtime's other tasks run meanwhile (its timer counts whole
/// milliseconds, far too coarse for this).
pub(in crate::send) async fn yield_until(t: Instant) {
    while Instant::now() < t {
        tokio::task::yield_now().await;
    }
}

pub(in crate::send) async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(d) if d < YIELD_BELOW => yield_for(d),
        Some(d) if d < TIMER_RESOLUTION => sleep_precisely(d),
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Gives the loop's thread away until `d` has passed: it runs again as
/// soon as no other thread wants the processor, and after `d`.
fn yield_for(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::thread::yield_now();
    }
}

/// Sleeps the loop's thread for `d` (under a millisecond) and no more than
/// it must: Linux wakes a sleeping thread up to its timer slack late (50 µs
/// by default, prctl(2)), which at a relay's pace (a letter every 60 µs)
/// nearly doubled the time per letter; the slack is made 1 ns for this
/// sleep and put back after it. Elsewhere a plain sleep.
fn sleep_precisely(d: Duration) {
    #[cfg(target_os = "linux")]
    {
        use rustix::thread::{current_timer_slack, set_current_timer_slack};
        let before = current_timer_slack().ok();
        let tight = set_current_timer_slack(std::num::NonZeroU64::new(1)).is_ok();
        std::thread::sleep(d);
        if tight {
            let _ = set_current_timer_slack(before.and_then(std::num::NonZeroU64::new));
        }
    }
    #[cfg(not(target_os = "linux"))]
    std::thread::sleep(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_lasts_at_least_its_time_and_none_for_ever() {
        // Which way a wait is waited is a matter of speed (the benchmark's);
        // that it waits is the pace's.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            for micros in [50, 500, 1_500] {
                let d = Duration::from_micros(micros);
                let start = Instant::now();
                sleep_for(Some(d)).await;
                assert!(start.elapsed() >= d, "{:?} for {d:?}", start.elapsed());
            }
        });
        assert!(futures::FutureExt::now_or_never(sleep_for(None)).is_none());
    }

    #[test]
    fn a_yielded_wait_lasts_at_least_its_time() {
        let start = Instant::now();
        yield_for(Duration::from_micros(80));
        assert!(start.elapsed() >= Duration::from_micros(80));
    }

    #[test]
    fn a_letter_waiting_for_its_pace_lets_the_other_tasks_run_until_then() {
        // One thread: the other task can only run if the wait yields. A
        // wait far longer than the loop's (any wait works the same), so
        // that a busy machine pausing the thread cannot end it unyielded.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let d = Duration::from_millis(20);
            let start = Instant::now();
            let other = tokio::spawn(async move { start.elapsed() });
            yield_until(start + d).await;
            assert!(start.elapsed() >= d, "{:?} for {d:?}", start.elapsed());
            assert!(other.is_finished(), "the other task ran meanwhile");
            assert!(other.await.unwrap() < d, "and before the wait ended");
        });
    }

    #[test]
    fn a_precise_sleep_lasts_at_least_its_time_and_puts_the_slack_back() {
        #[cfg(target_os = "linux")]
        let slack = rustix::thread::current_timer_slack().unwrap();
        let start = std::time::Instant::now();
        sleep_precisely(Duration::from_micros(300));
        assert!(start.elapsed() >= Duration::from_micros(300));
        #[cfg(target_os = "linux")]
        assert_eq!(rustix::thread::current_timer_slack().unwrap(), slack);
    }
}
