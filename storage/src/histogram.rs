//! [`LatencyHistogram`]: a fixed-bucket latency histogram of relaxed atomics, cheap enough for
//! hot paths (one `fetch_add` on the bucket, one on the sum; no lock, no allocation), and its
//! plain [`HistogramSnapshot`] for exporters.
//!
//! The bucket bounds are fixed ([`LATENCY_BOUNDS_SECONDS`], 100 µs to 10 s, roughly 1-2.5-5 per
//! decade) so that every histogram of the process is comparable and aggregatable in Prometheus.
//! Counts are kept per bucket (not cumulative) and made cumulative in the snapshot; an
//! observation above the last bound lands in the implicit `+Inf` bucket.
//!
//! ```
//! use std::time::Duration;
//! use isobar_storage::LatencyHistogram;
//!
//! let h = LatencyHistogram::default();
//! h.observe(Duration::from_micros(300));
//! h.observe(Duration::from_secs(60));
//! let s = h.snapshot();
//! assert_eq!(s.count, 2);
//! assert_eq!(s.cumulative.last(), Some(&1)); // 10 s bucket: only the 300 µs one
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (the `le` labels); `+Inf` is implicit.
pub const LATENCY_BOUNDS_SECONDS: [f64; 14] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0];

/// The same bounds in nanoseconds, for the comparison on the hot path.
const BOUNDS_NANOS: [u64; 14] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    10_000_000_000,
];

/// A latency histogram with the fixed bounds [`LATENCY_BOUNDS_SECONDS`].
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; 15],
    sum_nanos: AtomicU64,
}

/// What a [`LatencyHistogram`] held when read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Observations at or below each bound of [`LATENCY_BOUNDS_SECONDS`] (cumulative, as
    /// Prometheus buckets are).
    pub cumulative: Vec<u64>,
    /// All observations (the `+Inf` bucket).
    pub count: u64,
    /// Sum of all observations in seconds.
    pub sum_seconds: f64,
}

impl LatencyHistogram {
    /// Records one observation.
    pub fn observe(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let index = BOUNDS_NANOS.iter().position(|b| nanos <= *b).unwrap_or(BOUNDS_NANOS.len());
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Reads the histogram. Concurrent observations may be half-counted (bucket seen, sum not
    /// yet), which Prometheus tolerates; counts never go down.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(BOUNDS_NANOS.len());
        let mut running = 0u64;
        for bucket in self.buckets.iter().take(BOUNDS_NANOS.len()) {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push(running);
        }
        let overflow = self.buckets.get(BOUNDS_NANOS.len()).map_or(0, |b| b.load(Ordering::Relaxed));
        let count = running + overflow;
        HistogramSnapshot { cumulative, count, sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_agree_in_both_units() {
        for (s, n) in LATENCY_BOUNDS_SECONDS.iter().zip(BOUNDS_NANOS) {
            assert_eq!((s * 1e9).round() as u64, n);
        }
    }

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(100)); // exactly on the first bound: le is inclusive
        h.observe(Duration::from_micros(101));
        h.observe(Duration::from_millis(7));
        h.observe(Duration::from_secs(11));
        let s = h.snapshot();
        assert_eq!(s.count, 4);
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[1], 2);
        assert_eq!(s.cumulative[5], 2, "5 ms bucket");
        assert_eq!(s.cumulative[6], 3, "10 ms bucket");
        assert_eq!(*s.cumulative.last().expect("buckets"), 3, "11 s is only in +Inf");
        assert!((s.sum_seconds - 11.007201).abs() < 1e-9, "{}", s.sum_seconds);
        assert!(s.cumulative.windows(2).all(|w| w[0] <= w[1]));
    }
}
