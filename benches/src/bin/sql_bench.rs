//! SQL against the native read API, in process, on the shared IoT and weather workloads.
//!
//! Loads each workload as `query_bench` does (WAL sync off, then a flush) and runs the same
//! queries both ways in the same run, alternating: the native call (exactly `query_bench`'s:
//! `Snapshot::scan`, `isobar_query::aggregate`, `isobar_query::latest`) and the equivalent SQL
//! through `isobar_sql::SqlEngine` with default options, timed as a user pays it: `prepare`
//! (parse, access check, catalog snapshot, logical plan) + `execute` + collecting every batch.
//! The time of `prepare` alone is recorded within each SQL run. Every query asserts that SQL and
//! native return the same number of rows; each SQL query's `EXPLAIN` is printed once.
//!
//! Queries: Q1 one series, family `readings`, 1 hour; Q2 one series, every column, 12 hours;
//! Q3 hourly average of velocity for every series over 12 hours; Q4 latest row of every series
//! (IoT and weather); Q5 daily max of temperature per station (weather).
//! Q3' and Q5' time the native aggregate with the counts the SQL layer adds to tell a group's
//! existence (one per column of the family), against the same SQL: the engine's share of the
//! SQL figure apart from DataFusion's.
//!
//! ```text
//! cargo run --release -p isobar-benches --bin sql_bench -- [--scale 1.0] [--runs 20]
//! ```
//! Each query runs once as a warm-up, then `--runs` times each way; the median and minimum are
//! printed, and a summary table (native median, SQL median, ratio, `prepare` median) at the end.

use std::path::Path;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use isobar_query::{AggregateFunction as F, AggregateQuery, Aggregation, Bucket, LatestQuery, aggregate, latest};
use isobar_sql::{AllowAll, SqlEngine, SqlOptions};
use isobar_storage::{Db, Options, ScanRequest, SeriesSelector, Snapshot, SyncPolicy, TimeRange};
use isobar_workload::{Generator, Spec, T0_NS, t0_plus_hours};

const HOUR: i64 = 3_600_000_000_000;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn rows_of(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn load(spec: &Spec, dir: &Path) -> Db {
    let db = Db::open(dir, Options { sync: SyncPolicy::None, ..Options::default() }).expect("open");
    db.create_table(spec.table_spec()).expect("create table");
    let t = Instant::now();
    for batch in Generator::new(spec.clone()) {
        db.write(batch).expect("write");
    }
    db.flush().expect("flush");
    let s = t.elapsed().as_secs_f64();
    println!(
        "loaded {} ({} points) in {s:.1} s ({:.2} M points/s)",
        spec.kind,
        spec.points(),
        spec.points() as f64 / s / 1e6
    );
    db
}

/// One query, both ways.
struct Case<'a> {
    name: &'static str,
    native: Box<dyn Fn() -> usize + 'a>,
    sql: String,
}

/// Medians of one case: native, SQL (prepare + execute + collect), and `prepare` alone.
struct Figures {
    name: &'static str,
    rows: usize,
    native: Duration,
    sql: Duration,
    prepare: Duration,
}

/// Runs `sql` as a user does; returns the rows and the time `prepare` took.
async fn run_sql(engine: &SqlEngine, sql: &str) -> (usize, Duration) {
    let t = Instant::now();
    let plan = engine.prepare(sql, &AllowAll).await.expect("prepare");
    let prepared = t.elapsed();
    let batches: Vec<RecordBatch> = plan.execute().await.expect("execute").try_collect().await.expect("batches");
    (rows_of(&batches), prepared)
}

fn median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[0])
}

fn bench(rt: &tokio::runtime::Runtime, engine: &SqlEngine, case: &Case, runs: usize) -> Figures {
    let plan = rt.block_on(engine.prepare(&case.sql, &AllowAll)).expect("prepare");
    let explain = rt.block_on(plan.explain()).expect("explain");
    println!("\n-- {}\n{}\n{explain}", case.name, case.sql);
    let native_rows = (case.native)();
    let (sql_rows, _) = rt.block_on(run_sql(engine, &case.sql));
    assert_eq!(sql_rows, native_rows, "{}: SQL and native answer different row counts", case.name);
    let (mut native, mut sql, mut prepare) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let rows = (case.native)();
        native.push(t.elapsed());
        assert_eq!(rows, native_rows);
        let t = Instant::now();
        let (rows, prepared) = rt.block_on(run_sql(engine, &case.sql));
        sql.push(t.elapsed());
        prepare.push(prepared);
        assert_eq!(rows, native_rows);
    }
    let ((n, n_min), (s, s_min), (p, _)) = (median(native), median(sql), median(prepare));
    println!(
        "{:<44} native median {:>9.3} ms (min {:>9.3})  SQL median {:>9.3} ms (min {:>9.3}, prepare {:.3})  {} rows",
        case.name,
        ms(n),
        ms(n_min),
        ms(s),
        ms(s_min),
        ms(p),
        native_rows
    );
    Figures { name: case.name, rows: native_rows, native: n, sql: s, prepare: p }
}

fn scan(snap: &Snapshot, req: &ScanRequest) -> usize {
    let batches: Vec<_> = snap.scan(req).expect("scan").collect::<Result<_, _>>().expect("scan batch");
    rows_of(&batches)
}

