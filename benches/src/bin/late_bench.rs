//! Late-data benchmark (issue #26): what late rows cost compaction, and what the late runs they
//! leave in a closed window cost reads.
//!
//! The workload: 20 series x 4 `f64` columns, one row a minute over three daily windows that
//! lie in the past, written in 30 rounds (10 per window, in time order) with a flush after each
//! round and the compaction policy run to completion after each flush
//! ([`Db::compact_pending`], so the figures do not depend on the background thread's timing).
//! A window closes through the engine's own rule: once a newer window holds files, an old
//! window is past `closed_after`. A share of the rows of the first two windows is held back and
//! sent 10-19 rounds later, so it always lands in a window that is already closed.
//!
//! Reported per late share: write amplification = (flush bytes + compaction bytes written) /
//! flush bytes, from the engine's counters; the files per window after the policy settled; and
//! the median cost of a point read and of a scan of each closed window as left by the policy,
//! against the same window after `Db::compact` merged it into one file in a copy of the store
//! (the answers are checked to be identical; the two stores are timed alternately).
//!
//! ```text
//! cargo run --release -p isobar-benches --bin late_bench                      # 0 %, 3 %, 10 %
//! cargo run --release -p isobar-benches --bin late_bench -- --late 0.1 --runs 5
//! ```

use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use clap::Parser;
use isobar_storage::{
    ColumnType, ColumnValues, CompactionOptions, Db, Error, Options, ScanRequest, SeriesSelector, SeriesWrite,
    SyncPolicy, TableSpec, TimeRange, WriteBatch,
};

const MINUTE: i64 = 60_000_000_000;
const DAY: i64 = 24 * 60 * MINUTE;
const SERIES: usize = 20;
const WINDOWS: i64 = 3;
const ROUNDS: i64 = 30;
const COLUMNS: [&str; 4] = ["temperature", "humidity", "pressure", "voltage"];

#[derive(Parser, Debug)]
#[command(about = "Write amplification and read cost of late rows into closed compaction windows")]
struct Args {
    /// Shares of all rows that arrive late (into a closed window); one run each.
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.0, 0.03, 0.10])]
    late: Vec<f64>,
    /// Timing runs per read figure (the median is reported).
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Point reads per timing run.
    #[arg(long, default_value_t = 400)]
    point_reads: usize,
    /// Seed of the choice of late rows.
    #[arg(long, default_value_t = 26)]
    seed: u64,
}

/// splitmix64: a small deterministic generator, so every run picks the same late rows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows (series index, minute index) to send in each round.
fn schedule(late: f64, seed: u64) -> (Vec<Vec<(usize, i64)>>, usize) {
    let minutes_per_round = WINDOWS * 1440 / ROUNDS;
    let rounds_per_window = ROUNDS / WINDOWS;
    // Only rows of the first two windows can arrive after their window closed; raise their
    // chance so that `late` is the share of all rows.
    let eligible = (WINDOWS - 1) as f64 / WINDOWS as f64;
    let p = (late / eligible).min(1.0);
    let mut rng = Rng(seed);
    let mut rounds: Vec<Vec<(usize, i64)>> = vec![Vec::new(); ROUNDS as usize];
    let mut late_rows = 0;
    for round in 0..ROUNDS {
        let window = round / rounds_per_window;
        for minute in round * minutes_per_round..(round + 1) * minutes_per_round {
            for series in 0..SERIES {
                let mut arrival = round;
                if window < WINDOWS - 1 && rng.unit() < p {
                    let spread = (ROUNDS - round - rounds_per_window).min(rounds_per_window) as u64;
                    arrival = round + rounds_per_window + (rng.next() % spread) as i64;
                    late_rows += 1;
                }
                rounds[arrival as usize].push((series, minute));
            }
        }
    }
    (rounds, late_rows)
}

