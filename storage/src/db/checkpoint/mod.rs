//! Online checkpoints: a consistent, point-in-time copy of a database, made while writes go on,
//! that opens as a database of its own (RocksDB's `Checkpoint`, SQLite's online backup).
//!
//! [`Db::checkpoint`] runs these steps:
//!
//! 1. flush every memtable and wait for the SSTables to be durable, so every write acknowledged
//!    before the call is in an SSTable (the WAL is not needed by the copy);
//! 2. hold the compaction lock for the moment it takes to link files, so no merge deletes a file
//!    being linked (writes and flushes go on meanwhile: ingest never pauses);
//! 3. hard-link the live SSTables into `<dest>/sst` — they are immutable, so a link is a copy
//!    that costs no space. When the destination is on another file system (`EXDEV`) or the file
//!    system has no hard links, the file is copied instead and a warning says so: slower and
//!    bigger, but the checkpoint is as good (RocksDB's checkpoints behave the same way);
//! 4. write a fresh manifest (`CURRENT` + `MANIFEST-*`: the catalog, exactly those files, and the
//!    newest sequence number assigned, so the restored database numbers new writes above every
//!    row it holds);
//! 5. write `<dest>/CHECKPOINT`, the listing of every other file with its size and CRC-32C;
//! 6. rename the work directory `.<name>.partial` to `<dest>` and fsync the parent.
//!
//! A directory without a listing is an unfinished checkpoint: [`verify_checkpoint`] refuses it.
//!
//! # The listing (`CHECKPOINT`, JSON)
//!
//! ```text
//! { "last_seq": 81234,                 >= every sequence number contained; the copy continues above
//!   "created_ns": 1763700000000000000, when it was taken (ns since the epoch, UTC)
//!   "tables": ["weather"],
//!   "linked": 12, "copied": 0,         how the SSTables got there
//!   "files": [ { "name": "CURRENT", "size": 16, "crc32c": 3735928559 },
//!              { "name": "MANIFEST-000001", ... },
//!              { "name": "sst/00000000000000000042.sst", ... } ] }
//! ```
//!
//! `name` is relative to the checkpoint directory, `/`-separated, sorted; `crc32c` covers the whole
//! file.

mod verify;

use std::fs;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Db, flush::sst_path};
use crate::error::{Error, InvalidInput, Result};
use crate::manifest::{Edit, Manifest};

pub use verify::{restore_checkpoint, verify_checkpoint};

/// The name of the listing that marks a finished checkpoint.
pub const CHECKPOINT_FILE: &str = "CHECKPOINT";

/// One file of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointFile {
    /// Path relative to the checkpoint directory, `/`-separated.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC-32C of the whole file.
    pub crc32c: u32,
}

/// What a checkpoint holds (the content of its `CHECKPOINT` file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Sequence number the copy continues above: at least the highest one it contains.
    pub last_seq: u64,
    /// When it was taken, ns since the epoch.
    pub created_ns: i64,
    /// Tables contained.
    pub tables: Vec<String>,
    /// SSTables hard-linked from the source.
    #[serde(default)]
    pub linked: u64,
    /// SSTables copied because linking failed (another file system).
    #[serde(default)]
    pub copied: u64,
    /// Every file except the listing itself, with sizes and checksums, sorted by name.
    pub files: Vec<CheckpointFile>,
}

impl CheckpointInfo {
    /// Total bytes of the listed files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

impl Db {
    /// Writes a checkpoint of the database to `dest`, which must not exist yet (its parent is
    /// created when missing). Contains every write acknowledged before the call; writes continue
    /// meanwhile.
    pub fn checkpoint(&self, dest: &Path) -> Result<CheckpointInfo> {
        self.check_writable()?;
        let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
            return Err(InvalidInput::Impossible(format!(
                "checkpoint destination {} has no parent directory or no name",
                dest.display()
            ))
            .into());
        };
        if dest.exists() {
            return Err(InvalidInput::Impossible(format!(
                "checkpoint destination {} exists already; name a new directory",
                dest.display()
            ))
            .into());
        }
        self.flush()?;
        let tmp = parent.join(format!(".{}.partial", name.to_string_lossy()));
        let vfs = &self.inner.opts.fs;
        if tmp.exists() {
            vfs.remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let written = self.write_checkpoint(&tmp, dest, parent);
        if written.is_err() {
            // Leave nothing half-made behind (a full disk must not fill up further).
            let _ = vfs.remove_dir_all(&tmp);
        }
        let info = written?;
        tracing::info!(
            dest = %dest.display(),
            files = info.files.len(),
            bytes = info.bytes(),
            linked = info.linked,
            copied = info.copied,
            "checkpoint written"
        );
        Ok(info)
    }

