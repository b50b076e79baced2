//! The payload of a WAL record: one validated write batch, resolved to ids.
//!
//! The WAL frames, checksums and numbers records; this module owns what is inside. All integers
//! are little-endian; `varint` is unsigned LEB128; a bitmap holds bit `i` of row `i` in byte
//! `i / 8`, least significant bit first.
//!
//! ```text
//! payload := version:u8 (=1) n_series:varint series*
//! series  := table:varint key_len:varint key:[u8] n_rows:varint ts:[i64; n_rows]
//!            n_columns:varint column*
//! column  := family:varint column:varint type:u8 has_validity:u8
//!            [validity:bitmap(n_rows) if has_validity = 1]
//!            values
//! values  := f64: [f64; n_rows] | i64: [i64; n_rows] | bool: bitmap(n_rows)
//!          | string: (len:varint bytes:[u8])*n_rows
//! ```
//! Every row has a value slot, valid or not, so decoding needs no prefix sums. The decoder
//! bounds every count by the bytes that remain, so a corrupt length cannot allocate memory.

use crate::batch::ColumnValues;
use crate::catalog::{LoggedColumn, LoggedSeries};
use crate::codec::{ByteReader, DecodeError, put_str, put_varint};
use crate::schema::ColumnType;

const VERSION: u8 = 1;

/// Appends the payload for `series` to `out`.
pub(crate) fn encode(series: &[LoggedSeries], out: &mut Vec<u8>) {
    out.push(VERSION);
    put_varint(out, series.len() as u64);
    for s in series {
        put_varint(out, u64::from(s.table));
        put_str(out, &s.series);
        put_varint(out, s.ts.len() as u64);
        out.reserve(s.ts.len() * 8 * (1 + s.columns.len()));
        put_words(out, s.ts.iter().map(|t| t.to_le_bytes()));
        put_varint(out, s.columns.len() as u64);
        for c in &s.columns {
            put_varint(out, u64::from(c.family));
            put_varint(out, u64::from(c.column));
            out.push(c.values.column_type().tag());
            match &c.validity {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    put_bitmap(out, v);
                }
            }
            match &c.values {
                ColumnValues::F64(v) => put_words(out, v.iter().map(|x| x.to_le_bytes())),
                ColumnValues::I64(v) => put_words(out, v.iter().map(|x| x.to_le_bytes())),
                ColumnValues::Bool(v) => put_bitmap(out, v),
                ColumnValues::String(v) => v.iter().for_each(|x| put_str(out, x)),
            }
        }
    }
}

/// Decodes a payload written by [`encode`].
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<LoggedSeries>, DecodeError> {
    let mut r = ByteReader::new(bytes);
    let version = r.u8("payload version")?;
    if version != VERSION {
        return Err(r.error(format!("unknown payload version {version}, this build reads {VERSION}")));
    }
    let n_series = r.len(r.remaining(), "series count")?;
    let mut out = Vec::with_capacity(n_series);
    for _ in 0..n_series {
        let table = u32_of(&mut r, "table id")?;
        let series = r.str(r.remaining(), "series key")?.to_string();
        let n = r.len(r.remaining() / 8, "row count")?;
        let ts = r.bytes(n * 8, "timestamps")?.chunks_exact(8).map(le_i64).collect();
        let n_cols = r.len(r.remaining(), "column count")?;
        let mut columns = Vec::with_capacity(n_cols);
        for _ in 0..n_cols {
            let family = u32_of(&mut r, "family id")?;
            let column = u32_of(&mut r, "column id")?;
            let tag = r.u8("column type")?;
            let ty = ColumnType::from_tag(tag).ok_or_else(|| r.error(format!("unknown column type tag {tag}")))?;
            let validity = match r.u8("validity flag")? {
                0 => None,
                1 => Some(get_bitmap(&mut r, n, "validity")?),
                f => return Err(r.error(format!("validity flag must be 0 or 1, got {f}"))),
            };
            let values = match ty {
                ColumnType::F64 => ColumnValues::F64(
                    r.bytes(n * 8, "f64 values")?.chunks_exact(8).map(|c| f64::from_bits(le_i64(c) as u64)).collect(),
                ),
                ColumnType::I64 => {
                    ColumnValues::I64(r.bytes(n * 8, "i64 values")?.chunks_exact(8).map(le_i64).collect())
                }
                ColumnType::Bool => ColumnValues::Bool(get_bitmap(&mut r, n, "bool values")?),
                ColumnType::String => {
                    let mut v = Vec::with_capacity(n.min(r.remaining()));
                    for _ in 0..n {
                        v.push(r.str(r.remaining(), "string value")?.to_string());
                    }
                    ColumnValues::String(v)
                }
            };
            columns.push(LoggedColumn { family, column, values, validity });
        }
        out.push(LoggedSeries { table, series, ts, columns });
    }
    if !r.is_empty() {
        return Err(r.error(format!("{} trailing bytes after the last series", r.remaining())));
    }
    Ok(out)
}

