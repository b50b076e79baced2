//! Explicit nulls: a write that sets a cell to null on purpose hides the older value of that cell
//! (and only that cell) wherever the two meet: in one memtable, across a memtable and a file,
//! across files, after a compaction and after a reopen that replays the WAL; a newer value hides
//! an older explicit null in turn. A write that gives a row both a value and a null, or a null
//! list of the wrong length, is refused and changes nothing.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use isobar_storage::{
    ColumnType, ColumnValues, CompactionOptions, Db, InvalidInput, Options, ScanRequest, SeriesWrite, SyncPolicy,
    TableSpec,
};

const T1: i64 = 1_000;
const T2: i64 = 2_000;

fn open(dir: &std::path::Path) -> Db {
    let compaction = CompactionOptions { background: false, ..Default::default() };
    Db::open(dir, Options { sync: SyncPolicy::None, compaction, ..Options::default() }).expect("open")
}

/// Values `a` (f64) and `b` (i64) at every row of series `s`, with timestamps.
fn rows(db: &Db) -> Vec<(i64, Option<f64>, Option<i64>)> {
    let batches: Vec<RecordBatch> = db.scan(&ScanRequest::new("t")).expect("scan");
    let mut out = Vec::new();
    for b in &batches {
        let ts = b.column_by_name("ts").expect("ts").as_primitive::<arrow_array::types::TimestampNanosecondType>();
        let a = b.column_by_name("f.a").expect("f.a").as_primitive::<Float64Type>();
        let bb = b.column_by_name("f.b").expect("f.b").as_primitive::<Int64Type>();
        for r in 0..b.num_rows() {
            let get_a = (!a.is_null(r)).then(|| a.value(r));
            let get_b = (!bb.is_null(r)).then(|| bb.value(r));
            out.push((ts.value(r), get_a, get_b));
        }
    }
    out
}

/// Rows at `ts` with `a = values` (and `b = 10 * a` as an integer).
fn values(ts: Vec<i64>, a: Vec<f64>) -> SeriesWrite {
    let b = a.iter().map(|v| (*v * 10.0) as i64).collect();
    SeriesWrite::new("t", "s", ts).column("f", "a", ColumnValues::F64(a)).column("f", "b", ColumnValues::I64(b))
}

/// A write that sets `a` to null at `ts` and leaves `b` alone.
fn null_a(ts: i64) -> SeriesWrite {
    SeriesWrite::new("t", "s", vec![ts]).column_with_nulls(
        "f",
        "a",
        ColumnValues::F64(vec![0.0]),
        vec![false],
        vec![true],
    )
}

fn setup(dir: &std::path::Path) -> Db {
    let db = open(dir);
    db.create_table(TableSpec::new("t").family("f", &[("a", ColumnType::F64), ("b", ColumnType::I64)])).expect("table");
    db
}

/// The null is newer than the value: `a` at T1 reads as null, `b` keeps its value, T2 is untouched.
fn assert_a_nulled_at_t1(db: &Db, when: &str) {
    assert_eq!(rows(db), vec![(T1, None, Some(10)), (T2, Some(2.0), Some(20))], "{when}");
}

#[test]
fn an_explicit_null_hides_the_older_value_in_every_layer() {
    // In one memtable.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = setup(dir.path());
    db.write(values(vec![T1, T2], vec![1.0, 2.0])).expect("values");
    let receipt = db.write(null_a(T1)).expect("null");
    assert_eq!(receipt.points, 0, "an explicit null is not a point");
    assert_a_nulled_at_t1(&db, "one memtable");
    // The memtable flushed: the file holds the merged row.
    db.flush().expect("flush");
    assert_a_nulled_at_t1(&db, "flushed together");
    db.close().expect("close");
    drop(db);
    let db = open(dir.path());
    assert_a_nulled_at_t1(&db, "reopened from the file");

    // Value in a file, null in the memtable, then in a second file, then compacted into one.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = setup(dir.path());
    db.write(values(vec![T1, T2], vec![1.0, 2.0])).expect("values");
    db.flush().expect("flush");
    db.write(null_a(T1)).expect("null");
    assert_a_nulled_at_t1(&db, "file + memtable");
    db.flush().expect("flush");
    assert_a_nulled_at_t1(&db, "two files");
    db.compact("t", None, None).expect("compact");
    assert_a_nulled_at_t1(&db, "compacted");
    db.close().expect("close");
    drop(db);

    // The null only in the WAL: a reopen replays it over the file.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = setup(dir.path());
    db.write(values(vec![T1, T2], vec![1.0, 2.0])).expect("values");
    db.flush().expect("flush");
    db.write(null_a(T1)).expect("null");
    drop(db);
    let db = open(dir.path());
    assert_a_nulled_at_t1(&db, "replayed from the WAL");
    // A newer value hides the null again, in the memtable and after the flush and a compaction.
    db.write(values(vec![T1], vec![3.0])).expect("newer value");
    assert_eq!(rows(&db)[0], (T1, Some(3.0), Some(30)), "a newer value wins over the null");
    db.flush().expect("flush");
    db.compact("t", None, None).expect("compact");
    assert_eq!(rows(&db)[0], (T1, Some(3.0), Some(30)), "after compaction");
}

#[test]
fn a_row_of_explicit_nulls_exists_and_hides_older_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = setup(dir.path());
    db.write(values(vec![T1], vec![1.0])).expect("values");
    db.flush().expect("flush");
    // Both cells of the row set to null: the row stays (as an UPDATE ... SET a = NULL, b = NULL
    // leaves its row), with no values.
    let both = SeriesWrite::new("t", "s", vec![T1])
        .column_with_nulls("f", "a", ColumnValues::F64(vec![0.0]), vec![false], vec![true])
        .column_with_nulls("f", "b", ColumnValues::I64(vec![0]), vec![false], vec![true]);
    db.write(both).expect("nulls");
    assert_eq!(rows(&db), vec![(T1, None, None)]);
    db.flush().expect("flush");
    db.compact("t", None, None).expect("compact");
    assert_eq!(rows(&db), vec![(T1, None, None)], "after compaction");
    // A null where nothing was written makes a row too.
    db.write(null_a(T2)).expect("null on an empty time");
    assert_eq!(rows(&db), vec![(T1, None, None), (T2, None, None)]);
}

#[test]
fn a_value_and_a_null_in_one_row_or_a_short_null_list_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = setup(dir.path());
    db.write(values(vec![T1], vec![1.0])).expect("values");
    let both = SeriesWrite::new("t", "s", vec![T1]).column_with_nulls(
        "f",
        "a",
        ColumnValues::F64(vec![5.0]),
        vec![true],
        vec![true],
    );
    let err = db.write(both).expect_err("value and null in one cell");
    assert!(
        matches!(&err, isobar_storage::Error::Invalid(InvalidInput::ValueAndNull { row: 0, column, .. }) if column == "a"),
        "{err}"
    );
    assert!(err.to_string().contains("both a value and an explicit null"), "{err}");
    let short = SeriesWrite::new("t", "s", vec![T1, T2]).column_with_nulls(
        "f",
        "a",
        ColumnValues::F64(vec![0.0, 0.0]),
        vec![false, false],
        vec![true],
    );
    let err = db.write(short).expect_err("short null list");
    assert!(
        matches!(&err, isobar_storage::Error::Invalid(InvalidInput::LengthMismatch { expected: 2, got: 1, what, .. }) if what.contains("nulls")),
        "{err}"
    );
    assert_eq!(rows(&db), vec![(T1, Some(1.0), Some(10))], "the refused writes changed nothing");
}