/// `query` with what the SQL layer adds to an aggregate it pushes down: a count of every column
/// of `family`, so that a group exists wherever a row does (see `isobar_sql`'s `aggregate.rs`).
/// Timing it natively tells the engine's share of the SQL figure from DataFusion's.
fn with_existence_counts(mut query: AggregateQuery, spec: &Spec, family: &str) -> AggregateQuery {
    for column in spec.columns().iter().filter(|c| c.family == family) {
        let name = format!("{}.{}", column.family, column.name);
        query.aggregations.push(Aggregation::new(F::Count, name.parse().expect("column")));
    }
    query
}

fn iot_cases<'a>(spec: &Spec, snap: &'a Snapshot) -> Vec<Case<'a>> {
    let key = spec.series_name(spec.series / 2);
    let one = SeriesSelector::Exact(key.clone());
    let q1 = ScanRequest::new("iot")
        .selector(one.clone())
        .range(TimeRange::new(T0_NS + 5 * HOUR, T0_NS + 6 * HOUR))
        .columns(["readings.*"]);
    let q2 = ScanRequest::new("iot").selector(one).range(TimeRange::new(T0_NS, T0_NS + 12 * HOUR));
    let q3 = AggregateQuery {
        range: TimeRange::new(T0_NS, T0_NS + 12 * HOUR),
        bucket: Some(Bucket::new(HOUR)),
        ..AggregateQuery::new("iot", vec![Aggregation::new(F::Avg, "readings.velocity".parse().expect("column"))])
    };
    let q3_counted = with_existence_counts(q3.clone(), spec, "readings");
    let q3_sql = format!(
        "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity) FROM iot.readings \
         WHERE ts >= '{}' AND ts < '{}' GROUP BY series, hour",
        t0_plus_hours(0),
        t0_plus_hours(12)
    );
    let q4 = LatestQuery::new("iot");
    vec![
        Case {
            name: "Q1 iot: one series, readings, 1 h (scan)",
            native: Box::new(move || scan(snap, &q1)),
            sql: format!(
                "SELECT * FROM iot.readings WHERE series = '{key}' AND ts >= '{}' AND ts < '{}'",
                t0_plus_hours(5),
                t0_plus_hours(6)
            ),
        },
        Case {
            name: "Q2 iot: one series, all columns, 12 h (scan)",
            native: Box::new(move || scan(snap, &q2)),
            sql: format!(
                "SELECT * FROM iot WHERE series = '{key}' AND ts >= '{}' AND ts < '{}'",
                t0_plus_hours(0),
                t0_plus_hours(12)
            ),
        },
        Case {
            name: "Q3 iot: hourly avg(velocity), every series, 12 h",
            native: Box::new(move || rows_of(&aggregate(snap, &q3).expect("q3"))),
            sql: q3_sql.clone(),
        },
        Case {
            name: "Q3' the same, native with SQL's 7 existence counts",
            native: Box::new(move || rows_of(&aggregate(snap, &q3_counted).expect("q3'"))),
            sql: q3_sql,
        },
        Case {
            name: "Q4 iot: latest row of every series",
            native: Box::new(move || latest(snap, &q4).expect("q4").num_rows()),
            sql: "SELECT * FROM latest('public.iot')".into(),
        },
    ]
}

fn weather_cases<'a>(spec: &Spec, snap: &'a Snapshot) -> Vec<Case<'a>> {
    let q5 = AggregateQuery {
        bucket: Some(Bucket::new(24 * HOUR)),
        ..AggregateQuery::new("weather", vec![Aggregation::new(F::Max, "weather.temperature".parse().expect("column"))])
    };
    let q5_counted = with_existence_counts(q5.clone(), spec, "weather");
    let q5_sql = "SELECT series, date_bin(INTERVAL '1 day', ts) AS day, max(temperature) FROM weather.weather \
                  GROUP BY series, day";
    let q4 = LatestQuery::new("weather");
    vec![
        Case {
            name: "Q5 weather: daily max(temperature) per station",
            native: Box::new(move || rows_of(&aggregate(snap, &q5).expect("q5"))),
            sql: q5_sql.into(),
        },
        Case {
            name: "Q5' the same, native with SQL's 6 existence counts",
            native: Box::new(move || rows_of(&aggregate(snap, &q5_counted).expect("q5'"))),
            sql: q5_sql.into(),
        },
        Case {
            name: "Q4 weather: latest row of every station",
            native: Box::new(move || latest(snap, &q4).expect("q4").num_rows()),
            sql: "SELECT * FROM latest('public.weather')".into(),
        },
    ]
}

fn main() {
    let scale: f64 = arg("--scale").and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(20).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    println!(
        "scale {scale}, {runs} runs per query each way (alternating), rayon threads {}, tokio workers {}",
        rayon::current_num_threads(),
        rt.metrics().num_workers()
    );
    let mut figures = Vec::new();
    for spec in [Spec::iot().scale(scale), Spec::weather().scale(scale)] {
        let db = load(&spec, &dir.path().join(spec.kind.table_name()));
        let engine = SqlEngine::new(db.clone(), SqlOptions::default());
        {
            let snap = db.snapshot();
            let cases =
                if spec.kind.table_name() == "iot" { iot_cases(&spec, &snap) } else { weather_cases(&spec, &snap) };
            figures.extend(cases.iter().map(|case| bench(&rt, &engine, case, runs)));
        }
        db.close().expect("close");
    }
    println!("\n| query | rows | native median | SQL median | SQL / native | of which prepare |");
    println!("|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {} | {:.3} ms | {:.3} ms | {:.2}x | {:.3} ms |",
            f.name,
            f.rows,
            ms(f.native),
            ms(f.sql),
            f.sql.as_secs_f64() / f.native.as_secs_f64(),
            ms(f.prepare)
        );
    }
}
