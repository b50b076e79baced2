//! Arrow Flight SQL bulk ingest (`CommandStatementIngest`, what ADBC's `adbc_ingest` sends)
//! end to end with the `arrow-flight` client over loopback and `[auth]` enabled: rows land in
//! the table (read back with the native `Scan`), through both relation namings; no token, a
//! token without `write`, `mode = create` on an existing relation, a missing table and bad
//! columns are refused with their status and change nothing. Also `CommandGetSqlInfo`.

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    CommandStatementIngest, SqlInfo, TableDefinitionOptions, TableExistsOption, TableNotExistOption,
};
use common::*;
use futures::TryStreamExt;
use isobar::auth::Permission;
use isobar::client::{Client, ClientOptions};
use isobar::config::Config;
use isobar::server::Running;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;

fn auth_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.auth.enabled = true;
    config.auth.tokens = vec![
        token("root", "secret-root", "*", Permission::Admin),
        token("reader", "secret-reader", "*", Permission::Read),
    ];
    config
}

fn command(schema: Option<&str>, table: &str, if_exists: TableExistsOption) -> CommandStatementIngest {
    CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: TableNotExistOption::Fail.into(),
            if_exists: if_exists.into(),
        }),
        table: table.into(),
        schema: schema.map(str::to_owned),
        catalog: None,
        temporary: false,
        transaction_id: None,
        options: Default::default(),
    }
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("batch")
}

async fn ingest(
    client: &mut FlightSqlServiceClient<tonic::transport::Channel>,
    command: CommandStatementIngest,
    batches: Vec<RecordBatch>,
) -> Result<i64, Code> {
    let stream = futures::stream::iter(batches.into_iter().map(Ok));
    client.execute_ingest(command, stream).await.map_err(|e| match e {
        FlightError::Tonic(status) => status.code(),
        other => panic!("not a status: {other}"),
    })
}

async fn admin_client(running: &Running) -> Client {
    let options = ClientOptions { token: Some("secret-root".into()), ..ClientOptions::default() };
    Client::connect_with(&running.url(), &options).await.expect("client connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_ingest_writes_arrow_batches_through_the_write_path_and_refuses_bad_requests() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, _) = serve(&auth_config(data.path())).await;
    let mut admin = admin_client(&running).await;
    create_weather(&mut admin).await;

    // Family relation `weather.env`: plain column names, two batches, interleaved series,
    // an Int64 value into the f64 column.
    let first = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["KSEA", "KBOI"])) as ArrayRef),
        ("ts", Arc::new(TimestampNanosecondArray::from(vec![T0, T0]).with_timezone("UTC")) as ArrayRef),
        ("temp", Arc::new(Float64Array::from(vec![Some(11.5), None])) as ArrayRef),
        ("code", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
    ]);
    let second = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["KSEA"])) as ArrayRef),
        ("ts", Arc::new(TimestampNanosecondArray::from(vec![T0 + 1]).with_timezone("UTC")) as ArrayRef),
        ("temp", Arc::new(Float64Array::from(vec![12.5])) as ArrayRef),
        ("code", Arc::new(Int64Array::from(vec![3])) as ArrayRef),
    ]);
    let mut root = flight_sql(&running, Some("secret-root")).await;
    let written =
        ingest(&mut root, command(Some("weather"), "env", TableExistsOption::Append), vec![first, second]).await;
    assert_eq!(written, Ok(3));
    let rows = rows_f64(&scan_all(&mut admin, "weather", &["env.temp"]).await, "env.temp");
    assert_eq!(
        rows,
        vec![
            ("KBOI".to_owned(), T0, None),
            ("KSEA".to_owned(), T0, Some(11.5)),
            ("KSEA".to_owned(), T0 + 1, Some(12.5))
        ]
    );

    // Table relation `public.weather`: columns named family.column.
    let wide = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["KPDX"])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![T0])) as ArrayRef),
        ("env.temp", Arc::new(Float64Array::from(vec![9.0])) as ArrayRef),
        ("meta.note", Arc::new(StringArray::from(vec!["rain"])) as ArrayRef),
    ]);
    assert_eq!(ingest(&mut root, command(None, "weather", TableExistsOption::Append), vec![wide.clone()]).await, Ok(1));
    assert_eq!(row_count(&scan_all(&mut admin, "weather", &["env.temp"]).await), 4);

    // Refusals, each changing nothing.
    let refusals = [
        (None, command(None, "weather", TableExistsOption::Append), Code::Unauthenticated),
        (Some("secret-reader"), command(None, "weather", TableExistsOption::Append), Code::PermissionDenied),
        (Some("secret-root"), command(None, "weather", TableExistsOption::Fail), Code::AlreadyExists),
        (Some("secret-root"), command(None, "weather", TableExistsOption::Replace), Code::Unimplemented),
        (Some("secret-root"), command(None, "nowhere", TableExistsOption::Append), Code::NotFound),
        (Some("secret-root"), command(Some("weather"), "nofamily", TableExistsOption::Append), Code::NotFound),
        // The family relation takes plain names: `env.temp` is no column of family `env`.
        (Some("secret-root"), command(Some("weather"), "env", TableExistsOption::Append), Code::InvalidArgument),
    ];
    for (token, command, code) in refusals {
        let mut client = flight_sql(&running, token).await;
        let answer = ingest(&mut client, command.clone(), vec![wide.clone()]).await;
        assert_eq!(answer, Err(code), "{command:?} with {token:?}");
    }
    let null_series = batch(vec![
        ("series", Arc::new(StringArray::from(vec![Some("KPDX"), None])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![T0 + 5, T0 + 6])) as ArrayRef),
        ("temp", Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef),
    ]);
    let answer = ingest(&mut root, command(Some("weather"), "env", TableExistsOption::Append), vec![null_series]).await;
    assert_eq!(answer, Err(Code::InvalidArgument), "atomic: the good row is not written either");
    assert_eq!(row_count(&scan_all(&mut admin, "weather", &["env.temp"]).await), 4);

    // SqlInfo names the server and says bulk ingest is supported.
    let info = root.get_sql_info(vec![SqlInfo::FlightSqlServerName, SqlInfo::FlightSqlServerBulkIngestion]).await;
    let ticket = info.expect("sql info").endpoint[0].ticket.clone().expect("ticket");
    let batches: Vec<RecordBatch> =
        root.do_get(ticket).await.expect("do_get").try_collect().await.expect("sql info batches");
    let text = arrow_cast::pretty::pretty_format_batches(&batches).expect("prints").to_string();
    assert!(text.contains("Isobar"), "{text}");
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 2, "{text}");
    running.stop().await.expect("stops");
}
