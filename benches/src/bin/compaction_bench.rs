//! Compaction benchmark: a long ingest of the IoT workload with late and duplicate rows mixed
//! in, while background time-window compaction runs. Reports write amplification, final bytes
//! per point, the file count over time, the longest write stall, and scan speed after
//! compaction compared with the same data compacted into one file per family.
//!
//! ```text
//! cargo run --release -p isobar-benches --bin compaction_bench -- --points 200000000
//! cargo run --release -p isobar-benches --bin compaction_bench -- --quick     # a few seconds
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use isobar_storage::{CompactionOptions, Db, Error, Options, ScanRequest, SeriesSelector, SyncPolicy, TimeRange};
use isobar_workload::{Disorder, Generator, Spec};

#[derive(Parser, Debug)]
#[command(about = "Long IoT ingest with late and duplicate data; measures compaction")]
struct Args {
    /// Unique points to ingest (rounded to whole timestamps of the 1,000-truck fleet).
    #[arg(long, default_value_t = 200_000_000)]
    points: u64,
    /// Fraction of rows that arrive late (up to one hour).
    #[arg(long, default_value_t = 0.02)]
    late: f64,
    /// Fraction of batches sent twice.
    #[arg(long, default_value_t = 0.02)]
    duplicates: f64,
    /// Where to put the database (default: a temporary directory, deleted afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A smoke run of a few seconds (CI).
    #[arg(long)]
    quick: bool,
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
}

fn options(window: Duration) -> Options {
    Options {
        sync: SyncPolicy::Interval(Duration::from_millis(100)),
        compaction: CompactionOptions { window, ..CompactionOptions::default() },
        ..Options::default()
    }
}

