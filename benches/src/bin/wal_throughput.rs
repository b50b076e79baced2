//! Rough WAL throughput: N threads append fixed-size records and wait for each to be durable.
//!
//! ```text
//! cargo run --release -p isobar-benches --bin wal_throughput -- [always|none|interval] \
//!     [threads=8] [records=20000] [record_bytes=1024] [dir=<temp dir>]
//! ```
//!
//! Each thread takes the next seq under a mutex (as the engine does under its write lock),
//! appends, releases the mutex and calls `wait_durable`, like a client waiting for its
//! acknowledgement. Prints records/s and payload MB/s (10^6 bytes) including the final close.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use isobar_storage::wal::{Wal, WalOptions};
use isobar_storage::{SyncPolicy, WalRecovery};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let sync = match arg(0, "always").as_str() {
        "always" => SyncPolicy::Always,
        "none" => SyncPolicy::None,
        "interval" => SyncPolicy::Interval(Duration::from_millis(100)),
        other => {
            return Err(format!("unknown policy {other}: use always, none or interval").into());
        }
    };
    let threads: usize = arg(1, "8").parse()?;
    let records: u64 = arg(2, "20000").parse()?;
    let record_bytes: usize = arg(3, "1024").parse()?;
    let temp = tempfile::tempdir()?;
    let dir = args.get(4).map_or_else(|| temp.path().join("wal"), PathBuf::from);

    let opts = WalOptions { segment_size: 64 << 20, sync, recovery: WalRecovery::Strict };
    let wal = Arc::new(Wal::open(&dir, opts)?);
    wal.replay(0, |_, _| Ok(()))?;
    let next = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (wal, next) = (Arc::clone(&wal), Arc::clone(&next));
            std::thread::spawn(move || -> Result<(), String> {
                let payload = vec![t as u8; record_bytes];
                loop {
                    let seq = {
                        let mut n = next.lock().map_err(|e| e.to_string())?;
                        if *n >= records {
                            return Ok(());
                        }
                        *n += 1;
                        wal.append(*n, payload.clone()).map_err(|e| e.to_string())?;
                        *n
                    };
                    wal.wait_durable(seq).map_err(|e| e.to_string())?;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "worker panicked")??;
    }
    wal.close()?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = records as f64 * record_bytes as f64;
    println!(
        "policy={sync:?} threads={threads} records={records} record_bytes={record_bytes}: \
         {secs:.2} s, {:.0} records/s, {:.1} MB/s, {} segment(s)",
        records as f64 / secs,
        bytes / secs / 1e6,
        wal.segments().len(),
    );
    Ok(())
}
