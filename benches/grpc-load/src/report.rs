//! The figures of a run and how they are printed.

use std::time::Duration;

use crate::server::Rss;

/// The outcome of a run.
#[derive(Debug)]
pub struct Report {
    sync: String,
    streams: usize,
    elapsed: Duration,
    requests: usize,
    points: u64,
    retries: u64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    rss: Option<Rss>,
}

/// The `q`-quantile (0..=1) of sorted `values` (nearest rank).
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or_default()
}

impl Report {
    /// Summarises per-writer `(latencies, points, retries)`.
    pub fn new<'a>(
        sync: &str,
        streams: usize,
        elapsed: Duration,
        writers: impl Iterator<Item = (&'a [Duration], u64, u64)>,
        rss: Option<Rss>,
    ) -> Self {
        let mut all = Vec::new();
        let (mut points, mut retries) = (0, 0);
        for (lat, p, r) in writers {
            all.extend_from_slice(lat);
            points += p;
            retries += r;
        }
        all.sort_unstable();
        Self {
            sync: sync.to_owned(),
            streams,
            elapsed,
            requests: all.len(),
            points,
            retries,
            p50: quantile(&all, 0.50),
            p99: quantile(&all, 0.99),
            max: all.last().copied().unwrap_or_default(),
            rss,
        }
    }

    /// Points per second over the whole run.
    pub fn points_per_sec(&self) -> f64 {
        self.points as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Prints the report as aligned text.
pub fn print(r: &Report) {
    println!("sync            {}", r.sync);
    println!("writers         {}", r.streams);
    println!("requests        {} ({} busy retries)", r.requests, r.retries);
    println!("points          {}", r.points);
    println!("elapsed         {:.2} s", r.elapsed.as_secs_f64());
    println!("throughput      {:.0} points/s", r.points_per_sec());
    println!("ack latency     p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms", ms(r.p50), ms(r.p99), ms(r.max));
    if let Some(rss) = r.rss {
        println!(
            "server RSS      peak (VmHWM) {:.1} MiB, largest sample {:.1} MiB",
            rss.peak_kib as f64 / 1024.0,
            rss.sampled_max_kib as f64 / 1024.0
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average    {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
