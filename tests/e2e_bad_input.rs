//! Bad input over the wire: each mistake is answered with the right gRPC status and a message
//! that names the problem, and nothing of the request is applied (checked by reading back).

mod common;

use common::*;
use isobar_proto::v1 as pb;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;

/// Asserts `result` failed with `code` and a message containing every one of `parts`.
fn assert_status<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: Code, parts: &[&str]) {
    let status = result.expect_err("the server must refuse");
    assert_eq!(status.code(), code, "{}", status.message());
    for part in parts {
        assert!(status.message().contains(part), "{:?} lacks {part:?}", status.message());
    }
}

/// One good row in `station=ok`, then the table must hold exactly that.
async fn assert_only_the_good_row(client: &mut isobar::client::Client) {
    let rows = rows_f64(&scan_all(client, "weather", &["env.temp"]).await, "env.temp");
    assert_eq!(rows, [("station=ok".to_owned(), T0, Some(1.0))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_write_is_refused_precisely_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.server.max_rows_per_request = 1000;
    let (running, mut client) = serve(&config).await;
    create_weather(&mut client).await;
    let good = one_batch("weather", "station=ok", vec![T0], vec![f64_column("temp", vec![1.0])]);
    client.ingest.write(good.clone()).await.expect("good write");

    // Unknown table.
    let unknown = one_batch("nowhere", "s", vec![T0], vec![f64_column("temp", vec![1.0])]);
    assert_status(client.ingest.write(unknown).await, Code::NotFound, &["table \"nowhere\" does not exist"]);

    // Wrong type: i64 values for the f64 column env.temp, next to a valid batch.
    let mut wrong = one_batch("weather", "station=x", vec![T0], vec![i64_column("temp", vec![3])]);
    wrong.batches.insert(0, good.batches[0].clone());
    wrong.batches[0].series = "station=y".into();
    assert_status(client.ingest.write(wrong).await, Code::InvalidArgument, &["env.temp", "f64", "i64", "station=x"]);

    // Malformed batch: 3 timestamps, 2 values.
    let short = one_batch("weather", "station=x", vec![T0, T0 + 1, T0 + 2], vec![f64_column("temp", vec![1.0, 2.0])]);
    assert_status(
        client.ingest.write(short).await,
        Code::InvalidArgument,
        &["batches[0]", "column env.temp", "has 2 values but the batch has 3 timestamps"],
    );

    // Empty request.
    assert_status(client.ingest.write(pb::WriteRequest::default()).await, Code::InvalidArgument, &["no rows"]);

    // Unknown column of a table without dynamic columns.
    let new_col = one_batch("weather", "station=x", vec![T0], vec![f64_column("pressure", vec![1.0])]);
    assert_status(client.ingest.write(new_col).await, Code::NotFound, &["no column \"pressure\""]);

    // Too many rows for one request.
    let ts: Vec<i64> = (0..1001).map(|i| T0 + i).collect();
    let many = one_batch("weather", "station=x", ts, vec![f64_column("temp", vec![0.5; 1001])]);
    assert_status(client.ingest.write(many).await, Code::InvalidArgument, &["1001 rows", "limit is 1000"]);

    // Oversize message: over the 1 MiB limit of the test server (tonic answers OUT_OF_RANGE).
    let ts: Vec<i64> = (0..900).map(|i| T0 + i).collect();
    let mut big = one_batch("weather", "station=x", ts, vec![f64_column("temp", vec![0.5; 900])]);
    big.batches[0].series = "k".repeat(1 << 20);
    assert_status(client.ingest.write(big).await, Code::OutOfRange, &["too large", "limit"]);

    // Invalid series key (too long for the engine's default 1024-byte limit).
    let long_key = one_batch("weather", &"k".repeat(2000), vec![T0], vec![f64_column("temp", vec![1.0])]);
    assert_status(client.ingest.write(long_key).await, Code::InvalidArgument, &["series key of 2000 bytes"]);

    // Invalid table name in a write.
    let bad_name = one_batch("bad-name", "s", vec![T0], vec![f64_column("temp", vec![1.0])]);
    assert_status(client.ingest.write(bad_name).await, Code::InvalidArgument, &["invalid table name \"bad-name\""]);

    assert_only_the_good_row(&mut client).await;
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_stream_message_is_named_and_later_ones_are_not_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    let messages = vec![
        one_batch("weather", "station=ok", vec![T0], vec![f64_column("temp", vec![1.0])]),
        one_batch("weather", "station=bad", vec![T0, T0 + 1], vec![f64_column("temp", vec![2.0])]),
        one_batch("weather", "station=late", vec![T0], vec![f64_column("temp", vec![3.0])]),
    ];
    let result = client.ingest.write_stream(tokio_stream::iter(messages)).await;
    assert_status(result, Code::InvalidArgument, &["message 1:", "has 1 values but the batch has 2 timestamps"]);
    assert_only_the_good_row(&mut client).await;
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_admin_and_read_requests_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    client
        .ingest
        .write(one_batch("weather", "station=ok", vec![T0], vec![f64_column("temp", vec![1.0])]))
        .await
        .expect("good write");

    // Invalid names.
    let mut spec = weather_spec();
    spec.name = "1st".into();
    let create = pb::CreateTableRequest { table: Some(spec), if_not_exists: false };
    assert_status(client.admin.create_table(create).await, Code::InvalidArgument, &["invalid table name \"1st\""]);
    let mut spec = weather_spec();
    spec.name = "other".into();
    spec.families[0].columns[0].name = "t-1".into();
    let create = pb::CreateTableRequest { table: Some(spec), if_not_exists: false };
    assert_status(client.admin.create_table(create).await, Code::InvalidArgument, &["invalid column name \"t-1\""]);
    // Unset column type.
    let mut spec = weather_spec();
    spec.name = "other".into();
    spec.families[0].columns[0].r#type = 0;
    let create = pb::CreateTableRequest { table: Some(spec), if_not_exists: false };
    assert_status(client.admin.create_table(create).await, Code::InvalidArgument, &["type 0 is not one of"]);
    // Existing table.
    let create = pb::CreateTableRequest { table: Some(weather_spec()), if_not_exists: false };
    assert_status(client.admin.create_table(create).await, Code::AlreadyExists, &["table \"weather\" already exists"]);
    let tables = client.admin.list_tables(pb::ListTablesRequest {}).await.expect("list").into_inner().tables;
    assert_eq!(tables.len(), 1, "no table was created");

    // AlterTable: a good action followed by a bad one applies neither.
    let add = |family: &str, column: &str| pb::AlterTableAction {
        action: Some(pb::alter_table_action::Action::AddColumns(pb::AddColumns {
            family: family.into(),
            columns: vec![pb::ColumnSpec { name: column.into(), r#type: pb::ColumnType::F64.into() }],
        })),
    };
    let alter =
        pb::AlterTableRequest { table: "weather".into(), actions: vec![add("env", "rh"), add("nofamily", "x")] };
    assert_status(client.admin.alter_table(alter).await, Code::InvalidArgument, &["actions[1]", "nofamily"]);
    let info = client
        .admin
        .describe_table(pb::DescribeTableRequest { table: "weather".into() })
        .await
        .expect("describe")
        .into_inner()
        .table
        .expect("table");
    assert_eq!(info.families[0].columns.len(), 2, "env.rh must not have been added");

    // Reads: unknown table, unknown column, missing selector, inverted range.
    let scan = |table: &str, columns: Vec<String>, selector, range| pb::ScanRequest {
        table: table.into(),
        selector,
        range,
        columns,
        ..Default::default()
    };
    assert_status(client.query.scan(scan("nowhere", vec![], all(), None)).await, Code::NotFound, &["\"nowhere\""]);
    assert_status(
        client.query.scan(scan("weather", vec!["env.nope".into()], all(), None)).await,
        Code::NotFound,
        &["no column \"nope\""],
    );
    assert_status(client.query.scan(scan("weather", vec![], None, None)).await, Code::InvalidArgument, &["selector"]);
    let inverted = Some(pb::TimeRange { from_ns: Some(10), to_ns: Some(5) });
    assert_status(
        client.query.scan(scan("weather", vec![], all(), inverted)).await,
        Code::InvalidArgument,
        &["ends before it starts"],
    );

    // Delete without a range is refused rather than read as "everything".
    let delete = pb::DeleteRequest { table: "weather".into(), selector: all(), range: None, family: None };
    assert_status(client.admin.delete(delete).await, Code::InvalidArgument, &["range"]);
    // A delete with one end is refused too (it used to delete to the end of time), naming the
    // missing end and how to say "open"; nothing is deleted.
    let half = |from_ns, to_ns| pb::DeleteRequest {
        table: "weather".into(),
        selector: all(),
        range: Some(pb::TimeRange { from_ns, to_ns }),
        family: None,
    };
    let only_from = client.admin.delete(half(Some(i64::MIN), None)).await;
    assert_status(only_from, Code::InvalidArgument, &["range.to_ns", "i64::MAX", "9223372036854775807"]);
    let only_to = client.admin.delete(half(None, Some(i64::MAX))).await;
    assert_status(only_to, Code::InvalidArgument, &["range.from_ns", "i64::MIN"]);
    let neither = client.admin.delete(half(None, None)).await;
    assert_status(neither, Code::InvalidArgument, &["range.from_ns"]);

    assert_only_the_good_row(&mut client).await;
    running.stop().await.expect("clean stop");
}
