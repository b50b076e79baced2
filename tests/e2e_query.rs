//! End to end through the query engine: aggregates, latest points, compaction and Parquet
//! export over gRPC, checked against the values written.

mod common;

use arrow_array::{Array, Float64Array, Int64Array, StringArray, TimestampNanosecondArray};
use common::*;
use isobar::client::collect;
use isobar_proto::v1 as pb;
use tonic::Code;

const S: i64 = 1_000_000_000;
const H: i64 = 3600 * S;
/// 2023-11-14T22:00:00Z, an hour boundary.
const H0: i64 = 1_699_999_200 * S;

async fn write_two_series(client: &mut isobar::client::Client) {
    let a = one_batch(
        "weather",
        "station=A",
        vec![H0, H0 + H / 2, H0 + H],
        vec![f64_column("temp", vec![1.0, 2.0, 3.0]), i64_column("code", vec![10, 20, 30])],
    );
    client.ingest.write(a).await.expect("write A");
    let b = one_batch("weather", "station=B", vec![H0 + H / 4], vec![f64_column("temp", vec![-1.0])]);
    client.ingest.write(b).await.expect("write B");
}

/// `LATEST_MODE_PER_COLUMN` answers as `query.proto` documents: each value column is followed by
/// `family.column.ts` with the time of that value (null with it), and `ts` is the newest of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_per_column_gives_the_time_of_each_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    write_two_series(&mut client).await;
    // A newer temperature of A without a code: the newest code stays the one at H0 + H.
    let newer = one_batch("weather", "station=A", vec![H0 + 2 * H], vec![f64_column("temp", vec![5.0])]);
    client.ingest.write(newer).await.expect("write A again");

    let request = pb::LatestRequest {
        table: "weather".into(),
        selector: all(),
        columns: vec!["env.temp".into(), "env.code".into()],
        mode: pb::LatestMode::PerColumn.into(),
        ..Default::default()
    };
    let stream = client.query.latest(request).await.expect("latest").into_inner();
    let (schema, batches) = collect(stream).await.expect("answer");
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["series", "ts", "env.temp", "env.temp.ts", "env.code", "env.code.ts"]);
    let times = |column: &str| -> Vec<Option<i64>> {
        let mut out = Vec::new();
        for b in &batches {
            let a = b.column_by_name(column).expect(column);
            let a = a.as_any().downcast_ref::<TimestampNanosecondArray>().expect("timestamp");
            out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
        }
        out
    };
    assert_eq!(
        rows_f64(&batches, "env.temp"),
        [("station=A".to_owned(), H0 + 2 * H, Some(5.0)), ("station=B".to_owned(), H0 + H / 4, Some(-1.0))]
    );
    assert_eq!(times("env.temp.ts"), [Some(H0 + 2 * H), Some(H0 + H / 4)]);
    assert_eq!(values_i64(&batches, "env.code"), [Some(30), None]);
    assert_eq!(times("env.code.ts"), [Some(H0 + H), None]);
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_and_latest_answer_from_what_was_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    write_two_series(&mut client).await;

    let request = pb::AggregateRequest {
        table: "weather".into(),
        selector: all(),
        bucket_ns: H,
        aggregations: vec![
            pb::Aggregation {
                function: pb::AggregateFunction::Avg.into(),
                column: "env.temp".into(),
                alias: String::new(),
            },
            pb::Aggregation {
                function: pb::AggregateFunction::Count.into(),
                column: "env.code".into(),
                alias: "n".into(),
            },
        ],
        ..Default::default()
    };
    let stream = client.query.aggregate(request).await.expect("aggregate").into_inner();
    let (schema, batches) = collect(stream).await.expect("answer");
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names[names.len() - 2..], ["avg(env.temp)", "n"]);
    let mut got = Vec::new();
    for b in &batches {
        let series = b.column(0).as_any().downcast_ref::<StringArray>().expect("series");
        let bucket = b.column(1).as_any().downcast_ref::<TimestampNanosecondArray>().expect("bucket");
        let avg = b.column(2).as_any().downcast_ref::<Float64Array>().expect("avg");
        let n = b.column(3).as_any().downcast_ref::<Int64Array>().expect("count");
        for i in 0..b.num_rows() {
            got.push((series.value(i).to_owned(), bucket.value(i), avg.value(i), n.value(i)));
        }
    }
    assert_eq!(
        got,
        [
            ("station=A".to_owned(), H0, 1.5, 2),
            ("station=A".to_owned(), H0 + H, 3.0, 1),
            ("station=B".to_owned(), H0, -1.0, 0)
        ]
    );

    let request = pb::LatestRequest {
        table: "weather".into(),
        selector: all(),
        columns: vec!["env.temp".into()],
        ..Default::default()
    };
    let stream = client.query.latest(request).await.expect("latest").into_inner();
    let (_, batches) = collect(stream).await.expect("answer");
    assert_eq!(
        rows_f64(&batches, "env.temp"),
        [("station=A".to_owned(), H0 + H, Some(3.0)), ("station=B".to_owned(), H0 + H / 4, Some(-1.0))]
    );

    // Bad aggregate requests are refused with the field named.
    let bad = pb::AggregateRequest { table: "weather".into(), selector: all(), ..Default::default() };
    let status = client.query.aggregate(bad).await.expect_err("no aggregations");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("no aggregations"), "{}", status.message());
    let bad = pb::AggregateRequest {
        table: "weather".into(),
        selector: all(),
        aggregations: vec![pb::Aggregation {
            function: pb::AggregateFunction::Sum.into(),
            column: "meta.note".into(),
            alias: String::new(),
        }],
        ..Default::default()
    };
    let status = client.query.aggregate(bad).await.expect_err("sum of strings");
    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    assert!(status.message().contains("meta.note"), "{}", status.message());
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_and_export_keep_every_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let (running, mut client) = serve(&config).await;
    create_weather(&mut client).await;
    write_two_series(&mut client).await;
    client.admin.flush(pb::FlushRequest::default()).await.expect("flush");
    let more = one_batch("weather", "station=A", vec![H0 + H + S], vec![f64_column("temp", vec![4.0])]);
    client.ingest.write(more).await.expect("write");
    client.admin.flush(pb::FlushRequest::default()).await.expect("flush");
    let before = rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp");
    assert_eq!(before.len(), 5);

    let env_files = |stats: pb::StatsResponse| stats.tables[0].families[0].files;
    let stats = || pb::StatsRequest { table: "weather".into() };
    let files_before = env_files(client.admin.stats(stats()).await.expect("stats").into_inner());
    let compact = pb::CompactRequest { table: "weather".into(), family: Some("env".into()), range: None };
    let report = client.admin.compact(compact).await.expect("compact").into_inner();
    let files_after = env_files(client.admin.stats(stats()).await.expect("stats").into_inner());
    assert_eq!(files_after, 1, "one window ends as one file ({report:?}, {files_before} files before)");
    // Background compaction may have merged them already; otherwise this call did.
    assert_eq!(report.files_in, if files_before > 1 { files_before } else { 0 }, "{report:?}");
    assert_eq!(rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp"), before);

    let export = |dest: &str| pb::ExportRequest {
        table: "weather".into(),
        selector: all(),
        destination: dest.into(),
        ..Default::default()
    };
    let done = client.admin.export(export("out")).await.expect("export").into_inner();
    assert_eq!(done.rows, 5);
    assert!(!done.files.is_empty());
    for f in &done.files {
        let path = config.server.export_root().join(&f.path);
        assert_eq!(std::fs::metadata(&path).expect("file exists").len(), f.bytes, "{}", path.display());
    }
    // The same destination again: refused, nothing overwritten.
    let status = client.admin.export(export("out")).await.expect_err("not empty");
    assert_eq!(status.code(), Code::FailedPrecondition, "{}", status.message());
    let status = client.admin.export(export("../escape")).await.expect_err("outside");
    assert_eq!(status.code(), Code::InvalidArgument);

    let mut events = client.admin.export_with_progress(export("again")).await.expect("export").into_inner();
    let mut last = None;
    while let Some(event) = events.message().await.expect("event") {
        last = event.event;
    }
    let Some(pb::export_event::Event::Done(done)) = last else { panic!("the last event must be the result: {last:?}") };
    assert_eq!(done.rows, 5);
    running.stop().await.expect("clean stop");
}
