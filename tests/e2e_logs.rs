//! Logs an operator can run on: an invalid `[log] level` refuses to start and names the accepted
//! forms (it used to turn every line off); every call has a request id (the client's
//! `x-request-id`, else a generated one) echoed in the reply and carried by its log lines; each
//! call logs one INFO "call finished" line with rpc, table, rows, code and duration; with
//! `log_format = "json"` every line is one flat JSON object (no `fields`/`span` nesting), the
//! last one included, also when the server fails.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{create_weather, f64_column, one_batch};
use isobar::client::Client;
use isobar_testkit::server::ServerCommand;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// Runs `isobar serve` with `env` to its exit (at most 60 s); returns (success, stderr).
fn serve_to_exit(data: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(BIN);
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
    command.env("ISOBAR_METRICS_LISTEN", "127.0.0.1:0").stdin(Stdio::null()).stdout(Stdio::null());
    command.stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every line of `text` as a JSON object; fails on a line that is not one.
fn json_lines(text: &str) -> Vec<serde_json::Map<String, Value>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(map)) => map,
            _ => panic!("not a JSON object line: {l}"),
        })
        .collect()
}

#[test]
fn an_invalid_log_level_refuses_to_start_and_names_the_accepted_forms() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (ok, stderr) = serve_to_exit(&tmp.path().join("db"), &[("ISOBAR_LOG_LEVEL", "verbose")]);
    assert!(!ok, "refused");
    assert!(stderr.contains("log.level") && stderr.contains("verbose"), "{stderr}");
    assert!(stderr.contains("trace, debug, info, warn, error, off"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_flat_and_every_call_has_an_echoed_request_id_and_an_info_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("db");
    let log = tmp.path().join("server.log");
    let server = ServerCommand::new(BIN, &data)
        .env("ISOBAR_LOG_LEVEL", "info")
        .env("ISOBAR_LOG_FORMAT", "json")
        .log_file(&log)
        .start_async()
        .await
        .expect("serve starts");
    let mut client = Client::connect(&server.url()).await.expect("client connects");
    create_weather(&mut client).await;
    let write = one_batch("weather", "s1", vec![1, 2, 3], vec![f64_column("temp", vec![1.0, 2.0, 3.0])]);
    let mut request = tonic::Request::new(write.clone());
    request.metadata_mut().insert("x-request-id", "req-abc-123".parse().expect("ascii"));
    let reply = client.ingest.write(request).await.expect("write");
    assert_eq!(reply.metadata().get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-abc-123"));
    let reply = client.ingest.write(tonic::Request::new(write)).await.expect("write");
    let generated = reply.metadata().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(generated.len() == 16 && generated.bytes().all(|b| b.is_ascii_hexdigit()), "{generated:?}");
    drop(client);
    let status = server.stop_async(Duration::from_secs(60)).await.expect("stops");
    assert!(status.success(), "{status}");

    let text = std::fs::read_to_string(&log).expect("log");
    let lines = json_lines(&text);
    for line in &lines {
        for nested in ["fields", "span", "spans"] {
            assert!(!line.contains_key(nested), "nested `{nested}` in {line:?}");
        }
        assert!(
            line.contains_key("timestamp") && line.contains_key("level") && line.contains_key("message"),
            "{line:?}"
        );
    }
    let finished: Vec<_> = lines
        .iter()
        .filter(|l| l.get("message") == Some(&Value::from("call finished")))
        .filter(|l| l.get("rpc") == Some(&Value::from("isobar.v1.Ingest/Write")))
        .collect();
    assert_eq!(finished.len(), 2, "one line per call: {finished:?}");
    let ours = finished
        .iter()
        .find(|l| l.get("request_id") == Some(&Value::from("req-abc-123")))
        .expect("the call's line carries the client's request id");
    assert_eq!(ours.get("level"), Some(&Value::from("INFO")));
    assert_eq!(ours.get("code"), Some(&Value::from("OK")));
    assert_eq!(ours.get("table"), Some(&Value::from("weather")));
    assert_eq!(ours.get("rows"), Some(&Value::from(3)));
    assert!(ours.get("duration_ms").is_some_and(Value::is_number), "{ours:?}");
    assert!(finished.iter().any(|l| l.get("request_id") == Some(&Value::from(generated.as_str()))));
    let last = lines.last().expect("lines");
    assert_eq!(last.get("message"), Some(&Value::from("database closed; server stopped")));
}

#[test]
fn a_failed_start_ends_the_json_log_with_a_json_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("db");
    let first = ServerCommand::new(BIN, &data).start().expect("the first server starts");
    let (ok, stderr) = serve_to_exit(&data, &[("ISOBAR_LOG_FORMAT", "json"), ("ISOBAR_LOG_LEVEL", "info")]);
    assert!(!ok, "a second server on the same directory is refused");
    let lines = json_lines(&stderr);
    let last = lines.last().expect("a line");
    assert_eq!(last.get("level"), Some(&Value::from("ERROR")), "{last:?}");
    let message = last.get("message").and_then(Value::as_str).unwrap_or_default();
    assert!(message.contains("locked"), "{message}");
    drop(first);
}
