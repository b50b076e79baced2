//! The agent's line-protocol source turns each line into a row with the server's own parser and
//! series-key rule (`isobar_ingest::line_protocol`, the code behind `POST /write`), so a reading
//! gets the same table, series key and columns whichever way it reaches Isobar
//! (docs/protocols.md): table = measurement; series = the tags sorted by key as `k=v,k2=v2` with
//! `,` `=` `\` escaped by a backslash (the measurement when there are none); every field a column
//! of `family`; `1.5` f64, `3i` i64, `7u` i64 (refused above `i64::MAX`), `t`/`false`... bool,
//! `"text"` string; the timestamp in `precision` (absent = arrival time).

use isobar_ingest::line_protocol::map::series_key;
use isobar_ingest::line_protocol::{FieldValue, Line, Parser};
use isobar_proto::v1::{Cell, Row, cell::Value};

use crate::config::TsUnit;
use crate::map::{int_to_ns, now_ns};

/// A line that is not line protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line protocol: {what}")]
pub struct LpError {
    /// What is wrong.
    pub what: String,
}

fn err(what: impl Into<String>) -> LpError {
    LpError { what: what.into() }
}

/// Parses one line (`None` for blank lines and `#` comments).
pub fn parse_line(line: &str, family: &str, precision: TsUnit) -> Result<Option<Row>, LpError> {
    let mut parser = Parser::new(line);
    let mut parsed = Line::default();
    if !parser.next_line(&mut parsed).map_err(|e| err(e.kind.to_string()))? {
        return Ok(None);
    }
    let mut series = String::new();
    series_key(&mut parsed, &mut series).map_err(|e| err(e.to_string()))?;
    let cells = parsed
        .fields
        .iter()
        .map(|(key, value)| {
            Ok(Cell {
                family: family.to_owned(),
                column: key.to_string(),
                value: Some(cell_value(key, value)?),
                null: false,
            })
        })
        .collect::<Result<Vec<_>, LpError>>()?;
    let ts = parsed.timestamp.map_or_else(now_ns, |t| int_to_ns(t, precision));
    Ok(Some(Row { table: parsed.measurement.into_owned(), series, ts, cells }))
}

/// The gRPC cell value of a field.
fn cell_value(key: &str, value: &FieldValue<'_>) -> Result<Value, LpError> {
    Ok(match value {
        FieldValue::Float(f) => Value::F64Value(*f),
        FieldValue::Integer(i) => Value::I64Value(*i),
        FieldValue::Unsigned(u) => Value::I64Value(
            i64::try_from(*u).map_err(|_| err(format!("field {key:?}: {u}u is above the largest i64")))?,
        ),
        FieldValue::Boolean(b) => Value::BoolValue(*b),
        FieldValue::String(s) => Value::StringValue(s.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_fields_types_and_precision() {
        let row =
            parse_line(r#"env,site=b,room=a\ 1 temp=21.5,code=3i,ok=t,note="a \"q\"" 1700000000"#, "f", TsUnit::S)
                .expect("parses")
                .expect("a row");
        assert_eq!(row.table, "env");
        assert_eq!(row.series, "room=a 1,site=b");
        assert_eq!(row.ts, 1_700_000_000_000_000_000);
        let values: Vec<_> = row.cells.iter().map(|c| c.value.clone().expect("value")).collect();
        assert_eq!(
            values,
            vec![
                Value::F64Value(21.5),
                Value::I64Value(3),
                Value::BoolValue(true),
                Value::StringValue("a \"q\"".into())
            ]
        );
    }

    #[test]
    fn rejects_malformed_lines_and_skips_comments() {
        assert_eq!(parse_line("# c", "f", TsUnit::Ns), Ok(None));
        for bad in ["m", "m x", "m x=1i2", "m,t x=1", "m x=1 12a", "m x=1 2 3"] {
            assert!(parse_line(bad, "f", TsUnit::Ns).is_err(), "{bad}");
        }
    }
}
