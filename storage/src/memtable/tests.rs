use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, StringArray};

use super::*;
use crate::batch::ColumnValues;
use crate::schema::ColumnType;

fn f64s(v: &[f64]) -> ColumnValues {
    ColumnValues::F64(v.to_vec())
}

fn col<'a>(id: ColumnId, values: &'a ColumnValues, validity: Option<&'a [bool]>) -> ColumnInput<'a> {
    ColumnInput { id, ty: values.column_type(), values, validity }
}

fn all(m: &Memtable, max_seq: u64) -> Vec<Run> {
    m.runs(&SeriesSelector::All, TimeRange::ALL, max_seq, None, &|_, _, _| true)
}

#[test]
fn in_order_writes_read_back_sorted() {
    let m = Memtable::new(1);
    let v = f64s(&[1.0, 2.0, 3.0]);
    m.insert("b", &[10, 20, 30], 1, &[col(0, &v, None)]);
    m.insert("a", &[5], 2, &[col(0, &f64s(&[9.0]), None)]);
    let runs = all(&m, u64::MAX);
    assert_eq!(runs.len(), 2);
    assert_eq!(&*runs[0].series, "a");
    assert_eq!(runs[1].ts.as_ref(), &[10, 20, 30]);
    assert_eq!(runs[1].column(0).unwrap().as_primitive::<Float64Type>().values().as_ref(), &[1.0, 2.0, 3.0]);
    runs[1].check_invariants().unwrap();
}

#[test]
fn out_of_order_and_overwrites_merge_per_cell() {
    let m = Memtable::new(1);
    let a = f64s(&[1.0, 2.0]);
    let b = ColumnValues::I64(vec![7, 8]);
    m.insert("s", &[20, 10], 1, &[col(0, &a, None), col(1, &b, Some(&[true, false]))]);
    // Overwrite column 0 at ts 20 only; column 1 absent in this write keeps the old value.
    let a2 = f64s(&[5.0]);
    m.insert("s", &[20], 2, &[col(0, &a2, None)]);
    let run = all(&m, u64::MAX).remove(0);
    run.check_invariants().unwrap();
    assert_eq!(run.ts.as_ref(), &[10, 20]);
    assert_eq!(run.seq.as_ref(), &[1, 2]);
    let c0 = run.column(0).unwrap().as_primitive::<Float64Type>();
    assert_eq!(c0.values().as_ref(), &[2.0, 5.0]);
    let c1 = run.column(1).unwrap().as_primitive::<Int64Type>();
    assert!(c1.is_null(0));
    assert_eq!(c1.value(1), 7);
}

#[test]
fn invisible_sequence_numbers_and_tombstones_are_filtered() {
    let m = Memtable::new(1);
    m.insert("s", &[1, 2], 1, &[col(0, &f64s(&[1.0, 2.0]), None)]);
    m.insert("s", &[3], 5, &[col(0, &f64s(&[3.0]), None)]);
    assert_eq!(all(&m, 4)[0].ts.as_ref(), &[1, 2]);
    let runs = m.runs(&SeriesSelector::All, TimeRange::ALL, u64::MAX, None, &|_, ts, _| ts != 2);
    assert_eq!(runs[0].ts.as_ref(), &[1, 3]);
}

#[test]
fn tombstone_between_two_writes_keeps_only_newer_cells() {
    let m = Memtable::new(1);
    let a = f64s(&[1.0]);
    let b = f64s(&[2.0]);
    m.insert("s", &[10], 1, &[col(0, &a, None)]);
    m.insert("s", &[10], 3, &[col(1, &b, None)]);
    // A tombstone with seq 2 covering ts 10 removes the write of seq 1 only.
    let run = m.runs(&SeriesSelector::All, TimeRange::ALL, u64::MAX, None, &|_, _, seq| seq >= 2).remove(0);
    assert!(run.column(0).unwrap().is_null(0));
    assert_eq!(run.column(1).unwrap().as_primitive::<Float64Type>().value(0), 2.0);
}

#[test]
fn selectors_projection_and_time_range() {
    let m = Memtable::new(1);
    for key in ["t1", "t10", "t2", "u1"] {
        let s = ColumnValues::String(vec!["x".into(), "y".into(), "z".into()]);
        m.insert(key, &[1, 2, 3], 1, &[col(0, &f64s(&[1.0, 2.0, 3.0]), None), col(1, &s, Some(&[true, false, true]))]);
    }
    let keys = |sel: SeriesSelector| -> Vec<String> {
        m.runs(&sel, TimeRange::ALL, u64::MAX, None, &|_, _, _| true).iter().map(|r| r.series.to_string()).collect()
    };
    assert_eq!(keys(SeriesSelector::Prefix("t1".into())), ["t1", "t10"]);
    assert_eq!(keys(SeriesSelector::Exact("t2".into())), ["t2"]);
    assert_eq!(keys(SeriesSelector::Range { start: Some("t10".into()), end: Some("u".into()) }), ["t10", "t2"]);
    let run = m
        .runs(&SeriesSelector::Exact("u1".into()), TimeRange::new(2, 4), u64::MAX, Some(&[1]), &|_, _, _| true)
        .remove(0);
    assert_eq!(run.ts.as_ref(), &[2, 3]);
    assert_eq!(run.columns.len(), 1);
    let s: &StringArray = run.column(1).unwrap().as_string();
    assert!(s.is_null(0));
    assert_eq!(s.value(1), "z");
}

