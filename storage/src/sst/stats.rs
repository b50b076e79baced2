//! Per-chunk column statistics: computed by the writer, stored in the index, used by queries to
//! skip chunks and to answer aggregates without decoding.
//!
//! Encoding of one column's statistics inside a chunk entry of the index (the column's type comes
//! from the schema, so it is not stored):
//!
//! ```text
//! non_null   varint
//! if non_null > 0:
//!   F64:    min f64 LE, max f64 LE, sum f64 LE
//!   I64:    min zvarint, max zvarint, sum zvarint128 (i128, exact)
//!   Bool:   trues varint
//!   String: (nothing)
//! ```
//!
//! Float semantics: `min`/`max` ignore NaN (they are NaN only when every value is NaN); `sum` is
//! the plain `f64` sum in row order and so is NaN if any value is. Integer sums are exact
//! (`i128` cannot overflow for fewer than 2^64 rows).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef};

use crate::codec::{ByteReader, DecodeError, put_varint, unzigzag, zigzag};
use crate::schema::ColumnType;

/// Statistics of one column within one chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnStats {
    /// Number of non-null cells.
    pub non_null: u64,
    /// Value statistics; [`ValueStats::None`] when `non_null` is 0 or the type has none.
    pub values: ValueStats,
}

/// Value statistics by column type.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueStats {
    /// No values, or a string column.
    None,
    /// `f64` column.
    F64 {
        /// Smallest non-NaN value (NaN if all are NaN).
        min: f64,
        /// Largest non-NaN value (NaN if all are NaN).
        max: f64,
        /// Sum in row order.
        sum: f64,
    },
    /// `i64` column.
    I64 {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Exact sum.
        sum: i128,
    },
    /// `bool` column.
    Bool {
        /// Number of `true` cells.
        trues: u64,
    },
}

impl ColumnStats {
    /// Statistics of a whole array (the column's slice of one chunk).
    pub fn of(array: &dyn Array) -> ColumnStats {
        let non_null = (array.len() - array.null_count()) as u64;
        if non_null == 0 {
            return ColumnStats { non_null, values: ValueStats::None };
        }
        let values = if let Some(a) = array.as_primitive_opt::<Float64Type>() {
            let mut it = a.iter().flatten();
            let first = it.next().unwrap_or(f64::NAN);
            let (min, max, sum) = it.fold((first, first, first), |(lo, hi, s), v| (lo.min(v), hi.max(v), s + v));
            ValueStats::F64 { min, max, sum }
        } else if let Some(a) = array.as_primitive_opt::<Int64Type>() {
            let (min, max, sum) = a
                .iter()
                .flatten()
                .fold((i64::MAX, i64::MIN, 0i128), |(lo, hi, s), v| (lo.min(v), hi.max(v), s + i128::from(v)));
            ValueStats::I64 { min, max, sum }
        } else if let Some(a) = array.as_boolean_opt() {
            ValueStats::Bool { trues: a.true_count() as u64 }
        } else {
            ValueStats::None
        };
        ColumnStats { non_null, values }
    }

    /// Statistics of an array, or all-null statistics when the column is absent.
    pub fn of_optional(array: Option<&ArrayRef>) -> ColumnStats {
        array.map_or(ColumnStats { non_null: 0, values: ValueStats::None }, |a| ColumnStats::of(a.as_ref()))
    }

    /// Statistics of the concatenation of the rows `self` and `other` describe (for example all
    /// chunks of a series in a time bucket). Exact except for `f64` sums, whose rounding depends
    /// on the order of additions.
    pub fn merge(&mut self, other: &ColumnStats) {
        self.non_null += other.non_null;
        self.values = match (&self.values, &other.values) {
            (ValueStats::None, v) | (v, ValueStats::None) => v.clone(),
            (ValueStats::F64 { min: a, max: b, sum: c }, ValueStats::F64 { min: x, max: y, sum: z }) => {
                ValueStats::F64 { min: a.min(*x), max: b.max(*y), sum: c + z }
            }
            (ValueStats::I64 { min: a, max: b, sum: c }, ValueStats::I64 { min: x, max: y, sum: z }) => {
                ValueStats::I64 { min: *a.min(x), max: *b.max(y), sum: c + z }
            }
            (ValueStats::Bool { trues: a }, ValueStats::Bool { trues: b }) => ValueStats::Bool { trues: a + b },
            (mine, _) => mine.clone(),
        };
    }

