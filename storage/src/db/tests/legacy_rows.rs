//! Files written before the memtable stopped storing rows without a present cell: such a row
//! (left in family `g` by a write that only had an `f` cell at that time) is invisible to scans
//! and to the per-chunk reads of latest and aggregates, and compaction rewrites it away, after
//! which the family's row count is truthful.

use crate::batch::ColumnValues;
use crate::memtable::ColumnInput;
use crate::schema::{ColumnType, TableSpec};
use crate::selector::{SeriesSelector, TimeRange};
use crate::{CompactionOptions, Db, Options, ScanRequest, SeriesWrite, SyncPolicy};
use arrow_array::RecordBatch;

const HOUR: i64 = 3_600_000_000_000;

fn scan(db: &Db, columns: &[&str]) -> Vec<RecordBatch> {
    db.scan(&ScanRequest::new("T").columns(columns.iter().copied())).unwrap()
}

fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn g_file_rows(db: &Db) -> u64 {
    db.stats().families.iter().filter(|f| f.family == "g").map(|f| f.file_rows).sum()
}

#[test]
fn rows_without_cells_in_old_files_are_skipped_and_compacted_away() {
    let dir = tempfile::tempdir().unwrap();
    let compaction = CompactionOptions { background: false, ..Default::default() };
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, compaction, ..Options::default() }).unwrap();
    db.create_table(
        TableSpec::new("T")
            .family("f", &[("v", ColumnType::F64)])
            .family("g", &[("z", ColumnType::F64), ("w", ColumnType::I64)]),
    )
    .unwrap();
    let receipt =
        db.write(SeriesWrite::new("T", "s", vec![HOUR]).column("f", "v", ColumnValues::F64(vec![1.0]))).unwrap();
    // What the old memtable stored for that write in g: a row with every cell absent.
    let sv = db.current();
    let table = sv.table("T").unwrap();
    let g = table.family("g").unwrap();
    let (z, w) = (g.column("z").unwrap().id, g.column("w").unwrap().id);
    let (zeros, ints) = (ColumnValues::F64(vec![0.0]), ColumnValues::I64(vec![0]));
    let absent = [
        ColumnInput { id: z, ty: ColumnType::F64, values: &zeros, validity: Some(&[false]) },
        ColumnInput { id: w, ty: ColumnType::I64, values: &ints, validity: Some(&[false]) },
    ];
    sv.families[&g.id].active.insert_unfiltered("s", &[HOUR], receipt.seq, &absent);
    db.flush().unwrap();
    db.write(SeriesWrite::new("T", "s", vec![2 * HOUR]).column("g", "w", ColumnValues::I64(vec![7]))).unwrap();
    db.flush().unwrap();
    assert_eq!(g_file_rows(&db), 2, "the first file holds the row without cells, as old files do");

    let check = |when: &str| {
        assert_eq!(row_count(&scan(&db, &["g.z"])), 1, "{when}: only the row g was written at");
        assert_eq!(row_count(&scan(&db, &["g.*"])), 1, "{when}");
        assert_eq!(row_count(&scan(&db, &["f.v", "g.z"])), 2, "{when}: f's row and g's row");
        // The per-chunk reads of latest and aggregates see the same rows.
        let snap = db.snapshot();
        let sources = snap.series_sources(table, g, "s", TimeRange::ALL, &[z]).unwrap().unwrap();
        let mut ts = Vec::new();
        for (fi, file) in sources.files.iter().enumerate() {
            for chunk in file.chunks() {
                if let Some(run) = sources.read_chunk(fi, chunk, &[z]).unwrap() {
                    ts.extend(run.ts.iter().copied());
                }
            }
        }
        assert_eq!(ts, [2 * HOUR], "{when}");
        let keys = snap.series_keys(g, &SeriesSelector::All);
        assert_eq!(keys.len(), 1, "{when}");
    };
    check("old file");
    db.compact("T", Some("g"), None).unwrap();
    assert_eq!(g_file_rows(&db), 1, "compaction wrote only the row that has a cell");
    check("after compaction");
}
