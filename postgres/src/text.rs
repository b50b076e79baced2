//! PostgreSQL's own text forms for the values whose text `pgwire` writes differently: a float8
//! `12` (not `12.0`), `1e+20` (not `1e20`), `Infinity`; a timestamptz `2023-11-14 22:13:20+00`
//! (fraction only when there is one, without trailing zeros). psql, `\copy`, CSV exports and
//! drivers that read text then show exactly what PostgreSQL would.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::messages::data::DataRow;

/// What to rewrite in a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fix {
    Keep,
    Float,
    Time,
}

/// The fix of each field of a result.
pub(crate) fn fixes(fields: &Arc<Vec<FieldInfo>>) -> Option<Arc<Vec<Fix>>> {
    let fixes: Vec<Fix> = fields
        .iter()
        .map(|f| match (f.format(), f.datatype()) {
            (FieldFormat::Text, t) if *t == Type::FLOAT8 || *t == Type::FLOAT4 => Fix::Float,
            (FieldFormat::Text, t) if *t == Type::TIMESTAMPTZ || *t == Type::TIMESTAMP || *t == Type::TIME => Fix::Time,
            _ => Fix::Keep,
        })
        .collect();
    fixes.iter().any(|f| *f != Fix::Keep).then(|| Arc::new(fixes))
}

/// `row` with its fields rewritten by `fixes`.
pub(crate) fn apply(row: DataRow, fixes: &[Fix]) -> DataRow {
    let mut data = BytesMut::with_capacity(row.data.len());
    let mut rest: &[u8] = &row.data;
    for fix in fixes {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else { return row };
        let len = i32::from_be_bytes(*len);
        let Ok(n) = usize::try_from(len) else {
            data.put_i32(len);
            rest = tail;
            continue;
        };
        let Some((value, tail)) = (n <= tail.len()).then(|| tail.split_at(n)) else { return row };
        let fixed: Option<Vec<u8>> = match fix {
            Fix::Keep => None,
            Fix::Float => float(value),
            Fix::Time => time(value),
        };
        let value = fixed.as_deref().unwrap_or(value);
        data.put_i32(i32::try_from(value.len()).unwrap_or(i32::MAX));
        data.put_slice(value);
        rest = tail;
    }
    DataRow::new(data, row.field_count)
}

/// A float's PostgreSQL text, when it differs.
fn float(value: &[u8]) -> Option<Vec<u8>> {
    match value {
        b"inf" => return Some(b"Infinity".to_vec()),
        b"-inf" => return Some(b"-Infinity".to_vec()),
        _ => {}
    }
    let text = std::str::from_utf8(value).ok()?;
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mantissa = mantissa.strip_suffix(".0").unwrap_or(mantissa);
    let mut out = mantissa.to_owned();
    if let Some(exponent) = exponent {
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent.trim_start_matches('+')),
        };
        out.push('e');
        out.push(sign);
        if digits.len() < 2 {
            out.push('0');
        }
        out.push_str(digits);
    }
    (out.as_bytes() != value).then(|| out.into_bytes())
}

/// A time's PostgreSQL text: the fraction without trailing zeros, none when zero.
fn time(value: &[u8]) -> Option<Vec<u8>> {
    let dot = value.iter().rposition(|b| *b == b'.')?;
    let digits = value[dot + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
    let fraction = &value[dot + 1..dot + 1 + digits];
    let kept = fraction.iter().rposition(|b| *b != b'0').map_or(0, |i| i + 1);
    if kept == digits {
        return None;
    }
    let mut out = value[..dot].to_vec();
    if kept > 0 {
        out.push(b'.');
        out.extend_from_slice(&fraction[..kept]);
    }
    out.extend_from_slice(&value[dot + 1 + digits..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_postgres_writes_them() {
        let f = |s: &str| float(s.as_bytes()).map(|v| String::from_utf8(v).unwrap()).unwrap_or_else(|| s.to_owned());
        assert_eq!(f("12.0"), "12");
        assert_eq!(f("11.5"), "11.5");
        assert_eq!(f("-3.0"), "-3");
        assert_eq!(f("1e20"), "1e+20");
        assert_eq!(f("1.5e-7"), "1.5e-07");
        assert_eq!(f("1.2345e123"), "1.2345e+123");
        assert_eq!(f("inf"), "Infinity");
        assert_eq!(f("NaN"), "NaN");
        assert_eq!(f("0"), "0");
    }

    #[test]
    fn times_drop_zero_fractions() {
        let t = |s: &str| time(s.as_bytes()).map(|v| String::from_utf8(v).unwrap()).unwrap_or_else(|| s.to_owned());
        assert_eq!(t("2023-11-14 22:13:20.000000+00"), "2023-11-14 22:13:20+00");
        assert_eq!(t("2023-11-14 22:13:20.500000+00"), "2023-11-14 22:13:20.5+00");
        assert_eq!(t("2023-11-14 22:13:20.123456+05:30"), "2023-11-14 22:13:20.123456+05:30");
        assert_eq!(t("2023-11-14 22:13:20.000000"), "2023-11-14 22:13:20");
        assert_eq!(t("22:13:20.000000"), "22:13:20");
    }

    #[test]
    fn rows_keep_nulls_and_other_fields() {
        let mut data = BytesMut::new();
        for v in [Some(&b"KSEA"[..]), None, Some(b"12.0"), Some(b"2023-11-14 22:13:20.000000+00")] {
            match v {
                Some(v) => {
                    data.put_i32(v.len() as i32);
                    data.put_slice(v);
                }
                None => data.put_i32(-1),
            }
        }
        let row = apply(DataRow::new(data, 4), &[Fix::Keep, Fix::Float, Fix::Float, Fix::Time]);
        let mut expected = BytesMut::new();
        expected.put_i32(4);
        expected.put_slice(b"KSEA");
        expected.put_i32(-1);
        expected.put_i32(2);
        expected.put_slice(b"12");
        expected.put_i32(22);
        expected.put_slice(b"2023-11-14 22:13:20+00");
        assert_eq!(row.data, expected);
    }
}
