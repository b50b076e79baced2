//! Security (issue 20, finding 9): `Export` writes files onto the server's disk, so it needs
//! `admin` (a `read` token is refused), writes only inside `server.export_dir` and never through
//! a symbolic link planted there, stops at `server.export_max_bytes` and removes what it wrote,
//! and neither its answers nor its errors (nor `CreateSnapshot`'s) carry absolute server paths.
//! Through the real server with authentication on.

mod common;

use std::path::Path;

use common::*;
use isobar::auth::{Permission, hash_secret};
use isobar::client::{Client, ClientOptions};
use isobar::config::{ByteSize, Config, TokenConfig};
use isobar::server::Running;
use isobar_proto::v1 as pb;
use isobar_testkit::files::files_below;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;

fn auth_config(dir: &Path) -> Config {
    let mut config = config(&dir.join("data"));
    config.auth.enabled = true;
    let token = |name: &str, permission: Permission| TokenConfig {
        name: name.into(),
        sha256: hash_secret(&format!("secret-{name}")),
        grants: [("*".to_owned(), vec![permission])].into_iter().collect(),
    };
    config.auth.tokens = vec![token("root", Permission::Admin), token("reader", Permission::Read)];
    config
}

async fn client(running: &Running, name: &str) -> Client {
    let options = ClientOptions { token: Some(format!("secret-{name}")), ..ClientOptions::default() };
    Client::connect_with(&running.url(), &options).await.expect("client connects")
}

/// A server over `dir` with `weather` holding 4,000 rows; the root client.
async fn setup(config: &Config) -> (Running, Client) {
    let running = isobar::server::start(config).await.expect("server starts");
    let mut root = client(&running, "root").await;
    create_weather(&mut root).await;
    for series in 0..4 {
        let ts: Vec<i64> = (0..1000).map(|i| T0 + i * 1_000_000_000).collect();
        let temps: Vec<f64> = (0..1000).map(|i| f64::from(i * 7919 % 1000 + series) / 7.0).collect();
        let write = one_batch("weather", &format!("station={series}"), ts, vec![f64_column("temp", temps)]);
        root.ingest.write(write).await.expect("seed rows");
    }
    (running, root)
}

fn export_request(destination: &str) -> pb::ExportRequest {
    pb::ExportRequest {
        table: "weather".into(),
        selector: all(),
        destination: destination.into(),
        format: pb::ExportFormat::Parquet.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_may_not_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = auth_config(dir.path());
    let (running, _root) = setup(&config).await;
    let mut reader = client(&running, "reader").await;
    let refused = reader.admin.export(export_request("by_reader")).await.expect_err("read is not enough");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(refused.message().contains("admin"), "names the permission: {}", refused.message());
    let refused = reader.admin.export_with_progress(export_request("by_reader")).await.expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(files_below(&config.server.export_root()).is_empty(), "nothing written");
    assert!(!config.server.export_root().join("by_reader").exists());
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbolic_link_inside_the_export_folder_is_not_followed_out_of_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = auth_config(dir.path());
    let (running, mut root) = setup(&config).await;
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    let export_root = config.server.export_root();
    std::fs::create_dir_all(export_root.join("team")).expect("export dir");
    std::os::unix::fs::symlink(&outside, export_root.join("team/escape")).expect("plant a link");

    for destination in ["team/escape", "team/escape/deeper"] {
        let refused = root.admin.export(export_request(destination)).await.expect_err("through a link");
        assert_eq!(refused.code(), Code::InvalidArgument, "{destination}: {refused:?}");
        let message = refused.message();
        assert!(message.contains("\"team/escape\"") && message.contains("symbolic link"), "{message}");
        assert!(!message.contains(&dir.path().display().to_string()), "no server path: {message}");
        let refused = root.admin.export_with_progress(export_request(destination)).await.expect_err("refused");
        assert_eq!(refused.code(), Code::InvalidArgument, "{destination}: {refused:?}");
    }
    assert!(files_below(&outside).is_empty(), "nothing written through the link: {:?}", files_below(&outside));
    let done = root.admin.export(export_request("team/plain")).await.expect("plain directories").into_inner();
    assert_eq!(done.rows, 4000);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_past_its_byte_quota_stops_removes_its_files_and_names_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = auth_config(dir.path());
    config.server.export_max_bytes = ByteSize(2048);
    let (running, mut root) = setup(&config).await;
    let export_root = config.server.export_root();

    let refused = root.admin.export(export_request("big")).await.expect_err("past the quota");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("server.export_max_bytes"), "names the key: {}", refused.message());
    assert!(refused.message().contains("2048"), "names the limit: {}", refused.message());
    assert!(files_below(&export_root).is_empty(), "partial files removed: {:?}", files_below(&export_root));

    // The streaming form ends with the same status.
    let mut stream = root.admin.export_with_progress(export_request("big2")).await.expect("starts").into_inner();
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended without the quota error"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(files_below(&export_root).is_empty(), "partial files removed: {:?}", files_below(&export_root));
    running.stop().await.expect("stops");

    // With room the same export succeeds.
    let mut roomy = auth_config(dir.path());
    roomy.server.export_max_bytes = ByteSize(64 << 20);
    let running = isobar::server::start(&roomy).await.expect("restarts");
    let mut root = client(&running, "root").await;
    let done = root.admin.export(export_request("big")).await.expect("within the quota").into_inner();
    assert_eq!(done.rows, 4000);
    assert!(done.bytes > 2048, "the refused export really was over the quota: {}", done.bytes);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_errors_name_paths_relative_to_their_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = auth_config(dir.path());
    let (running, mut root) = setup(&config).await;
    let server_path = |message: &str| message.contains(&dir.path().display().to_string()) || message.contains("/tmp");

    let done = root.admin.export(export_request("daily")).await.expect("export").into_inner();
    assert!(!done.files.is_empty());
    for file in &done.files {
        assert!(file.path.starts_with("daily/") && !server_path(&file.path), "relative: {}", file.path);
    }
    let again = root.admin.export(export_request("daily")).await.expect_err("not empty");
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(again.message().contains("daily") && !server_path(again.message()), "{}", again.message());

    let snapshot = root.admin.create_snapshot(pb::CreateSnapshotRequest { name: Some("nightly".into()) }).await;
    let snapshot = snapshot.expect("snapshot").into_inner();
    assert_eq!(snapshot.path, "nightly", "relative to the snapshot folder");
    let twice = root.admin.create_snapshot(pb::CreateSnapshotRequest { name: Some("nightly".into()) }).await;
    let twice = twice.expect_err("exists");
    assert_eq!(twice.code(), Code::AlreadyExists);
    assert!(!server_path(twice.message()), "{}", twice.message());
    let missing = root.admin.verify_snapshot(pb::VerifySnapshotRequest { name: "nope".into() }).await;
    let missing = missing.expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains("nope") && !server_path(missing.message()), "{}", missing.message());
    running.stop().await.expect("stops");
}