    /// Equality that compares floats by their bits (so NaN statistics equal themselves).
    pub fn same_as(&self, other: &ColumnStats) -> bool {
        let values = match (&self.values, &other.values) {
            (ValueStats::F64 { min: a, max: b, sum: c }, ValueStats::F64 { min: x, max: y, sum: z }) => {
                [a, b, c].iter().zip([x, y, z]).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            (a, b) => a == b,
        };
        self.non_null == other.non_null && values
    }

    /// Appends the encoding (see the module doc).
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.non_null);
        if self.non_null == 0 {
            return;
        }
        match &self.values {
            ValueStats::None => {}
            ValueStats::F64 { min, max, sum } => {
                for v in [min, max, sum] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            ValueStats::I64 { min, max, sum } => {
                put_varint(out, zigzag(*min));
                put_varint(out, zigzag(*max));
                put_varint128(out, ((*sum << 1) ^ (*sum >> 127)) as u128);
            }
            ValueStats::Bool { trues } => put_varint(out, *trues),
        }
    }

    /// Reads statistics of a column of type `ty` in a chunk of `rows` rows.
    pub fn decode(r: &mut ByteReader<'_>, ty: ColumnType, rows: u64) -> Result<ColumnStats, DecodeError> {
        let non_null = r.varint("non-null count")?;
        if non_null > rows {
            return Err(r.error(format!("non-null count {non_null} exceeds the chunk's {rows} rows")));
        }
        if non_null == 0 {
            return Ok(ColumnStats { non_null, values: ValueStats::None });
        }
        let values = match ty {
            ColumnType::F64 => {
                ValueStats::F64 { min: r.f64("f64 min")?, max: r.f64("f64 max")?, sum: r.f64("f64 sum")? }
            }
            ColumnType::I64 => {
                let min = unzigzag(r.varint("i64 min")?);
                let max = unzigzag(r.varint("i64 max")?);
                let z = read_varint128(r, "i64 sum")?;
                ValueStats::I64 { min, max, sum: ((z >> 1) as i128) ^ -((z & 1) as i128) }
            }
            ColumnType::Bool => {
                let trues = r.varint("true count")?;
                if trues > non_null {
                    return Err(r.error(format!("true count {trues} exceeds non-null count {non_null}")));
                }
                ValueStats::Bool { trues }
            }
            ColumnType::String => ValueStats::None,
        };
        Ok(ColumnStats { non_null, values })
    }
}

/// Appends an unsigned LEB128 varint of up to 128 bits.
fn put_varint128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint written by [`put_varint128`] (at most 19 bytes).
fn read_varint128(r: &mut ByteReader<'_>, what: &str) -> Result<u128, DecodeError> {
    let mut value = 0u128;
    for shift in (0..133).step_by(7) {
        let byte = r.u8(what)?;
        if shift == 126 && byte > 0x03 {
            break;
        }
        value |= u128::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(r.error(format!("{what}: varint longer than 128 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint128_round_trips(v: u128) {
            let mut out = Vec::new();
            put_varint128(&mut out, v);
            let mut r = ByteReader::new(&out);
            prop_assert_eq!(read_varint128(&mut r, "v").unwrap(), v);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn i64_stats_round_trip(min: i64, max: i64, sum: i128, non_null in 1u64..100) {
            let s = ColumnStats { non_null, values: ValueStats::I64 { min, max, sum } };
            let mut out = Vec::new();
            s.encode(&mut out);
            let mut r = ByteReader::new(&out);
            prop_assert_eq!(ColumnStats::decode(&mut r, ColumnType::I64, 100).unwrap(), s);
        }
    }

    #[test]
    fn merge_equals_stats_of_concatenation() {
        let a = arrow_array::Int64Array::from(vec![Some(3), None, Some(i64::MAX)]);
        let b = arrow_array::Int64Array::from(vec![Some(i64::MAX), Some(-4)]);
        let all = arrow_array::Int64Array::from(vec![Some(3), None, Some(i64::MAX), Some(i64::MAX), Some(-4)]);
        let mut s = ColumnStats::of(&a);
        s.merge(&ColumnStats::of(&b));
        assert_eq!(s, ColumnStats::of(&all));
        assert_eq!(s.values, ValueStats::I64 { min: -4, max: i64::MAX, sum: 2 * i128::from(i64::MAX) - 1 });
    }
}
