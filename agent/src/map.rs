//! Mapping readings to rows: JSON objects (MQTT payloads, JSON-lines) and CSV records become
//! `isobar.v1.Row`s by a [`FieldMapping`]. Pure functions, unit-tested.
//!
//! Rules: the field named `ts_field` is the timestamp (a number in `ts_unit`; absent or
//! `ts_field = ""` means arrival time); fields in `ignore` and the series field are skipped; a
//! field named `family.column` goes to that family, any other to `mapping.family`; a value's type
//! is `types[name]` when listed, else f64 for numbers, bool for booleans, string for strings (in
//! CSV: f64 when it parses as a number, bool for `true`/`false`, else string); empty CSV cells and
//! JSON `null` are absent (null) cells. Nested objects and arrays are rejected.

use std::time::{SystemTime, UNIX_EPOCH};

use isobar_proto::v1::{Cell, Row, cell::Value};
use serde_json::Value as Json;

use crate::config::{FieldMapping, TsUnit, ValueType};

/// Why a reading cannot be mapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MapError {
    /// The payload is not what the mapping expects.
    #[error("{what}")]
    Shape {
        /// What is wrong.
        what: String,
    },
}

fn shape(what: impl Into<String>) -> MapError {
    MapError::Shape { what: what.into() }
}

/// Now in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

/// `value` in `unit` as nanoseconds.
pub fn to_ns(value: f64, unit: TsUnit) -> i64 {
    let scale = match unit {
        TsUnit::S => 1e9,
        TsUnit::Ms => 1e6,
        TsUnit::Us => 1e3,
        TsUnit::Ns => 1.0,
    };
    (value * scale).round() as i64
}

/// An integer `value` in `unit` as nanoseconds (exact, saturating).
pub fn int_to_ns(value: i64, unit: TsUnit) -> i64 {
    let scale = match unit {
        TsUnit::S => 1_000_000_000,
        TsUnit::Ms => 1_000_000,
        TsUnit::Us => 1_000,
        TsUnit::Ns => 1,
    };
    value.saturating_mul(scale)
}

fn split(name: &str, mapping: &FieldMapping) -> (String, String) {
    match name.split_once('.') {
        Some((family, column)) => (family.to_string(), column.to_string()),
        None => (mapping.family.clone(), name.to_string()),
    }
}

fn cell(name: &str, value: Value, mapping: &FieldMapping) -> Cell {
    let (family, column) = split(name, mapping);
    Cell { family, column, value: Some(value), null: false }
}

/// A JSON object as a row of `table`/`series`; `series_field` (if not empty) names the field
/// holding the series key and overrides `series`.
pub fn json_row(
    object: &serde_json::Map<String, Json>,
    table: &str,
    series: &str,
    series_field: &str,
    mapping: &FieldMapping,
) -> Result<Row, MapError> {
    let mut ts = None;
    let mut series = series.to_string();
    let mut cells = Vec::new();
    for (name, value) in object {
        if !mapping.ts_field.is_empty() && name == &mapping.ts_field {
            ts = Some(match value {
                Json::Number(n) => match n.as_i64() {
                    Some(i) => int_to_ns(i, mapping.ts_unit),
                    None => to_ns(n.as_f64().unwrap_or(0.0), mapping.ts_unit),
                },
                other => return Err(shape(format!("field {name:?} must be a number, got {other}"))),
            });
            continue;
        }
        if !series_field.is_empty() && name == series_field {
            series = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            continue;
        }
        if mapping.ignore.iter().any(|i| i == name) || value.is_null() {
            continue;
        }
        let v = json_value(name, value, mapping.types.get(name).copied())?;
        cells.push(cell(name, v, mapping));
    }
    if series.is_empty() {
        return Err(shape(format!("no series key: field {series_field:?} is missing")));
    }
    Ok(Row { table: table.to_string(), series, ts: ts.unwrap_or_else(now_ns), cells })
}

fn json_value(name: &str, value: &Json, ty: Option<ValueType>) -> Result<Value, MapError> {
    let bad = || shape(format!("field {name:?}: {value} does not fit type {ty:?}"));
    Ok(match (ty, value) {
        (None | Some(ValueType::F64), Json::Number(n)) => Value::F64Value(n.as_f64().ok_or_else(bad)?),
        (Some(ValueType::I64), Json::Number(n)) => Value::I64Value(n.as_i64().ok_or_else(bad)?),
        (None | Some(ValueType::Bool), Json::Bool(b)) => Value::BoolValue(*b),
        (None | Some(ValueType::String), Json::String(s)) => Value::StringValue(s.clone()),
        (Some(ty), Json::String(s)) => text_value(name, s, Some(ty))?,
        (_, Json::Array(_) | Json::Object(_)) => {
            return Err(shape(format!("field {name:?}: nested values are not supported")));
        }
        _ => return Err(bad()),
    })
}

