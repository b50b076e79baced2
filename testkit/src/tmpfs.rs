//! A small, real file system for disk-full tests: a tmpfs of a given size mounted on a directory,
//! unmounted when the guard drops, however the test ends.
//!
//! Mounting needs root. [`mount_or_skip`] holds the policy every such test follows: under `CI`
//! (run as root) failing to mount is a test failure; elsewhere the test prints
//! `SKIPPED: cannot mount tmpfs (not root)` and returns.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs; dropping it unmounts it (lazily, if something still holds it open).
#[derive(Debug)]
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it: `8m`, `64m`) on `dir`; `None` when
    /// this process may not mount. Panics when mounting fails as root for another reason.
    pub fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        if out.status.success() {
            return Some(Tmpfs(dir.to_path_buf()));
        }
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        let denied = ["permission denied", "must be superuser", "operation not permitted", "only root"];
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !root || denied.iter().any(|d| stderr.contains(d)) {
            return None;
        }
        panic!("mount -t tmpfs failed as root: {stderr}");
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.0).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// [`Tmpfs::mount`] with the tests' policy: `None` (after printing `SKIPPED: ...`) when not root
/// outside CI; a panic when the mount fails under `CI`, where the test must run.
pub fn mount_or_skip(dir: &Path, size: &str) -> Option<Tmpfs> {
    let mount = Tmpfs::mount(dir, size);
    if mount.is_none() {
        assert!(std::env::var_os("CI").is_none(), "cannot mount a tmpfs; under CI (run as root) the test must run");
        println!("SKIPPED: cannot mount tmpfs (not root)");
    }
    mount
}
