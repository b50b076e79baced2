//! Query benchmarks on the shared IoT and weather workloads (see the `workload/` crate).
//!
//! Loads each workload into a fresh database (WAL sync off), flushes, then times:
//! Q1 one series, one family, 1 hour (scan); Q2 one series, 12 hours, every column (scan);
//! Q3 hourly average of one column for every series over 12 hours; Q4 latest row for every
//! series; Q5 daily max of temperature per station (weather); a scan-and-aggregate of every
//! numeric column with push-down off (values decoded), in points/s; the same with push-down on;
//! and a Parquet export of the whole table, in points/s, with its size relative to the SSTables.
//!
//! ```text
//! cargo run --release -p isobar-benches --bin query_bench -- [--scale 1.0] [--runs 20] [--cache-mb N]
//! ```
//! Each query runs `--runs` times after one warm-up (throughput runs at most 5 times); the median
//! and the minimum are printed. `--cache-mb` sets the block cache (default: the engine's 64 MiB),
//! to tell decoding from disk apart from aggregating already decoded blocks.

use std::path::Path;
use std::time::{Duration, Instant};

use isobar_query::{
    AggregateFunction as F, AggregateQuery, Aggregation, Bucket, ExportQuery, LatestQuery, aggregate,
    aggregate_with_stats, export, latest,
};
use isobar_storage::{Db, Options, ScanRequest, SeriesSelector, Snapshot, SyncPolicy, TimeRange};
use isobar_workload::{Generator, Spec, T0_NS};

const HOUR: i64 = 3_600_000_000_000;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut out = f();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[0], out)
}

