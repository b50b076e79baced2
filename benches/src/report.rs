//! Number formatting for the printed report: rates with SI prefixes, bytes in MiB.

use std::time::Duration;

/// `count / elapsed` per second (0 for an empty interval).
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { count as f64 / s } else { 0.0 }
}

/// A rate like `12.34 M/s`.
pub fn rate(per_s: f64) -> String {
    let (v, unit) = match per_s {
        x if x >= 1e9 => (x / 1e9, "G"),
        x if x >= 1e6 => (x / 1e6, "M"),
        x if x >= 1e3 => (x / 1e3, "k"),
        x => (x, ""),
    };
    format!("{v:.2} {unit}/s")
}

/// Bytes as `123.4 MiB`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// An optional byte count as MiB, or `n/a`.
pub fn mib_opt(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "n/a".to_string(), mib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rate(per_second(25_000_000, Duration::from_secs(2))), "12.50 M/s");
        assert_eq!(rate(999.0), "999.00 /s");
        assert_eq!(rate(1.5e9), "1.50 G/s");
        assert_eq!(mib(3 << 20), "3.0 MiB");
        assert_eq!(mib_opt(None), "n/a");
        assert_eq!(per_second(5, Duration::ZERO), 0.0);
    }
}
