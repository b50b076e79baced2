//! [`estimate`]: the [`Extent`] of an export (first and last row time, cells) read from a
//! snapshot's indexes without decoding any data, for [`super::auto_partition`].
//!
//! Per family and series: memtable rows as they are; SSTable chunks that overlap the range by
//! their statistics (row count, first and last time, clipped to the range). Rows that several
//! sources hold, or that tombstones delete, are counted anyway: an estimate, cheap and never
//! below the truth. Cells are rows times (the family's exported columns + `series` + `ts`).

use std::sync::Arc;

use isobar_storage::{Projection, Snapshot, TableDef, TimeRange};

use super::partition::Extent;
use crate::error::Result;

/// The extent of exporting `projection` of `keys` of `table` in `range` from `snapshot`.
pub(crate) fn estimate(
    snapshot: &Snapshot,
    table: &TableDef,
    projection: &Projection,
    keys: &[Arc<str>],
    range: TimeRange,
) -> Result<Extent> {
    let mut extent = Extent::default();
    for (family, columns) in &projection.families {
        let ids: Vec<_> = columns.iter().map(|c| c.id).collect();
        let width = columns.len() as u64 + 2;
        for key in keys {
            let Some(sources) = snapshot.series_sources(table, family, key, range, &ids)? else { continue };
            let range = sources.range;
            for run in &sources.memtables {
                if let (Some(first), Some(last)) = (run.ts.first(), run.ts.last()) {
                    extent.add(*first, *last, run.ts.len() as u64, width);
                }
            }
            for file in &sources.files {
                for chunk in file.chunks().iter().filter(|c| range.overlaps(c.min_ts, c.max_ts)) {
                    let first = chunk.min_ts.max(range.from);
                    let last = chunk.max_ts.min(range.to.saturating_sub(1));
                    extent.add(first, last, u64::from(chunk.rows), width);
                }
            }
        }
    }
    Ok(extent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, SyncPolicy, TableSpec};

    const HOUR: i64 = 3_600_000_000_000;
    const T0: i64 = 1_704_067_200_000_000_000;

    #[test]
    fn counts_memtable_and_file_rows_inside_the_range() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).expect("open");
        db.create_table(TableSpec::new("w").family("obs", &[("a", ColumnType::F64), ("b", ColumnType::F64)]))
            .expect("table");
        let write = |s: &str, from: i64, n: i64| {
            let ts: Vec<i64> = (0..n).map(|i| T0 + (from + i) * HOUR).collect();
            let v = ColumnValues::F64(vec![1.0; ts.len()]);
            db.write(SeriesWrite::new("w", s, ts).column("obs", "a", v)).expect("write");
        };
        write("s1", 0, 100);
        db.flush().expect("flush");
        write("s2", 50, 100); // hours 50..150, in the memtable
        let snapshot = db.snapshot();
        let table = snapshot.table("w").expect("table").clone();
        let projection = Projection::resolve(&table, &["obs.a".into()]).expect("projection");
        let keys: Vec<Arc<str>> = vec![Arc::from("s1"), Arc::from("s2")];

        let all = estimate(&snapshot, &table, &projection, &keys, TimeRange::ALL).expect("estimate");
        assert_eq!((all.first, all.last), (Some(T0), Some(T0 + 149 * HOUR)));
        assert_eq!(all.cells, 200 * 3, "200 rows of series, ts and obs.a");

        let range = TimeRange::new(T0 + 120 * HOUR, T0 + 130 * HOUR);
        let narrow = estimate(&snapshot, &table, &projection, &keys, range).expect("estimate");
        assert_eq!((narrow.first, narrow.last), (Some(T0 + 120 * HOUR), Some(T0 + 129 * HOUR)));
        assert_eq!(narrow.cells, 10 * 3, "only s2's memtable rows: s1 ends at hour 99");
        db.close().expect("close");
    }
}
