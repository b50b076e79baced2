//! The access catalog's durable home: [`Db::access_catalog`] and [`Db::set_access_catalog`].
//!
//! The blob is opaque here (see [`crate::manifest::AccessCatalog`]); storing it is one manifest
//! record, so a change is atomic and crash-safe, and checkpoints carry it because they write the
//! manifest state as a snapshot.

use super::Db;
use crate::error::Result;
use crate::manifest::{AccessCatalog, Edit};

impl Db {
    /// The access catalog in force, if one was ever stored.
    pub fn access_catalog(&self) -> Option<AccessCatalog> {
        self.inner.versions.lock_manifest().state().access.clone()
    }

    /// Replaces the access catalog; durable when this returns. Refused (and nothing changes)
    /// when the blob's checksum is wrong or its generation is not above the current one, so
    /// of two read-modify-write cycles from the same generation the second fails instead of
    /// silently undoing the first.
    pub fn set_access_catalog(&self, catalog: AccessCatalog) -> Result<()> {
        self.check_writable()?;
        let mut cell = self.inner.versions.lock_manifest();
        if let Err(e) = cell.apply(vec![Edit::SetAccessCatalog(catalog)]) {
            self.manifest_failed(&cell, &e);
            return Err(e.into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use crate::manifest::RECORD_HEADER_LEN;

    fn blob(generation: u64, text: &str) -> AccessCatalog {
        AccessCatalog::new(1, generation, text.to_owned())
    }

    #[test]
    fn the_catalog_survives_reopen_and_travels_with_a_checkpoint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("db");
        let db = Db::open(&data, Options::default()).expect("open");
        assert_eq!(db.access_catalog(), None);
        db.set_access_catalog(blob(1, "first")).expect("gen 1");
        db.set_access_catalog(blob(2, "second")).expect("gen 2");
        db.checkpoint(&dir.path().join("snap")).expect("checkpoint");
        db.set_access_catalog(blob(3, "after the snapshot")).expect("gen 3");
        db.close().expect("close");

        let db = Db::open(&data, Options::default()).expect("reopen");
        assert_eq!(db.access_catalog(), Some(blob(3, "after the snapshot")));
        db.close().expect("close");

        let restored = dir.path().join("restored");
        crate::restore_checkpoint(&dir.path().join("snap"), &restored).expect("restore");
        let db = Db::open(&restored, Options::default()).expect("open restored");
        assert_eq!(db.access_catalog(), Some(blob(2, "second")));
        db.close().expect("close");
    }

    #[test]
    fn a_wrong_checksum_or_an_old_generation_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options::default()).expect("open");
        db.set_access_catalog(blob(1, "zero")).expect("gen 1");
        db.set_access_catalog(blob(2, "one")).expect("gen 2");
        let mut bad = blob(3, "two");
        bad.crc32c ^= 1;
        let err = db.set_access_catalog(bad).expect_err("bad checksum");
        assert!(err.to_string().contains("checksum"), "{err}");
        let err = db.set_access_catalog(blob(2, "same generation")).expect_err("same generation");
        assert!(err.to_string().contains("is not above generation 2"), "{err}");
        let err = db.set_access_catalog(blob(1, "older")).expect_err("older generation");
        assert!(err.to_string().contains("is not above"), "{err}");
        assert_eq!(db.access_catalog(), Some(blob(2, "one")));
        db.close().expect("close");
    }

    /// A crash in the middle of writing a change: every cut of the change's record leaves the
    /// old catalog in force on reopen, never a mix; the whole record gives the new one.
    #[test]
    fn a_torn_change_leaves_the_old_catalog() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options::default()).expect("open");
        db.set_access_catalog(blob(1, r#"{"grants":["old"]}"#)).expect("gen 1");
        let current = std::fs::read_to_string(dir.path().join(crate::manifest::CURRENT)).expect("CURRENT");
        let manifest = dir.path().join(current.trim());
        let before = std::fs::metadata(&manifest).expect("meta").len();
        db.set_access_catalog(blob(2, r#"{"grants":["new"]}"#)).expect("gen 2");
        let after = std::fs::read(&manifest).expect("manifest");
        drop(db); // a crash: no close, nothing more written
        let record = after.get(before as usize..).expect("the change's record").to_vec();
        assert!(record.len() > RECORD_HEADER_LEN);

        let torn = tempfile::tempdir().expect("tempdir");
        for cut in [1, RECORD_HEADER_LEN, RECORD_HEADER_LEN + 1, record.len() / 2, record.len() - 1] {
            let _ = std::fs::remove_dir_all(torn.path());
            copy_db(dir.path(), torn.path());
            let path = torn.path().join(current.trim());
            let kept = after.get(..before as usize + cut).expect("prefix");
            std::fs::write(&path, kept).expect("tear");
            let db = Db::open(torn.path(), Options::default()).expect("open after the tear");
            assert_eq!(db.access_catalog(), Some(blob(1, r#"{"grants":["old"]}"#)), "cut at {cut}");
            db.close().expect("close");
        }
        let db = Db::open(dir.path(), Options::default()).expect("open whole");
        assert_eq!(db.access_catalog(), Some(blob(2, r#"{"grants":["new"]}"#)));
        db.close().expect("close");
    }

    fn copy_db(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_dir() {
                copy_db(&entry.path(), &to.join(entry.file_name()));
            } else if entry.file_name() != "LOCK" {
                std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
            }
        }
    }
}
