//! Failed authentications, limited per client IP address: after `auth.max_failed_auth_per_minute`
//! failures (default 10) within [`WINDOW`], every further attempt from that address is refused
//! without checking the secret until the window ends, so guessing tokens over many connections
//! is slow. 0 turns the limit off.
//!
//! The common case costs one atomic load: the table is consulted only while some address has
//! failures recorded. The table holds at most [`MAX_TRACKED`] addresses; past it, addresses
//! whose window ended are dropped first, then the whole table (failing open under a flood of
//! distinct addresses rather than growing without bound).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Most addresses tracked at once.
pub const MAX_TRACKED: usize = 65_536;

/// See the module doc.
#[derive(Debug, Default)]
pub struct RateLimiter {
    max_failures: u32,
    tracked: AtomicUsize,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `max_failures` per address and minute (0: none is ever refused).
    pub fn new(max_failures: u32) -> Self {
        Self { max_failures, ..Self::default() }
    }

    /// `Err(seconds until retry)` while `peer` is over the limit.
    pub fn check(&self, peer: IpAddr) -> Result<(), u64> {
        if self.max_failures == 0 || self.tracked.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let map = self.failures.lock();
        match map.get(&peer) {
            Some((start, count)) if *count >= self.max_failures && start.elapsed() < WINDOW => {
                Err(WINDOW.saturating_sub(start.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Records a failed authentication from `peer`.
    pub fn failed(&self, peer: IpAddr) {
        if self.max_failures == 0 {
            return;
        }
        let mut map = self.failures.lock();
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| start.elapsed() < WINDOW);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let entry = map.entry(peer).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        self.tracked.store(map.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_the_failures_allowed_and_others_are_not() {
        let limiter = RateLimiter::new(3);
        let bad: IpAddr = "192.0.2.1".parse().expect("ip");
        let good: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(limiter.check(bad), Ok(()));
            limiter.failed(bad);
        }
        let retry = limiter.check(bad).expect_err("over the limit");
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(limiter.check(good), Ok(()));
        let off = RateLimiter::new(0);
        (0..100).for_each(|_| off.failed(bad));
        assert_eq!(off.check(bad), Ok(()));
    }
}
