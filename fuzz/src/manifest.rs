//! Manifest targets: a whole manifest file ([`manifest_file`]), and record payloads framed and
//! checksummed by the harness so that the JSON decoding and the edit checks behind the
//! checksums are reached ([`manifest_records`]).

use std::path::Path;

use isobar_storage::manifest::{CURRENT, Edit, Manifest};

use crate::scratch;

/// The manifest file the targets write, and what `CURRENT` says.
const MANIFEST: &str = "MANIFEST-000001";

/// Target: `data` is `MANIFEST-000001`, named by `CURRENT`. Opens it; if it opens, checks that
/// it reopens to the same state (a torn tail was cut off for good), appends one edit and checks
/// that a reopen sees it.
pub fn manifest_file(data: &[u8]) {
    let dir = scratch::dir();
    scratch::write(&dir.path().join(CURRENT), format!("{MANIFEST}\n").as_bytes());
    scratch::write(&dir.path().join(MANIFEST), data);
    exercise(dir.path());
}

/// Target: each line of `data` (split at `\n`) is the payload of one record (the first must be
/// the header record to get far); the harness frames each with its length and CRC32C, writes the
/// file and runs the checks of [`manifest_file`].
pub fn manifest_records(data: &[u8]) {
    let mut file = Vec::with_capacity(data.len() + 64);
    for payload in data.split(|b| *b == b'\n') {
        file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        file.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
        file.extend_from_slice(payload);
    }
    manifest_file(&file);
}

fn exercise(dir: &Path) {
    let Ok((manifest, state)) = Manifest::create_or_open(dir) else { return };
    drop(manifest);
    let reopened = Manifest::create_or_open(dir);
    let Ok((mut manifest, again)) = reopened else {
        panic!("a manifest that opened once fails to reopen: {:?}", reopened.err());
    };
    assert!(again == state, "a manifest reopened to another state");
    let mut expected = state;
    let edit = Edit::LastSeq(expected.last_seq.saturating_add(1));
    if manifest.apply(&mut expected, vec![edit]).is_err() {
        return;
    }
    drop(manifest);
    match Manifest::create_or_open(dir) {
        Ok((_, after)) => assert!(after == expected, "an applied edit is not seen after a reopen"),
        Err(e) => panic!("a manifest fails to reopen after an applied edit: {e}"),
    }
}
