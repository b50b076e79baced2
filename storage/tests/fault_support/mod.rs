//! Helpers for the fault-injection tests: a database on a [`FaultFs`], a ledger of acknowledged
//! writes, and the check that every acknowledged write is back after a reopen on the real disk.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType};
use isobar_storage::fs::{FaultFs, Fs};
use isobar_storage::{
    ColumnType, ColumnValues, CompactionOptions, Db, Options, Result, ScanRequest, SeriesWrite, SyncPolicy, TableSpec,
    WriteReceipt,
};
use tempfile::TempDir;

/// Rows per test write.
pub const ROWS: i64 = 10;

/// Options for the tests: every write synced, no background compaction (so that only the
/// operation under test touches the disk), `fs` as given.
pub fn options(fs: Fs) -> Options {
    Options {
        sync: SyncPolicy::Always,
        compaction: CompactionOptions { background: false, ..CompactionOptions::default() },
        fs,
        ..Options::default()
    }
}

/// A database on a [`FaultFs`] over the real disk, and what it acknowledged.
pub struct Store {
    pub dir: TempDir,
    pub fault: Arc<FaultFs>,
    pub db: Db,
    /// Every acknowledged row: ts -> value.
    pub acked: BTreeMap<i64, f64>,
    next: i64,
}

impl Store {
    /// A fresh database with table `m`, family `f`, column `v: f64`.
    pub fn new() -> Store {
        Self::with(|o| o)
    }

    /// [`Store::new`] with the options changed by `f`.
    pub fn with(f: impl FnOnce(Options) -> Options) -> Store {
        let dir = tempfile::tempdir().expect("tempdir");
        let fault = FaultFs::new();
        let db = Db::open(dir.path(), f(options(fault.handle()))).expect("open");
        db.create_table(TableSpec::new("m").family("f", &[("v", ColumnType::F64)])).expect("create table");
        Store { dir, fault, db, acked: BTreeMap::new(), next: 1 }
    }

    /// Writes the next [`ROWS`] rows; records them when acknowledged.
    pub fn write(&mut self) -> Result<WriteReceipt> {
        let ts: Vec<i64> = (self.next..self.next + ROWS).collect();
        let values: Vec<f64> = ts.iter().map(|t| *t as f64 * 0.5).collect();
        self.next += ROWS;
        let receipt = self.db.write(write_of(ts.clone(), values.clone()))?;
        self.acked.extend(ts.into_iter().zip(values));
        Ok(receipt)
    }

    /// `n` writes that must succeed.
    pub fn write_ok(&mut self, n: usize) {
        for _ in 0..n {
            self.write().expect("write before the fault");
        }
    }

    /// Closes the database (ignoring the error a failed one reports), reopens it on the real
    /// file system, asserts that every acknowledged row is there, and returns the reopened handle.
    pub fn reopen_real(&mut self) -> Db {
        let _ = self.db.close();
        let db = Db::open(self.dir.path(), options(Fs::os())).expect("reopen on the real file system");
        assert_acked(&db, &self.acked);
        db
    }

    /// Files in the `sst` directory.
    pub fn sst_files(&self) -> Vec<PathBuf> {
        list(&self.dir.path().join("sst"))
    }
}

/// A write of `values` at `ts` to `m`/`f.v`, series `s`.
pub fn write_of(ts: Vec<i64>, values: Vec<f64>) -> SeriesWrite {
    SeriesWrite::new("m", "s", ts).column("f", "v", ColumnValues::F64(values))
}

/// Every row of `m`: ts -> value.
pub fn read_all(db: &Db) -> Result<BTreeMap<i64, f64>> {
    let mut out = BTreeMap::new();
    for b in db.scan(&ScanRequest::new("m").columns(["f.v"]))? {
        let ts = b.column(1).as_primitive::<TimestampNanosecondType>();
        let v = b.column(2).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            if !v.is_null(r) {
                out.insert(ts.value(r), v.value(r));
            }
        }
    }
    Ok(out)
}

/// Asserts that `db` holds every acknowledged row with its value.
pub fn assert_acked(db: &Db, acked: &BTreeMap<i64, f64>) {
    let found = read_all(db).expect("scan");
    let lost: Vec<_> = acked.iter().filter(|(ts, v)| found.get(ts) != Some(v)).collect();
    assert!(lost.is_empty(), "{} acknowledged rows lost, first: {:?}", lost.len(), lost.first());
}

/// The files in `dir`, sorted.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir).expect("read_dir").map(|e| e.expect("entry").path()).collect();
    out.sort();
    out
}
