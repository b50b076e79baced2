//! Every admin action of the `isobar` CLI end to end, against a real `serve` process: `delete`
//! (series, prefix, all; bounded and open ranges; the refusal without `--yes` when standard input
//! is not a terminal; deleted rows stay gone after a restart), `table alter` (each flag, and the
//! refusals with the server's or the parser's message), the compaction settings (config keys
//! and per-table values shown by `table describe`), and `table describe`, `table drop`,
//! `admin compact`, `write --generate` and `snapshot create/list/verify/delete`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use isobar_testkit::server::{ServerCommand, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const SEC: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * SEC;

fn isobar(addr: &SocketAddr, args: &[&str]) -> Output {
    // `output()` gives the child no standard input (it reads end of file): not a terminal.
    Command::new(BIN).arg("--addr").arg(format!("http://{addr}")).args(args).output().expect("runs")
}

/// Runs a client command that must succeed; returns (stdout, stderr).
fn ok(addr: &SocketAddr, args: &[&str]) -> (String, String) {
    let out = isobar(addr, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "isobar {args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).expect("utf8"), stderr)
}

/// Runs a client command that must fail; returns its standard error.
fn refused(addr: &SocketAddr, args: &[&str]) -> String {
    let out = isobar(addr, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "isobar {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// `series,ts` of every row of `table`, as CSV lines.
fn keys(addr: &SocketAddr, table: &str) -> Vec<String> {
    let (out, _) = ok(addr, &["--format", "csv", "scan", table, "--all", "-c", "env.v"]);
    out.lines().skip(1).map(|l| l.split(',').take(2).collect::<Vec<_>>().join(",")).collect()
}

fn start(data: &Path) -> ServerProcess {
    ServerCommand::new(BIN, data).start().expect("serve starts")
}

/// Writes rows `(series, ts_ns, v)` into family `env`, column `v`.
fn write_rows(addr: &SocketAddr, dir: &Path, table: &str, rows: &[(&str, i64, f64)]) {
    let mut csv = String::from("series,ts,env.v:f64\n");
    for (s, ts, v) in rows {
        csv.push_str(&format!("{s},{ts},{v}\n"));
    }
    let file = dir.join(format!("{table}.csv"));
    std::fs::write(&file, csv).expect("csv");
    // The timestamps are nanoseconds even where they look like seconds (1000000000 = 1 s).
    ok(addr, &["write", "--table", table, "--file", file.to_str().expect("utf8"), "--ts-unit", "ns"]);
}

/// The `(family, column) -> value` of `table describe --format csv`'s column `name`.
fn described(addr: &SocketAddr, table: &str, name: &str) -> Vec<(String, String)> {
    let (out, _) = ok(addr, &["--format", "csv", "table", "describe", table]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (format!("{}.{}", cells[0], cells[1]), cells[at].to_owned())
        })
        .collect()
}

#[test]
fn delete_by_series_prefix_and_all_in_bounded_and_open_ranges_and_the_rows_stay_gone_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = start(&data);
    let addr = server.addr();
    ok(&addr, &["table", "create", "w", "--family", "env:v=f64"]);
    let mut rows = Vec::new();
    for s in ["a1", "a2", "b1", "b2", "c"] {
        for t in 1..=4 {
            rows.push((s, t * SEC, t as f64));
        }
    }
    write_rows(&addr, dir.path(), "w", &rows);
    ok(&addr, &["admin", "flush"]);

    // Bounded, one series: no confirmation needed; the message names table, selector and range.
    let (_, said) =
        ok(&addr, &["delete", "w", "--series", "a1", "--from", &(2 * SEC).to_string(), "--to", &(4 * SEC).to_string()]);
    assert!(
        said.contains("deleted table w: series a1, from 1970-01-01T00:00:02Z (2000000000 ns) to 1970-01-01T00:00:04Z (4000000000 ns)"),
        "{said}"
    );
    // Several series at once.
    ok(&addr, &["delete", "w", "--series", "b1", "--series", "b2", "--from", "0", "--to", &(2 * SEC).to_string()]);

    // An open range without --yes, on a standard input that is not a terminal: refused, nothing deleted.
    let before = keys(&addr, "w");
    let refusal = refused(&addr, &["delete", "w", "--prefix", "a", "--from", &(4 * SEC).to_string()]);
    assert!(refusal.contains("not a terminal") && refusal.contains("pass --yes"), "{refusal}");
    assert!(refusal.contains("every series with prefix \"a\", from 1970-01-01T00:00:04Z"), "{refusal}");
    assert!(refusal.contains("to the end of time"), "{refusal}");
    let refusal = refused(&addr, &["delete", "w", "--all", "--from", "0", "--to", "1"]);
    assert!(refusal.contains("pass --yes"), "--all always asks: {refusal}");
    assert_eq!(keys(&addr, "w"), before, "a refused delete changes nothing");

    // Open end with --yes: every a* series from 4 s to the end of time.
    ok(&addr, &["delete", "w", "--prefix", "a", "--from", &(4 * SEC).to_string(), "--yes"]);
    // --all, open start: every series up to (not including) 2 s.
    let (_, said) = ok(&addr, &["delete", "w", "--all", "--to", &(2 * SEC).to_string(), "--yes"]);
    assert!(said.contains("every series, from the beginning of time to 1970-01-01T00:00:02Z"), "{said}");

    // a1: [2,4) then [4,..) then [..,2) leave nothing; b1, b2: [0,2); a2: [4,..) and [..,2); c: [..,2).
    let want: Vec<String> = [("a2", 2..4), ("b1", 2..5), ("b2", 2..5), ("c", 2..5)]
        .into_iter()
        .flat_map(|(s, ts)| ts.map(move |t| format!("{s},1970-01-01T00:00:0{t}Z")))
        .collect();
    assert_eq!(keys(&addr, "w"), want);

    // An unknown table is the server's refusal, unchanged.
    let refusal = refused(&addr, &["delete", "nowhere", "--series", "x", "--from", "0", "--to", "1"]);
    assert!(refusal.contains("NOT_FOUND: table \"nowhere\" does not exist"), "{refusal}");

    // Restart: the deletes hold (tombstones are in the manifest, rows in flushed files).
    server.terminate().expect("SIGTERM");
    assert!(server.wait().expect("wait").success());
    let server = start(&data);
    let addr = server.addr();
    assert_eq!(keys(&addr, "w"), want, "deleted rows stay gone after a restart");
    ok(&addr, &["admin", "compact", "w"]);
    assert_eq!(keys(&addr, "w"), want, "and after compaction");
}

#[test]
fn table_alter_applies_each_flag_and_passes_refusals_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("data"));
    let addr = server.addr();
    ok(&addr, &["table", "create", "w", "--family", "env:v=f64"]);

    ok(&addr, &["table", "alter", "w", "--add-family", "wind:speed=f64", "--add-family", "empty"]);
    let (_, said) = ok(&addr, &["table", "alter", "w", "--add-column", "env.p:f64", "--add-column", "env.name:string"]);
    assert!(said.contains("table w altered (1 change)"), "{said}");
    let types = described(&addr, "w", "type");
    for (column, ty) in
        [("env.v", "f64"), ("env.p", "f64"), ("env.name", "string"), ("wind.speed", "f64"), ("empty.", "")]
    {
        assert!(types.contains(&(column.to_owned(), ty.to_owned())), "{column}: {types:?}");
    }
    // New columns take writes at once.
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "series,ts,env.p:f64,wind.speed:f64\ns,1000,1.5,7\n").expect("csv");
    ok(&addr, &["write", "--table", "w", "--file", csv.to_str().expect("utf8")]);
    let (out, _) = ok(&addr, &["--format", "csv", "scan", "w", "--all", "-c", "env.p,wind.speed"]);
    assert_eq!(out, "series,ts,env.p,wind.speed\ns,1970-01-01T00:00:00.000001Z,1.5,7.0\n");

    // Retention: per family and for the table; then removed again.
    ok(&addr, &["table", "alter", "w", "--ttl", "env=90d", "--ttl", "365d"]);
    let ttl = described(&addr, "w", "ttl");
    assert!(
        ttl.contains(&("env.v".into(), "90d".into())) && ttl.contains(&("wind.speed".into(), "365d".into())),
        "{ttl:?}"
    );
    ok(&addr, &["table", "alter", "w", "--no-ttl", "env"]);
    assert!(described(&addr, "w", "ttl").contains(&("env.v".into(), "365d".into())), "env follows the table again");
    ok(&addr, &["table", "alter", "w", "--no-table-ttl"]);
    assert!(described(&addr, "w", "ttl").iter().all(|(_, t)| t.is_empty()), "no retention left");
    ok(&addr, &["table", "alter", "w", "--dynamic-columns", "true"]);
    let (list, _) = ok(&addr, &["--format", "csv", "table", "list"]);
    assert!(list.contains(",true,"), "{list}");

    // Compaction settings per table, shown by describe; `default` resets one family.
    ok(&addr, &["table", "alter", "w", "--compaction-window", "all=6h", "--closed-after", "env=2h"]);
    let windows = described(&addr, "w", "compaction_window");
    assert!(windows.iter().all(|(_, w)| w == "6h"), "{windows:?}");
    let closed = described(&addr, "w", "closed_after");
    assert!(closed.contains(&("env.v".into(), "2h".into())), "{closed:?}");
    assert!(closed.contains(&("wind.speed".into(), "default".into())), "{closed:?}");
    ok(&addr, &["table", "alter", "w", "--compaction-window", "wind=default", "--closed-after", "all=0s"]);
    let windows = described(&addr, "w", "compaction_window");
    assert!(windows.contains(&("wind.speed".into(), "default".into())), "{windows:?}");
    assert!(windows.contains(&("env.v".into(), "6h".into())), "{windows:?}");
    assert!(described(&addr, "w", "closed_after").iter().all(|(_, c)| c == "0s"));

    // Refusals. Unknown family (add column, TTL, compaction setting): the server's message.
    let before = ok(&addr, &["--format", "csv", "table", "describe", "w"]).0;
    let said = refused(&addr, &["table", "alter", "w", "--add-family", "fresh", "--add-column", "nope.x:f64"]);
    assert!(said.contains("INVALID_ARGUMENT") && said.contains("\"nope\""), "{said}");
    let said = refused(&addr, &["table", "alter", "w", "--ttl", "nope=1d"]);
    assert!(said.contains("INVALID_ARGUMENT") && said.contains("\"nope\""), "{said}");
    let said = refused(&addr, &["table", "alter", "w", "--closed-after", "nope=1h"]);
    assert!(said.contains("\"nope\""), "{said}");
    let said = refused(&addr, &["table", "alter", "w", "--ttl", "env=0s"]);
    assert!(said.contains("a TTL must be positive"), "{said}");
    let said = refused(&addr, &["table", "alter", "w", "--compaction-window", "all=0s"]);
    assert!(said.contains("a compaction window must be positive, got 0 ns"), "{said}");
    let said = refused(&addr, &["table", "alter", "w", "--add-column", "env.v:f64"]);
    assert!(said.contains("already has a column \"v\""), "{said}");
    let said = refused(&addr, &["table", "alter", "nowhere", "--ttl", "1d"]);
    assert!(said.contains("NOT_FOUND: table \"nowhere\" does not exist"), "{said}");
    // Bad type and bad duration: the parser's message, before anything is sent.
    let said = refused(&addr, &["table", "alter", "w", "--add-column", "env.x:float32"]);
    assert!(said.contains("unknown type \"float32\"; use f64, i64, bool or string"), "{said}");
    let said = refused(&addr, &["table", "alter", "w", "--ttl", "env=soon"]);
    assert!(said.contains("a duration such as 500ms, 5s, 10m, 1h or 30d"), "{said}");
    let said = refused(&addr, &["table", "alter", "w"]);
    assert!(said.contains("nothing to change"), "{said}");
    let after = ok(&addr, &["--format", "csv", "table", "describe", "w"]).0;
    assert_eq!(after, before, "a refused alter changes nothing (not even its valid actions)");
}