fn value(series: usize, minute: i64, column: usize) -> f64 {
    let t = minute as f64 / 1440.0 * std::f64::consts::TAU;
    let base = [20.0, 55.0, 1013.0, 12.0][column];
    let amp = [5.0, 15.0, 8.0, 0.3][column];
    let jitter = ((minute as u64).wrapping_mul(2_654_435_761).wrapping_add(series as u64 * 97 + column as u64) % 1000)
        as f64
        / 1000.0;
    ((base + amp * (t + series as f64).sin() + jitter * amp * 0.05) * 100.0).round() / 100.0
}

fn batch(rows: &[(usize, i64)], start: i64) -> WriteBatch {
    let mut by_series: Vec<Vec<i64>> = vec![Vec::new(); SERIES];
    for (s, m) in rows {
        by_series[*s].push(*m);
    }
    let mut b = WriteBatch::new();
    for (s, minutes) in by_series.iter_mut().enumerate() {
        if minutes.is_empty() {
            continue;
        }
        minutes.sort_unstable();
        let mut w =
            SeriesWrite::new("late", format!("sensor_{s:02}"), minutes.iter().map(|m| start + m * MINUTE).collect());
        for (c, name) in COLUMNS.iter().enumerate() {
            w = w.column("m", name, ColumnValues::F64(minutes.iter().map(|m| value(s, *m, c)).collect()));
        }
        b.push(w);
    }
    b
}

fn rows_of(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t.get(t.len() / 2).copied().unwrap_or_default()
}

/// Reads of one window: `point_reads` single-row reads spread over it, and a scan of all of it
/// (every series, every column).
struct WindowReads {
    points: Vec<ScanRequest>,
    window: ScanRequest,
}

impl WindowReads {
    fn new(args: &Args, start: i64, w: i64) -> Self {
        let from = start + w * DAY;
        let mut rng = Rng(7 + w as u64);
        let points = (0..args.point_reads)
            .map(|_| {
                let s = rng.next() as usize % SERIES;
                let ts = from + (rng.next() % 1440) as i64 * MINUTE;
                ScanRequest::new("late")
                    .selector(SeriesSelector::Exact(format!("sensor_{s:02}")))
                    .range(TimeRange::new(ts, ts + 1))
                    .columns(["m.*"])
            })
            .collect();
        let window = ScanRequest::new("late").range(TimeRange::new(from, from + DAY)).columns(["m.*"]);
        Self { points, window }
    }

    /// Time per point read, checking that each finds its row.
    fn point(&self, db: &Db) -> Duration {
        let s = Instant::now();
        let found: usize = self.points.iter().map(|r| rows_of(&db.scan(r).expect("point read"))).sum();
        let t = s.elapsed() / self.points.len().max(1) as u32;
        assert_eq!(found, self.points.len(), "every point read finds its row");
        t
    }

    /// Time of one window scan (the mean of five after an untimed one, so that waking the
    /// decoding threads is not counted), checking that it sees every row.
    fn scan(&self, db: &Db) -> Duration {
        let scan = || rows_of(&db.scan(&self.window).expect("window scan"));
        scan();
        let s = Instant::now();
        let rows: usize = (0..5).map(|_| scan()).sum();
        let t = s.elapsed() / 5;
        assert_eq!(rows, 5 * SERIES * 1440, "the window scan sees every row");
        t
    }
}

