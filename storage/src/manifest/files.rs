//! Names and directory operations of the manifest: `MANIFEST-NNNNNN` files and the `CURRENT`
//! pointer, replaced by write-temporary, `fsync`, rename, directory `fsync` (the pattern of
//! [`crate::fs::write_atomic`], split into steps here so that a crash between them can be
//! simulated in tests and so that errors stay [`Error`]s of the manifest).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::CURRENT;
use super::error::Error;
use crate::fs::FileSystem;

/// Prefix of manifest file names.
const PREFIX: &str = "MANIFEST-";
/// Temporary name of `CURRENT` while it is replaced.
pub(crate) const CURRENT_TMP: &str = "CURRENT.tmp";

/// `MANIFEST-` and `number` in at least 6 zero-padded digits.
pub(crate) fn manifest_name(number: u64) -> String {
    format!("{PREFIX}{number:06}")
}

/// The number of a manifest file name, or `None` for any other name.
pub(crate) fn parse_manifest_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?;
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Every manifest file in `dir`, by number.
pub(crate) fn list_manifests(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<(u64, PathBuf)>, Error> {
    let mut out = Vec::new();
    for path in fs.read_dir(dir).map_err(|e| Error::io(dir, e))? {
        if let Some(number) = path.file_name().and_then(|n| n.to_str()).and_then(parse_manifest_name) {
            out.push((number, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The manifest number `CURRENT` names, or `None` when there is no `CURRENT`.
pub(crate) fn read_current(fs: &dyn FileSystem, dir: &Path) -> Result<Option<u64>, Error> {
    let path = dir.join(CURRENT);
    let bytes = match fs.read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let text = String::from_utf8_lossy(&bytes);
    match parse_manifest_name(text.strip_suffix('\n').unwrap_or(&text)) {
        Some(number) => Ok(Some(number)),
        None => Err(Error::BadCurrent { path, content: text.chars().take(64).collect() }),
    }
}

/// Writes and `fsync`s `CURRENT.tmp` naming manifest `number` (step 1 of switching `CURRENT`).
pub(crate) fn write_current_tmp(fs: &dyn FileSystem, dir: &Path, number: u64) -> Result<(), Error> {
    let tmp = dir.join(CURRENT_TMP);
    let mut f = fs.create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(format!("{}\n", manifest_name(number)).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(&tmp, e))
}

/// Renames `CURRENT.tmp` over `CURRENT` (step 2 of switching `CURRENT`). The directory still
/// needs an `fsync` for the switch to survive power loss.
pub(crate) fn install_current(fs: &dyn FileSystem, dir: &Path) -> Result<(), Error> {
    let current = dir.join(CURRENT);
    fs.rename(&dir.join(CURRENT_TMP), &current).map_err(|e| Error::io(current, e))
}

/// `fsync`s a directory so that creations, renames and deletions inside it are durable.
pub(crate) fn sync_dir(fs: &dyn FileSystem, dir: &Path) -> Result<(), Error> {
    fs.sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Deletes `path`; true when it existed.
pub(crate) fn remove_if_exists(fs: &dyn FileSystem, path: &Path) -> Result<bool, Error> {
    match fs.remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}
