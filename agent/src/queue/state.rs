//! The queue's durable state file `state.json`: the ack cursor, the floor of sequence numbers,
//! the dropped-record counter and the source checkpoints whose records were deleted. Written to
//! `state.json.tmp`, fsynced, renamed over `state.json`, then the directory is fsynced: a crash
//! leaves either the old or the new file, never a torn one.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Checkpoint, QueueError};

/// File name of the state inside the queue directory.
pub const STATE_FILE: &str = "state.json";

/// What survives a restart besides the segments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Highest sequence number the server acknowledged (every record at or below is applied).
    pub acked_seq: u64,
    /// Highest sequence number ever assigned to a record that is no longer in a segment
    /// (acknowledged or dropped): new records are numbered above it.
    pub seq_floor: u64,
    /// Records deleted unsent by `drop_oldest` (or by corruption), over the queue's life.
    pub dropped_records: u64,
    /// Frames found corrupt on recovery, over the queue's life.
    pub corrupt_frames: u64,
    /// Latest position of each source whose records may have been deleted.
    pub checkpoints: BTreeMap<String, (u64, u64)>,
}

impl State {
    /// Reads the state of `dir`, or the empty state if there is none yet.
    pub fn load(dir: &Path) -> Result<Self, QueueError> {
        let path = dir.join(STATE_FILE);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| QueueError::State { path, reason: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(QueueError::Io { path, source }),
        }
    }

    /// Writes the state atomically and durably.
    pub fn store(&self, dir: &Path) -> Result<(), QueueError> {
        let tmp = dir.join("state.json.tmp");
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| QueueError::State { path: tmp.clone(), reason: e.to_string() })?;
        let io = |source| QueueError::Io { path: tmp.clone(), source };
        let mut file = fs::File::create(&tmp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        let path = dir.join(STATE_FILE);
        fs::rename(&tmp, &path).map_err(|source| QueueError::Io { path, source })?;
        sync_dir(dir)
    }

    /// Records `ckpt` as the latest position of its source.
    pub fn note(&mut self, ckpt: &Checkpoint) {
        self.checkpoints.insert(ckpt.source.clone(), (ckpt.file_id, ckpt.offset));
    }
}

/// Fsyncs a directory so that renames and deletions in it are durable.
pub fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    let io = |source| QueueError::Io { path: dir.to_path_buf(), source };
    fs::File::open(dir).map_err(io)?.sync_all().map_err(io)
}