#[test]
fn compaction_config_keys_take_effect_and_per_table_values_show_in_describe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let printed = Command::new(BIN)
        .args(["serve", "--print-config"])
        .env("ISOBAR_STORAGE_COMPACTION_WINDOW", "1h")
        .env("ISOBAR_STORAGE_COMPACTION_CLOSED_AFTER", "0s")
        .output()
        .expect("runs");
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.contains("[storage.compaction]\nwindow = \"1h\"\nclosed_after = \"0ns\"\n"), "{printed}");
    let server = ServerCommand::new(BIN, &data)
        .env("ISOBAR_STORAGE_COMPACTION_WINDOW", "1h")
        .env("ISOBAR_STORAGE_COMPACTION_CLOSED_AFTER", "0s")
        .start()
        .expect("serve starts");
    let addr = server.addr();
    ok(&addr, &["table", "create", "c", "--family", "env:v=f64"]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as i64;
    // The previous whole hour: with a one-hour window it is its own window, which ended less
    // than an hour ago. Under the defaults (one-day window, closed an hour after) it would share
    // a window with `now` and stay open.
    let previous = now.div_euclid(HOUR) * HOUR - HOUR;
    for (i, ts) in [previous + SEC, previous + 2 * SEC, now].into_iter().enumerate() {
        write_rows(&addr, dir.path(), "c", &[("s", ts, i as f64)]);
        ok(&addr, &["admin", "flush"]);
    }
    let stats = |addr: &SocketAddr| -> (String, String) {
        let (out, _) = ok(addr, &["--format", "csv", "admin", "stats", "--table", "c"]);
        let cells: Vec<String> = out.lines().nth(1).expect("a family").split(',').map(str::to_owned).collect();
        (cells[4].clone(), cells[7].clone()) // files, windows
    };
    // The background worker (1 s interval) merges the closed window; wait for it, bounded.
    let mut tries = 0;
    while stats(&addr).0 != "2" && tries < 100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        tries += 1;
    }
    assert_eq!(stats(&addr), ("2".to_owned(), "2".to_owned()), "two one-hour windows, the closed one merged");
    assert_eq!(keys(&addr, "c").len(), 3, "no row lost in the merge");

    ok(&addr, &["table", "alter", "c", "--closed-after", "all=3h", "--compaction-window", "env=30m"]);
    assert_eq!(described(&addr, "c", "closed_after"), vec![("env.v".to_owned(), "3h".to_owned())]);
    assert_eq!(described(&addr, "c", "compaction_window"), vec![("env.v".to_owned(), "30m".to_owned())]);
}

