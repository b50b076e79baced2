//! End to end over gRPC on loopback with `[auth]` enabled: every RPC is called with no token, a
//! wrong token, a token lacking the permission it needs (refused, and the database unchanged)
//! and the right token (succeeds). A new RPC is one more row in `cases()`.

mod common;

use std::future::Future;
use std::pin::Pin;

use common::*;
use isobar::auth::{Permission, hash_secret};
use isobar::client::{Client, ClientOptions};
use isobar::config::{Config, TokenConfig};
use isobar::server::Running;
use isobar_proto::v1 as pb;
use tonic::{Code, Status};

const T0: i64 = 1_700_000_000_000_000_000;

/// Permissions per table name or `*`.
type GrantList = &'static [(&'static str, &'static [Permission])];

/// `(name, secret, grants)` of the configured tokens.
const TOKENS: &[(&str, &str, GrantList)] = &[
    ("root", "secret-root", &[("*", &[Permission::Admin])]),
    ("reader", "secret-reader", &[("*", &[Permission::Read])]),
    // What a config file's `write` means: add rows and range-delete (docs/security.md).
    ("weather-writer", "secret-writer", &[("weather", &[Permission::Add, Permission::Delete])]),
    ("weather-admin", "secret-wadmin", &[("weather", &[Permission::Admin])]),
];

fn auth_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.auth.enabled = true;
    // These tests send many wrong tokens from one address on purpose; the per-address limit of
    // failed authentications has its own test (tests/e2e_access_matrix.rs).
    config.auth.max_failed_auth_per_minute = 0;
    config.auth.tokens = TOKENS
        .iter()
        .map(|(name, secret, grants)| TokenConfig {
            name: (*name).into(),
            sha256: hash_secret(secret),
            grants: grants.iter().map(|(t, p)| ((*t).to_owned(), p.to_vec())).collect(),
        })
        .collect();
    config
}

async fn client(running: &Running, token: Option<&str>) -> Client {
    let options = ClientOptions { token: token.map(str::to_owned), ..ClientOptions::default() };
    Client::connect_with(&running.url(), &options).await.expect("client connects")
}

type Call = fn(Client) -> Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;

/// One RPC: the permission it needs on `table`, a token holding it, one lacking it, and a call.
struct Case {
    rpc: &'static str,
    needs: Permission,
    table: &'static str,
    allowed: &'static str,
    denied: &'static str,
    call: Call,
}

/// Drains a server stream.
async fn drain<T>(response: Result<tonic::Response<tonic::Streaming<T>>, Status>) -> Result<(), Status> {
    let mut stream = response?.into_inner();
    while stream.message().await?.is_some() {}
    Ok(())
}

fn write_request() -> pb::WriteRequest {
    one_batch("weather", "station=W", vec![T0 + 5], vec![f64_column("temp", vec![5.0])])
}

fn export_request() -> pb::ExportRequest {
    pb::ExportRequest {
        table: "weather".into(),
        selector: all(),
        destination: "out".into(),
        format: pb::ExportFormat::Parquet.into(),
        ..Default::default()
    }
}

