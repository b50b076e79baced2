//! Online checkpoints: a consistent, point-in-time copy of a database, made while writes go on,
//! that opens as a database of its own (RocksDB's `Checkpoint`, SQLite's online backup).
//!
//! A checkpoint flushes the memtables (so every write acknowledged before the call is in an
//! SSTable), pauses compaction for the moment it takes to link files (flushes and writes go on),
//! hard-links the live SSTables into `<dest>/sst` (copies them when the destination is on another
//! file system), writes a fresh manifest describing exactly those files, and finally writes
//! `<dest>/CHECKPOINT`, a JSON listing of every file with its size and CRC-32C. A directory without
//! that listing is an unfinished checkpoint and is refused by [`verify_checkpoint`].

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Db, flush::sst_path};
use crate::error::{Error, InvalidInput, Result};
use crate::manifest::Manifest;

/// The name of the listing that marks a finished checkpoint.
pub const CHECKPOINT_FILE: &str = "CHECKPOINT";

/// One file of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointFile {
    /// Path relative to the checkpoint directory.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC-32C of the whole file.
    pub crc32c: u32,
}

/// What a checkpoint holds (the content of its `CHECKPOINT` file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Highest sequence number contained.
    pub last_seq: u64,
    /// When it was taken, ns since the epoch.
    pub created_ns: i64,
    /// Tables contained.
    pub tables: Vec<String>,
    /// SSTables, with sizes and checksums.
    pub files: Vec<CheckpointFile>,
}

impl CheckpointInfo {
    /// Total bytes of the listed files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

impl Db {
    /// Writes a checkpoint of the database to `dest`, which must not exist yet. Contains every
    /// write acknowledged before the call; writes continue meanwhile.
    pub fn checkpoint(&self, dest: &Path) -> Result<CheckpointInfo> {
        self.check_writable()?;
        if dest.exists() {
            return Err(InvalidInput::Impossible(format!(
                "checkpoint destination {} exists already; name a new directory",
                dest.display()
            ))
            .into());
        }
        self.flush()?;
        let _no_merges = self.inner.compaction_lock.lock();
        let state = self.inner.manifest.lock().state.clone();
        let tmp = dest.with_extension("partial");
        let fs = &self.inner.opts.fs;
        let _ = fs.remove_dir_all(&tmp);
        let written = self.write_checkpoint(&tmp, dest, &state);
        if written.is_err() {
            // Leave nothing half-made behind (a full disk must not fill up further).
            let _ = fs.remove_dir_all(&tmp);
        }
        let info = written?;
        tracing::info!(dest = %dest.display(), files = info.files.len(), bytes = info.bytes(), "checkpoint written");
        Ok(info)
    }

    /// Links the files of `state` into `tmp`, describes them there, and renames `tmp` to `dest`.
    fn write_checkpoint(
        &self,
        tmp: &Path,
        dest: &Path,
        state: &crate::manifest::ManifestState,
    ) -> Result<CheckpointInfo> {
        let fs = &self.inner.opts.fs;
        crate::fs::create_dir_all_in(&**fs, &tmp.join("sst"))?;
        let mut files = Vec::new();
        for id in state.live_file_ids() {
            let from = sst_path(&self.inner.dir, id);
            let to = sst_path(tmp, id);
            if fs.hard_link(&from, &to).is_err() {
                fs.copy(&from, &to).map_err(|e| Error::io(&to, e))?;
            }
            let (size, crc32c) = checksum(&to)?;
            files.push(CheckpointFile { name: format!("sst/{}", file_name(&to)), size, crc32c });
        }
        {
            let (mut manifest, mut fresh) =
                Manifest::create_or_open_in(fs.clone(), tmp, crate::manifest::ManifestOptions::default())?;
            manifest.apply(&mut fresh, state.snapshot_edits())?;
        }
        let info = CheckpointInfo {
            last_seq: state.last_seq,
            created_ns: crate::read::snapshot::now_ns(),
            tables: state.tables.values().map(|t| t.name.clone()).collect(),
            files,
        };
        let listing = serde_json::to_vec_pretty(&info).map_err(|e| Error::io(tmp, std::io::Error::other(e)))?;
        crate::fs::write_atomic_in(&**fs, &tmp.join(CHECKPOINT_FILE), &listing)?;
        crate::fs::sync_dir_in(&**fs, &tmp.join("sst"))?;
        fs.rename(tmp, dest).map_err(|e| Error::io(dest, e))?;
        crate::fs::sync_dir_in(&**fs, dest.parent().unwrap_or(Path::new(".")))?;
        Ok(info)
    }
}

/// Reads `<dir>/CHECKPOINT` and checks every listed file's size and CRC-32C.
pub fn verify_checkpoint(dir: &Path) -> Result<CheckpointInfo> {
    let listing = dir.join(CHECKPOINT_FILE);
    let bytes = fs::read(&listing).map_err(|e| Error::io(&listing, e))?;
    let info: CheckpointInfo = serde_json::from_slice(&bytes)
        .map_err(|e| Error::io(&listing, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    for f in &info.files {
        if f.name.contains("..") || f.name.starts_with('/') {
            return Err(Error::io(
                &listing,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "path escapes the checkpoint"),
            ));
        }
        let path = dir.join(&f.name);
        let (size, crc) = checksum(&path)?;
        if (size, crc) != (f.size, f.crc32c) {
            return Err(Error::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "checksum mismatch: listed {} bytes crc {:08x}, found {size} bytes crc {crc:08x}",
                        f.size, f.crc32c
                    ),
                ),
            ));
        }
    }
    Ok(info)
}

/// Restores a checkpoint into a new data directory: verifies it, then copies it.
pub fn restore_checkpoint(checkpoint: &Path, data_dir: &Path) -> Result<CheckpointInfo> {
    let info = verify_checkpoint(checkpoint)?;
    if data_dir.exists() && fs::read_dir(data_dir).map_err(|e| Error::io(data_dir, e))?.next().is_some() {
        return Err(InvalidInput::Impossible(format!(
            "{} is not empty; restore into a new directory",
            data_dir.display()
        ))
        .into());
    }
    copy_tree(checkpoint, data_dir)?;
    crate::fs::sync_dir(data_dir)?;
    Ok(info)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    crate::fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let (src, dst): (PathBuf, PathBuf) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map_err(|e| Error::io(&src, e))?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| Error::io(&dst, e))?;
            fs::File::open(&dst).and_then(|f| f.sync_all()).map_err(|e| Error::io(&dst, e))?;
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
}

fn checksum(path: &Path) -> Result<(u64, u32)> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut size, mut crc) = (0u64, 0u32);
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok((size, crc));
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        size += n as u64;
    }
}
