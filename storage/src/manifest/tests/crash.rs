//! Crash test with real process death: a child process applies groups of edits and reports each
//! acknowledgement; the parent kills it with SIGKILL at some point (possibly mid-append or
//! mid-rotation), reopens, and checks that every acknowledged group survived and that the state
//! is exactly a prefix of the history. Three rounds run on one directory, so recovery is followed
//! by more appends and more crashes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::super::*;
use super::{file, table};

/// Environment variable that turns [`crash_child`] into the writer process.
const CHILD_DIR_VAR: &str = "ISOBAR_MANIFEST_CRASH_CHILD_DIR";
/// Small thresholds so that rotations happen often and are killed too.
const OPTIONS: ManifestOptions = ManifestOptions { max_records: 7, max_bytes: 2048 };

/// Group `i` of the history the child writes; valid when applied in order from 0. Group `i`
/// ends with `LastSeq(i + 1)`, so `last_seq` tells how many groups a state holds.
fn group(i: u64) -> Vec<Edit> {
    let table_id = (i / 20) as u32;
    let family = table_id;
    let mut edits = Vec::new();
    if i.is_multiple_of(20) {
        edits.push(Edit::CreateTable(table(table_id, &format!("t{table_id}"), &[(family, "f")])));
    }
    edits.push(Edit::AddFile(file(i, family)));
    if i % 20 >= 3 {
        edits.push(Edit::RemoveFile { family, id: i - 3 });
    }
    edits.push(Edit::FlushedSeq { family, seq: i });
    if i % 20 == 19 && table_id > 0 {
        edits.push(Edit::DropTable(table_id - 1));
    }
    edits.push(Edit::LastSeq(i + 1));
    edits
}

fn model(groups: u64) -> ManifestState {
    let mut state = ManifestState::default();
    for edit in (0..groups).flat_map(group) {
        state.apply(&edit).expect("history is valid");
    }
    state
}

/// The writer process: continues the history where the directory's state ends, printing
/// `acked <n>` after each group `n` is durable. Does nothing unless run by the parent.
/// The child's side: append groups forever, printing each acknowledgement (until killed).
fn crash_child(dir: &std::ffi::OsStr) {
    let (mut m, mut state) = Manifest::create_or_open_with(Path::new(&dir), OPTIONS).expect("open");
    for i in state.last_seq.. {
        m.apply(&mut state, group(i)).expect("apply");
        println!("acked {}", i + 1);
    }
}

#[test]
fn a_killed_writer_loses_no_acknowledged_group() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_VAR) {
        crash_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    for kill_after in [3u64, 40, 25] {
        let mut child = Command::new(&exe)
            .args(["--exact", "manifest::tests::crash::a_killed_writer_loses_no_acknowledged_group", "--nocapture"])
            .env(CHILD_DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let mut acked = 0;
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(n) = line.strip_prefix("acked ") {
                acked = n.parse().expect("a number");
                seen += 1;
                if seen == kill_after {
                    break;
                }
            }
        }
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert_eq!(seen, kill_after, "the child stopped early");
        let (_, state) = Manifest::create_or_open_with(dir.path(), OPTIONS).expect("reopen");
        let groups = state.last_seq;
        // Everything acknowledged is there (the child may have gone further before the kill).
        assert!(groups >= acked, "acked {acked}, recovered {groups}");
        assert_eq!(state, model(groups));
        let manifests = std::fs::read_dir(dir.path())
            .expect("read dir")
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with("MANIFEST-")))
            .count();
        assert_eq!(manifests, 1);
    }
}
