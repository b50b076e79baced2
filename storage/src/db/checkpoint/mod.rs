//! Online checkpoints: a consistent, point-in-time copy of a database, made while writes go on,
//! that opens as a database of its own (RocksDB's `Checkpoint`, SQLite's online backup).
//!
//! [`Db::checkpoint`] runs these steps:
//!
//! 1. take the flush gate, and under the write lock freeze every memtable at the last assigned
//!    seq `C` and copy the producers' marks (the *cut*, see `cut.rs` for why this way); flush the
//!    memtables frozen up to `C` and wait for the SSTables to be durable, so the SSTables hold
//!    every write up to `C` and none above it (the WAL is not needed by the copy). Every write
//!    acknowledged before the call is at or below `C`;
//! 2. hold the compaction lock for the moment it takes to link files, so no merge deletes a file
//!    being linked, then release the flush gate (writes go on throughout: ingest never pauses);
//! 3. hard-link the live SSTables into `<dest>/sst` — they are immutable, so a link is a copy
//!    that costs no space. When the destination is on another file system (`EXDEV`) or the file
//!    system has no hard links, the file is copied instead and a warning says so: slower and
//!    bigger, but the checkpoint is as good (RocksDB's checkpoints behave the same way);
//! 4. write a fresh manifest (`CURRENT` + `MANIFEST-*`: the catalog, exactly those files, the
//!    producers' marks as of `C` — so a producer resumes exactly after the last batch the copy
//!    holds — and the newest sequence number assigned, so the restored database numbers new
//!    writes above every row and range delete it holds);
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

mod cut;
mod listing;
mod verify;

use std::path::Path;

use parking_lot::MutexGuard;

use super::Db;
use crate::clock::now_ns;
use crate::error::{Error, InvalidInput, Result};
use crate::manifest::{Edit, Manifest};
use crate::sst::sst_path;
use cut::Cut;
use listing::list_files;

pub use listing::{CHECKPOINT_FILE, CheckpointFile, CheckpointInfo};
pub use verify::{restore_checkpoint, restore_checkpoint_in, verify_checkpoint, verify_checkpoint_in};

impl Db {
    /// Writes a checkpoint of the database to `dest`, which must not exist yet (its parent is
    /// created when missing). Contains every write up to one point in the write order (every write
    /// acknowledged before the call, and no part of a later one), with every idempotent
    /// producer's mark as of that point; writes continue meanwhile.
    pub fn checkpoint(&self, dest: &Path) -> Result<CheckpointInfo> {
        self.check_writable()?;
        let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
            return Err(InvalidInput::Impossible(format!(
                "checkpoint destination {} has no parent directory or no name",
                dest.display()
            ))
            .into());
        };
        let vfs = &self.inner.opts.fs;
        let exists = match vfs.is_dir(dest) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(dest, e)),
        };
        if exists {
            return Err(InvalidInput::Impossible(format!(
                "checkpoint destination {} exists already; name a new directory",
                dest.display()
            ))
            .into());
        }
        let tmp = parent.join(format!(".{}.partial", name.to_string_lossy()));
        match vfs.remove_dir_all(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&tmp, e)),
        }
        // No flush but this one's until the files are linked (see `cut.rs`).
        let gate = self.inner.flush_gate.lock();
        self.check_writable()?;
        let cut = self.cut();
        self.flush_frozen_up_to(cut.seq, true)?;
        let written = self.write_checkpoint(gate, cut, &tmp, dest, parent);
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

    /// Links the live files into `tmp` (releasing the flush gate once they are), describes them
    /// there with the producers' marks of `cut`, and renames `tmp` to `dest`.
    fn write_checkpoint(
        &self,
        gate: MutexGuard<'_, ()>,
        cut: Cut,
        tmp: &Path,
        dest: &Path,
        parent: &Path,
    ) -> Result<CheckpointInfo> {
        let vfs = &self.inner.opts.fs;
        let (linked, copied, mut state) = {
            let _no_merges = self.inner.compactor.exclusive();
            let state = self.inner.versions.lock_manifest().state().clone();
            // No flush ran since the cut's, so these files hold exactly the writes up to it.
            drop(gate);
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
        let last_seq = self.inner.writes.lock().last_seq().max(state.last_seq);
        // The live manifest's marks are as of its last flush, which may be past the cut.
        state.producers = cut.producers;
        state.producers_as_of = cut.seq;
        {
            let (mut manifest, mut fresh) =
                Manifest::create_or_open_in(vfs.clone(), tmp, crate::manifest::ManifestOptions::default())?;
            let mut edits = state.snapshot_edits();
            edits.push(Edit::LastSeq(last_seq));
            manifest.apply(&mut fresh, edits)?;
        }
        let info = CheckpointInfo {
            last_seq,
            created_ns: now_ns(),
            tables: state.tables.values().map(|t| t.name.clone()).collect(),
            linked,
            copied,
            files: list_files(&**vfs, tmp)?,
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
            crate::fs::sync_file_in(vfs, to)?;
            Ok(false)
        }
    }
}