#[test]
fn columns_added_later_are_null_in_earlier_rows() {
    let m = Memtable::new(1);
    m.insert("s", &[1], 1, &[col(0, &f64s(&[1.0]), None)]);
    let b = ColumnValues::Bool(vec![true]);
    m.insert("s", &[2], 2, &[col(3, &b, None)]);
    let run = all(&m, u64::MAX).remove(0);
    run.check_invariants().unwrap();
    assert!(run.column(3).unwrap().is_null(0));
    assert!(run.column(0).unwrap().is_null(1));
    assert_eq!(ColumnType::Bool.arrow_type(), run.column(3).unwrap().data_type().clone());
    assert!(m.approximate_bytes() > 0);
}

#[test]
fn dense_rows_then_sparse_rows_keep_every_validity_bit() {
    // A column stays without a bitmap while dense; the first null must not shift earlier rows.
    let m = Memtable::new(1);
    m.insert("s", &[1, 2, 3], 1, &[col(0, &f64s(&[1.0, 2.0, 3.0]), None)]);
    // Row 5 has its cell in column 1 (a row with no present cell would not be stored at all).
    let (c0_at_5, c1_at_5) = (f64s(&[4.0, 0.0]), f64s(&[0.0, 5.0]));
    m.insert("s", &[4, 5], 2, &[col(0, &c0_at_5, Some(&[true, false])), col(1, &c1_at_5, Some(&[false, true]))]);
    m.insert("s", &[6], 3, &[col(0, &f64s(&[6.0]), Some(&[true]))]);
    m.insert("s", &[7], 4, &[col(1, &f64s(&[7.0]), None)]);
    let run = all(&m, u64::MAX).remove(0);
    run.check_invariants().unwrap();
    let c0 = run.column(0).unwrap().as_primitive::<Float64Type>();
    let got: Vec<Option<f64>> = c0.iter().collect();
    assert_eq!(got, [Some(1.0), Some(2.0), Some(3.0), Some(4.0), None, Some(6.0), None]);
    let c1 = run.column(1).unwrap();
    assert_eq!(c1.null_count(), 5);
    assert!(c1.is_valid(4) && c1.is_valid(6));
}

#[test]
fn series_are_found_by_key_for_writes_and_exact_reads() {
    let m = Memtable::new(1);
    for round in 0..3i64 {
        for key in ["truck_1", "truck_10", "truck_2"] {
            m.insert(key, &[round], round as u64 + 1, &[col(0, &f64s(&[round as f64]), None)]);
        }
    }
    assert_eq!(m.series_count(), 3);
    assert_eq!(m.series_len("truck_10"), 3);
    assert_eq!(m.series_len("truck_3"), 0);
    let exact = m.runs(&SeriesSelector::Exact("truck_10".into()), TimeRange::ALL, u64::MAX, None, &|_, _, _| true);
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0].ts.as_ref(), &[0, 1, 2]);
    let keys: Vec<String> = all(&m, u64::MAX).iter().map(|r| r.series.to_string()).collect();
    assert_eq!(keys, ["truck_1", "truck_10", "truck_2"]);
}

#[test]
fn rows_without_a_present_cell_are_not_stored() {
    let m = Memtable::new(1);
    // What the row form of a write touching two families hands this family: a slot at every
    // timestamp of the series, absent where only the other family has a cell.
    let a = f64s(&[1.0, 0.0, 0.0, 4.0]);
    let b = ColumnValues::I64(vec![0, 0, 3, 0]);
    m.insert(
        "s",
        &[10, 20, 30, 40],
        1,
        &[col(0, &a, Some(&[true, false, false, true])), col(1, &b, Some(&[false; 4]))],
    );
    assert_eq!(m.rows(), 2, "rows 20 and 30 have no present cell");
    let run = all(&m, u64::MAX).remove(0);
    run.check_invariants().unwrap();
    assert_eq!(run.ts.as_ref(), &[10, 40]);
    assert_eq!(run.column(0).unwrap().as_primitive::<Float64Type>().values().as_ref(), &[1.0, 4.0]);
    assert_eq!(run.column(1).unwrap().null_count(), 2);
    // Strings and bools are kept in step with their rows.
    let s = ColumnValues::String(vec!["x".into(), "".into(), "z".into()]);
    let flag = ColumnValues::Bool(vec![true, false, false]);
    m.insert(
        "t",
        &[1, 2, 3],
        2,
        &[col(2, &flag, Some(&[true, false, false])), col(3, &s, Some(&[false, false, true]))],
    );
    let run = all(&m, u64::MAX).remove(1);
    assert_eq!(run.ts.as_ref(), &[1, 3]);
    let strings = run.column(3).unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    assert!(strings.is_null(0));
    assert_eq!(strings.value(1), "z");
    assert!(run.column(2).unwrap().as_boolean().value(0));
}

#[test]
fn a_write_without_any_present_cell_changes_nothing() {
    let m = Memtable::new(1);
    let v = f64s(&[0.0, 0.0]);
    m.insert("s", &[1, 2], 1, &[col(0, &v, Some(&[false, false]))]);
    assert!(m.is_empty());
    assert_eq!((m.series_count(), m.seq_bounds()), (0, None), "no series, no sequence numbers");
    // Over an existing row: the old cell and the row's sequence number stay.
    m.insert("s", &[1], 2, &[col(0, &f64s(&[5.0]), None)]);
    m.insert("s", &[1], 3, &[col(0, &f64s(&[0.0]), Some(&[false]))]);
    let run = all(&m, u64::MAX).remove(0);
    assert_eq!((run.ts.as_ref(), run.seq.as_ref()), (&[1][..], &[2][..]));
    assert_eq!(run.column(0).unwrap().as_primitive::<Float64Type>().value(0), 5.0);
    assert_eq!(m.seq_bounds(), Some((2, 2)));
}
