//! What an operator reads from a real `isobar serve` process: the log written to a file or a pipe
//! is plain text (colour codes only on a terminal, or when forced with `log.color = "always"`),
//! and `--print-config` names every key, including the directories derived from `data_dir`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use isobar_testkit::server::ServerCommand;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const ESC: u8 = 0x1b;

/// Starts a server with stderr sent to a file, stops it cleanly, and returns the log's bytes.
async fn log_of_a_run(dir: &Path, name: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let log = dir.join(format!("{name}.log"));
    let mut command = ServerCommand::new(BIN, dir.join(name)).env("ISOBAR_LOG_LEVEL", "info").log_file(&log);
    for (k, v) in env {
        command = command.env(*k, *v);
    }
    let server = command.start_async().await.expect("serve starts");
    server.stop_async(Duration::from_secs(30)).await.expect("stops on SIGTERM");
    std::fs::read(&log).expect("log written")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_to_a_file_has_no_colour_codes_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = log_of_a_run(dir.path(), "plain", &[]).await;
    let text = String::from_utf8_lossy(&plain);
    assert!(text.contains("INFO"), "the run logged at info: {text}");
    assert!(!plain.contains(&ESC), "no ANSI escape in a log file: {text:?}");

    let forced = log_of_a_run(dir.path(), "forced", &[("ISOBAR_LOG_COLOR", "always")]).await;
    assert!(forced.contains(&ESC), "log.color = always colours even a file: {:?}", String::from_utf8_lossy(&forced));
}

#[test]
fn print_config_shows_the_derived_directories_and_the_log_colour() {
    let out = Command::new(BIN)
        .args(["serve", "--data-dir", "/srv/isobar", "--print-config"])
        .env("ISOBAR_LOG_COLOR", "never")
        .env_remove("ISOBAR_SERVER_EXPORT_DIR")
        .env_remove("ISOBAR_SERVER_SNAPSHOT_DIR")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    assert!(printed.contains("# export_dir = \"/srv/isobar/export\""), "{printed}");
    assert!(printed.contains("# snapshot_dir = \"/srv/isobar/snapshots\""), "{printed}");
    assert!(printed.contains("color = \"never\""), "{printed}");
    let bad = Command::new(BIN).args(["serve", "--print-config"]).env("ISOBAR_LOG_COLOR", "sometimes").output();
    let bad = bad.expect("runs");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("ISOBAR_LOG_COLOR") && err.contains("auto, always or never"), "{err}");
}
