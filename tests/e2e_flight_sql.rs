//! SQL over Arrow Flight SQL end to end, with the `arrow-flight` client over loopback and
//! `[auth]` enabled (issue 15, "Auth and bad input"): statement queries and prepared statements
//! with parameters answer what the native `Scan` answers; the listings show only readable
//! tables; no token, a join over a table the token may not read, a syntax error, a query over
//! the memory limit, an unknown prepared statement and a client that goes away mid-stream are
//! each answered with their status, and the server goes on answering.

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables};
use arrow_flight::{FlightInfo, Ticket};
use common::*;
use futures::{StreamExt, TryStreamExt};
use isobar::auth::Permission;
use isobar::client::{Client, ClientOptions};
use isobar::config::Config;
use tonic::Code;
use tonic::transport::Channel;

const T0: i64 = 1_700_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

fn auth_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.auth.enabled = true;
    config.auth.tokens = vec![
        token("root", "secret-root", "*", Permission::Admin),
        token("weather-reader", "secret-weather", "weather", Permission::View),
    ];
    config.sql.memory_limit = isobar::config::ByteSize(1 << 20);
    config
}

fn code(error: FlightError) -> (Code, String) {
    match error {
        FlightError::Tonic(status) => (status.code(), status.message().to_owned()),
        other => panic!("not a status: {other}"),
    }
}

/// The batches of the first endpoint of `info`.
async fn fetch(
    client: &mut FlightSqlServiceClient<Channel>,
    info: FlightInfo,
) -> Result<Vec<RecordBatch>, (Code, String)> {
    let ticket: Ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let stream = client.do_get(ticket).await.map_err(code)?;
    stream.try_collect().await.map_err(code)
}

async fn sql(client: &mut FlightSqlServiceClient<Channel>, query: &str) -> Result<Vec<RecordBatch>, (Code, String)> {
    let info = client.execute(query.to_owned(), None).await.map_err(code)?;
    fetch(client, info).await
}

fn text(batches: &[RecordBatch]) -> String {
    arrow_cast::pretty::pretty_format_batches(batches).expect("prints").to_string()
}

