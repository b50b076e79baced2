//! The standard `process_*` metrics, read from `/proc/self` at each scrape (Linux; elsewhere the
//! families are left out): resident and virtual memory, CPU seconds, open and allowed file
//! descriptors, and the start time. Read by hand instead of through a crate: five small files,
//! parsed with checked steps (a field that cannot be read leaves its sample out, never fails the
//! scrape).

use std::path::Path;

use super::text::{Kind, TextWriter};

/// `USER_HZ`: the unit of the CPU and start times in `/proc/<pid>/stat`, fixed at 100 by the
/// Linux user-space ABI on every architecture Isobar builds for.
const TICKS_PER_SECOND: f64 = 100.0;

/// What one scrape read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessStats {
    /// Resident set size, bytes.
    pub resident_bytes: Option<u64>,
    /// Virtual memory size, bytes.
    pub virtual_bytes: Option<u64>,
    /// User plus system CPU time, seconds.
    pub cpu_seconds: Option<f64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
    /// The soft limit of open file descriptors.
    pub max_fds: Option<u64>,
    /// Start time, seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

impl ProcessStats {
    /// Reads the current process.
    pub fn read() -> Self {
        let proc_dir = Path::new("/proc/self");
        let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
        let stat = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        let limits = std::fs::read_to_string(proc_dir.join("limits")).unwrap_or_default();
        let boot = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let (cpu_ticks, start_ticks) = stat_times(&stat).unzip();
        let btime = boot.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse::<u64>().ok());
        Self {
            resident_bytes: status_kib(&status, "VmRSS:").map(|k| k * 1024),
            virtual_bytes: status_kib(&status, "VmSize:").map(|k| k * 1024),
            cpu_seconds: cpu_ticks.map(|t| t as f64 / TICKS_PER_SECOND),
            open_fds: std::fs::read_dir(proc_dir.join("fd")).ok().map(|d| d.count() as u64),
            max_fds: max_open_files(&limits),
            start_time_seconds: btime.zip(start_ticks).map(|(b, s)| b as f64 + s as f64 / TICKS_PER_SECOND),
        }
    }
}

/// A `Key:   123 kB` line of `/proc/self/status`, in KiB.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let rest = status.lines().find_map(|l| l.strip_prefix(key))?;
    rest.split_whitespace().next()?.parse().ok()
}

/// `(utime + stime, starttime)` in ticks from `/proc/self/stat`. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
fn stat_times(stat: &str) -> Option<(u64, u64)> {
    let after = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, so field n is index n - 3.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some((field(14)? + field(15)?, field(22)?))
}

/// The soft limit of the `Max open files` line of `/proc/self/limits`.
fn max_open_files(limits: &str) -> Option<u64> {
    let rest = limits.lines().find_map(|l| l.strip_prefix("Max open files"))?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Writes the families that could be read.
pub fn render(w: &mut TextWriter, p: &ProcessStats) {
    if let Some(v) = p.resident_bytes {
        w.single("process_resident_memory_bytes", Kind::Gauge, "Resident memory size in bytes.", v);
    }
    if let Some(v) = p.virtual_bytes {
        w.single("process_virtual_memory_bytes", Kind::Gauge, "Virtual memory size in bytes.", v);
    }
    if let Some(v) = p.cpu_seconds {
        w.single("process_cpu_seconds_total", Kind::Counter, "Total user and system CPU time spent in seconds.", v);
    }
    if let Some(v) = p.open_fds {
        w.single("process_open_fds", Kind::Gauge, "Number of open file descriptors.", v);
    }
    if let Some(v) = p.max_fds {
        w.single("process_max_fds", Kind::Gauge, "Maximum number of open file descriptors.", v);
    }
    if let Some(v) = p.start_time_seconds {
        let help = "Start time of the process since unix epoch in seconds.";
        w.single("process_start_time_seconds", Kind::Gauge, help, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "42 (isobar (rpc) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 12345 1000 200";
        assert_eq!(stat_times(stat), Some((300, 12345)));
        assert_eq!(stat_times("garbage"), None);
        assert_eq!(stat_times("1 (x) S 1"), None);
    }

    #[test]
    fn status_and_limits_lines_are_parsed() {
        assert_eq!(status_kib("Name:\tisobar\nVmRSS:\t  2048 kB\n", "VmRSS:"), Some(2048));
        assert_eq!(status_kib("VmRSS:\n", "VmRSS:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024));
    }

    #[test]
    fn this_process_reads_on_linux() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let p = ProcessStats::read();
        assert!(p.resident_bytes.is_some_and(|v| v > 0), "{p:?}");
        assert!(p.open_fds.is_some_and(|v| v >= 3), "{p:?}");
        assert!(p.start_time_seconds.is_some_and(|v| v > 1.0e9), "{p:?}");
        assert!(p.cpu_seconds.is_some(), "{p:?}");
    }
}
