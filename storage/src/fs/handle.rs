//! [`Fs`]: the shared, comparable handle the engine keeps its file system in.

use std::fmt;
use std::sync::{Arc, LazyLock};

use super::os::OsFs;
use super::traits::FileSystem;

/// A shared handle to a [`FileSystem`]; the type of [`Options::fs`](crate::Options::fs).
///
/// `Default` is the process-wide [`OsFs`]. Two handles are equal when they share one instance,
/// so `Options::default() == Options::default()` holds.
#[derive(Clone)]
pub struct Fs(Arc<dyn FileSystem>);

static OS: LazyLock<Fs> = LazyLock::new(|| Fs(Arc::new(OsFs)));

impl Fs {
    /// The operating system's file system (the default).
    pub fn os() -> Fs {
        OS.clone()
    }

    /// Wraps `fs`; keep a clone of the `Arc` to control it (e.g. a [`FaultFs`](super::FaultFs)) while the engine
    /// uses it.
    pub fn new(fs: Arc<dyn FileSystem>) -> Fs {
        Fs(fs)
    }
}

impl Default for Fs {
    fn default() -> Self {
        Fs::os()
    }
}

impl std::ops::Deref for Fs {
    type Target = dyn FileSystem;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Fs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq for Fs {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}
