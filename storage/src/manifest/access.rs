//! The access catalog as the engine keeps it: an opaque, versioned, checksummed blob.
//!
//! Users, groups, tokens and grants are the server's business (the root crate's `auth`
//! module); the engine only stores their serialised form durably and atomically, so that a
//! change is either wholly recorded or, after a crash, wholly absent, survives restarts and
//! travels with checkpoints. Every change replaces the whole blob with one
//! `{"set_access_catalog":{...}}` edit in one manifest record (a record is `fsync`ed before
//! [`crate::Db::set_access_catalog`] returns, and a torn record is cut off on open), and a
//! manifest snapshot carries the latest blob.
//!
//! ```text
//! {"set_access_catalog":{"format":1,"generation":7,"crc32c":3735928559,"data":"<UTF-8 text>"}}
//!   format      u32  the owner's format version of `data` (the engine does not interpret it)
//!   generation  u64  strictly increasing: a change must carry a generation above the one in force
//!   crc32c      u32  CRC32C (Castagnoli) of `data`'s UTF-8 bytes, checked on every apply
//!   data        str  at most MAX_ACCESS_CATALOG_BYTES bytes
//! ```
//!
//! The record's own CRC already covers the bytes on disk; the blob's checksum also covers the
//! path from the owner's serialiser to the owner's parser (a checkpoint, a restore).

use serde::{Deserialize, Serialize};

/// Largest accepted `data`, in bytes (well under a manifest record's 64 MiB).
pub const MAX_ACCESS_CATALOG_BYTES: usize = 32 << 20;

/// The serialised access catalog and what the engine checks about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCatalog {
    /// The owner's format version of `data`.
    pub format: u32,
    /// Strictly increasing change counter (1 for the first catalog).
    pub generation: u64,
    /// CRC32C of `data`.
    pub crc32c: u32,
    /// The owner's serialised catalog.
    pub data: String,
}

impl AccessCatalog {
    /// A blob for `data`, with its checksum computed.
    pub fn new(format: u32, generation: u64, data: String) -> Self {
        let crc32c = crc32c::crc32c(data.as_bytes());
        Self { format, generation, crc32c, data }
    }

    /// `Ok` when the checksum matches and the size is within bounds, else what is wrong.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.data.len() > MAX_ACCESS_CATALOG_BYTES {
            return Err("the access catalog is larger than 32 MiB");
        }
        if crc32c::crc32c(self.data.as_bytes()) != self.crc32c {
            return Err("the access catalog's checksum does not match its data");
        }
        if self.generation == 0 {
            return Err("the access catalog's generation is 0 (the first one is 1)");
        }
        Ok(())
    }
}
