//! SQL against the native API through the server: a client in this process, `isobar serve` in
//! another, with the server's default settings (WAL `sync = always`, auth off) on loopback.
//!
//! 1. Starts `--server-bin serve` over a fresh temporary data directory on a free loopback port.
//! 2. Creates the `iot` and `weather` tables (Admin API) and bulk-ingests each workload as Arrow
//!    record batches through Flight SQL `CommandStatementIngest` (what ADBC's `adbc_ingest`
//!    sends), into the table relation `public.<table>` (columns `series`, `ts`,
//!    `<family>.<column>`): `--batches-per-request` batches of `--batch-rows` rows per request,
//!    `--streams` concurrent streams, one connection each. The batches are built before the
//!    clock starts; the clock stops when the last request is acknowledged. Points = rows x
//!    value columns.
//! 3. Flushes (Admin API) and times the queries of `sql_bench`, alternating in each run: the
//!    native gRPC call (`isobar.v1.Query` Scan / Aggregate / Latest, every batch decoded) and the
//!    same question as SQL over Flight SQL (`execute` = `GetFlightInfo`, then `DoGet` of every
//!    endpoint, every batch decoded), each on its own connection, opened once. Row counts are
//!    asserted equal.
//!
//! ```text
//! cargo build --release -p isobar -p isobar-benches --bin isobar --bin sql_server_bench
//! target/release/sql_server_bench --server-bin target/release/isobar --scale 1 --runs 10
//! ```

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, TimestampNanosecondArray};
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandStatementIngest, TableDefinitionOptions, TableExistsOption, TableNotExistOption};
use clap::Parser;
use futures::TryStreamExt;
use isobar::client::{Client, collect};
use isobar_proto::v1 as pb;
use isobar_storage::{ColumnValues, WriteBatch};
use isobar_testkit::server::ServerCommand;
use isobar_workload::{Generator, Spec, T0_NS, t0_plus_hours};
use tonic::transport::{Channel, Endpoint};

const HOUR: i64 = 3_600_000_000_000;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "Flight SQL bulk ingest and SQL against the native gRPC API, through a started isobar server")]
struct Args {
    /// The `isobar` binary to start.
    #[arg(long, default_value = "target/release/isobar")]
    server_bin: PathBuf,
    /// Fleet size relative to the full workloads (1,000 trucks, 500 stations).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Timed runs of each query, each way.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Concurrent ingest streams (one connection each).
    #[arg(long, default_value_t = 4)]
    streams: usize,
    /// Also time every query over the PostgreSQL protocol with psycopg, run by this Python
    /// (e.g. `.venv/bin/python`; `benches/psycopg_queries.py` does the timing in its process).
    #[arg(long)]
    psycopg: Option<PathBuf>,
    /// Rows per Arrow record batch.
    #[arg(long, default_value_t = 10_000)]
    batch_rows: usize,
    /// Record batches per ingest request (one `DoPut`).
    #[arg(long, default_value_t = 8)]
    batches_per_request: usize,
    /// Timestamps per series in a batch (rows of a series are contiguous, series after series).
    #[arg(long, default_value_t = 100)]
    ts_per_series: usize,
}

type Flight = FlightSqlServiceClient<Channel>;

async fn channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_owned()).expect("url").tcp_nodelay(true).connect().await.expect("connects")
}

