//! Files on disk as tests look at them.

use std::path::{Path, PathBuf};

/// Every file below `dir` (recursively, not following symbolic links; a link is listed as a
/// file), in no particular order; empty when `dir` does not exist.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
