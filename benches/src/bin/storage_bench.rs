//! `storage_bench`: Isobar's end-to-end storage benchmark over the IoT and weather workloads.
//!
//! For each workload it measures, in this order:
//! 1. **ingest**: pre-generated batches written in-process under the chosen sync policy, with the
//!    memtables flushing in the background as in production; peak RSS while writing;
//! 2. **bytes per point** of the SSTables that ingest left (many flushed files), and of a bulk
//!    layout (the same data flushed once, one file per family: what compaction converges to);
//! 3. **scans** of the bulk layout after a reopen: a one-family projection over all series with
//!    a cold then a warm block cache, single-series scans, and page decoding isolated at the
//!    SSTable reader; plus a cold scan of the ingest layout.
//!
//! ```text
//! cargo run --release -p isobar-benches --bin storage_bench -- --workload both --scale 1
//! cargo run --release -p isobar-benches --bin storage_bench -- --quick   # CI smoke, seconds
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use isobar_benches::footprint::{self, Footprint, ratio};
use isobar_benches::ingest::{self, BatchShape};
use isobar_benches::report::{mib, mib_opt, per_second, rate};
use isobar_benches::scan;
use isobar_storage::{Db, Options, ScanRequest, SyncPolicy, WriteBatch};
use isobar_testkit::procfs;
use isobar_workload::{Kind, Spec};

/// Which workloads to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Workload {
    Iot,
    Weather,
    Both,
}

/// The WAL sync policy of the ingest phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Sync {
    /// fsync at most every 100 ms.
    Interval,
    /// fsync every group commit.
    Always,
    /// never fsync.
    None,
}