/// One generator batch as one Arrow batch of the table relation (`family.column` names).
fn to_arrow(batch: WriteBatch) -> RecordBatch {
    let rows: usize = batch.series.iter().map(|s| s.ts.len()).sum();
    let mut series = StringBuilder::with_capacity(rows, rows * 12);
    let mut ts = Vec::with_capacity(rows);
    let first = batch.series.first().expect("a batch has a series");
    let names: Vec<String> = first.columns.iter().map(|c| format!("{}.{}", c.family, c.column)).collect();
    let mut f64s: Vec<Option<Float64Builder>> = Vec::new();
    let mut i64s: Vec<Option<Int64Builder>> = Vec::new();
    for c in &first.columns {
        let is_f64 = matches!(c.values, ColumnValues::F64(_));
        f64s.push(is_f64.then(|| Float64Builder::with_capacity(rows)));
        i64s.push((!is_f64).then(|| Int64Builder::with_capacity(rows)));
    }
    for s in &batch.series {
        for _ in 0..s.ts.len() {
            series.append_value(&s.series);
        }
        ts.extend_from_slice(&s.ts);
        for (i, c) in s.columns.iter().enumerate() {
            let valid = |row: usize| c.validity.as_ref().is_none_or(|v| v[row]);
            match (&c.values, &mut f64s[i], &mut i64s[i]) {
                (ColumnValues::F64(v), Some(b), _) => {
                    v.iter().enumerate().for_each(|(r, x)| b.append_option(valid(r).then_some(*x)))
                }
                (ColumnValues::I64(v), _, Some(b)) => {
                    v.iter().enumerate().for_each(|(r, x)| b.append_option(valid(r).then_some(*x)))
                }
                _ => panic!("the workloads have f64 and i64 columns only, in the same order in every series"),
            }
        }
    }
    let mut columns: Vec<(String, ArrayRef)> = vec![
        ("series".into(), Arc::new(series.finish())),
        ("ts".into(), Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC"))),
    ];
    for ((name, f), i) in names.into_iter().zip(f64s).zip(i64s) {
        let array: ArrayRef = match (f, i) {
            (Some(mut b), _) => Arc::new(b.finish()),
            (_, Some(mut b)) => Arc::new(b.finish()),
            _ => unreachable!("one builder per column"),
        };
        columns.push((name, array));
    }
    RecordBatch::try_from_iter(columns).expect("batch")
}

fn ingest_command(table: &str) -> CommandStatementIngest {
    CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: TableNotExistOption::Fail.into(),
            if_exists: TableExistsOption::Append.into(),
        }),
        table: table.into(),
        schema: None,
        catalog: None,
        temporary: false,
        transaction_id: None,
        options: Default::default(),
    }
}

/// Sends requests from `queue` until it is empty; the rows acknowledged and the requests the
/// server pushed back (`RESOURCE_EXHAUSTED`, retried after 200 ms as a polite client does, at
/// most 100 times each).
async fn ingest_stream(url: String, table: String, queue: Arc<Mutex<VecDeque<Vec<RecordBatch>>>>) -> (i64, usize) {
    let mut client = FlightSqlServiceClient::new(channel(&url).await);
    let (mut rows, mut pushed_back) = (0, 0);
    loop {
        let Some(request) = queue.lock().expect("queue").pop_front() else { return (rows, pushed_back) };
        for attempt in 1.. {
            let stream = futures::stream::iter(request.clone().into_iter().map(Ok));
            match client.execute_ingest(ingest_command(&table), stream).await {
                Ok(n) => {
                    rows += n;
                    break;
                }
                Err(arrow_flight::error::FlightError::Tonic(status))
                    if status.code() == tonic::Code::ResourceExhausted && attempt < 100 =>
                {
                    pushed_back += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("ingest: {e}"),
            }
        }
    }
}

/// Bulk-ingests `spec` through Flight SQL; prints and returns points/s.
async fn ingest(url: &str, spec: &Spec, args: &Args) -> f64 {
    let series_per_batch = (args.batch_rows / args.ts_per_series).max(1);
    let generator = Generator::new(spec.clone()).ts_per_batch(args.ts_per_series).series_per_batch(series_per_batch);
    let batches: Vec<RecordBatch> = generator.map(to_arrow).collect();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows as u64, spec.rows());
    let requests: VecDeque<Vec<RecordBatch>> =
        batches.chunks(args.batches_per_request.max(1)).map(<[RecordBatch]>::to_vec).collect();
    let count = requests.len();
    let queue = Arc::new(Mutex::new(requests));
    let table = spec.kind.table_name().to_owned();
    let clock = Instant::now();
    let streams: Vec<_> = (0..args.streams.max(1))
        .map(|_| tokio::spawn(ingest_stream(url.to_owned(), table.clone(), queue.clone())))
        .collect();
    let (mut acked, mut pushed_back) = (0, 0);
    for s in streams {
        let (rows, refused) = s.await.expect("ingest stream");
        acked += rows;
        pushed_back += refused;
    }
    let s = clock.elapsed().as_secs_f64();
    assert_eq!(acked as usize, rows, "rows acknowledged");
    let rate = spec.points() as f64 / s / 1e6;
    println!(
        "ingest {table}: {rows} rows, {} points in {count} requests of {} batches x ~{} rows, {} streams: {s:.2} s = {rate:.2} M points/s ({pushed_back} requests pushed back and retried)",
        spec.points(),
        args.batches_per_request,
        series_per_batch * args.ts_per_series,
        args.streams
    );
    rate
}

