//! Line-protocol target: [`line_protocol`].

use std::collections::HashMap;

use isobar_ingest::line_protocol::{Line, MapOptions, Parser, Precision, map_body};
use isobar_storage::{ColumnValues, Limits};

/// `now_ns` handed to the mapper (lines without a timestamp get it).
const NOW_NS: i64 = 1_700_000_000_000_000_000;

/// Target: `data` is the body of a line-protocol write (`/write`, `/api/v2/write`). Byte 0 picks
/// the precision; the rest, when it is UTF-8 (the HTTP front end refuses other bodies), is parsed
/// line by line with [`Parser`] and mapped with [`map_body`]. Checked besides "no panic":
///
/// - the parser ends, one record at a time, and every record it returns has a measurement and at
///   least one field;
/// - the mapper fails exactly when the parser fails (the first bad line fails the body) or a check
///   of its own refuses a line, and then names a line that exists;
/// - a mapped batch is well formed: one value and validity slot per timestamp, **every row has at
///   least one present cell** (a line has at least one field, and an empty row would be a phantom
///   row of the family), every column is listed in `tables` with the type its values have,
///   series keys, strings and timestamps are within the engine's limits, and no more cells are
///   present than the body has field values;
/// - mapping is deterministic (the same body maps to the same batch twice).
pub fn line_protocol(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(body) else { return };
    let precision = [Precision::Nanoseconds, Precision::Microseconds, Precision::Milliseconds, Precision::Seconds]
        [usize::from(selector % 4)];
    let limits = Limits { max_series_key_len: 256, max_string_len: 1024, ..Limits::default() };
    let options = MapOptions { family: "fields".into(), precision, now_ns: NOW_NS, limits: limits.clone() };

    let (records, parse_failed) = parse_all(text);
    let mapped = map_body(text, &options);
    let Ok(mapped) = mapped else {
        let err = mapped.unwrap_err();
        let last_line = text.matches('\n').count() + 1;
        assert!((1..=last_line).contains(&err.line), "error names line {} of {last_line}: {text:?}", err.line);
        return;
    };
    assert!(!parse_failed, "the mapper accepted a body the parser refuses: {text:?}");
    assert_eq!(mapped.lines, records, "records mapped vs parsed");
    assert!(mapped.batch.points() <= mapped.points, "more present cells than field values");

    let columns: HashMap<(&str, &str), _> = mapped
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(move |c| ((t.name.as_str(), c.name.as_str()), c.ty)))
        .collect();
    for s in &mapped.batch.series {
        assert!(s.series.len() <= limits.max_series_key_len, "series key over the limit");
        assert!(s.ts.iter().all(|t| (limits.min_ts..=limits.max_ts).contains(t)), "timestamp out of range");
        let mut present_in_row = vec![false; s.ts.len()];
        for c in &s.columns {
            assert_eq!(c.family, "fields");
            assert_eq!(c.values.len(), s.ts.len(), "values of {}/{}", s.table, c.column);
            let ty = columns.get(&(s.table.as_str(), c.column.as_str()));
            assert_eq!(ty, Some(&c.values.column_type()), "column {}.{} not listed with its type", s.table, c.column);
            let valid = |i: usize| c.validity.as_ref().is_none_or(|v| v.get(i) == Some(&true));
            if let Some(v) = &c.validity {
                assert_eq!(v.len(), s.ts.len(), "validity of {}/{}", s.table, c.column);
            }
            for (i, present) in present_in_row.iter_mut().enumerate() {
                *present |= valid(i);
            }
            if let ColumnValues::String(values) = &c.values {
                let over = values.iter().enumerate().any(|(i, v)| valid(i) && v.len() > limits.max_string_len);
                assert!(!over, "a string over the limit was mapped");
            }
        }
        assert!(present_in_row.iter().all(|p| *p), "a row of {}/{} has no present cell", s.table, s.series);
    }
    let again = map_body(text, &options).expect("the same body maps twice");
    assert_eq!(again, mapped, "mapping is not deterministic");
}

/// Parses every record of `text`: how many the parser returned before it ended or failed, and
/// whether it failed.
fn parse_all(text: &str) -> (usize, bool) {
    let mut parser = Parser::new(text);
    let mut line = Line::default();
    let mut records = 0usize;
    // Every record consumes at least one byte, so a parser that makes progress ends within this.
    for _ in 0..=text.len() {
        match parser.next_line(&mut line) {
            Ok(true) => {
                assert!(!line.fields.is_empty(), "a record without fields: {text:?}");
                records += 1;
            }
            Ok(false) => return (records, false),
            Err(_) => return (records, true),
        }
    }
    panic!("the parser returned more records than the body has bytes: {text:?}");
}