#[test]
fn describe_drop_compact_generate_and_snapshots_work_from_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("data"));
    let addr = server.addr();

    // write --generate creates its table and fills it.
    let (_, said) =
        ok(&addr, &["write", "--generate", "weather", "--scale", "0.01", "--duration", "1h", "--seed", "3"]);
    assert!(said.contains("rows"), "{said}");
    let (described_text, _) = ok(&addr, &["table", "describe", "weather"]);
    assert!(described_text.starts_with("table weather (id "), "{described_text}");
    for column in ["temperature", "humidity", "pressure", "wind_speed", "wind_dir", "precipitation"] {
        assert!(described_text.contains(column), "{column}: {described_text}");
    }
    let (stats, _) = ok(&addr, &["--format", "csv", "admin", "stats", "--table", "weather"]);
    let series: u64 = stats.lines().nth(1).expect("row").split(',').nth(2).expect("series").parse().expect("n");
    assert_eq!(series, 5, "0.01 x 500 stations");
    let (rows, _) = ok(&addr, &["--format", "csv", "scan", "weather", "--all", "-c", "weather.temperature"]);
    assert_eq!(rows.lines().count() - 1, 5 * 60, "5 stations x 60 minutes");

    // admin compact: two flushed files of one window become one.
    ok(&addr, &["admin", "flush"]);
    ok(&addr, &["write", "--generate", "weather", "--scale", "0.01", "--duration", "1h", "--seed", "4"]);
    ok(&addr, &["admin", "flush"]);
    let (_, said) = ok(&addr, &["admin", "compact", "weather"]);
    assert!(said.contains("compacted 2 files") && said.contains("into 1 files"), "{said}");
    let (rows_after, _) = ok(&addr, &["--format", "csv", "scan", "weather", "--all", "-c", "weather.temperature"]);
    assert_eq!(rows_after.lines().count(), rows.lines().count(), "the second seed overwrote the same keys");

    // Snapshots: create, list (verified), verify, delete.
    let (_, said) = ok(&addr, &["snapshot", "create", "--name", "first"]);
    assert!(said.contains("snapshot first written to"), "{said}");
    let (listed, _) = ok(&addr, &["--format", "csv", "snapshot", "list", "--verify"]);
    assert!(listed.lines().nth(1).is_some_and(|l| l.starts_with("first,")), "{listed}");
    let (_, said) = ok(&addr, &["snapshot", "verify", "first"]);
    assert!(said.contains("every checksum matches"), "{said}");
    let said = refused(&addr, &["snapshot", "verify", "second"]);
    assert!(said.contains("NOT_FOUND: snapshot \"second\" does not exist"), "{said}");
    ok(&addr, &["snapshot", "delete", "first"]);
    let (listed, _) = ok(&addr, &["--format", "csv", "snapshot", "list"]);
    assert_eq!(listed.lines().count(), 1, "only the header is left: {listed}");

    // table drop, with and without --if-exists.
    let (_, said) = ok(&addr, &["table", "drop", "weather"]);
    assert!(said.contains("table weather dropped"), "{said}");
    let said = refused(&addr, &["table", "describe", "weather"]);
    assert!(said.contains("NOT_FOUND"), "{said}");
    let said = refused(&addr, &["table", "drop", "weather"]);
    assert!(said.contains("NOT_FOUND"), "{said}");
    let (_, said) = ok(&addr, &["table", "drop", "weather", "--if-exists"]);
    assert!(said.contains("did not exist"), "{said}");
    let (list, _) = ok(&addr, &["--format", "csv", "table", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
}

/// Runs `isobar ARGS` on a pseudo-terminal (util-linux `script`), typing `input`; returns the
/// exit success and everything the terminal showed.
fn on_terminal(addr: &SocketAddr, args: &str, input: &str) -> (bool, String) {
    use std::io::Write;
    let command = format!("'{BIN}' --addr http://{addr} {args}");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("type");
    let out = child.wait_with_output().expect("waits");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn delete_on_a_terminal_asks_and_deletes_only_when_confirmed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("data"));
    let addr = server.addr();
    ok(&addr, &["table", "create", "w", "--family", "env:v=f64"]);
    write_rows(&addr, dir.path(), "w", &[("p1", SEC, 1.0), ("p2", SEC, 2.0), ("q", SEC, 3.0)]);

    // --all wants the table name typed; "y" is not enough.
    let (deleted, screen) = on_terminal(&addr, "delete w --all", "y\n");
    assert!(!deleted, "{screen}");
    assert!(
        screen.contains("Type the table name (w) to confirm") && screen.contains("nothing was deleted"),
        "{screen}"
    );
    assert_eq!(keys(&addr, "w").len(), 3);
    // An open range: y/N, and anything but yes keeps the rows.
    let (deleted, screen) = on_terminal(&addr, "delete w --prefix p --from 0", "n\n");
    assert!(!deleted && screen.contains("[y/N]"), "{screen}");
    assert_eq!(keys(&addr, "w").len(), 3);
    let (deleted, screen) = on_terminal(&addr, "delete w --prefix p --from 0", "y\n");
    assert!(deleted && screen.contains("deleted table w: every series with prefix \"p\""), "{screen}");
    assert_eq!(keys(&addr, "w"), vec!["q,1970-01-01T00:00:01Z".to_owned()]);
    let (deleted, screen) = on_terminal(&addr, "delete w --all", "w\n");
    assert!(deleted, "{screen}");
    assert!(keys(&addr, "w").is_empty());
}

#[test]
fn a_delete_of_rows_only_in_the_wal_holds_after_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = start(&data);
    let addr = server.addr();
    ok(&addr, &["table", "create", "w", "--family", "env:v=f64"]);
    write_rows(&addr, dir.path(), "w", &[("a", SEC, 1.0), ("a", 2 * SEC, 2.0), ("b", SEC, 3.0)]);
    ok(&addr, &["delete", "w", "--series", "a", "--from", "0", "--to", &(2 * SEC).to_string()]);
    // Written after the delete, inside its range: kept (the tombstone covers earlier writes only).
    write_rows(&addr, dir.path(), "w", &[("a", SEC / 2, 4.0)]);
    let want =
        vec!["a,1970-01-01T00:00:00.500Z".to_owned(), "a,1970-01-01T00:00:02Z".into(), "b,1970-01-01T00:00:01Z".into()];
    assert_eq!(keys(&addr, "w"), want);
    server.kill().expect("SIGKILL");
    let server = start(&data);
    assert_eq!(keys(&server.addr(), "w"), want, "WAL replay does not bring deleted rows back");
}
