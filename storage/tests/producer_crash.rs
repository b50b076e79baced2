//! Exactly-once across real process death: a child writes batch after batch as one producer
//! (`sync = always`, small memtables so flushes delete WAL segments meanwhile) and prints each
//! acknowledged seq; the parent kills it with SIGKILL, reopens, and checks that the producer's
//! applied seq is the last acknowledged one or the one after it (in flight when killed), that the
//! data of every seq up to it is there and of none above it. The next cycle resumes from there.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use isobar_storage::{ColumnValues, Db, Options, ProducerId, ScanRequest, SeriesWrite, SyncPolicy};

const CHILD_ENV: &str = "ISOBAR_PRODUCER_CRASH_DIR";
const CYCLES: u64 = 4;

fn options() -> Options {
    Options { sync: SyncPolicy::Always, memtable_size: 16 << 10, wal_segment_size: 16 << 10, ..Options::default() }
}

fn producer() -> ProducerId {
    ProducerId::new("crash-gw").expect("valid id")
}

/// Batch `seq`: rows at ts = seq * 10 and seq * 10 + 1 in two families.
fn batch(seq: u64) -> SeriesWrite {
    let ts = seq as i64 * 10;
    SeriesWrite::new("t0", format!("s{}", seq % 3), vec![ts, ts + 1])
        .column("a", "x", ColumnValues::F64(vec![seq as f64, seq as f64]))
        .column("b", "w", ColumnValues::String(vec![format!("w{seq}"), format!("v{seq}")]))
}

fn child(dir: &str, start: u64) {
    let db = Db::open(dir, options()).expect("child open");
    if db.table_def("t0").is_err() {
        common::create_tables(&db);
    }
    let p = producer();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for seq in start.. {
        let r = db.write_as(&p, seq, batch(seq)).expect("child write");
        assert!(!r.is_duplicate(), "seq {seq} was never sent before");
        writeln!(out, "ack {seq}").expect("stdout");
        out.flush().expect("stdout");
    }
}

#[test]
fn a_producer_resumes_exactly_once_after_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let start = std::env::var("ISOBAR_PRODUCER_CRASH_START").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
        child(&dir, start);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut next = 1u64;
    for cycle in 0..CYCLES {
        let wanted = 30 + cycle * 37;
        let mut child = Command::new(&exe)
            .args(["a_producer_resumes_exactly_once_after_sigkill", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("ISOBAR_PRODUCER_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acked = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(seq) = line.strip_prefix("ack ").and_then(|s| s.parse::<u64>().ok()) {
                acked = Some(seq);
                if seq + 1 - next >= wanted {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acks printed after we stopped reading are read now: they were acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Some(seq) = line.strip_prefix("ack ").and_then(|s| s.parse::<u64>().ok()) {
                acked = Some(seq);
            }
        }
        let acked = acked.expect("the child acknowledged at least one batch");
        let db = Db::open(dir.path(), options()).expect("reopen after SIGKILL");
        let state = db.producer_state(&producer()).unwrap();
        assert!(state.known, "cycle {cycle}");
        assert!(
            state.applied_seq == acked || state.applied_seq == acked + 1,
            "cycle {cycle}: applied {} but the last acknowledged seq was {acked}",
            state.applied_seq
        );
        let mut seqs = std::collections::BTreeSet::new();
        for b in db.scan(&ScanRequest::new("t0")).unwrap() {
            let ts = b.column(1).as_primitive::<arrow_array::types::TimestampNanosecondType>();
            let w = b.column_by_name("b.w").unwrap().as_string::<i32>();
            for i in 0..b.num_rows() {
                assert!(w.is_valid(i), "cycle {cycle}: row at {} lost its other family", ts.value(i));
                seqs.insert(ts.value(i) as u64 / 10);
            }
        }
        let want: std::collections::BTreeSet<u64> = (1..=state.applied_seq).collect();
        assert_eq!(seqs, want, "cycle {cycle}: the data of exactly the seqs up to {}", state.applied_seq);
        // A re-sent batch of the in-doubt seq is recognised.
        assert!(db.write_as(&producer(), state.applied_seq, batch(state.applied_seq)).unwrap().is_duplicate());
        db.close().unwrap();
        next = state.applied_seq + 1;
    }
}
