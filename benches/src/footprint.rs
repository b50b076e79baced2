//! Bytes per point on disk: SSTables per family (from the engine's statistics, cross-checked
//! against the `.sst` files in the data directory) and WAL payload for context.

use std::path::Path;

use isobar_storage::{Db, FamilyStats};
use isobar_workload::Spec;

/// Size of one family's SSTables.
#[derive(Debug, Clone)]
pub struct FamilyFootprint {
    /// Family name.
    pub family: String,
    /// SSTables.
    pub files: usize,
    /// Bytes in them.
    pub bytes: u64,
    /// Points of the family written (rows x its columns).
    pub points: u64,
}

impl FamilyFootprint {
    /// Bytes per point.
    pub fn bytes_per_point(&self) -> f64 {
        ratio(self.bytes, self.points)
    }
}

/// Size of a table's SSTables.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// Per family, in table order.
    pub families: Vec<FamilyFootprint>,
    /// Sum of the sizes of every `*.sst` file under the data directory.
    pub sst_bytes_on_disk: u64,
    /// Points written.
    pub points: u64,
}

impl Footprint {
    /// Bytes per point over all SSTables.
    pub fn bytes_per_point(&self) -> f64 {
        ratio(self.sst_bytes_on_disk, self.points)
    }
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Measures the SSTables of `spec`'s table in `db` (flushed, one table per data directory).
pub fn measure(db: &Db, data_dir: &Path, spec: &Spec) -> std::io::Result<Footprint> {
    let table = spec.kind.table_name();
    let stats = db.stats();
    let families = stats
        .families
        .iter()
        .filter(|f| f.table == table)
        .map(|f: &FamilyStats| {
            let columns = spec.columns().iter().filter(|c| c.family == f.family).count() as u64;
            FamilyFootprint {
                family: f.family.clone(),
                files: f.files,
                bytes: f.file_bytes,
                points: spec.rows() * columns,
            }
        })
        .collect();
    Ok(Footprint { families, sst_bytes_on_disk: sst_bytes(data_dir)?, points: spec.points() })
}

/// Sum of the sizes of the `*.sst` files under `dir` (recursively).
pub fn sst_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        if ty.is_dir() {
            total += sst_bytes(&entry.path())?;
        } else if entry.path().extension().is_some_and(|e| e == "sst") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}