fn time_scans(db: &Db, spec: &Spec) -> (Duration, Duration) {
    let all = ScanRequest::new("iot").columns(["readings.*"]);
    let one = ScanRequest::new("iot")
        .selector(SeriesSelector::Exact(spec.series_name(7)))
        .range(TimeRange::new(spec.ts_at(100), spec.ts_at(100) + 3_600_000_000_000))
        .columns(["readings.*"]);
    let median = |req: &ScanRequest, runs: usize| {
        let mut t: Vec<Duration> = (0..runs)
            .map(|_| {
                let s = Instant::now();
                let rows: usize = db.scan(req).expect("scan").iter().map(|b| b.num_rows()).sum();
                assert!(rows > 0);
                s.elapsed()
            })
            .collect();
        t.sort();
        t[runs / 2]
    };
    (median(&all, 3), median(&one, 21))
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    let points = if args.quick { 2_000_000 } else { args.points };
    let series = if args.quick { 100 } else { 1000 };
    let mut spec = Spec::iot().series(series);
    let per_ts = (series * spec.columns().len()) as u64;
    spec = spec.timestamps((points / per_ts).max(1) as usize);
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let dir = args.data_dir.clone().unwrap_or_else(|| tmp.path().join("db"));
    let db = Db::open(&dir, options(Duration::from_secs(24 * 3600)))?;
    db.create_table(spec.table_spec())?;
    let disorder = Disorder { late_fraction: args.late, duplicate_fraction: args.duplicates, ..Disorder::default() };
    let generator = Generator::new(spec.clone()).disorder(disorder);
    println!(
        "compaction_bench: {} trucks x {} timestamps = {} unique points, late {:.0}%, duplicate batches {:.0}%",
        series,
        spec.timestamps,
        spec.points(),
        args.late * 100.0,
        args.duplicates * 100.0
    );
    let started = Instant::now();
    let mut logical: u64 = 0;
    let mut sent_points: u64 = 0;
    let mut longest_write = Duration::ZERO;
    let mut overloaded = 0u64;
    let mut samples: Vec<(f64, u64, usize, u64)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    for batch in generator {
        let rows: u64 = batch.series.iter().map(|s| s.ts.len() as u64).sum();
        let pts = batch.points() as u64;
        loop {
            let t = Instant::now();
            match db.write(batch.clone()) {
                Ok(_) => {
                    longest_write = longest_write.max(t.elapsed());
                    break;
                }
                Err(Error::Overloaded { retry_after, .. }) => {
                    overloaded += 1;
                    std::thread::sleep(retry_after.min(Duration::from_millis(100)));
                }
                Err(e) => return Err(e),
            }
        }
        logical += rows * 8 + pts * 8;
        sent_points += pts;
        if started.elapsed() >= next_sample {
            let files: usize = db.stats().families.iter().map(|f| f.files).sum();
            samples.push((started.elapsed().as_secs_f64(), sent_points, files, dir_bytes(&dir.join("sst"))));
            next_sample += Duration::from_secs(if args.quick { 1 } else { 5 });
        }
    }
    let ingest = started.elapsed();
    db.flush()?;
    let settle = Instant::now();
    while db.stats().families.iter().any(|f| f.pending_compaction_bytes > 0)
        && settle.elapsed() < Duration::from_secs(300)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let stats = db.stats();
    let files: usize = stats.families.iter().map(|f| f.files).sum();
    samples.push((started.elapsed().as_secs_f64(), sent_points, files, dir_bytes(&dir.join("sst"))));
    let sst_bytes: u64 = stats.families.iter().map(|f| f.file_bytes).sum();
    let disk_written = stats.wal_bytes + stats.flush_bytes + stats.compaction_bytes_written;
    println!(
        "\ningest: {sent_points} points sent in {:.1} s = {:.2} M points/s",
        ingest.as_secs_f64(),
        sent_points as f64 / ingest.as_secs_f64() / 1e6
    );
    println!(
        "compaction settled {:.1} s after the last write; {} merges",
        settle.elapsed().as_secs_f64(),
        stats.compactions
    );
    println!("\nfiles over time (s, points sent, sst files, sst bytes):");
    for (t, p, f, b) in &samples {
        println!("  {t:8.1}  {p:>12}  {f:>5}  {b:>12}");
    }
    println!("\nlogical input: {logical} bytes (8-byte ts per row + 8 bytes per point, duplicates included)");
    println!(
        "bytes written: WAL {} + flush {} + compaction {} = {}",
        stats.wal_bytes, stats.flush_bytes, stats.compaction_bytes_written, disk_written
    );
    println!("write amplification: {:.2}x of logical input", disk_written as f64 / logical as f64);
    println!(
        "SSTable write amplification: {:.2}x (flush + compaction bytes / final SSTable bytes)",
        (stats.flush_bytes + stats.compaction_bytes_written) as f64 / sst_bytes as f64
    );
    println!(
        "final: {files} files, {sst_bytes} bytes, {:.3} bytes per unique point",
        sst_bytes as f64 / spec.points() as f64
    );
    println!(
        "longest write: {:.1} ms; engine stall total longest {:.1} ms; writes slowed {}; refused (overloaded) {}",
        longest_write.as_secs_f64() * 1e3,
        stats.longest_stall.as_secs_f64() * 1e3,
        stats.slowed_writes,
        overloaded
    );
    let (all_windowed, one_windowed) = time_scans(&db, &spec);
    db.close()?;
    drop(db);
    // The same data with one window spanning everything, fully compacted: one file per family.
    let db = Db::open(&dir, options(Duration::from_secs(100 * 365 * 24 * 3600)))?;
    db.compact("iot", None, None)?;
    let single: usize = db.stats().families.iter().map(|f| f.files).sum();
    let (all_single, one_single) = time_scans(&db, &spec);
    println!(
        "\nscan readings.* of every series: {:.1} ms after compaction vs {:.1} ms with {single} file(s) per table ({:+.1}%)",
        all_windowed.as_secs_f64() * 1e3,
        all_single.as_secs_f64() * 1e3,
        (all_windowed.as_secs_f64() / all_single.as_secs_f64() - 1.0) * 100.0
    );
    println!(
        "one series, one hour: {:.3} ms vs {:.3} ms ({:+.1}%)",
        one_windowed.as_secs_f64() * 1e3,
        one_single.as_secs_f64() * 1e3,
        (one_windowed.as_secs_f64() / one_single.as_secs_f64() - 1.0) * 100.0
    );
    db.close()?;
    Ok(())
}
