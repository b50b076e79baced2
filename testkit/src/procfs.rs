//! Process facts from `/proc`: resident memory (current and peak) of this process or of a child
//! (a server under test, by PID), CPU time of this process, the machine's load average.
//!
//! The peak (`VmHWM`) can be reset by writing `5` to `/proc/self/clear_refs` (Linux 4.0+), which
//! lets one process measure the peak of one phase (ingest) after another (data generation).
//! Everything here returns `None` when `/proc` is not there or the field is missing.

use std::time::Duration;

/// Clock ticks per second of the `utime`/`stime` fields of `/proc/<pid>/stat`. Linux fixes this
/// `USER_HZ` at 100 on every architecture's user ABI, whatever the kernel's `HZ`.
const USER_HZ: u64 = 100;

/// The number of a `field: <n> kB` line (such as `VmRSS`) of a `/proc/<pid>/status` text.
fn field_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A field of `/proc/self/status` given in kB (such as `VmRSS`), in bytes.
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(field_kib(&status, field)? * 1024)
}

/// A field of `/proc/<pid>/status` given in kB (such as `VmRSS` or `VmHWM`), in KiB; `None` once
/// the process is gone.
pub fn pid_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    field_kib(&status, field)
}

/// Resident memory now (`VmRSS`).
pub fn rss_bytes() -> Option<u64> {
    status_bytes("VmRSS")
}

/// Peak resident memory since start or since the last [`reset_peak_rss`] (`VmHWM`).
pub fn peak_rss_bytes() -> Option<u64> {
    status_bytes("VmHWM")
}

/// Resets the peak resident memory to the current one; false when the kernel refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

/// User plus system CPU time of all threads of this process so far (10 ms resolution).
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

/// The 1-minute load average (`/proc/loadavg`), to record how busy the machine was.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let rss = rss_bytes().expect("VmRSS");
        let peak = peak_rss_bytes().expect("VmHWM");
        assert!(rss > 0 && peak >= rss, "rss {rss} peak {peak}");
        let busy: u64 = (0..20_000_000u64).fold(0, |a, x| a.wrapping_add(x * x));
        assert!(busy > 0);
        assert!(cpu_time().is_some());
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }

    #[test]
    fn reads_another_process_by_pid() {
        let pid = std::process::id();
        let kib = pid_status_kib(pid, "VmRSS").expect("VmRSS");
        assert!(kib > 0);
        // A field is matched whole: `VmRS` is not `VmRSS`.
        assert_eq!(pid_status_kib(pid, "VmRS"), None);
        assert_eq!(field_kib("VmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n", "VmRSS"), Some(1024));
    }

    #[test]
    fn peak_follows_an_allocation() {
        let before = peak_rss_bytes().expect("VmHWM");
        let big = vec![1u8; 64 << 20];
        let after = peak_rss_bytes().expect("VmHWM");
        assert!(big.iter().all(|b| *b == 1));
        assert!(after >= before + (60 << 20), "before {before} after {after}");
    }
}
