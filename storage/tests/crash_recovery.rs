//! Crash safety with real process death: a child process writes with `sync = always` and reports
//! each acknowledged write; the parent kills it with SIGKILL at a random moment, reopens the
//! database and checks that every acknowledged write is there, that every write is all-or-nothing
//! (a write spans two families), and that the store stays readable. Bounded: a fixed number of
//! kill cycles, each at most a couple of seconds.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use isobar_storage::{ColumnValues, Db, Options, ScanRequest, SeriesWrite, SyncPolicy};

const CHILD_ENV: &str = "ISOBAR_CRASH_CHILD_DIR";
const CYCLES: usize = 6;

fn options() -> Options {
    Options { sync: SyncPolicy::Always, memtable_size: 16 << 10, rows_per_page: 64, ..Options::default() }
}

fn write_for(i: u64) -> SeriesWrite {
    let series = format!("s{}", i % 5);
    SeriesWrite::new("t0", series, vec![i as i64 * 10, i as i64 * 10 + 1])
        .column("a", "x", ColumnValues::F64(vec![i as f64, -(i as f64)]))
        .column("b", "w", ColumnValues::String(vec![format!("w{i}"), format!("v{i}")]))
}

/// The child: write forever (until killed), printing `ack <i>` after each acknowledged write.
/// In compaction mode it also flushes and compacts all the time, so kills land mid-compaction.
fn child(dir: &str, start: u64, compacting: bool) {
    let mut opts = options();
    if compacting {
        opts.compaction.window = Duration::from_nanos(400);
        opts.compaction.min_merge = 2;
        opts.compaction.interval = Duration::from_millis(1);
    }
    let db = Db::open(dir, opts).expect("child open");
    if db.table_def("t0").is_err() {
        common::create_tables(&db);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for i in start.. {
        db.write(write_for(i)).expect("child write");
        writeln!(out, "ack {i}").expect("stdout");
        out.flush().expect("stdout");
        if compacting && i % 7 == 0 {
            db.flush().expect("child flush");
            db.compact("t0", None, None).expect("child compact");
        }
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    kill_loop("acknowledged_writes_survive_sigkill", false);
}

#[test]
fn a_compaction_killed_midway_leaves_the_store_as_it_was() {
    kill_loop("a_compaction_killed_midway_leaves_the_store_as_it_was", true);
}

fn kill_loop(test_name: &str, compacting: bool) {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let start = std::env::var("ISOBAR_CRASH_START").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        child(&dir, start, compacting);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut next = 0u64;
    let mut total_acked = 0u64;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for cycle in 0..CYCLES {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wanted_acks = 20 + seed % 200;
        let mut child = Command::new(&exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("ISOBAR_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acked: Option<u64> = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut lines = BufReader::new(stdout).lines();
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(i) = line.strip_prefix("ack ").and_then(|s| s.parse::<u64>().ok()) {
                acked = Some(i);
                if i + 1 - next >= wanted_acks {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acks the child printed after we stopped reading may exist; they are covered by the
        // "present" scan below, which only demands what we saw acknowledged.
        let acked = acked.expect("the child acknowledged at least one write");
        // Reopen with background compaction off and wait for the flushes recovery may start, so
        // that the file listing below sees no work in progress.
        let mut quiet = options();
        quiet.compaction.background = false;
        let db = Db::open(dir.path(), quiet).expect("reopen after SIGKILL");
        db.flush().expect("flush after reopen");
        let batches = db.scan(&ScanRequest::new("t0")).expect("scan after SIGKILL");
        let mut present = std::collections::BTreeMap::new();
        for b in &batches {
            let ts = b.column(1).as_primitive::<arrow_array::types::TimestampNanosecondType>();
            let x = b.column_by_name("a.x").expect("a.x").as_primitive::<Float64Type>();
            let w = b.column_by_name("b.w").expect("b.w").as_string::<i32>();
            for r in 0..b.num_rows() {
                let i = (ts.value(r) / 10) as u64;
                let sign = if ts.value(r) % 10 == 0 { 1.0 } else { -1.0 };
                assert_eq!(x.value(r), sign * i as f64, "value of write {i}");
                let expected_w = if sign > 0.0 { format!("w{i}") } else { format!("v{i}") };
                assert_eq!(w.value(r), expected_w, "string of write {i} (same write, other family)");
                *present.entry(i).or_insert(0) += 1;
            }
        }
        for i in 0..=acked {
            assert_eq!(present.get(&i), Some(&2), "cycle {cycle}: acknowledged write {i} lost or torn");
        }
        for (i, rows) in &present {
            assert_eq!(*rows, 2, "write {i} is half-visible");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("sst"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| !n.ends_with(".sst"))
            .collect();
        assert!(leftovers.is_empty(), "cycle {cycle}: temporary files left after reopen: {leftovers:?}");
        let on_disk = std::fs::read_dir(dir.path().join("sst")).unwrap().count();
        let listed: usize = db.stats().families.iter().map(|f| f.files).sum();
        assert_eq!(on_disk, listed, "cycle {cycle}: files on disk that the manifest does not list");
        total_acked += acked + 1 - next;
        next = present.keys().next_back().map_or(0, |m| m + 1).max(acked + 1);
        db.close().unwrap();
    }
    println!("crash test ({test_name}): {CYCLES} SIGKILL cycles, {total_acked} acknowledged writes verified, 0 lost");
    assert!(total_acked >= CYCLES as u64 * 20);
}
