//! Over the CLI, end to end: a row exists in a family only where a cell of that family was
//! written, so an answer never depends on how the writes were batched (issue 26). Series `s` gets
//! `{00:00, g.z=5}` and `{01:00, f.v=1}` in one `isobar write` (one request, one columnar batch for
//! the series); series `t` gets the same two rows in two. `scan -c g.z`, `latest -c g.z` and the
//! per-family row counts of `admin stats` must treat both alike, before and after a flush.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use isobar_testkit::server::ServerCommand;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

fn isobar(addr: &SocketAddr, args: &[&str]) -> Output {
    Command::new(BIN).arg("--addr").arg(format!("http://{addr}")).args(args).output().expect("runs")
}

/// Runs a client command that must succeed; returns its standard output.
fn ok(addr: &SocketAddr, args: &[&str]) -> String {
    let out = isobar(addr, args);
    assert!(out.status.success(), "isobar {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

fn write_csv(addr: &SocketAddr, dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("series,ts,f.v:f64,g.z:f64\n{body}")).expect("csv");
    ok(addr, &["write", "--table", "T", "--file", path.to_str().expect("utf8")]);
}

fn assert_same_for_both(addr: &SocketAddr, when: &str) {
    let z = "series,ts,g.z\ns,2024-05-01T00:00:00Z,5.0\nt,2024-05-01T00:00:00Z,5.0\n";
    assert_eq!(ok(addr, &["--format", "csv", "scan", "T", "--all", "-c", "g.z"]), z, "{when}: scan -c g.z");
    assert_eq!(ok(addr, &["--format", "csv", "latest", "T", "--all", "-c", "g.z"]), z, "{when}: latest -c g.z");
    let v = "series,ts,f.v\ns,2024-05-01T01:00:00Z,1.0\nt,2024-05-01T01:00:00Z,1.0\n";
    assert_eq!(ok(addr, &["--format", "csv", "scan", "T", "--all", "-c", "f.v"]), v, "{when}: scan -c f.v");
    assert_eq!(ok(addr, &["--format", "csv", "latest", "T", "--all", "-c", "f.v"]), v, "{when}: latest -c f.v");
}

#[test]
fn one_write_and_two_writes_answer_alike_over_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    ok(&addr, &["table", "create", "T", "--family", "f:v=f64", "--family", "g:z=f64"]);
    write_csv(&addr, dir.path(), "s.csv", "s,2024-05-01T00:00:00Z,,5\ns,2024-05-01T01:00:00Z,1,\n");
    write_csv(&addr, dir.path(), "t1.csv", "t,2024-05-01T00:00:00Z,,5\n");
    write_csv(&addr, dir.path(), "t2.csv", "t,2024-05-01T01:00:00Z,1,\n");
    assert_same_for_both(&addr, "memtable");

    ok(&addr, &["admin", "flush"]);
    assert_same_for_both(&addr, "after flush");
    let stats = ok(&addr, &["--format", "csv", "admin", "stats"]);
    // table,family,series,file_rows,files,...: two rows written per family, one per series.
    for family in ["f", "g"] {
        assert!(stats.lines().any(|l| l.starts_with(&format!("T,{family},2,2,"))), "{family}: {stats}");
    }

    server.terminate().expect("SIGTERM sent");
    assert!(server.wait().expect("wait").success());
}
