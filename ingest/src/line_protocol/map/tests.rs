//! Mapping tests: grouping by series, sparse columns, series-key escaping, type conflicts and
//! timestamps.

use isobar_storage::{ColumnType, ColumnValues, Limits};

use super::*;

fn options(precision: Precision) -> MapOptions {
    MapOptions { family: "fields".into(), precision, now_ns: 77, limits: Limits::default() }
}

fn map(text: &str) -> Result<Mapped, LineError> {
    map_body(text, &options(Precision::Nanoseconds))
}

#[test]
fn lines_are_grouped_per_series_with_sparse_columns() {
    let mapped =
        map("cpu,host=a,dc=x u=1,s=2 10\ncpu,dc=x,host=a u=3 20\ncpu,host=b u=5 10\nmem free=9i 10\n").expect("maps");
    assert_eq!((mapped.lines, mapped.points), (4, 5));
    let s = &mapped.batch.series;
    assert_eq!(s.len(), 3);
    assert_eq!((s[0].table.as_str(), s[0].series.as_str()), ("cpu", "dc=x,host=a"));
    assert_eq!(s[0].ts, vec![10, 20]);
    assert_eq!(s[0].columns[0].values, ColumnValues::F64(vec![1.0, 3.0]));
    assert_eq!(s[0].columns[0].validity, None);
    assert_eq!(s[0].columns[1].column, "s");
    assert_eq!(s[0].columns[1].validity, Some(vec![true, false]));
    assert_eq!(s[1].series, "host=b");
    assert_eq!((s[2].table.as_str(), s[2].series.as_str()), ("mem", "mem"));
    assert_eq!(s[2].columns[0].values, ColumnValues::I64(vec![9]));
    assert!(s.iter().flat_map(|s| &s.columns).all(|c| c.family == "fields"));
    let cpu = &mapped.tables[0];
    assert_eq!(
        cpu.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect::<Vec<_>>(),
        vec![("u", ColumnType::F64), ("s", ColumnType::F64)]
    );
}

#[test]
fn a_column_first_seen_late_is_absent_before() {
    let s = map("m v=1 1\nm v=2,w=true 2\nm v=3 3\n").expect("maps").batch.series.remove(0);
    assert_eq!(s.columns[1].values, ColumnValues::Bool(vec![false, true, false]));
    assert_eq!(s.columns[1].validity, Some(vec![false, true, false]));
}

#[test]
fn a_repeated_field_keeps_the_last_value() {
    let s = map("m v=1,v=2 1\nm w=1 2").expect("maps").batch.series.remove(0);
    assert_eq!(s.columns[0].values, ColumnValues::F64(vec![2.0, 0.0]));
    assert_eq!(s.columns[0].validity, Some(vec![true, false]));
}

#[test]
fn series_keys_escape_separators() {
    let s = &map("m,b=x\\,y,a=1\\=2 v=1").expect("maps").batch.series[0];
    assert_eq!(s.series, r"a=1\=2,b=x\,y");
    assert!(matches!(map("m,a=1,a=2 v=1").expect_err("dup").kind, LineErrorKind::DuplicateTag { .. }));
}

#[test]
fn type_conflicts_name_both_lines() {
    let e = map("m v=1 1\nm,h=a v=2 2\nm,h=b v=3i 3").expect_err("conflict");
    assert_eq!(e.line, 3);
    assert_eq!(e.to_string(), "line 3: field \"v\" of measurement \"m\" is i64 here but f64 on line 1");
    let e = map("m v=1 1\nm v=\"x\" 2").expect_err("conflict in one series");
    assert_eq!(e.line, 2);
    assert!(matches!(e.kind, LineErrorKind::TypeConflict { got: ColumnType::String, .. }), "{e}");
}

#[test]
fn names_must_be_valid_table_and_column_names() {
    let e = map("m v=1\nbad-name v=1").expect_err("bad measurement");
    assert_eq!((e.line, matches!(e.kind, LineErrorKind::BadName { what: "measurement", .. })), (2, true));
    let e = map("m io-time=1").expect_err("bad field");
    assert!(matches!(e.kind, LineErrorKind::BadName { what: "field", .. }), "{e}");
}

#[test]
fn timestamps_scale_by_precision_and_default_to_now() {
    let mapped = map_body("m v=1 3\nm v=2", &options(Precision::Milliseconds)).expect("maps");
    assert_eq!(mapped.batch.series[0].ts, vec![3_000_000, 77]);
    let e = map_body("m v=1 9223372036854775", &options(Precision::Seconds)).expect_err("overflow");
    assert!(matches!(e.kind, LineErrorKind::TimestampOutOfRange { precision: "s", .. }), "{e}");
    let e = map("m v=1 -9000000000000000000").expect_err("before 1900");
    assert!(matches!(e.kind, LineErrorKind::TimestampOutOfRange { .. }), "{e}");
}

#[test]
fn unsigned_values_become_i64_when_they_fit() {
    let s = &map("m a=5u").expect("maps").batch.series[0];
    assert_eq!(s.columns[0].values, ColumnValues::I64(vec![5]));
    let e = map("m a=18446744073709551615u").expect_err("too large");
    assert!(matches!(e.kind, LineErrorKind::UnsignedTooLarge { .. }), "{e}");
}

#[test]
fn limits_are_checked_per_line() {
    let mut o = options(Precision::Nanoseconds);
    o.limits.max_series_key_len = 8;
    o.limits.max_string_len = 3;
    let e = map_body("m,host=abcdefgh v=1", &o).expect_err("long key");
    assert!(matches!(e.kind, LineErrorKind::SeriesKeyTooLong { len: 13, max: 8 }), "{e}");
    let e = map_body("m s=\"abcd\"", &o).expect_err("long string");
    assert!(matches!(e.kind, LineErrorKind::StringTooLong { len: 4, .. }), "{e}");
}