/// A CSV cell's value (`None` for an empty cell).
pub fn text_value(name: &str, text: &str, ty: Option<ValueType>) -> Result<Value, MapError> {
    let bad = || shape(format!("column {name:?}: {text:?} is not a {ty:?}"));
    Ok(match ty {
        Some(ValueType::F64) => Value::F64Value(text.parse().map_err(|_| bad())?),
        Some(ValueType::I64) => Value::I64Value(text.parse().map_err(|_| bad())?),
        Some(ValueType::Bool) => Value::BoolValue(text.parse().map_err(|_| bad())?),
        Some(ValueType::String) => Value::StringValue(text.to_string()),
        None => match (text.parse::<f64>(), text) {
            (Ok(f), _) => Value::F64Value(f),
            (_, "true") => Value::BoolValue(true),
            (_, "false") => Value::BoolValue(false),
            _ => Value::StringValue(text.to_string()),
        },
    })
}

/// A CSV record (already split) as a row, by the header's names.
pub fn csv_row(
    header: &[String],
    fields: &[&str],
    table: &str,
    series: &str,
    series_field: &str,
    mapping: &FieldMapping,
) -> Result<Row, MapError> {
    if fields.len() != header.len() {
        return Err(shape(format!("{} fields, but the header has {}", fields.len(), header.len())));
    }
    let mut row = Row { table: table.to_string(), series: series.to_string(), ts: 0, cells: Vec::new() };
    let mut ts = None;
    for (name, text) in header.iter().zip(fields) {
        let text = text.trim();
        if !mapping.ts_field.is_empty() && name == &mapping.ts_field {
            ts = Some(match text.parse::<i64>() {
                Ok(i) => int_to_ns(i, mapping.ts_unit),
                Err(_) => {
                    to_ns(text.parse().map_err(|_| shape(format!("ts {text:?} is not a number")))?, mapping.ts_unit)
                }
            });
        } else if !series_field.is_empty() && name == series_field {
            row.series = text.to_string();
        } else if !text.is_empty() && !mapping.ignore.contains(name) {
            row.cells.push(cell(name, text_value(name, text, mapping.types.get(name).copied())?, mapping));
        }
    }
    if row.series.is_empty() {
        return Err(shape(format!("no series key in column {series_field:?}")));
    }
    row.ts = ts.unwrap_or_else(now_ns);
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> FieldMapping {
        let mut m = FieldMapping { ts_unit: TsUnit::Ms, ..FieldMapping::default() };
        m.types.insert("status".into(), ValueType::I64);
        m
    }

    #[test]
    fn json_object_maps_by_the_documented_rules() {
        let obj: serde_json::Map<String, Json> = serde_json::from_str(
            r#"{"ts": 1700000000123, "temp": 21.5, "status": 3, "ok": true, "meta.note": "x", "n": null}"#,
        )
        .expect("json");
        let row = json_row(&obj, "plant", "s1", "", &mapping()).expect("maps");
        assert_eq!(row.ts, 1_700_000_000_123_000_000);
        assert_eq!(row.series, "s1");
        let find = |c: &str| row.cells.iter().find(|x| x.column == c).expect("cell").clone();
        assert_eq!(find("temp").value, Some(Value::F64Value(21.5)));
        assert_eq!(find("status").value, Some(Value::I64Value(3)));
        assert_eq!(find("ok").value, Some(Value::BoolValue(true)));
        assert_eq!((find("note").family.as_str(), find("temp").family.as_str()), ("meta", "data"));
        assert_eq!(row.cells.len(), 4, "null is an absent cell");
    }

    #[test]
    fn bad_json_values_are_errors() {
        let obj: serde_json::Map<String, Json> = serde_json::from_str(r#"{"ts": "x"}"#).expect("json");
        assert!(json_row(&obj, "t", "s", "", &mapping()).is_err());
        let obj: serde_json::Map<String, Json> = serde_json::from_str(r#"{"status": 1.5}"#).expect("json");
        assert!(json_row(&obj, "t", "s", "", &mapping()).is_err());
        let obj: serde_json::Map<String, Json> = serde_json::from_str(r#"{"v": [1]}"#).expect("json");
        assert!(json_row(&obj, "t", "s", "", &mapping()).is_err());
    }

    #[test]
    fn csv_record_maps_with_series_column_and_empty_cells() {
        let header: Vec<String> = ["ts", "sensor", "temp", "status", "label"].map(String::from).to_vec();
        let row = csv_row(&header, &["5", "a1", "", "2", "hot"], "t", "", "sensor", &mapping()).expect("maps");
        assert_eq!((row.series.as_str(), row.ts), ("a1", 5_000_000));
        assert_eq!(row.cells.len(), 2);
        assert_eq!(row.cells[0].value, Some(Value::I64Value(2)));
        assert_eq!(row.cells[1].value, Some(Value::StringValue("hot".into())));
        assert!(csv_row(&header, &["5", "a1"], "t", "", "sensor", &mapping()).is_err());
    }
}