/// Compares reads of window `w` in `runs` (as the policy left it) and in `one` (merged into one
/// file), timing the two alternately so that a change of machine load hits both alike. Returns
/// the medians (point read on `runs`, on `one`, scan on `runs`, on `one`).
fn compare_reads(args: &Args, runs: &Db, one: &Db, start: i64, w: i64) -> Result<[Duration; 4], Error> {
    let reads = WindowReads::new(args, start, w);
    assert_eq!(runs.scan(&reads.window)?, one.scan(&reads.window)?, "the final merge changes no answer");
    for r in &reads.points {
        assert_eq!(runs.scan(r)?, one.scan(r)?, "the final merge changes no point read");
    }
    let mut t: [Vec<Duration>; 4] = Default::default();
    for i in 0..args.runs.max(1) {
        // Alternate which store goes first, so neither always follows the other's work.
        let (first, second) = if i % 2 == 0 { ((runs, 0), (one, 1)) } else { ((one, 1), (runs, 0)) };
        for (db, k) in [first, second] {
            t[k].push(reads.point(db));
        }
        for (db, k) in [first, second] {
            t[2 + k].push(reads.scan(db));
        }
    }
    Ok(t.map(median))
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn pct(a: Duration, b: Duration) -> f64 {
    (a.as_secs_f64() / b.as_secs_f64() - 1.0) * 100.0
}

fn run(args: &Args, late: f64) -> Result<(), Error> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let opts = Options {
        sync: SyncPolicy::None,
        compaction: CompactionOptions { background: false, ..CompactionOptions::default() },
        ..Options::default()
    };
    let db = Db::open(tmp.path().join("db"), opts.clone())?;
    let cols: Vec<(&str, ColumnType)> = COLUMNS.iter().map(|c| (*c, ColumnType::F64)).collect();
    db.create_table(TableSpec::new("late").family("m", &cols))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    // Three whole days that ended at least a week ago: every window but the newest is closed
    // by the engine's `closed_after` rule as soon as a newer window holds a file.
    let start = (now / DAY - 10) * DAY;
    let (rounds, late_rows) = schedule(late, args.seed);
    let total: usize = rounds.iter().map(Vec::len).sum();
    for rows in &rounds {
        db.write(batch(rows, start))?;
        db.flush()?;
        db.compact_pending()?;
    }
    let stats = db.stats();
    let fam = stats.families.first().cloned().unwrap_or_default();
    let wa = (stats.flush_bytes + stats.compaction_bytes_written) as f64 / stats.flush_bytes.max(1) as f64;
    println!(
        "late {:5.2} % ({late_rows} of {total} rows): flush {} B + compaction {} B, write amplification {wa:.2}; \
         {} merges; {} files in {} windows, {} B",
        late_rows as f64 * 100.0 / total as f64,
        stats.flush_bytes,
        stats.compaction_bytes_written,
        stats.compactions,
        fam.files,
        fam.windows,
        fam.file_bytes,
    );
    db.close()?;
    drop(db);
    // The same store with windows 0 and 1 merged into one file each, to compare reads with.
    let merged_dir = tmp.path().join("merged");
    copy_dir(&tmp.path().join("db"), &merged_dir).map_err(|e| Error::io("copying the database", e))?;
    let one = Db::open(&merged_dir, opts.clone())?;
    let runs = Db::open(tmp.path().join("db"), opts)?;
    for w in 0..WINDOWS - 1 {
        let report = one.compact("late", None, Some(TimeRange::new(start + w * DAY, start + (w + 1) * DAY)))?;
        let files = report.files_in.max(1);
        let [point_runs, point_one, scan_runs, scan_one] = compare_reads(args, &runs, &one, start, w)?;
        println!(
            "  window {w}: {files} file(s) vs 1: point read {:.1} us vs {:.1} us ({:+.1} %), \
             window scan {:.3} ms vs {:.3} ms ({:+.1} %)",
            point_runs.as_secs_f64() * 1e6,
            point_one.as_secs_f64() * 1e6,
            pct(point_runs, point_one),
            scan_runs.as_secs_f64() * 1e3,
            scan_one.as_secs_f64() * 1e3,
            pct(scan_runs, scan_one),
        );
    }
    runs.close()?;
    one.close()
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    println!(
        "late_bench: {SERIES} series x {} f64 columns, one row a minute over {WINDOWS} daily windows, \
         {ROUNDS} rounds with a flush and a settled compaction after each",
        COLUMNS.len()
    );
    for late in &args.late {
        run(&args, *late)?;
    }
    Ok(())
}
