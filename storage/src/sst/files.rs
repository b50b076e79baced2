//! Where SSTables live in a database directory: `sst/<id, 20 digits>.sst`, written first as
//! `<id>.sst.tmp` and renamed into place once complete.

use std::path::{Path, PathBuf};

use crate::manifest::FileId;

/// Path of SSTable `id` in the database directory `dir`.
pub(crate) fn sst_path(dir: &Path, id: FileId) -> PathBuf {
    dir.join("sst").join(format!("{id:020}.sst"))
}

/// The temporary name a file is written under before it is renamed to `final_path`.
pub(crate) fn tmp_path(final_path: &Path) -> PathBuf {
    final_path.with_extension("sst.tmp")
}