    /// Links the live files into `tmp`, describes them there, and renames `tmp` to `dest`.
    fn write_checkpoint(&self, tmp: &Path, dest: &Path, parent: &Path) -> Result<CheckpointInfo> {
        let vfs = &self.inner.opts.fs;
        let (linked, copied, state) = {
            let _no_merges = self.inner.compaction_lock.lock();
            let state = self.inner.manifest.lock().state.clone();
            crate::fs::create_dir_all_in(&**vfs, &tmp.join("sst"))?;
            let (mut linked, mut copied) = (0, 0);
            for id in state.live_file_ids() {
                if link_or_copy(&**vfs, &sst_path(&self.inner.dir, id), &sst_path(tmp, id))? {
                    linked += 1;
                } else {
                    copied += 1;
                }
            }
            (linked, copied, state)
        };
        // The manifest records its last sequence number only at close; the files just linked hold
        // numbers up to the newest one assigned (read after the file set, so it bounds them). The
        // copy must continue above it, or a write to the restored database could lose to an
        // older value under last-write-wins.
        let last_seq = self.inner.write.lock().last_seq.max(state.last_seq);
        {
            let (mut manifest, mut fresh) =
                Manifest::create_or_open_in(vfs.clone(), tmp, crate::manifest::ManifestOptions::default())?;
            let mut edits = state.snapshot_edits();
            edits.push(Edit::LastSeq(last_seq));
            manifest.apply(&mut fresh, edits)?;
        }
        let info = CheckpointInfo {
            last_seq,
            created_ns: crate::read::snapshot::now_ns(),
            tables: state.tables.values().map(|t| t.name.clone()).collect(),
            linked,
            copied,
            files: verify::list_files(tmp)?,
        };
        let listing = serde_json::to_vec_pretty(&info).map_err(|e| Error::io(tmp, std::io::Error::other(e)))?;
        crate::fs::write_atomic_in(&**vfs, &tmp.join(CHECKPOINT_FILE), &listing)?;
        crate::fs::sync_dir_in(&**vfs, &tmp.join("sst"))?;
        vfs.rename(tmp, dest).map_err(|e| Error::io(dest, e))?;
        crate::fs::sync_dir_in(&**vfs, parent)?;
        Ok(info)
    }
}

/// Hard-links `from` to `to`; copies (and fsyncs) it when linking is impossible. True if linked.
fn link_or_copy(vfs: &dyn crate::fs::FileSystem, from: &Path, to: &Path) -> Result<bool> {
    match vfs.hard_link(from, to) {
        Ok(()) => Ok(true),
        Err(e) => {
            let reason = if e.kind() == std::io::ErrorKind::CrossesDevices {
                "the snapshot directory is on another file system than the data directory"
            } else {
                "the file system refused a hard link"
            };
            tracing::warn!(file = %from.display(), error = %e, "{reason}: copying the SSTable instead (slower, uses space)");
            vfs.copy(from, to).map_err(|e| Error::io(to, e))?;
            fs::File::open(to).and_then(|f| f.sync_all()).map_err(|e| Error::io(to, e))?;
            Ok(false)
        }
    }
}

/// Size and CRC-32C of the file at `path`.
fn checksum(path: &Path) -> Result<(u64, u32)> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut size, mut crc) = (0u64, 0u32);
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        let Some(chunk) = buf.get(..n) else { return Ok((size, crc)) };
        if n == 0 {
            return Ok((size, crc));
        }
        crc = crc32c::crc32c_append(crc, chunk);
        size += n as u64;
    }
}