/// `weather` with KSEA (two rows, one late) and KBOI, and `other` (family m: v f64) with KXYZ.
async fn load(admin: &mut Client) {
    create_weather(admin).await;
    create_other_with_a_row(admin, T0).await;
    for request in [
        one_batch("weather", "KSEA", vec![T0 + SEC], vec![f64_column("temp", vec![12.0])]),
        one_batch("weather", "KSEA", vec![T0], vec![f64_column("temp", vec![11.5])]),
        one_batch("weather", "KBOI", vec![T0], vec![f64_column("temp", vec![-2.0])]),
    ] {
        admin.ingest.write(request).await.expect("written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_prepared_statements_and_listings_answer_with_the_callers_permissions() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, _) = serve(&auth_config(data.path())).await;
    let options = ClientOptions { token: Some("secret-root".into()), ..ClientOptions::default() };
    let mut admin = Client::connect_with(&running.url(), &options).await.expect("client connects");
    load(&mut admin).await;
    let mut root = flight_sql(&running, Some("secret-root")).await;

    // A statement answers what the native scan answers (late row in order).
    let batches = sql(&mut root, "SELECT series, ts, temp FROM weather.env ORDER BY series, ts").await.expect("query");
    let native = rows_f64(&scan_all(&mut admin, "weather", &["env.temp"]).await, "env.temp");
    let mut answered = Vec::new();
    for batch in &batches {
        let series = batch.column(0).as_any().downcast_ref::<StringArray>().expect("series");
        let ts = batch.column(1).as_any().downcast_ref::<arrow_array::TimestampNanosecondArray>().expect("ts");
        let temp = batch.column(2).as_any().downcast_ref::<Float64Array>().expect("temp");
        for i in 0..batch.num_rows() {
            answered.push((series.value(i).to_owned(), ts.value(i), Some(temp.value(i))));
        }
    }
    assert_eq!(answered, native);

    // A prepared statement with a parameter, run twice with two bindings.
    let mut prepared =
        root.prepare("SELECT count(*) AS n FROM weather.env WHERE series = $1".into(), None).await.expect("prepared");
    assert_eq!(prepared.parameter_schema().expect("parameters").fields().len(), 1);
    for (series, expected) in [("KSEA", 2i64), ("KBOI", 1)] {
        let binding =
            RecordBatch::try_from_iter([("$1", Arc::new(StringArray::from(vec![series])) as ArrayRef)]).expect("batch");
        prepared.set_parameters(binding).expect("bound");
        let info = prepared.execute().await.expect("executes");
        let batches = fetch(&mut root, info).await.expect("answer");
        let n = batches[0].column(0).as_any().downcast_ref::<arrow_array::Int64Array>().expect("n").value(0);
        assert_eq!(n, expected, "{series}");
    }
    prepared.close().await.expect("closed");

    // Listings as the reader of `weather` only: `other` is in none of them.
    let mut reader = flight_sql(&running, Some("secret-weather")).await;
    let info = reader
        .get_db_schemas(CommandGetDbSchemas { catalog: None, db_schema_filter_pattern: None })
        .await
        .expect("schemas");
    let schemas = text(&fetch(&mut reader, info).await.expect("schemas"));
    assert!(schemas.contains("weather") && schemas.contains("public") && !schemas.contains("other"), "{schemas}");
    let request = CommandGetTables {
        catalog: None,
        db_schema_filter_pattern: None,
        table_name_filter_pattern: None,
        table_types: vec![],
        include_schema: true,
    };
    let info = reader.get_tables(request.clone()).await.expect("tables");
    let tables = fetch(&mut reader, info).await.expect("tables");
    let listed = text(&tables);
    assert!(listed.contains("env") && listed.contains("meta") && !listed.contains("other"), "{listed}");
    assert_eq!(tables[0].schema().fields().len(), 5, "with include_schema the Arrow schema is a column");
    let info = root.get_tables(request).await.expect("tables");
    assert!(text(&fetch(&mut root, info).await.expect("tables")).contains("other"));

    // Refusals, each with its status and a message naming what is wrong.
    let (status, message) =
        sql(&mut reader, "SELECT * FROM weather.env JOIN other.m USING (series, ts)").await.expect_err("join");
    assert_eq!(status, Code::PermissionDenied, "{message}");
    assert!(message.contains("other"), "{message}");
    let mut nobody = flight_sql(&running, None).await;
    assert_eq!(sql(&mut nobody, "SELECT 1").await.expect_err("no token").0, Code::Unauthenticated);
    let (status, message) = sql(&mut root, "SELECT series\n  FROM FROM weather.env").await.expect_err("syntax");
    assert_eq!(status, Code::InvalidArgument, "{message}");
    assert!(message.contains("Line: 2") && message.contains("Column"), "{message}");
    let (status, message) = sql(&mut root, "SELECT * FROM weather.nope").await.expect_err("unknown");
    assert_eq!(status, Code::NotFound, "{message}");
    assert!(message.contains("nope"), "{message}");
    let (status, message) = sql(&mut root, "DELETE FROM weather.env").await.expect_err("read-only");
    assert_eq!(status, Code::InvalidArgument, "{message}");
    assert!(message.contains("read-only"), "{message}");
    // 1 MiB of operator memory: sorting two million generated strings does not fit.
    let (status, message) = sql(
        &mut root,
        "SELECT repeat('x', 64) || CAST(v AS VARCHAR) AS s FROM generate_series(1, 2000000) AS t(v) ORDER BY s DESC",
    )
    .await
    .expect_err("over the memory limit");
    assert_eq!(status, Code::ResourceExhausted, "{message}");
    assert!(message.contains("memory_limit"), "{message}");
    let stranger = arrow_flight::sql::CommandPreparedStatementQuery { prepared_statement_handle: vec![1u8; 16].into() };
    let descriptor = arrow_flight::FlightDescriptor::new_cmd(prost::Message::encode_to_vec(
        &arrow_flight::sql::ProstMessageExt::as_any(&stranger),
    ));
    let channel =
        tonic::transport::Endpoint::from_shared(running.url()).expect("url").connect().await.expect("connects");
    let mut raw = arrow_flight::FlightClient::new(channel);
    raw.add_header("authorization", "Bearer secret-root").expect("header");
    let (status, message) = code(raw.get_flight_info(descriptor).await.expect_err("unknown handle"));
    assert_eq!(status, Code::NotFound, "{message}");

    // A client that reads one batch of a long answer and goes away; the server goes on.
    let info = root.execute("SELECT v FROM generate_series(1, 5000000) AS t(v)".into(), None).await.expect("info");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = root.do_get(ticket).await.expect("stream");
    assert!(stream.next().await.expect("a batch").expect("ok").num_rows() > 0);
    drop(stream);
    drop(root);
    let mut again = flight_sql(&running, Some("secret-root")).await;
    let batches = sql(&mut again, "SELECT count(*) AS n FROM other.m").await.expect("next query");
    assert_eq!(batches[0].column(0).as_any().downcast_ref::<arrow_array::Int64Array>().expect("n").value(0), 1);
    running.stop().await.expect("stops");
}
