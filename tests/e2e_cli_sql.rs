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

/// The interactive shell on a pseudo-terminal (util-linux `script`): a statement over two lines,
/// an error that does not end the shell, `\q`, and the history file written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_takes_multi_line_statements_survives_errors_and_keeps_history() {
    let data = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    let (running, _client) = serve(&config(data.path())).await;
    let command = format!("'{BIN}' --addr {} --format csv sql", running.url());
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("HOME", home.path())
        .env_remove("ISOBAR_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    // The line editor takes the terminal into raw mode and drops what was typed ahead, so each
    // line is typed when its prompt is on the screen, as a person would (bounded waits).
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take().expect("stdin");
    let mut shown = String::new();
    let prompts = |s: &str| s.matches("isobar> ").count() + s.matches("     -> ").count();
    for (i, line) in
        ["SELECT 40 +", "  2 AS answer;", "SELEC 1;", "SELECT 'still here' AS s;", "\\q"].iter().enumerate()
    {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while prompts(&shown) <= i {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => shown.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("no prompt {} within 30 s: {shown}", i + 1),
            }
        }
        stdin.write_all(format!("{line}\n").as_bytes()).expect("typed");
    }
    drop(stdin);
    let status = child.wait().expect("the shell ends");
    reader.join().expect("reader");
    while let Ok(chunk) = rx.try_recv() {
        shown.push_str(&String::from_utf8_lossy(&chunk));
    }
    let screen = shown;
    let out = std::process::Output { status, stdout: Vec::new(), stderr: Vec::new() };
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("answer") && screen.contains("42"), "{screen}");
    assert!(screen.contains("syntax error"), "{screen}");
    assert!(screen.contains("still here"), "the shell went on after the error: {screen}");
    let history = std::fs::read_to_string(home.path().join(".isobar_sql_history")).expect("history written");
    assert!(history.contains("SELECT 40 +") && history.contains("SELEC 1;"), "{history}");
    running.stop().await.expect("stops");
}