/// Isobar storage benchmark: ingest, bytes per point, scans.
#[derive(Parser, Debug)]
#[command(version, about, after_help = "Example: storage_bench --workload iot --scale 0.5 --sync interval")]
struct Args {
    /// Workload(s) to run.
    #[arg(long, value_enum, default_value = "both")]
    workload: Workload,
    /// Series count factor (1 = 1,000 trucks / 500 stations).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// WAL sync policy during ingest.
    #[arg(long, value_enum, default_value = "interval")]
    sync: Sync,
    /// Where the databases go (default: a temporary directory, deleted at the end).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// CI smoke mode: a tiny slice of each workload, a few seconds in all.
    #[arg(long)]
    quick: bool,
    /// Timestamps per write batch.
    #[arg(long, default_value_t = 10)]
    ts_per_batch: usize,
    /// Series per write batch (default: all series).
    #[arg(long)]
    series_per_batch: Option<usize>,
    /// Threads writing concurrently.
    #[arg(long, default_value_t = 1)]
    writers: usize,
    /// Memtable size in MiB during ingest (the engine's default is 32).
    #[arg(long, default_value_t = 32)]
    memtable_mib: usize,
    /// Series read one by one in the single-series scan.
    #[arg(long, default_value_t = 100)]
    single_series: usize,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("storage_bench: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::Builder::new().prefix("isobar-bench-").tempdir()?;
    let root = args.data_dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    println!("# storage_bench");
    println!(
        "cores {} | load average {} | data dir {} | sync {:?} | writers {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        procfs::load_average().map_or("n/a".into(), |l| format!("{l:.2}")),
        root.display(),
        args.sync,
        args.writers
    );
    let kinds: &[Kind] = match args.workload {
        Workload::Iot => &[Kind::Iot],
        Workload::Weather => &[Kind::Weather],
        Workload::Both => &[Kind::Iot, Kind::Weather],
    };
    for kind in kinds {
        let mut spec = Spec::new(*kind).scale(args.scale);
        if args.quick {
            spec = spec.scale(0.02).timestamps(720);
        }
        bench_workload(args, &spec, &root.join(kind.table_name()))?;
    }
    Ok(())
}

fn sync_policy(s: Sync) -> SyncPolicy {
    match s {
        Sync::Interval => SyncPolicy::Interval(Duration::from_millis(100)),
        Sync::Always => SyncPolicy::Always,
        Sync::None => SyncPolicy::None,
    }
}

fn bench_workload(args: &Args, spec: &Spec, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let table = spec.kind.table_name();
    println!();
    println!(
        "## {table}: {} series x {} timestamps x {} columns = {} points",
        spec.series,
        spec.timestamps,
        spec.columns().len(),
        spec.points()
    );
    let _ = std::fs::remove_dir_all(dir);

    // 1. Ingest.
    let shape =
        BatchShape { ts_per_batch: args.ts_per_batch, series_per_batch: args.series_per_batch.unwrap_or(spec.series) };
    let batches = ingest::pregenerate(spec, shape);
    let batch_points = batches.points / batches.batches.len().max(1) as u64;
    println!(
        "batches: {} of {} ts x {} series (~{} points each), generated in {:.2?} (not measured)",
        batches.batches.len(),
        shape.ts_per_batch,
        shape.series_per_batch,
        batch_points,
        batches.generated_in
    );
    let ingest_dir = dir.join("ingest");
    let opts = Options { sync: sync_policy(args.sync), memtable_size: args.memtable_mib << 20, ..Options::default() };
    let db = Db::open(&ingest_dir, opts)?;
    db.create_table(spec.table_spec())?;
    let f = ingest::run(&db, batches, args.writers)?;
    println!(
        "ingest: {} points in {:.3?} = {} (rows {}); cpu {} ({:.2} cores busy); final flush {:.2?}",
        f.points,
        f.elapsed,
        rate(f.points_per_s()),
        rate(per_second(f.rows, f.elapsed)),
        f.cpu.map_or("n/a".into(), |c| format!("{c:.2?}")),
        f.cpu.map_or(0.0, |c| c.as_secs_f64() / f.elapsed.as_secs_f64()),
        f.final_flush
    );
    println!(
        "ingest memory: peak RSS {} (RSS before the first write, batches included: {}); {} flushes, {} stalls (longest {:.2?})",
        mib_opt(f.peak_rss),
        mib_opt(f.rss_before),
        f.flushes,
        f.stalls,
        f.longest_stall
    );
    println!("WAL: {} payload = {:.3} B/point", mib(f.wal_bytes), ratio(f.wal_bytes, f.points));
    print_footprint("SSTables after ingest", &footprint::measure(&db, &ingest_dir, spec)?);
    db.close()?;
    drop(db);

    // 2. Bulk layout: every series whole, one flush, one file per family.
    let bulk_dir = dir.join("bulk");
    let bulk_opts =
        Options { sync: SyncPolicy::None, memtable_size: 8 << 30, memtable_budget: 16 << 30, ..Options::default() };
    let db = Db::open(&bulk_dir, bulk_opts)?;
    db.create_table(spec.table_spec())?;
    for i in 0..spec.series {
        db.write(WriteBatch::from(spec.series_history(i)))?;
    }
    db.flush()?;
    print_footprint("SSTables, bulk layout", &footprint::measure(&db, &bulk_dir, spec)?);
    db.close()?;
    drop(db);

    // 3. Scans.
    let scan_opts = Options { block_cache_size: 8 << 30, ..Options::default() };
    let family = spec.columns().first().map_or("", |c| c.family);
    let projection = vec![format!("{family}.*")];
    let req = ScanRequest::new(table).columns(projection.iter().cloned());
    let db = Db::open(&bulk_dir, scan_opts.clone())?;
    let cold = scan::scan(&db, &req)?;
    print_scan(&format!("scan {family}.* all series, cold block cache"), &cold);
    let warm = scan::scan(&db, &req)?;
    print_scan(&format!("scan {family}.* all series, warm block cache"), &warm);
    let keys: Vec<String> = (0..spec.series.min(args.single_series)).map(|i| spec.series_name(i)).collect();
    let single = scan::single_series(&db, table, &projection, &keys)?;
    print_scan(&format!("scan {family}.* one series at a time ({} series), warm", keys.len()), &single);
    println!(
        "    = {:.1} us per single-series scan of {} rows",
        single.elapsed.as_secs_f64() * 1e6 / keys.len().max(1) as f64,
        single.rows / keys.len().max(1) as u64
    );
    let def = db.table_def(table)?;
    let fam = def.family(family).ok_or("workload family missing")?;
    let ids: Vec<u32> = fam.columns.iter().map(|c| c.id).collect();
    db.close()?;
    drop(db);
    let d = scan::reader_decode(&bulk_dir, fam.id, &ids)?;
    println!(
        "decode at the SSTable reader, one thread, {} file(s): {} values cold in {:.3?} = {}, warm {:.3?}; \
         pages alone: {}",
        d.files,
        d.values,
        d.cold,
        rate(d.cold_values_per_s()),
        d.warm,
        rate(d.decode_values_per_s())
    );
    let db = Db::open(&ingest_dir, scan_opts)?;
    let cold = scan::scan(&db, &req)?;
    print_scan(&format!("scan {family}.* all series, ingest layout, cold block cache"), &cold);
    db.close()?;
    Ok(())
}

fn print_footprint(title: &str, fp: &Footprint) {
    println!("{title}: {} in .sst files = {:.3} B/point", mib(fp.sst_bytes_on_disk), fp.bytes_per_point());
    for f in &fp.families {
        println!(
            "    {:<12} {:>3} file(s) {:>10} = {:.3} B/point over {} points",
            f.family,
            f.files,
            mib(f.bytes),
            f.bytes_per_point(),
            f.points
        );
    }
}

fn print_scan(title: &str, s: &scan::ScanFigures) {
    println!(
        "{title}: {} rows, {} points in {:.3?} = {} ({} per CPU-second)",
        s.rows,
        s.points,
        s.elapsed,
        rate(s.points_per_s()),
        s.points_per_cpu_s().map_or("n/a".into(), rate)
    );
}
