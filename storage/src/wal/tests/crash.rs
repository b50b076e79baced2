//! Real process death: a child process appends and reports acknowledged seqs; the parent kills
//! it with SIGKILL at some point and checks that recovery returns every acknowledged record.
//!
//! The child is this same test binary, started with [`CHILD_ENV`] set and running only
//! [`crash_child`]. Process death keeps the page cache, so this checks "acknowledged means
//! written" and recovery after a kill at an arbitrary point (including mid-write), not power
//! loss.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::*;

const CHILD_ENV: &str = "ISOBAR_WAL_CRASH_CHILD_DIR";

/// The child's body; does nothing in a normal test run.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (wal, got, _) = open_and_replay(Path::new(&dir), opts(8 << 10, SyncPolicy::Always));
    let mut seq = got.last().map_or(0, |(s, _)| *s);
    loop {
        seq += 1;
        wal.append(seq, payload(seq)).expect("append");
        wal.wait_durable(seq).expect("durable");
        println!("acked {seq}");
    }
}

#[test]
fn every_acknowledged_record_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut acked_total = 0u64;
    for (round, kill_after) in [40u64, 137, 301].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .args(["--exact", "wal::tests::crash::crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let mut last_acked = None;
        let mut acks = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(seq) = line.strip_prefix("acked ") {
                last_acked = Some(seq.trim().parse::<u64>().expect("seq"));
                acks += 1;
                if acks == kill_after {
                    child.kill().expect("SIGKILL");
                    break;
                }
            }
        }
        child.wait().expect("reap");
        let last_acked = last_acked.expect("the child acknowledged something");
        acked_total += acks;
        let (wal, got, _) = open_and_replay(dir.path(), opts(8 << 10, SyncPolicy::Always));
        let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
        assert!(
            seqs.len() as u64 >= last_acked,
            "round {round}: recovered {} records, {last_acked} were acknowledged",
            seqs.len()
        );
        assert_eq!(got, expected(1..=seqs.len() as u64), "round {round}: gaps or damage");
        drop(wal);
    }
    assert!(acked_total >= 40 + 137 + 301);
}
