//! Scratch directories for targets that need files: one fresh directory per input, on tmpfs
//! (`/dev/shm`) when the machine has it so that `fsync`s cost nothing, removed on drop.
//!
//! `ISOBAR_FUZZ_TMPDIR` overrides the location.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tempfile::TempDir;

/// Where scratch directories are made.
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        if let Some(dir) = std::env::var_os("ISOBAR_FUZZ_TMPDIR") {
            return PathBuf::from(dir);
        }
        let shm = Path::new("/dev/shm");
        let usable = tempfile::Builder::new().prefix("isobar-fuzz-probe").tempdir_in(shm).is_ok();
        if usable { shm.to_path_buf() } else { std::env::temp_dir() }
    })
}

/// A new empty directory, deleted when dropped. Failing to make one is a harness failure, not
/// a finding, and says so.
pub fn dir() -> TempDir {
    match tempfile::Builder::new().prefix("isobar-fuzz").tempdir_in(base()) {
        Ok(dir) => dir,
        Err(e) => panic!("fuzz harness: cannot create a scratch directory in {}: {e}", base().display()),
    }
}

/// Writes `bytes` to `path` (creating parent directories); failing is a harness failure.
pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        panic!("fuzz harness: cannot create {}: {e}", parent.display());
    }
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("fuzz harness: cannot write {}: {e}", path.display());
    }
}
