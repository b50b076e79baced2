//! Rows of a write that are already past their TTL.
//!
//! A write's row is expired when every family it writes a value to has a TTL (the family's own,
//! else the table's) and its timestamp is older than now minus that TTL: reads would never return
//! it and compaction drops it. Such rows are not silently accepted: a write whose rows are all
//! expired is refused ([`InvalidInput::AllExpired`] names the table and its TTL), and a write with
//! some expired rows is applied with their count in the receipt, so clients can say so.

use std::collections::BTreeMap;

use super::validate::Validated;
use crate::error::InvalidInput;
use crate::schema::TableDef;

/// Counts the expired rows of `validated` at `now_ns`; with `refuse`, refuses a write whose rows
/// all are.
pub(crate) fn expired_rows(
    tables: &BTreeMap<String, TableDef>,
    validated: &Validated,
    now_ns: i64,
    refuse: bool,
) -> Result<usize, InvalidInput> {
    let mut expired = 0usize;
    let mut named: Option<(String, i64)> = None;
    for series in &validated.series {
        let Some(table) = tables.values().find(|t| t.id == series.table) else { continue };
        if table.ttl_ns.is_none() && table.families.iter().all(|f| f.ttl_ns.is_none()) {
            continue;
        }
        for (row, ts) in series.ts.iter().enumerate() {
            let mut touched = false;
            let mut alive = false;
            for column in &series.columns {
                let has_value = column.validity.as_ref().is_none_or(|v| v.get(row).copied().unwrap_or(false));
                if !has_value {
                    continue;
                }
                touched = true;
                let ttl = table.family_by_id(column.family).and_then(|f| table.ttl_of(f));
                match ttl {
                    Some(ttl) if *ts < now_ns.saturating_sub(ttl) => {
                        if named.is_none() {
                            named = Some((table.name.clone(), ttl));
                        }
                    }
                    _ => alive = true,
                }
                if alive {
                    break;
                }
            }
            if touched && !alive {
                expired += 1;
            }
        }
    }
    if refuse && expired > 0 && expired == validated.rows {
        let (table, ttl_ns) = named.unwrap_or_default();
        return Err(InvalidInput::AllExpired { table, rows: expired, ttl: show_duration(ttl_ns) });
    }
    Ok(expired)
}

/// A TTL as people write it: `365d`, `12h`, `90m`, `30s`, else nanoseconds.
fn show_duration(ns: i64) -> String {
    const UNITS: [(i64, &str); 4] =
        [(86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "m"), (1_000_000_000, "s")];
    for (size, unit) in UNITS {
        if ns >= size && ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ColumnValues;
    use crate::catalog::{LoggedColumn, LoggedSeries};
    use crate::schema::{ColumnDef, ColumnType, FamilyDef};

    const DAY: i64 = 86_400_000_000_000;
    const NOW: i64 = 1_000 * DAY;

    fn tables(table_ttl: Option<i64>, fresh_family_ttl: Option<i64>) -> BTreeMap<String, TableDef> {
        let family = |id, name: &str, ttl_ns| FamilyDef {
            id,
            name: name.into(),
            columns: vec![ColumnDef { id: 1, name: "v".into(), ty: ColumnType::F64 }],
            ttl_ns,
        };
        let def = TableDef {
            id: 7,
            name: "weather".into(),
            families: vec![family(1, "old", None), family(2, "fresh", fresh_family_ttl)],
            dynamic_columns: false,
            ttl_ns: table_ttl,
        };
        BTreeMap::from([("weather".to_owned(), def)])
    }

    fn write(ts: Vec<i64>, families: &[(u32, Option<Vec<bool>>)]) -> Validated {
        let rows = ts.len();
        let columns = families
            .iter()
            .map(|(family, validity)| LoggedColumn {
                family: *family,
                column: 1,
                values: ColumnValues::F64(vec![0.0; rows]),
                validity: validity.clone(),
            })
            .collect();
        Validated {
            series: vec![LoggedSeries { table: 7, series: "s".into(), ts, columns }],
            changed_tables: Vec::new(),
            points: rows,
            rows,
        }
    }

    #[test]
    fn all_expired_is_refused_naming_table_and_ttl() {
        let err = expired_rows(&tables(Some(365 * DAY), None), &write(vec![0, DAY], &[(1, None)]), NOW, true)
            .expect_err("all past the TTL");
        assert_eq!(err, InvalidInput::AllExpired { table: "weather".into(), rows: 2, ttl: "365d".into() });
        assert!(err.to_string().contains("table \"weather\"") && err.to_string().contains("365d"), "{err}");
        // Without `refuse` (the engine's default) they are only counted.
        let counted = expired_rows(&tables(Some(365 * DAY), None), &write(vec![0, DAY], &[(1, None)]), NOW, false);
        assert_eq!(counted, Ok(2));
    }

    #[test]
    fn partly_expired_is_counted() {
        let recent = NOW - DAY;
        let got = expired_rows(&tables(Some(365 * DAY), None), &write(vec![0, recent, 1], &[(1, None)]), NOW, true);
        assert_eq!(got, Ok(2));
    }

    #[test]
    fn a_row_lives_while_one_of_its_families_does() {
        // Family "fresh" keeps data forever (table TTL overridden only for "old" via the table's).
        let t = tables(Some(365 * DAY), Some(10_000 * DAY));
        let both = write(vec![0], &[(1, None), (2, None)]);
        assert_eq!(expired_rows(&t, &both, NOW, true), Ok(0));
        let only_old = write(vec![0, 0], &[(1, None), (2, Some(vec![true, false]))]);
        assert_eq!(expired_rows(&t, &only_old, NOW, true), Ok(1));
        // No TTL at all: nothing expires.
        assert_eq!(expired_rows(&tables(None, None), &write(vec![0], &[(1, None)]), NOW, true), Ok(0));
    }
}
