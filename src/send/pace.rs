//! Pacing in one place: the concurrency semaphore, the steady pace with its
//! burst, the per-domain pace and the rolling daily cap, awaited in a fixed
//! order before each transaction.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Rate;

/// Waits until a message may go out.
pub struct Pacer {
    permits: Arc<Semaphore>,
    global: Option<DefaultDirectRateLimiter>,
    per_domain: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl Pacer {
    /// A pacer for `rate`. `unpaced` drops the rate limits but keeps the
    /// concurrency cap (benchmarks measure the machine, not the quota).
    pub fn new(rate: &Rate, unpaced: bool) -> Pacer {
        let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        // `Quota::per_minute(n)` alone allows a burst of n at once; the
        // burst is set explicitly so the default is a steady pace.
        let global = (!unpaced).then(|| {
            DefaultDirectRateLimiter::direct(
                Quota::per_minute(nz(rate.per_minute)).allow_burst(nz(rate.burst)),
            )
        });
        let per_domain = rate.per_domain_per_minute.filter(|_| !unpaced).map(|n| {
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(nz(n)).allow_burst(NonZeroU32::MIN))
        });
        Pacer {
            permits: Arc::new(Semaphore::new(rate.concurrency.max(1) as usize)),
            global,
            per_domain,
            clock: DefaultClock::default(),
        }
    }

    /// Waits for a free slot, then for both the global and the domain's
    /// pace. The permit is taken first: a token taken while waiting for a
    /// slot would let two messages leave closer together than the pace.
    /// Both tokens are taken together (a domain that is not ready gives its
    /// global token up) so the send happens when both limits allow it.
    pub async fn ready(&self, domain: &str) -> OwnedSemaphorePermit {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .unwrap_or_else(|_| unreachable!("the semaphore is never closed"));
        let key = domain.to_ascii_lowercase();
        loop {
            if let Some(global) = &self.global {
                global.until_ready().await;
            }
            match &self.per_domain {
                None => break,
                Some(limiter) => match limiter.check_key(&key) {
                    Ok(()) => break,
                    Err(not_until) => {
                        tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
                    }
                },
            }
        }
        permit
    }
}

/// How long `n` messages take at `rate`, split by recipient domain: the
/// slower of the global pace and the busiest domain's pace.
pub fn estimate<'a>(rate: &Rate, domains: impl IntoIterator<Item = &'a str>) -> Duration {
    let mut per_domain: HashMap<String, u64> = HashMap::new();
    let mut n = 0u64;
    for d in domains {
        n += 1;
        *per_domain.entry(d.to_ascii_lowercase()).or_default() += 1;
    }
    let paced = |count: u64, per_minute: u32, burst: u32| {
        let after_burst = count.saturating_sub(u64::from(burst));
        Duration::from_secs_f64(after_burst as f64 * 60.0 / f64::from(per_minute.max(1)))
    };
    let global = paced(n, rate.per_minute, rate.burst);
    let busiest = rate
        .per_domain_per_minute
        .and_then(|pd| per_domain.values().max().map(|&c| paced(c, pd, 1)))
        .unwrap_or_default();
    global.max(busiest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_minute: u32, burst: u32, per_domain: Option<u32>) -> Rate {
        Rate {
            per_minute,
            burst,
            per_domain_per_minute: per_domain,
            daily_cap: None,
            concurrency: 1,
        }
    }

    #[test]
    fn estimate_takes_the_slower_limit() {
        let r = rate(20, 1, Some(6));
        // 21 messages at 20/min with a burst of 1: 20 waits of 3 s.
        let many = vec!["a.example.org"; 1]
            .into_iter()
            .chain(vec!["b.example.org"; 20]);
        // …but 20 to one domain at 6/min: 19 waits of 10 s.
        assert_eq!(estimate(&r, many), Duration::from_secs(190));
        let spread = (0..21).map(|i| if i % 2 == 0 { "a.test" } else { "b.test" });
        assert_eq!(
            estimate(&rate(20, 1, None), spread),
            Duration::from_secs(60)
        );
    }
}