fn report(name: &str, (median, min): (Duration, Duration), detail: &str) {
    println!("{name:<44} median {:>10.3} ms  min {:>10.3} ms  {detail}", ms(median), ms(min));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn load(spec: &Spec, dir: &Path, cache_mb: usize) -> Db {
    let mut opts = Options { sync: SyncPolicy::None, ..Options::default() };
    if cache_mb > 0 {
        opts.block_cache_size = cache_mb << 20;
    }
    let db = Db::open(dir, opts).expect("open");
    db.create_table(spec.table_spec()).expect("create table");
    let t = Instant::now();
    for batch in Generator::new(spec.clone()) {
        db.write(batch).expect("write");
    }
    db.flush().expect("flush");
    let s = t.elapsed().as_secs_f64();
    let stats = db.stats();
    let files: usize = stats.families.iter().map(|f| f.files).sum();
    println!(
        "loaded {} ({} series x {} samples, {} points) in {s:.1} s ({:.2} M points/s), {files} SSTables",
        spec.kind,
        spec.series,
        spec.timestamps,
        spec.points(),
        spec.points() as f64 / s / 1e6
    );
    db
}

fn rows_of(batches: &[arrow_array::RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

fn scan(snap: &Snapshot, req: &ScanRequest) -> usize {
    let batches: Vec<_> = snap.scan(req).expect("scan").collect::<Result<_, _>>().expect("scan batch");
    rows_of(&batches)
}

fn sst_bytes(db: &Db, table: &str) -> u64 {
    db.stats().families.iter().filter(|f| f.table == table).map(|f| f.file_bytes).sum()
}

fn decode_throughput(snap: &Snapshot, spec: &Spec, runs: usize) {
    let table = spec.kind.table_name();
    let numeric: Vec<Aggregation> = spec
        .columns()
        .iter()
        .filter(|c| c.ty.is_numeric())
        .map(|c| Aggregation::new(F::Sum, format!("{}.{}", c.family, c.name).parse().unwrap()))
        .collect();
    let points = spec.rows() * numeric.len() as u64;
    for push_down in [false, true] {
        let q = AggregateQuery {
            bucket: Some(Bucket::new(HOUR)),
            push_down,
            ..AggregateQuery::new(table, numeric.clone())
        };
        let (median, min, (_, stats)) = time(runs.min(5), || aggregate_with_stats(snap, &q).expect("aggregate"));
        let rate = points as f64 / median.as_secs_f64() / 1e6;
        let name = format!("{table}: hourly sum of all numeric, push-down {}", if push_down { "on" } else { "off" });
        report(
            &name,
            (median, min),
            &format!(
                "{rate:.0} M points/s ({} chunks from stats, {} rows decoded)",
                stats.chunks_from_stats, stats.rows_decoded
            ),
        );
    }
}

fn export_bench(db: &Db, spec: &Spec, dir: &Path) {
    let table = spec.kind.table_name();
    let dest = dir.join(format!("export-{table}"));
    let t = Instant::now();
    let summary = export(db, &ExportQuery::new(table), &dest, &mut |_| {}).expect("export");
    let s = t.elapsed().as_secs_f64();
    let sst = sst_bytes(db, table);
    println!(
        "{table}: export {} rows, {} points in {:.2} s = {:.1} M points/s; {} files, Parquet {:.1} MB vs SSTables {:.1} MB (ratio {:.2})",
        summary.rows,
        summary.points,
        s,
        summary.points as f64 / s / 1e6,
        summary.files.len(),
        summary.bytes as f64 / 1e6,
        sst as f64 / 1e6,
        summary.bytes as f64 / sst.max(1) as f64
    );
}

fn iot(scale: f64, runs: usize, cache_mb: usize, dir: &Path) {
    let spec = Spec::iot().scale(scale);
    let db = load(&spec, &dir.join("iot"), cache_mb);
    let snap = db.snapshot();
    let one = SeriesSelector::Exact(spec.series_name(spec.series / 2));
    let q1 = ScanRequest::new("iot")
        .selector(one.clone())
        .range(TimeRange::new(T0_NS + 5 * HOUR, T0_NS + 6 * HOUR))
        .columns(["readings.*"]);
    let (m, n, rows) = time(runs, || scan(&snap, &q1));
    report("Q1 iot: one series, readings, 1 h (scan)", (m, n), &format!("{rows} rows"));
    let q2 = ScanRequest::new("iot").selector(one).range(TimeRange::new(T0_NS, T0_NS + 12 * HOUR));
    let (m, n, rows) = time(runs, || scan(&snap, &q2));
    report("Q2 iot: one series, all columns, 12 h (scan)", (m, n), &format!("{rows} rows"));
    let q3 = AggregateQuery {
        range: TimeRange::new(T0_NS, T0_NS + 12 * HOUR),
        bucket: Some(Bucket::new(HOUR)),
        ..AggregateQuery::new("iot", vec![Aggregation::new(F::Avg, "readings.velocity".parse().unwrap())])
    };
    let (m, n, out) = time(runs, || aggregate(&snap, &q3).expect("q3"));
    report("Q3 iot: hourly avg(velocity), every series, 12 h", (m, n), &format!("{} rows", rows_of(&out)));
    let q4 = LatestQuery::new("iot");
    let (m, n, out) = time(runs, || latest(&snap, &q4).expect("q4"));
    report("Q4 iot: latest row of every series", (m, n), &format!("{} rows", out.num_rows()));
    decode_throughput(&snap, &spec, runs);
    export_bench(&db, &spec, dir);
    db.close().expect("close");
}

fn weather(scale: f64, runs: usize, cache_mb: usize, dir: &Path) {
    let spec = Spec::weather().scale(scale);
    let db = load(&spec, &dir.join("weather"), cache_mb);
    let snap = db.snapshot();
    let q5 = AggregateQuery {
        bucket: Some(Bucket::new(24 * HOUR)),
        ..AggregateQuery::new("weather", vec![Aggregation::new(F::Max, "weather.temperature".parse().unwrap())])
    };
    let (m, n, out) = time(runs, || aggregate(&snap, &q5).expect("q5"));
    report("Q5 weather: daily max(temperature) per station", (m, n), &format!("{} rows", rows_of(&out)));
    let q5d = AggregateQuery { push_down: false, ..q5 };
    let (m, n, _) = time(runs, || aggregate(&snap, &q5d).expect("q5"));
    report("Q5 weather: same, push-down off", (m, n), "");
    let q4 = LatestQuery::new("weather");
    let (m, n, out) = time(runs, || latest(&snap, &q4).expect("q4"));
    report("Q4 weather: latest row of every station", (m, n), &format!("{} rows", out.num_rows()));
    decode_throughput(&snap, &spec, runs);
    export_bench(&db, &spec, dir);
    db.close().expect("close");
}

fn main() {
    let scale: f64 = arg("--scale").and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(20);
    let cache_mb: usize = arg("--cache-mb").and_then(|s| s.parse().ok()).unwrap_or(0);
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "scale {scale}, {runs} runs per query, rayon threads {}, block cache {}",
        rayon::current_num_threads(),
        if cache_mb > 0 { format!("{cache_mb} MiB") } else { "default".into() }
    );
    iot(scale, runs, cache_mb, dir.path());
    weather(scale, runs, cache_mb, dir.path());
}
