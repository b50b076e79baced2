//! The read-only calls of the `Admin` service: `ListTables`, `DescribeTable` and `Stats`.
//!
//! The `Admin` service mixes these with catalog changes, flushes, compactions, deletes and
//! snapshots, so its tonic implementation stays in the server, which checks the caller's
//! permission and then calls these functions. `Stats` reads directory sizes and series keys:
//! call it on the blocking pool.

use isobar_proto::v1 as pb;
use isobar_storage::Db;
use isobar_wire::status::ApiError;
use isobar_wire::table::table_def_to_info;

/// `ListTables`: every table for which `visible(name)` holds, by name.
pub fn list_tables(db: &Db, visible: impl Fn(&str) -> bool) -> pb::ListTablesResponse {
    let mut tables = db.tables();
    tables.retain(|t| visible(&t.name));
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    pb::ListTablesResponse { tables: tables.iter().map(table_def_to_info).collect() }
}

/// `DescribeTable`: the catalog entry of `table`, with each family's own compaction settings.
pub fn describe_table(db: &Db, table: &str) -> Result<pb::DescribeTableResponse, ApiError> {
    let def = db.table_def(table)?;
    Ok(pb::DescribeTableResponse { table: Some(table_info(db, &def)) })
}

/// The wire description of `def` with the compaction window and `closed_after` each family has
/// of its own (the manifest keeps them beside the catalog, so the plain conversion cannot).
pub fn table_info(db: &Db, def: &isobar_storage::TableDef) -> pb::TableInfo {
    let mut info = table_def_to_info(def);
    for family in &mut info.families {
        let own = db.family_compaction(family.id);
        family.compaction_window_ns = own.window_ns;
        family.closed_after_ns = own.closed_after_ns;
    }
    info
}

/// Size of the files directly in `dir` (0 when it is missing).
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// `Stats`: the figures of `table` (empty: of every table), tables by name.
pub fn stats(db: &Db, table: &str) -> Result<pb::StatsResponse, ApiError> {
    if !table.is_empty() {
        db.table_def(table)?;
    }
    let all = db.stats();
    let snapshot = db.snapshot();
    let mut tables: Vec<pb::TableStats> = Vec::new();
    for def in snapshot.tables() {
        if !table.is_empty() && def.name != table {
            continue;
        }
        let families = def
            .families
            .iter()
            .map(|f| {
                let s = all.families.iter().find(|s| s.table == def.name && s.family == f.name);
                let series = snapshot.series_keys(f, &isobar_storage::SeriesSelector::All).len() as u64;
                pb::FamilyStats {
                    family: f.name.clone(),
                    series,
                    points: s.map_or(0, |s| s.file_points),
                    rows: s.map_or(0, |s| s.file_rows),
                    files: s.map_or(0, |s| s.files as u64),
                    bytes: s.map_or(0, |s| s.file_bytes),
                    memtable_bytes: s.map_or(0, |s| s.memtable_bytes as u64),
                    pending_compaction_bytes: s.map_or(0, |s| s.pending_compaction_bytes),
                    windows: s.map_or(0, |s| s.windows as u64),
                    min_ts: s.and_then(|s| s.ts_bounds).map(|b| b.0),
                    max_ts: s.and_then(|s| s.ts_bounds).map(|b| b.1),
                }
            })
            .collect();
        tables.push(pb::TableStats { table: def.name.clone(), families });
    }
    tables.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(pb::StatsResponse {
        tables,
        wal_bytes: dir_bytes(&db.path().join("wal")),
        memtable_bytes: all.memtable_bytes as u64,
        last_sequence: all.last_seq,
    })
}
