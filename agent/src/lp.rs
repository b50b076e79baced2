//! A minimal InfluxDB line protocol parser for the agent's line-protocol source (the server has
//! its own; this one only needs to turn a line into a row).
//!
//! `measurement[,tag=value...] field=value[,field=value...] [timestamp]` maps to: table =
//! measurement; series = the tags sorted by key as `k=v,k2=v2` (the measurement when there are
//! none); every field a column of `family`; `1.5` f64, `3i` i64, `t`/`true`/`f`/`false` bool,
//! `"text"` string; timestamp in `precision` (absent = arrival time). Backslash escapes commas,
//! spaces and equals signs in names and tag values; `\"` and `\\` inside strings.

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

/// Splits at unescaped `sep` outside double quotes.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let (mut out, mut start, mut escaped, mut quoted) = (Vec::new(), 0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses one line (`None` for blank lines and `#` comments).
pub fn parse_line(line: &str, family: &str, precision: TsUnit) -> Result<Option<Row>, LpError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let parts: Vec<&str> = split_unescaped(line, ' ').into_iter().filter(|p| !p.is_empty()).collect();
    let (key, fields, ts) = match parts.as_slice() {
        [k, f] => (*k, *f, None),
        [k, f, t] => (*k, *f, Some(*t)),
        _ => return Err(err(format!("expected `measurement[,tags] fields [ts]`, got {} parts", parts.len()))),
    };
    let mut key_parts = split_unescaped(key, ',').into_iter();
    let table = unescape(key_parts.next().unwrap_or_default());
    if table.is_empty() {
        return Err(err("empty measurement"));
    }
    let mut tags = Vec::new();
    for tag in key_parts {
        let kv = split_unescaped(tag, '=');
        let [k, v] = kv.as_slice() else { return Err(err(format!("tag {tag:?} is not key=value"))) };
        tags.push((unescape(k), unescape(v)));
    }
    tags.sort();
    let series = if tags.is_empty() {
        table.clone()
    } else {
        tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    };
    let mut cells = Vec::new();
    for field in split_unescaped(fields, ',') {
        let Some((k, v)) = field.split_once('=') else { return Err(err(format!("field {field:?} is not key=value"))) };
        cells.push(Cell { family: family.to_string(), column: unescape(k), value: Some(field_value(k, v)?) });
    }
    let ts = match ts {
        Some(t) => int_to_ns(t.parse().map_err(|_| err(format!("timestamp {t:?} is not an integer")))?, precision),
        None => now_ns(),
    };
    Ok(Some(Row { table, series, ts, cells }))
}

fn field_value(k: &str, v: &str) -> Result<Value, LpError> {
    if let Some(s) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Value::StringValue(unescape(s)));
    }
    if let Some(i) = v.strip_suffix('i') {
        return i.parse().map(Value::I64Value).map_err(|_| err(format!("field {k:?}: {v:?} is not an integer")));
    }
    match v {
        "t" | "T" | "true" | "True" | "TRUE" => Ok(Value::BoolValue(true)),
        "f" | "F" | "false" | "False" | "FALSE" => Ok(Value::BoolValue(false)),
        _ => v.parse().map(Value::F64Value).map_err(|_| err(format!("field {k:?}: {v:?} is not a value"))),
    }
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
