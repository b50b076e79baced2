//! The checkpoint listing (`CHECKPOINT`, JSON): what a finished checkpoint holds, every file
//! with its size and CRC-32C (the layout is drawn in the doc of `db/checkpoint`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fs::FileSystem;

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

/// Every regular file under `dir` except the listing, as sorted relative `/`-separated names.
pub(super) fn relative_files(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending: Vec<(PathBuf, String)> = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        for entry in fs.read_dir(&path).map_err(|e| Error::io(&path, e))? {
            let file_name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let name = format!("{prefix}{file_name}");
            if fs.is_dir(&entry).map_err(|e| Error::io(&entry, e))? {
                pending.push((entry, format!("{name}/")));
            } else if name != CHECKPOINT_FILE {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Lists every file under `dir` (the listing excepted) with size and checksum.
pub(super) fn list_files(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<CheckpointFile>> {
    relative_files(fs, dir)?
        .into_iter()
        .map(|name| {
            let (size, crc32c) = checksum(fs, &dir.join(&name))?;
            Ok(CheckpointFile { name, size, crc32c })
        })
        .collect()
}

/// Bytes read per call by [`checksum`].
const CHUNK: u64 = 1 << 20;

/// Size and CRC-32C of the file at `path`, read through `fs` in 1 MiB chunks.
pub(super) fn checksum(fs: &dyn FileSystem, path: &Path) -> Result<(u64, u32)> {
    let file = fs.open_read(path).map_err(|e| Error::io(path, e))?;
    let size = file.len().map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; CHUNK.min(size) as usize];
    let (mut offset, mut crc) = (0u64, 0u32);
    while offset < size {
        let n = CHUNK.min(size - offset) as usize;
        let chunk = buf.get_mut(..n).unwrap_or_default();
        file.read_exact_at(chunk, offset).map_err(|e| Error::io(path, e))?;
        crc = crc32c::crc32c_append(crc, chunk);
        offset += n as u64;
    }
    Ok((size, crc))
}
