//! Reading a checkpoint back: the listing of its files, its verification against the listing,
//! and restoring it into a new data directory.
//!
//! Verification reads every byte: each listed file must exist with the listed size and CRC-32C,
//! and no file may be present that the listing does not name (a stray file in a restored
//! database could be taken for one of its own). Every failure names the file concerned.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path};

use super::listing::{CHECKPOINT_FILE, CheckpointInfo, checksum, relative_files};
use crate::error::{Error, InvalidInput, Result};

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
    let listing = dir.join(CHECKPOINT_FILE);
    let bytes = fs::read(&listing).map_err(|e| match e.kind() {
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
        let (size, crc) = checksum(&path)?;
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
    if let Some(extra) = relative_files(dir)?.into_iter().find(|n| !listed.contains(n.as_str())) {
        return Err(damaged(&dir.join(&extra), "file is not in the checkpoint's listing".into()));
    }
    Ok(info)
}

/// Restores a checkpoint into a new data directory: verifies it, then copies it (files are
/// copied, not linked, so the restored database shares nothing with the snapshot). `data_dir`
/// must be missing or empty. The copy goes to `<data_dir>.restoring` first and is renamed into
/// place at the end, so an interrupted restore leaves no half database under `data_dir`.
pub fn restore_checkpoint(checkpoint: &Path, data_dir: &Path) -> Result<CheckpointInfo> {
    let info = verify_checkpoint(checkpoint)?;
    let exists = match fs::read_dir(data_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(InvalidInput::Impossible(format!(
                    "{} is not empty; restore into a new or empty directory",
                    data_dir.display()
                ))
                .into());
            }
            true
        }
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(data_dir, e)),
    };
    let staging = data_dir.with_file_name(format!(
        ".{}.restoring",
        data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    for f in &info.files {
        let (from, to) = (checkpoint.join(&f.name), staging.join(&f.name));
        if let Some(parent) = to.parent() {
            crate::fs::create_dir_all(parent)?;
        }
        fs::copy(&from, &to).map_err(|e| Error::io(&to, e))?;
        fs::File::open(&to).and_then(|f| f.sync_all()).map_err(|e| Error::io(&to, e))?;
    }
    crate::fs::create_dir_all(&staging.join("sst"))?;
    crate::fs::sync_dir(&staging.join("sst"))?;
    crate::fs::sync_dir(&staging)?;
    if exists {
        fs::remove_dir(data_dir).map_err(|e| Error::io(data_dir, e))?;
    }
    fs::rename(&staging, data_dir).map_err(|e| Error::io(data_dir, e))?;
    if let Some(parent) = data_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::fs::sync_dir(parent)?;
    }
    Ok(info)
}
