//! Writers validate outside the write lock; schema changes landing meanwhile (columns added, a
//! table dropped) must neither lose an acknowledged write nor let one through to a dropped table.

use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::RecordBatch;
use isobar_storage::ColumnSpec;
use isobar_storage::{
    ColumnType, ColumnValues, Db, Error, InvalidInput, Options, ScanRequest, SeriesWrite, SyncPolicy, TableChange,
    TableSpec,
};

const WRITERS: usize = 3;
const BATCHES: i64 = 150;

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[test]
fn writes_racing_schema_changes_are_all_kept_or_cleanly_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)])).unwrap();
    db.create_table(TableSpec::new("gone").family("a", &[("x", ColumnType::F64)])).unwrap();
    let done = AtomicBool::new(false);
    let (kept, refused) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = &db;
                s.spawn(move || {
                    for i in 0..BATCHES {
                        let write = SeriesWrite::new("t", format!("s{w}"), vec![i, i + BATCHES]).column(
                            "a",
                            "x",
                            ColumnValues::F64(vec![i as f64, -(i as f64)]),
                        );
                        db.write(write).unwrap();
                    }
                })
            })
            .collect();
        let gone = s.spawn(|| {
            let (mut kept, mut refused) = (0usize, 0usize);
            for i in 0..BATCHES {
                let write = SeriesWrite::new("gone", "g", vec![i]).column("a", "x", ColumnValues::F64(vec![1.0]));
                match db.write(write) {
                    Ok(_) => kept += 1,
                    Err(Error::Invalid(InvalidInput::UnknownTable { table })) => {
                        assert_eq!(table, "gone");
                        refused += 1;
                    }
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            (kept, refused)
        });
        let mut n = 0;
        while !done.load(Ordering::Relaxed) && n < 40 {
            let columns = vec![ColumnSpec { name: format!("c{n}"), ty: ColumnType::I64 }];
            db.alter_table("t", TableChange::AddColumns { family: "a".into(), columns }).unwrap();
            if n == 10 {
                db.drop_table("gone").unwrap();
            }
            n += 1;
        }
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        gone.join().unwrap()
    });
    assert_eq!(kept + refused, BATCHES as usize);
    assert!(db.table_def("gone").is_err());
    let all = db.scan(&ScanRequest::new("t").columns(["a.x"])).unwrap();
    assert_eq!(rows(&all), WRITERS * 2 * BATCHES as usize);
    db.flush().unwrap();
    let all = db.scan(&ScanRequest::new("t").columns(["a.x"])).unwrap();
    assert_eq!(rows(&all), WRITERS * 2 * BATCHES as usize);
}