/// A native gRPC call.
enum Native {
    Scan(pb::ScanRequest),
    Aggregate(pb::AggregateRequest),
    Latest(pb::LatestRequest),
}

async fn native_rows(client: &mut Client, call: &Native) -> usize {
    let stream = match call {
        Native::Scan(r) => client.query.scan(r.clone()).await,
        Native::Aggregate(r) => client.query.aggregate(r.clone()).await,
        Native::Latest(r) => client.query.latest(r.clone()).await,
    };
    let (_, batches) = collect(stream.expect("native call").into_inner()).await.expect("native answer");
    batches.iter().map(RecordBatch::num_rows).sum()
}

async fn sql_rows(client: &mut Flight, sql: &str) -> usize {
    let info = client.execute(sql.to_owned(), None).await.expect("execute");
    let mut rows = 0;
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("ticket");
        let batches: Vec<RecordBatch> =
            client.do_get(ticket).await.expect("do_get").try_collect().await.expect("batches");
        rows += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
    }
    rows
}

fn selector(s: pb::series_selector::Selector) -> Option<pb::SeriesSelector> {
    Some(pb::SeriesSelector { selector: Some(s) })
}

fn range(from: i64, to: i64) -> Option<pb::TimeRange> {
    Some(pb::TimeRange { from_ns: Some(from), to_ns: Some(to) })
}

fn aggregation(function: pb::AggregateFunction, column: &str) -> pb::Aggregation {
    pb::Aggregation { function: function.into(), column: column.into(), alias: String::new() }
}

fn cases(iot: &Spec) -> Vec<(&'static str, Native, String)> {
    use pb::series_selector::Selector;
    let key = iot.series_name(iot.series / 2);
    let all = || selector(Selector::All(pb::AllSeries {}));
    let scan = |columns: Vec<String>, from, to| pb::ScanRequest {
        table: "iot".into(),
        selector: selector(Selector::Exact(key.clone())),
        range: range(T0_NS + from * HOUR, T0_NS + to * HOUR),
        columns,
        ..Default::default()
    };
    vec![
        (
            "Q1 iot: one series, readings, 1 h (scan)",
            Native::Scan(scan(vec!["readings.*".into()], 5, 6)),
            format!(
                "SELECT * FROM iot.readings WHERE series = '{key}' AND ts >= '{}' AND ts < '{}'",
                t0_plus_hours(5),
                t0_plus_hours(6)
            ),
        ),
        (
            "Q2 iot: one series, all columns, 12 h (scan)",
            Native::Scan(scan(Vec::new(), 0, 12)),
            format!(
                "SELECT * FROM iot WHERE series = '{key}' AND ts >= '{}' AND ts < '{}'",
                t0_plus_hours(0),
                t0_plus_hours(12)
            ),
        ),
        (
            "Q3 iot: hourly avg(velocity), every series, 12 h",
            Native::Aggregate(pb::AggregateRequest {
                table: "iot".into(),
                selector: all(),
                range: range(T0_NS, T0_NS + 12 * HOUR),
                bucket_ns: HOUR,
                aggregations: vec![aggregation(pb::AggregateFunction::Avg, "readings.velocity")],
                ..Default::default()
            }),
            format!(
                "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity) FROM iot.readings \
                 WHERE ts >= '{}' AND ts < '{}' GROUP BY series, hour",
                t0_plus_hours(0),
                t0_plus_hours(12)
            ),
        ),
        (
            "Q4 iot: latest row of every series",
            Native::Latest(pb::LatestRequest { table: "iot".into(), selector: all(), ..Default::default() }),
            "SELECT * FROM latest('public.iot')".into(),
        ),
        (
            "Q5 weather: daily max(temperature) per station",
            Native::Aggregate(pb::AggregateRequest {
                table: "weather".into(),
                selector: all(),
                bucket_ns: 24 * HOUR,
                aggregations: vec![aggregation(pb::AggregateFunction::Max, "weather.temperature")],
                ..Default::default()
            }),
            "SELECT series, date_bin(INTERVAL '1 day', ts) AS day, max(temperature) FROM weather.weather \
             GROUP BY series, day"
                .into(),
        ),
        (
            "Q4 weather: latest row of every station",
            Native::Latest(pb::LatestRequest { table: "weather".into(), selector: all(), ..Default::default() }),
            "SELECT * FROM latest('public.weather')".into(),
        ),
    ]
}