fn le_i64(c: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(c);
    i64::from_le_bytes(b)
}

fn u32_of(r: &mut ByteReader<'_>, what: &str) -> Result<u32, DecodeError> {
    let v = r.varint(what)?;
    u32::try_from(v).map_err(|_| r.error(format!("{what} {v} does not fit 32 bits")))
}

/// Appends 8-byte words: grows `out` once and fills it, which compiles to a tight copy loop
/// (pushing word by word re-checks the capacity every time).
fn put_words(out: &mut Vec<u8>, words: impl ExactSizeIterator<Item = [u8; 8]>) {
    let start = out.len();
    out.resize(start + words.len() * 8, 0);
    for (dst, w) in out[start..].chunks_exact_mut(8).zip(words) {
        dst.copy_from_slice(&w);
    }
}

fn put_bitmap(out: &mut Vec<u8>, bits: &[bool]) {
    for chunk in bits.chunks(8) {
        out.push(chunk.iter().enumerate().fold(0u8, |b, (i, on)| b | (u8::from(*on) << i)));
    }
}

fn get_bitmap(r: &mut ByteReader<'_>, n: usize, what: &str) -> Result<Vec<bool>, DecodeError> {
    let bytes = r.bytes(n.div_ceil(8), what)?;
    Ok((0..n).map(|i| bytes.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1)).collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample() -> Vec<LoggedSeries> {
        vec![LoggedSeries {
            table: 3,
            series: "truck_7".into(),
            ts: vec![10, 5, i64::MIN + 1],
            columns: vec![
                LoggedColumn {
                    family: 1,
                    column: 0,
                    values: ColumnValues::F64(vec![1.5, f64::NAN, -0.0]),
                    validity: None,
                },
                LoggedColumn {
                    family: 1,
                    column: 2,
                    values: ColumnValues::I64(vec![1, 2, 3]),
                    validity: Some(vec![true, false, true]),
                },
                LoggedColumn {
                    family: 2,
                    column: 0,
                    values: ColumnValues::Bool(vec![true, false, true]),
                    validity: None,
                },
                LoggedColumn {
                    family: 2,
                    column: 1,
                    values: ColumnValues::String(vec!["a".into(), "".into(), "ü".into()]),
                    validity: None,
                },
            ],
        }]
    }

    #[test]
    fn round_trips_every_type() {
        let mut out = Vec::new();
        encode(&sample(), &mut out);
        let back = decode(&out).unwrap();
        assert_eq!(back[0].ts, sample()[0].ts);
        assert_eq!(back[0].columns[1..], sample()[0].columns[1..]);
        let ColumnValues::F64(f) = &back[0].columns[0].values else { panic!("type") };
        assert!(f[1].is_nan() && f[2].to_bits() == (-0.0f64).to_bits());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut out = Vec::new();
        encode(&sample(), &mut out);
        for cut in 0..out.len() {
            assert!(decode(&out[..cut]).is_err(), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes: Vec<u8>) {
            let _ = decode(&bytes);
        }

        #[test]
        fn flipped_bytes_never_panic(pos: usize, bit in 0u8..8) {
            let mut out = Vec::new();
            encode(&sample(), &mut out);
            let i = pos % out.len();
            out[i] ^= 1 << bit;
            let _ = decode(&out);
        }
    }
}
