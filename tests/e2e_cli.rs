//! The `isobar` binary end to end: `serve` in a child process, client commands against it
//! (table, CSV import, scan in every format, admin), SIGTERM -> exit 0, then the offline tools
//! (`admin verify`, `inspect`) on the files it left.

use std::net::SocketAddr;
use std::process::{Command, Output};

use isobar_testkit::server::ServerCommand;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

fn isobar(addr: &SocketAddr, args: &[&str]) -> Output {
    Command::new(BIN).arg("--addr").arg(format!("http://{addr}")).args(args).output().expect("runs")
}

/// Runs a client command that must succeed; returns its standard output.
fn ok(addr: &SocketAddr, args: &[&str]) -> String {
    let out = isobar(addr, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "isobar {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn serve_import_scan_admin_sigterm_then_offline_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = ServerCommand::new(BIN, &data).start().expect("serve starts");
    let addr = server.addr();

    let created = isobar(
        &addr,
        &["table", "create", "weather", "--family", "env:temp=f64,ok=bool", "--family", "meta:note=string"],
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "series,ts,env.temp:f64,env.ok:bool,meta.note:string\n\
         s1,2024-05-01T00:00:00Z,1.5,true,\"a, b\"\n\
         s1,2024-05-01T00:00:01Z,,false,\n\
         s2,1714521600000000000,-2,,x\n",
    )
    .expect("csv");
    ok(&addr, &["write", "--table", "weather", "--file", csv.to_str().expect("utf8")]);

    let scanned = ok(&addr, &["--format", "csv", "scan", "weather", "--all"]);
    assert_eq!(
        scanned,
        "series,ts,env.temp,env.ok,meta.note\n\
         s1,2024-05-01T00:00:00Z,1.5,true,\"a, b\"\n\
         s1,2024-05-01T00:00:01Z,,false,\n\
         s2,2024-05-01T00:00:00Z,-2.0,,x\n"
    );
    let json = ok(&addr, &["--format", "json", "scan", "weather", "--series", "s2", "-c", "env.temp"]);
    assert_eq!(json, "{\"env.temp\":-2.0,\"series\":\"s2\",\"ts\":\"2024-05-01T00:00:00Z\"}\n");
    let table = ok(&addr, &["scan", "weather", "--prefix", "s1", "-c", "env.*", "--desc", "--limit-per-series", "1"]);
    assert!(table.contains("| s1     | 2024-05-01T00:00:01Z |          | false  |"), "{table}");
    let list = ok(&addr, &["--format", "csv", "table", "list"]);
    assert!(list.starts_with("table,id,families,columns,dynamic_columns,ttl\nweather,"), "{list}");
    assert!(list.ends_with(",\"env,meta\",3,false,\n"), "{list}");
    let agg = ok(
        &addr,
        &[
            "--format",
            "csv",
            "agg",
            "weather",
            "--all",
            "--bucket",
            "1h",
            "--fn",
            "avg:env.temp",
            "--fn",
            "count:env.ok:n",
        ],
    );
    assert_eq!(agg, "series,bucket,avg(env.temp),n\ns1,2024-05-01T00:00:00Z,1.5,2\ns2,2024-05-01T00:00:00Z,-2.0,0\n");
    let latest = ok(&addr, &["--format", "csv", "latest", "weather", "--all", "-c", "env.temp"]);
    assert_eq!(latest, "series,ts,env.temp\ns1,2024-05-01T00:00:01Z,\ns2,2024-05-01T00:00:00Z,-2.0\n");
    // Per column: each value followed by its own time (s1's newest temperature is the older row's).
    let per_column =
        ok(&addr, &["--format", "csv", "latest", "weather", "--all", "-c", "env.temp,env.ok", "--per-column"]);
    assert_eq!(
        per_column,
        "series,ts,env.temp,env.temp.ts,env.ok,env.ok.ts\n\
         s1,2024-05-01T00:00:01Z,1.5,2024-05-01T00:00:00Z,false,2024-05-01T00:00:01Z\n\
         s2,2024-05-01T00:00:00Z,-2.0,2024-05-01T00:00:00Z,,\n"
    );
    let exported = isobar(&addr, &["--format", "csv", "export", "weather", "--all", "--dest", "x", "--progress"]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let summary = String::from_utf8_lossy(&exported.stdout);
    assert_eq!(summary, "dest,partition,files,rows,bytes\n".to_owned() + summary.lines().nth(1).unwrap_or("") + "\n");
    assert!(summary.contains("\nx,none,1,3,"), "small: one file, no partitions: {summary}");
    ok(&addr, &["admin", "flush"]);
    let stats = ok(&addr, &["--format", "csv", "admin", "stats"]);
    assert!(
        stats.starts_with("table,family,series,file_rows,files,file_bytes,memtable_bytes,windows,pending_compaction_bytes\nweather,env,2,3,1,"),
        "{stats}"
    );

    // Errors reach the user with the server's status and message.
    let bad = isobar(&addr, &["scan", "nowhere", "--all"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("NOT_FOUND: table \"nowhere\" does not exist"));

    // SIGTERM: graceful stop, exit 0.
    server.terminate().expect("SIGTERM sent");
    let status = server.wait().expect("wait");
    assert!(status.success(), "serve exited with {status}");

    // Offline tools on the files left behind.
    let verify = Command::new(BIN).args(["admin", "verify", "--data-dir"]).arg(&data).output().expect("verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("SSTables checked"), "verify reports");
    let sst = std::fs::read_dir(data.join("sst"))
        .expect("sst dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "sst"))
        .expect("an SSTable");
    let inspect =
        Command::new(BIN).args(["inspect", "--series", "--rows", "5", "--verify"]).arg(&sst).output().expect("inspect");
    assert!(inspect.status.success(), "{}", String::from_utf8_lossy(&inspect.stderr));
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(text.contains("format_version") && text.contains("non_null="), "{text}");
    assert!(String::from_utf8_lossy(&inspect.stderr).contains(": sound"));

    // Damage one byte in the middle of the file: verify must say so and fail.
    let mut bytes = std::fs::read(&sst).expect("read");
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0xff;
    std::fs::write(&sst, bytes).expect("write");
    let verify = Command::new(BIN).args(["admin", "verify", "--data-dir"]).arg(&data).output().expect("verify");
    assert!(!verify.status.success(), "a damaged file must fail verification");
}

#[test]
fn serve_refuses_a_public_address_without_insecure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a loopback address") && stderr.contains("authentication is off"), "{stderr}");
    assert!(stderr.contains("--insecure"), "{stderr}");
}

#[test]
fn isobar_addr_from_the_environment_and_host_port_without_scheme() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    // No --addr: $ISOBAR_ADDR, given as bare HOST:PORT, is the server.
    let out = Command::new(BIN)
        .env("ISOBAR_ADDR", addr.to_string())
        .args(["table", "create", "t", "--family", "f:x=f64"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // --addr HOST:PORT without a scheme; it wins over a wrong $ISOBAR_ADDR.
    let out = Command::new(BIN)
        .env("ISOBAR_ADDR", "127.0.0.1:1")
        .args(["--format", "csv", "--addr", &addr.to_string(), "table", "list"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\nt,"));
}

#[test]
fn scan_csv_imports_back_and_a_real_world_file_imports_with_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    for table in ["a", "b"] {
        ok(&addr, &["table", "create", table, "--family", "met:temp_c=f64,wind=i64", "--family", "meta:note=string"]);
    }
    // A spreadsheet's file: BOM, a station line, local standard time with hour-ending 24:00,
    // a missing-value marker, a column that is not imported.
    let raw = dir.path().join("station.csv");
    std::fs::write(
        &raw,
        "\u{feff}723170,\"GREENSBORO\",NC,-5.0\n\
         Date (MM/DD/YYYY),Time (HH:MM),Dry-bulb (C),Wspd,GHI\n\
         12/31/1987,23:00,-2.5,3,0\n\
         12/31/1987,24:00,-9900,4,0\n",
    )
    .expect("write");
    let out = isobar(
        &addr,
        &[
            "write",
            "--table",
            "a",
            "--file",
            raw.to_str().expect("utf8"),
            "--skip-lines",
            "1",
            "--series",
            "723170",
            "--date-column",
            "Date (MM/DD/YYYY)",
            "--time-column",
            "Time (HH:MM)",
            "--ts-format",
            "%m/%d/%Y %H:%M",
            "--tz",
            "Etc/GMT+5",
            "--map",
            "Dry-bulb (C)=met.temp_c",
            "--map",
            "Wspd=met.wind",
            "--null-values",
            "-9900",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("imported 2 rows (3 points, 1 series)"), "{stderr}");
    let scanned = ok(&addr, &["--format", "csv", "scan", "a", "--all"]);
    assert_eq!(
        scanned,
        "series,ts,met.temp_c,met.wind,meta.note\n\
         723170,1988-01-01T04:00:00Z,-2.5,3,\n\
         723170,1988-01-01T05:00:00Z,,4,\n"
    );
    // What scan prints imports back as it is: types come from the table.
    let exported = dir.path().join("a.csv");
    std::fs::write(&exported, &scanned).expect("write");
    ok(&addr, &["write", "--table", "b", "--file", exported.to_str().expect("utf8")]);
    assert_eq!(ok(&addr, &["--format", "csv", "scan", "b", "--all"]), scanned);
    // Epoch seconds without --ts-unit are refused naming the unit and the line; nothing is written.
    let epoch = dir.path().join("epoch.csv");
    std::fs::write(&epoch, "series,ts,met.temp_c\ns,567993600,1\n").expect("write");
    let out = isobar(&addr, &["write", "--table", "b", "--file", epoch.to_str().expect("utf8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("epoch.csv: line 2, column \"ts\"") && stderr.contains("--ts-unit s"), "{stderr}");
    ok(&addr, &["write", "--table", "b", "--file", epoch.to_str().expect("utf8"), "--ts-unit", "s"]);
    let row = ok(&addr, &["--format", "csv", "scan", "b", "--series", "s"]);
    assert_eq!(row, "series,ts,met.temp_c,met.wind,meta.note\ns,1988-01-01T00:00:00Z,1.0,,\n");
}

#[test]
fn imports_account_for_every_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    ok(&addr, &["table", "create", "t", "--family", "m:v=f64"]);
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf8").to_owned()
    };
    let count = |addr: &SocketAddr| ok(addr, &["--format", "csv", "scan", "t", "--all"]).lines().count() - 1;
    // A bad value in the third request: the file is checked first, nothing is written.
    let bad = file("bad.csv", "series,ts,m.v\ns,1,1\ns,2,2\ns,3,3\ns,4,4\ns,5,oops\ns,6,6\n");
    let out = isobar(&addr, &["write", "-t", "t", "--file", &bad, "--rows-per-request", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("bad.csv: line 6, column \"m.v\": \"oops\" is not a valid f64"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(count(&addr), 0);
    // Skipping bad rows: each is listed with its line and reason.
    let rejects = dir.path().join("rejects.csv");
    let out = isobar(
        &addr,
        &["write", "-t", "t", "--file", &bad, "--rows-per-request", "2", "--max-errors", "1", "--reject-file"],
    );
    assert!(!out.status.success(), "--reject-file needs a value");
    let out = Command::new(BIN)
        .args(["--addr", &addr.to_string(), "write", "-t", "t", "--file", &bad, "--rows-per-request", "2"])
        .args(["--max-errors", "1", "--reject-file"])
        .arg(&rejects)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("imported 5 rows (5 points, 1 series)") && stderr.contains("1 bad rows skipped"),
        "{stderr}"
    );
    let listed = std::fs::read_to_string(&rejects).expect("reject file");
    assert!(listed.starts_with("line,reason\n6,"), "{listed}");
    assert_eq!(count(&addr), 5);
    // Duplicates are merged and counted as such.
    let dup = file("dup.csv", "series,ts,m.v\nd,1,1\nd,1,2\nd,2,3\n");
    let stderr = String::from_utf8_lossy(&isobar(&addr, &["write", "-t", "t", "--file", &dup]).stderr).into_owned();
    assert!(stderr.contains("imported 2 rows (2 points, 1 series)"), "{stderr}");
    assert!(stderr.contains("1 duplicate rows (same series and ts) merged"), "{stderr}");
    // The server refuses the second request (a series key over its 1024-byte limit): the rows
    // it stored and the line to resume from are named exactly.
    let long = "k".repeat(2000);
    let partial = file("partial.csv", &format!("series,ts,m.v\np,1,1\np,2,2\n{long},3,3\np,4,4\n"));
    let out = isobar(&addr, &["write", "-t", "t", "--file", &partial, "--rows-per-request", "2", "--concurrency", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("2 rows of") && stderr.contains("--from-line 4"), "{stderr}");
    let fixed = file("partial.csv", "series,ts,m.v\np,1,1\np,2,2\np,3,3\np,4,4\n");
    let out = isobar(&addr, &["write", "-t", "t", "--file", &fixed, "--from-line", "4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p = ok(&addr, &["--format", "csv", "scan", "t", "--series", "p"]);
    assert_eq!(p.lines().count(), 5, "{p}");
}

#[test]
fn a_ttl_speaks_up_when_imported_rows_are_already_expired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    ok(&addr, &["table", "create", "t", "--family", "m:v=f64", "--ttl", "365d"]);
    let path = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_owned()
    };
    // 1988 into a table that keeps a year: refused, naming the TTL and the table.
    let old = path("old.csv", "series,ts,m.v\ns,1988-01-01T00:00:00Z,1\ns,1988-01-01T01:00:00Z,2\n");
    let out = isobar(&addr, &["write", "-t", "t", "--file", &old]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("past the TTL of table \"t\" (365d)"), "{stderr}");
    // Partly expired: accepted, and the summary says how many rows will not be seen.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    let mixed = path("mixed.csv", &format!("series,ts,m.v\ns,1988-01-01T00:00:00Z,1\ns,{now},2\n"));
    let out = isobar(&addr, &["write", "-t", "t", "--file", &mixed]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("imported 2 rows") && stderr.contains("1 of them were already past the table's TTL"),
        "{stderr}"
    );
    assert_eq!(ok(&addr, &["--format", "csv", "scan", "t", "--all"]).lines().count(), 2, "one visible row");
}

/// `--empty-as-null`: a corrected file with an emptied field sets the stored cell to null (an
/// explicit null), where a plain re-import leaves the old value; a null-only column of a row
/// works in the row form, and the summary does not count nulls as points.
#[test]
fn empty_as_null_clears_a_stored_value_that_a_plain_import_keeps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    ok(&addr, &["table", "create", "w", "--family", "met:temp_c=f64,wind=i64", "--family", "meta:note=string"]);
    let first = dir.path().join("first.csv");
    std::fs::write(&first, "series,ts,met.temp_c,met.wind,meta.note\nK,2024-01-01T00:00:00Z,1.5,3,ok\n")
        .expect("write");
    ok(&addr, &["write", "--table", "w", "--file", first.to_str().expect("utf8")]);
    // The corrected file empties temp_c and note (the first reading was wrong).
    let fixed = dir.path().join("fixed.csv");
    std::fs::write(&fixed, "series,ts,met.temp_c,met.wind,meta.note\nK,2024-01-01T00:00:00Z,,4,\n").expect("write");
    ok(&addr, &["write", "--table", "w", "--file", fixed.to_str().expect("utf8")]);
    let kept = ok(&addr, &["--format", "csv", "scan", "w", "--all"]);
    assert_eq!(kept, "series,ts,met.temp_c,met.wind,meta.note\nK,2024-01-01T00:00:00Z,1.5,4,ok\n", "empty keeps");
    let out = isobar(&addr, &["write", "--table", "w", "--file", fixed.to_str().expect("utf8"), "--empty-as-null"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("imported 1 rows (1 points, 1 series)"), "nulls are not points: {stderr}");
    let cleared = ok(&addr, &["--format", "csv", "scan", "w", "--all"]);
    assert_eq!(cleared, "series,ts,met.temp_c,met.wind,meta.note\nK,2024-01-01T00:00:00Z,,4,\n", "empty clears");
    // Still cleared once flushed and compacted into files.
    ok(&addr, &["admin", "flush"]);
    ok(&addr, &["admin", "compact", "w"]);
    assert_eq!(ok(&addr, &["--format", "csv", "scan", "w", "--all"]), cleared);
}
