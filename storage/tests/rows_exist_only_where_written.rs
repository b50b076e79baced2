//! A row exists in a family only where a cell of that family was written, whatever the batching:
//! the reproduction (table `T` with families `f(v)` and `g(z)`; series `s` gets
//! `{ts=-2h, g.z=5}` and `{ts=-1h, f.v=1}` in one write, series `t` the same rows in two writes)
//! must answer the same for `s` and `t` in the memtable, after WAL replay, after flush (with
//! truthful row counts) and after compaction.

use isobar_storage::{
    ColumnType, ColumnValues, CompactionOptions, Db, Options, ScanRequest, SeriesWrite, SyncPolicy, TableSpec,
};
use isobar_testkit::rows::{V, rows};

const HOUR: i64 = 3_600_000_000_000;
const T0: i64 = 1_000 * HOUR;

fn options() -> Options {
    Options {
        sync: SyncPolicy::None,
        compaction: CompactionOptions { background: false, ..Default::default() },
        ..Options::default()
    }
}

/// `s` in one write (the shape the row form of `Write` produces), `t` in two.
fn write_both(db: &Db) {
    db.create_table(TableSpec::new("T").family("f", &[("v", ColumnType::F64)]).family("g", &[("z", ColumnType::F64)]))
        .unwrap();
    db.write(
        SeriesWrite::new("T", "s", vec![T0 - 2 * HOUR, T0 - HOUR])
            .sparse_column("f", "v", ColumnValues::F64(vec![0.0, 1.0]), vec![false, true])
            .sparse_column("g", "z", ColumnValues::F64(vec![5.0, 0.0]), vec![true, false]),
    )
    .unwrap();
    db.write(SeriesWrite::new("T", "t", vec![T0 - 2 * HOUR]).column("g", "z", ColumnValues::F64(vec![5.0]))).unwrap();
    db.write(SeriesWrite::new("T", "t", vec![T0 - HOUR]).column("f", "v", ColumnValues::F64(vec![1.0]))).unwrap();
}

/// Rows of a scan of `columns`, without the series column, per series.
fn scan(db: &Db, columns: &[&str]) -> Vec<Vec<V>> {
    rows(&db.scan(&ScanRequest::new("T").columns(columns.iter().copied())).unwrap())
}

fn assert_batching_does_not_matter(db: &Db, when: &str) {
    let s = |x: &str| V::S(x.into());
    assert_eq!(
        scan(db, &["g.z"]),
        vec![vec![s("s"), V::I(T0 - 2 * HOUR), V::f(5.0)], vec![s("t"), V::I(T0 - 2 * HOUR), V::f(5.0)]],
        "{when}: g has one row per series, where g.z was written"
    );
    assert_eq!(
        scan(db, &["f.v"]),
        vec![vec![s("s"), V::I(T0 - HOUR), V::f(1.0)], vec![s("t"), V::I(T0 - HOUR), V::f(1.0)]],
        "{when}: f has one row per series"
    );
    let all = scan(db, &["f.v", "g.z"]);
    assert_eq!(all.len(), 4, "{when}: {all:?}");
    assert_eq!(
        all[..2].iter().map(|r| &r[1..]).collect::<Vec<_>>(),
        all[2..].iter().map(|r| &r[1..]).collect::<Vec<_>>()
    );
}

/// Rows in the files of each family, as `Db::stats` reports them: (f, g).
fn file_rows(db: &Db) -> (u64, u64) {
    let stats = db.stats();
    let of = |name: &str| stats.families.iter().filter(|f| f.family == name).map(|f| f.file_rows).sum();
    (of("f"), of("g"))
}

#[test]
fn one_write_and_two_writes_give_the_same_rows_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    write_both(&db);
    assert_batching_does_not_matter(&db, "memtable");
    db.close().unwrap();

    // Replaying the WAL builds the same memtable as the live writes did.
    let db = Db::open(dir.path(), options()).unwrap();
    assert_batching_does_not_matter(&db, "after WAL replay");
    db.flush().unwrap();
    assert_eq!(file_rows(&db), (2, 2), "two rows were written to each family, one per series");
    assert_batching_does_not_matter(&db, "after flush");
    db.compact("T", None, None).unwrap();
    assert_batching_does_not_matter(&db, "after compaction");
    db.close().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert_batching_does_not_matter(&db, "after reopen");
    assert_eq!(file_rows(&db), (2, 2));
}

#[test]
fn a_write_whose_cells_are_all_absent_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    db.create_table(TableSpec::new("T").family("f", &[("v", ColumnType::F64)]).family("g", &[("z", ColumnType::F64)]))
        .unwrap();
    db.write(SeriesWrite::new("T", "s", vec![T0]).column("f", "v", ColumnValues::F64(vec![1.0]))).unwrap();
    let before = scan(&db, &["f.v", "g.z"]);
    // Accepted (it is well-formed), but there is no cell to store: no row appears in g, and
    // the row in f keeps its value.
    db.write(
        SeriesWrite::new("T", "s", vec![T0, T0 + 1])
            .sparse_column("f", "v", ColumnValues::F64(vec![0.0, 0.0]), vec![false, false])
            .sparse_column("g", "z", ColumnValues::F64(vec![0.0, 0.0]), vec![false, false]),
    )
    .unwrap();
    assert_eq!(scan(&db, &["f.v", "g.z"]), before);
    db.flush().unwrap();
    assert_eq!(file_rows(&db), (1, 0));
    assert_eq!(scan(&db, &["f.v", "g.z"]), before);
}