fn median(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (times[times.len() / 2].as_secs_f64() * 1e3, times[0].as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = isobar_testkit::server::free_addr().expect("a free port");
    let mut command = ServerCommand::new(&args.server_bin, dir.path()).wait_at_most(Duration::from_secs(30));
    if args.psycopg.is_some() {
        command = command.env("ISOBAR_POSTGRES_ENABLED", "true").env("ISOBAR_POSTGRES_LISTEN", pg.to_string());
    }
    let server = command.start_async().await.expect("server starts");
    let url = server.url();
    println!("server {} (pid {}), default settings; scale {}, {} runs", url, server.pid(), args.scale, args.runs);
    let mut client = Client::from_channel(channel(&url).await);
    let (iot, weather) = (Spec::iot().scale(args.scale), Spec::weather().scale(args.scale));
    for spec in [&iot, &weather] {
        let table = Some(table_proto(spec));
        client.admin.create_table(pb::CreateTableRequest { table, if_not_exists: false }).await.expect("create table");
        ingest(&url, spec, &args).await;
    }
    let t = Instant::now();
    client.admin.flush(pb::FlushRequest { table: String::new() }).await.expect("flush");
    println!("flush: {:.2} s", t.elapsed().as_secs_f64());

    let mut flight = FlightSqlServiceClient::new(channel(&url).await);
    let mut table = Vec::new();
    for (name, native, sql) in cases(&iot) {
        let rows = native_rows(&mut client, &native).await;
        assert_eq!(sql_rows(&mut flight, &sql).await, rows, "{name}: SQL and native answer different row counts");
        let (mut n, mut s) = (Vec::new(), Vec::new());
        for _ in 0..args.runs.max(1) {
            let t = Instant::now();
            assert_eq!(native_rows(&mut client, &native).await, rows);
            n.push(t.elapsed());
            let t = Instant::now();
            assert_eq!(sql_rows(&mut flight, &sql).await, rows);
            s.push(t.elapsed());
        }
        let ((nm, nmin), (sm, smin)) = (median(n), median(s));
        println!(
            "{name:<48} native median {nm:>9.3} ms (min {nmin:>9.3})  SQL median {sm:>9.3} ms (min {smin:>9.3})  {rows} rows"
        );
        let p = args.psycopg.as_ref().map(|python| psycopg_median(python, pg, &sql, rows, args.runs));
        if let Some((pm, pmin)) = p {
            println!("{:<48} psycopg median {pm:>9.3} ms (min {pmin:>9.3})", "");
        }
        table.push((name, rows, nm, sm, p.map(|(m, _)| m)));
    }
    println!(
        "\n| query | rows | native gRPC median | Flight SQL median | SQL / native | psycopg (PostgreSQL) median | psycopg / Flight SQL |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, rows, n, s, p) in table {
        let (pm, ratio) =
            p.map_or(("-".to_owned(), "-".to_owned()), |p| (format!("{p:.3} ms"), format!("{:.2}x", p / s)));
        println!("| {name} | {rows} | {n:.3} ms | {s:.3} ms | {:.2}x | {pm} | {ratio} |", s / n);
    }
    server.terminate().expect("SIGTERM");
}

/// Median and minimum milliseconds of `sql` over the PostgreSQL protocol, timed by
/// `benches/psycopg_queries.py` in its own process (one connection, every row fetched), which
/// also checks the row count.
fn psycopg_median(
    python: &std::path::Path,
    pg: std::net::SocketAddr,
    sql: &str,
    rows: usize,
    runs: usize,
) -> (f64, f64) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("psycopg_queries.py");
    let output = std::process::Command::new(python)
        .arg(script)
        .args([pg.ip().to_string(), pg.port().to_string(), runs.max(1).to_string(), rows.to_string(), sql.to_owned()])
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "psycopg_queries.py failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    let mut fields = text.split_whitespace().filter_map(|f| f.parse::<f64>().ok());
    (fields.next().expect("median"), fields.next().expect("min"))
}

/// The workload's table as the Admin API's message.
fn table_proto(spec: &Spec) -> pb::TableSpec {
    isobar_wire::table::table_spec_to_proto(spec.table_spec())
}