fn cases() -> Vec<Case> {
    use Permission::{Add, Admin, Change, Delete, View};
    let (reader, writer, wadmin) = ("secret-reader", "secret-writer", "secret-wadmin");
    vec![
        Case {
            rpc: "Ingest/Write",
            needs: Add,
            table: "weather",
            allowed: writer,
            denied: reader,
            call: |mut c| Box::pin(async move { c.ingest.write(write_request()).await.map(drop) }),
        },
        Case {
            rpc: "Ingest/WriteStream",
            needs: Add,
            table: "weather",
            allowed: writer,
            denied: reader,
            call: |mut c| {
                Box::pin(
                    async move { c.ingest.write_stream(tokio_stream::iter(vec![write_request()])).await.map(drop) },
                )
            },
        },
        Case {
            rpc: "Ingest/ProducerStream",
            needs: Add,
            table: "weather",
            allowed: writer,
            denied: reader,
            call: |mut c| {
                Box::pin(async move {
                    let mut request = write_request();
                    request.producer_id = "gateway-1".into();
                    request.producer_seq = 1;
                    drain(c.ingest.producer_stream(tokio_stream::iter(vec![request])).await).await
                })
            },
        },
        Case {
            rpc: "Ingest/Resume",
            needs: Add,
            table: "*",
            allowed: writer,
            denied: reader,
            call: |mut c| {
                Box::pin(async move {
                    c.ingest.resume(pb::ResumeRequest { producer_id: "gateway-1".into() }).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Query/Scan",
            needs: View,
            table: "weather",
            allowed: reader,
            denied: writer,
            call: |mut c| {
                Box::pin(async move {
                    let request = pb::ScanRequest { table: "weather".into(), selector: all(), ..Default::default() };
                    drain(c.query.scan(request).await).await
                })
            },
        },
        Case {
            rpc: "Query/Aggregate",
            needs: View,
            table: "weather",
            allowed: reader,
            denied: writer,
            call: |mut c| {
                Box::pin(async move {
                    let request = pb::AggregateRequest {
                        table: "weather".into(),
                        selector: all(),
                        bucket_ns: 1_000_000_000,
                        aggregations: vec![pb::Aggregation {
                            column: "env.temp".into(),
                            function: pb::AggregateFunction::Avg.into(),
                            alias: String::new(),
                        }],
                        ..Default::default()
                    };
                    drain(c.query.aggregate(request).await).await
                })
            },
        },
        Case {
            rpc: "Query/Latest",
            needs: View,
            table: "weather",
            allowed: reader,
            denied: writer,
            call: |mut c| {
                Box::pin(async move {
                    let request = pb::LatestRequest { table: "weather".into(), selector: all(), ..Default::default() };
                    drain(c.query.latest(request).await).await
                })
            },
        },
        Case {
            rpc: "Admin/CreateTable",
            needs: Change,
            table: "created",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    let mut spec = weather_spec();
                    spec.name = "created".into();
                    c.admin
                        .create_table(pb::CreateTableRequest { table: Some(spec), if_not_exists: false })
                        .await
                        .map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/AlterTable",
            needs: Change,
            table: "weather",
            allowed: wadmin,
            denied: writer,
            call: |mut c| {
                Box::pin(async move {
                    let action =
                        pb::AlterTableAction { action: Some(pb::alter_table_action::Action::SetDynamicColumns(true)) };
                    let request = pb::AlterTableRequest { table: "weather".into(), actions: vec![action] };
                    c.admin.alter_table(request).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/DescribeTable",
            needs: View,
            table: "weather",
            allowed: reader,
            denied: writer,
            call: |mut c| {
                Box::pin(async move {
                    c.admin.describe_table(pb::DescribeTableRequest { table: "weather".into() }).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/Stats",
            needs: View,
            table: "weather",
            allowed: reader,
            denied: writer,
            call: |mut c| {
                Box::pin(async move { c.admin.stats(pb::StatsRequest { table: "weather".into() }).await.map(drop) })
            },
        },
        Case {
            rpc: "Admin/Export",
            needs: Admin,
            table: "weather",
            allowed: wadmin,
            denied: reader,
            call: |mut c| Box::pin(async move { c.admin.export(export_request()).await.map(drop) }),
        },
        Case {
            rpc: "Admin/ExportWithProgress",
            needs: Admin,
            table: "weather",
            allowed: wadmin,
            denied: reader,
            call: |mut c| {
                Box::pin(async move {
                    let mut request = export_request();
                    request.destination = "out2".into();
                    drain(c.admin.export_with_progress(request).await).await
                })
            },
        },
        Case {
            rpc: "Admin/Delete",
            needs: Delete,
            table: "weather",
            allowed: writer,
            denied: reader,
            call: |mut c| {
                Box::pin(async move {
                    let request = pb::DeleteRequest {
                        table: "weather".into(),
                        selector: exact("station=W"),
                        range: Some(pb::TimeRange { from_ns: Some(T0), to_ns: Some(T0 + 10) }),
                        family: None,
                    };
                    c.admin.delete(request).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/Compact",
            needs: Admin,
            table: "weather",
            allowed: wadmin,
            denied: writer,
            call: |mut c| {
                Box::pin(async move {
                    c.admin
                        .compact(pb::CompactRequest { table: "weather".into(), ..Default::default() })
                        .await
                        .map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/Flush",
            needs: Admin,
            table: "weather",
            allowed: wadmin,
            denied: writer,
            call: |mut c| {
                Box::pin(async move { c.admin.flush(pb::FlushRequest { table: "weather".into() }).await.map(drop) })
            },
        },
        Case {
            rpc: "Admin/CreateSnapshot",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    let request = pb::CreateSnapshotRequest { name: Some("nightly".into()) };
                    c.admin.create_snapshot(request).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/ListSnapshots",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(
                    async move { c.admin.list_snapshots(pb::ListSnapshotsRequest { verify: true }).await.map(drop) },
                )
            },
        },
        Case {
            rpc: "Admin/VerifySnapshot",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    c.admin.verify_snapshot(pb::VerifySnapshotRequest { name: "nightly".into() }).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/ResumeWrites",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| Box::pin(async move { c.admin.resume_writes(pb::ResumeWritesRequest {}).await.map(drop) }),
        },
        Case {
            rpc: "Admin/DeleteSnapshot",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    c.admin.delete_snapshot(pb::DeleteSnapshotRequest { name: "nightly".into() }).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/DropTable",
            needs: Change,
            table: "doomed",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    c.admin
                        .drop_table(pb::DropTableRequest { table: "doomed".into(), if_exists: false })
                        .await
                        .map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/ChangeAccess",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    let change = pb::change_access_request::Change::CreateGroup("auditors".into());
                    c.admin.change_access(pb::ChangeAccessRequest { change: Some(change) }).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/IssueToken",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move {
                    let change = pb::change_access_request::Change::CreateUser(pb::CreateUser {
                        name: "bot".into(),
                        ..Default::default()
                    });
                    let request = pb::ChangeAccessRequest { change: Some(change) };
                    // Creating the user needs admin too; only the root token gets past it.
                    if c.admin.change_access(request).await.is_ok() {
                        let issue = pb::IssueTokenRequest { user: "bot".into(), name: "t".into(), expires_at_ms: None };
                        return c.admin.issue_token(issue).await.map(drop);
                    }
                    let issue = pb::IssueTokenRequest { user: "bot".into(), name: "t".into(), expires_at_ms: None };
                    c.admin.issue_token(issue).await.map(drop)
                })
            },
        },
        Case {
            rpc: "Admin/DescribeAccess",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(async move { c.admin.describe_access(pb::DescribeAccessRequest {}).await.map(drop) })
            },
        },
        Case {
            rpc: "Admin/ListAuditEntries",
            needs: Admin,
            table: "*",
            allowed: "secret-root",
            denied: wadmin,
            call: |mut c| {
                Box::pin(
                    async move { c.admin.list_audit_entries(pb::ListAuditEntriesRequest { limit: 5 }).await.map(drop) },
                )
            },
        },
    ]
}

/// What a refused call must not change: tables, rows, engine counters, exported files, snapshots.
async fn fingerprint(running: &Running, root: &mut Client, export_dir: &std::path::Path) -> String {
    let db = running.db();
    let mut tables: Vec<String> = db.tables().iter().map(|t| format!("{t:?}")).collect();
    tables.sort();
    let rows = rows_f64(&scan_all(root, "weather", &["env.temp"]).await, "env.temp");
    let stats = db.stats();
    let exported = std::fs::read_dir(export_dir).map(|d| d.count()).unwrap_or(0);
    let snapshot_dir = running.db().path().join("snapshots");
    let snapshots: Vec<String> = std::fs::read_dir(snapshot_dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    format!(
        "{tables:?} {rows:?} writes={} seq={} flushes={} compactions={} exported={exported} snapshots={snapshots:?}",
        stats.writes, stats.last_seq, stats.flushes, stats.compactions
    )
}

fn assert_refused(result: Result<(), Status>, code: Code, what: &str) -> Status {
    let status = result.expect_err(what);
    assert_eq!(status.code(), code, "{what}: {status:?}");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_needs_a_valid_token_with_the_right_permission() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = auth_config(dir.path());
    let export_dir = config.server.export_root();
    let running = isobar::server::start(&config).await.expect("server starts");
    let mut root = client(&running, Some("secret-root")).await;
    create_weather(&mut root).await;
    let mut doomed = weather_spec();
    doomed.name = "doomed".into();
    root.admin
        .create_table(pb::CreateTableRequest { table: Some(doomed), if_not_exists: false })
        .await
        .expect("doomed");
    root.ingest
        .write(one_batch("weather", "station=A", vec![T0], vec![f64_column("temp", vec![1.0])]))
        .await
        .expect("seed row");

    let anonymous = client(&running, None).await;
    let wrong = client(&running, Some("secret-nobody-has")).await;
    let cases = cases();
    assert_eq!(
        cases.len(),
        isobar::server::rpc::Rpc::ALL.len() - 3,
        "every RPC but ListTables (own test), WhoAmI (any identity; tests/e2e_access_matrix.rs) and OtlpExport \
         (served only with [otlp]; tests/e2e_otlp.rs)"
    );
    for case in cases {
        let before = fingerprint(&running, &mut root, &export_dir).await;
        let status = assert_refused((case.call)(anonymous.clone()).await, Code::Unauthenticated, case.rpc);
        assert!(status.message().contains("Bearer"), "{}: says how to authenticate: {status:?}", case.rpc);
        assert_refused((case.call)(wrong.clone()).await, Code::Unauthenticated, case.rpc);
        let denied = client(&running, Some(case.denied)).await;
        let status = assert_refused((case.call)(denied).await, Code::PermissionDenied, case.rpc);
        let message = status.message();
        assert!(
            message.contains(&format!("\"{}\"", case.table)) && message.contains(case.needs.as_str()),
            "{}: names table and permission: {message}",
            case.rpc
        );
        assert_eq!(
            fingerprint(&running, &mut root, &export_dir).await,
            before,
            "{}: refusals change nothing",
            case.rpc
        );
        let allowed = client(&running, Some(case.allowed)).await;
        (case.call)(allowed).await.unwrap_or_else(|s| panic!("{} with the right token: {s:?}", case.rpc));
    }
    let tables: Vec<String> = running.db().tables().iter().map(|t| t.name.clone()).collect();
    assert!(tables.contains(&"created".to_owned()) && !tables.contains(&"doomed".to_owned()), "{tables:?}");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tables_needs_a_token_and_shows_only_readable_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = isobar::server::start(&auth_config(dir.path())).await.expect("server starts");
    let mut root = client(&running, Some("secret-root")).await;
    create_weather(&mut root).await;
    let mut other = weather_spec();
    other.name = "other".into();
    root.admin.create_table(pb::CreateTableRequest { table: Some(other), if_not_exists: false }).await.expect("other");
    let list = |mut c: Client| async move {
        let tables = c.admin.list_tables(pb::ListTablesRequest {}).await?.into_inner().tables;
        Ok::<_, Status>(tables.into_iter().map(|t| t.name).collect::<Vec<_>>())
    };
    assert_eq!(list(client(&running, None).await).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(list(client(&running, Some("bad")).await).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(list(client(&running, Some("secret-reader")).await).await.expect("reader"), ["other", "weather"]);
    assert_eq!(list(client(&running, Some("secret-wadmin")).await).await.expect("admin implies read"), ["weather"]);
    assert!(list(client(&running, Some("secret-writer")).await).await.expect("writer").is_empty(), "write-only");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_touching_one_forbidden_table_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = isobar::server::start(&auth_config(dir.path())).await.expect("server starts");
    let mut root = client(&running, Some("secret-root")).await;
    create_weather(&mut root).await;
    let mut writer = client(&running, Some("secret-writer")).await;
    let mut request = write_request();
    request.rows.push(pb::Row { table: "other".into(), series: "x".into(), ts: T0, cells: vec![] });
    let status = writer.ingest.write(request).await.expect_err("other is not writable");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("\"other\""), "{status:?}");
    assert_eq!(running.db().stats().writes, 0, "the allowed batch of the request was not written either");

    // A stream is checked per message: the first is written, the second refused.
    let mut bad = write_request();
    bad.batches[0].table = "other".into();
    let status = writer
        .ingest
        .write_stream(tokio_stream::iter(vec![write_request(), bad]))
        .await
        .expect_err("second message refused");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().starts_with("message 1:"), "{status:?}");
    assert_eq!(row_count(&scan_all(&mut root, "weather", &["env.temp"]).await), 1);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_stays_open_and_disabled_auth_allows_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = isobar::server::start(&auth_config(dir.path())).await.expect("server starts");
    let channel = tonic::transport::Endpoint::from_shared(running.url()).expect("url").connect().await.expect("c");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let answer = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await;
    assert_eq!(answer.expect("health needs no token").into_inner().status, 1, "SERVING");
    running.stop().await.expect("stops");

    let open_dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(open_dir.path())).await;
    create_weather(&mut client).await;
    client.ingest.write(write_request()).await.expect("no auth: anyone writes");
    running.stop().await.expect("stops");
}
