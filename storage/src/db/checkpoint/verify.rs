//! Reading a checkpoint back: the listing of its files, its verification against the listing,
//! and restoring it into a new data directory.
//!
//! Verification reads every byte: each listed file must exist with the listed size and CRC-32C,
//! and no file may be present that the listing does not name (a stray file in a restored
//! database could be taken for one of its own). Every failure names the file concerned.
//!
//! Both run offline, without a database and so without its [`Options::fs`](crate::Options::fs):
//! [`verify_checkpoint`] and [`restore_checkpoint`] use the OS file system, their `_in` variants
//! take any [`FileSystem`] (tests inject faults through one).

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Component, Path};

use super::listing::{CHECKPOINT_FILE, CheckpointInfo, checksum, relative_files};
use crate::error::{Error, InvalidInput, Result};
use crate::fs::{FileSystem, OsFs};

/// An `InvalidData` error about `path`.
fn damaged(path: &Path, what: String) -> Error {
    Error::io(path, std::io::Error::new(ErrorKind::InvalidData, what))
}

/// True when `name` is a plain relative path that stays inside the checkpoint.
fn stays_inside(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('\\')
        && !name.contains('\0')
        && Path::new(name).components().all(|c| matches!(c, Component::Normal(_)))
}

/// Reads `<dir>/CHECKPOINT` and checks every listed file's size and CRC-32C, and that no file is
/// present that the listing does not name.
pub fn verify_checkpoint(dir: &Path) -> Result<CheckpointInfo> {
    verify_checkpoint_in(&OsFs, dir)
}

/// [`verify_checkpoint`] through `fs`.
pub fn verify_checkpoint_in(fs: &dyn FileSystem, dir: &Path) -> Result<CheckpointInfo> {
    let listing = dir.join(CHECKPOINT_FILE);
    let bytes = fs.read(&listing).map_err(|e| match e.kind() {
        ErrorKind::NotFound => damaged(&listing, "no listing: not a checkpoint, or an unfinished one".into()),
        _ => Error::io(&listing, e),
    })?;
    let info: CheckpointInfo = serde_json::from_slice(&bytes)
        .map_err(|e| damaged(&listing, format!("the listing is not a valid checkpoint listing: {e}")))?;
    for f in &info.files {
        if !stays_inside(&f.name) {
            return Err(damaged(&listing, format!("listed file {:?} is not a path inside the checkpoint", f.name)));
        }
        let path = dir.join(&f.name);
        let (size, crc) = checksum(fs, &path)?;
        if (size, crc) != (f.size, f.crc32c) {
            return Err(damaged(
                &path,
                format!(
                    "checksum mismatch: listed {} bytes crc {:08x}, found {size} bytes crc {crc:08x}",
                    f.size, f.crc32c
                ),
            ));
        }
    }
    let listed: BTreeSet<&str> = info.files.iter().map(|f| f.name.as_str()).collect();
    if let Some(extra) = relative_files(fs, dir)?.into_iter().find(|n| !listed.contains(n.as_str())) {
        return Err(damaged(&dir.join(&extra), "file is not in the checkpoint's listing".into()));
    }
    Ok(info)
}

/// Restores a checkpoint into a new data directory: verifies it, then copies it (files are
/// copied, not linked, so the restored database shares nothing with the snapshot). `data_dir`
/// must be missing or empty. The copy goes to `.<name>.restoring` beside `data_dir` first and is
/// renamed into place at the end (replacing the empty directory in one step), so a restore that
/// fails or is interrupted leaves no half database under `data_dir`: on failure the staging
/// directory is removed too, and a later restore removes one left by a crash.
pub fn restore_checkpoint(checkpoint: &Path, data_dir: &Path) -> Result<CheckpointInfo> {
    restore_checkpoint_in(&OsFs, checkpoint, data_dir)
}

/// [`restore_checkpoint`] through `fs`.
pub fn restore_checkpoint_in(fs: &dyn FileSystem, checkpoint: &Path, data_dir: &Path) -> Result<CheckpointInfo> {
    let info = verify_checkpoint_in(fs, checkpoint)?;
    match fs.read_dir(data_dir) {
        Ok(entries) if !entries.is_empty() => {
            return Err(InvalidInput::Impossible(format!(
                "{} is not empty; restore into a new or empty directory",
                data_dir.display()
            ))
            .into());
        }
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(data_dir, e)),
    }
    let staging = data_dir.with_file_name(format!(
        ".{}.restoring",
        data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    match fs.remove_dir_all(&staging) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&staging, e)),
    }
    let restored = copy_into(fs, checkpoint, &info, &staging, data_dir);
    if restored.is_err() {
        // Leave no half copy behind (a full disk must not fill up further).
        let _ = fs.remove_dir_all(&staging);
    }
    restored?;
    if let Some(parent) = data_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::fs::sync_dir_in(fs, parent)?;
    }
    Ok(info)
}

/// Copies and syncs the listed files of `checkpoint` into `staging`, then renames `staging` to
/// `data_dir` (missing or empty).
fn copy_into(
    fs: &dyn FileSystem,
    checkpoint: &Path,
    info: &CheckpointInfo,
    staging: &Path,
    data_dir: &Path,
) -> Result<()> {
    for f in &info.files {
        let (from, to) = (checkpoint.join(&f.name), staging.join(&f.name));
        if let Some(parent) = to.parent() {
            crate::fs::create_dir_all_in(fs, parent)?;
        }
        fs.copy(&from, &to).map_err(|e| Error::io(&to, e))?;
        crate::fs::sync_file_in(fs, &to)?;
    }
    crate::fs::create_dir_all_in(fs, &staging.join("sst"))?;
    crate::fs::sync_dir_in(fs, &staging.join("sst"))?;
    crate::fs::sync_dir_in(fs, staging)?;
    fs.rename(staging, data_dir).map_err(|e| Error::io(data_dir, e))
}
