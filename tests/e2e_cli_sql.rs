//! `isobar sql` against a running server (issue 15, item 5): a one-shot statement in CSV,
//! statements from standard input run in order, and a bad statement that exits non-zero with
//! the server's message.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const T0: i64 = 1_700_000_000_000_000_000;

fn isobar_sql(addr: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(["--addr", addr, "--format", "csv", "sql"])
        .args(args)
        .env_remove("ISOBAR_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("isobar runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or("").as_bytes()).expect("stdin written");
    drop(input);
    child.wait_with_output().expect("isobar ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_standard_input_and_errors() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(data.path())).await;
    create_weather(&mut client).await;
    for (series, ts, temp) in [("KSEA", T0, 11.5), ("KSEA", T0 + 1, 12.0), ("KBOI", T0, -2.0)] {
        client
            .ingest
            .write(one_batch("weather", series, vec![ts], vec![f64_column("temp", vec![temp])]))
            .await
            .expect("written");
    }
    let addr = running.url();

    let out =
        isobar_sql(&addr, &["SELECT series, max(temp) AS top FROM weather.env GROUP BY series ORDER BY series"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "series,top\nKBOI,-2.0\nKSEA,12.0\n");

    let script = "SELECT count(*) AS n FROM weather.env;\n-- a comment; not a statement\nSELECT 'a;b' AS s;\n";
    let out = isobar_sql(&addr, &[], Some(script));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("n\n3\n") && stdout.contains("s\na;b\n"), "{stdout}");

    let out = isobar_sql(&addr, &["SELECT nope FROM weather.env"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope"), "{stderr}");
    running.stop().await.expect("stops");
}
