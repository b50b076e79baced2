//! Names that try to escape the data directory — table, family, column and snapshot names like
//! `../x`, `a/b`, `/abs`, NUL, `.`, `..` or 10,000 bytes — are refused with `INVALID_ARGUMENT`
//! over real gRPC, and not one file or directory appears under the data directory or its parent.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{config, create_weather, f64_column, one_batch, serve, weather_spec};
use isobar_proto::v1 as pb;
use pb::alter_table_action::Action;
use tonic::Code;

/// Every path under `root` (files and directories).
fn tree(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            out.insert(path);
        }
    }
    out
}

fn bad_names() -> Vec<String> {
    ["../x", "../../etc/passwd", "a/b", "/abs", "\0", "a\0b", ".", "..", "a\\b", "snapshots/../../x"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(std::iter::once("n".repeat(10_000)))
        .collect()
}

fn assert_invalid<T: std::fmt::Debug>(what: &str, name: &str, result: Result<tonic::Response<T>, tonic::Status>) {
    let status = result.expect_err(&format!("{what} {name:?} must be refused"));
    assert_eq!(status.code(), Code::InvalidArgument, "{what} {:?}: {status:?}", name.get(..40).unwrap_or(name));
}

fn column(name: &str) -> pb::ColumnSpec {
    pb::ColumnSpec { name: name.into(), r#type: pb::ColumnType::F64.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escaping_names_are_refused_before_touching_the_file_system() {
    let parent = tempfile::tempdir().expect("tempdir");
    let (server, mut client) = serve(&config(&parent.path().join("data"))).await;
    create_weather(&mut client).await;
    let before = tree(parent.path());
    let described = client.admin.describe_table(pb::DescribeTableRequest { table: "weather".into() }).await.unwrap();

    for name in bad_names() {
        let admin = &mut client.admin;
        let mut spec = weather_spec();
        spec.name = name.clone();
        let r = admin.create_table(pb::CreateTableRequest { table: Some(spec), if_not_exists: false }).await;
        assert_invalid("table", &name, r);

        let mut spec = weather_spec();
        spec.name = "fresh".into();
        spec.families[0].name = name.clone();
        let r = admin.create_table(pb::CreateTableRequest { table: Some(spec), if_not_exists: false }).await;
        assert_invalid("family", &name, r);

        let mut spec = weather_spec();
        spec.name = "fresh".into();
        spec.families[0].columns.push(column(&name));
        let r = admin.create_table(pb::CreateTableRequest { table: Some(spec), if_not_exists: false }).await;
        assert_invalid("column", &name, r);

        let family = pb::FamilySpec { name: name.clone(), columns: vec![column("x")], ttl_ns: None };
        let alter = pb::AlterTableRequest {
            table: "weather".into(),
            actions: vec![pb::AlterTableAction { action: Some(Action::AddFamily(family)) }],
        };
        assert_invalid("added family", &name, admin.alter_table(alter).await);
        let add = pb::AddColumns { family: "env".into(), columns: vec![column(&name)] };
        let alter = pb::AlterTableRequest {
            table: "weather".into(),
            actions: vec![pb::AlterTableAction { action: Some(Action::AddColumns(add)) }],
        };
        assert_invalid("added column", &name, admin.alter_table(alter).await);
        assert_invalid(
            "dropped table",
            &name,
            admin.drop_table(pb::DropTableRequest { table: name.clone(), if_exists: false }).await,
        );
        assert_invalid(
            "described table",
            &name,
            admin.describe_table(pb::DescribeTableRequest { table: name.clone() }).await,
        );

        let r = admin.create_snapshot(pb::CreateSnapshotRequest { name: Some(name.clone()) }).await;
        assert_invalid("snapshot", &name, r);
        let r = admin.verify_snapshot(pb::VerifySnapshotRequest { name: name.clone() }).await;
        assert_invalid("verified snapshot", &name, r);
        let r = admin.delete_snapshot(pb::DeleteSnapshotRequest { name: name.clone() }).await;
        assert_invalid("deleted snapshot", &name, r);

        let write = one_batch(&name, "s", vec![1], vec![f64_column("temp", vec![1.0])]);
        assert_invalid("written table", &name, client.ingest.write(write).await);
        let mut write = one_batch("weather", "s", vec![1], vec![f64_column("temp", vec![1.0])]);
        write.batches[0].columns[0].family = name.clone();
        let refused = client.ingest.write(write).await.expect_err("bad family in a write");
        assert!(matches!(refused.code(), Code::InvalidArgument | Code::NotFound), "{refused:?}");
    }

    assert_eq!(tree(parent.path()), before, "no file or directory appeared or vanished");
    let tables = client.admin.list_tables(pb::ListTablesRequest {}).await.unwrap().into_inner().tables;
    assert_eq!(tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["weather"]);
    let after = client.admin.describe_table(pb::DescribeTableRequest { table: "weather".into() }).await.unwrap();
    assert_eq!(after.into_inner(), described.into_inner(), "the table is unchanged");
    let snapshots = client.admin.list_snapshots(pb::ListSnapshotsRequest { verify: false }).await.unwrap();
    assert!(snapshots.into_inner().snapshots.is_empty());
    server.stop().await.expect("server stops");
}
