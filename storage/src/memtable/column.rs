//! Growable typed column buffers of a memtable series, and gathering them into Arrow arrays.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow_buffer::{BooleanBuffer, BooleanBufferBuilder, NullBuffer};

use crate::batch::ColumnValues;
use crate::schema::ColumnType;

/// One column of one series in a memtable: a value per row and, once some row is null, a
/// validity bit per row. Dense columns (the common case for sensor data) never build a bitmap.
#[derive(Debug)]
pub(crate) struct ColumnBuffer {
    values: Values,
    /// `None` while every row has a value.
    validity: Option<BooleanBufferBuilder>,
    /// Bytes of string contents held (string columns only).
    string_bytes: usize,
}

#[derive(Debug)]
enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    String(Vec<String>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::String(v) => v.len(),
        }
    }
}

impl ColumnBuffer {
    /// A column of type `ty` whose first `rows` rows are null.
    pub(crate) fn new(ty: ColumnType, rows: usize) -> Self {
        let values = match ty {
            ColumnType::F64 => Values::F64(vec![0.0; rows]),
            ColumnType::I64 => Values::I64(vec![0; rows]),
            ColumnType::Bool => Values::Bool(vec![false; rows]),
            ColumnType::String => Values::String(vec![String::new(); rows]),
        };
        let mut buffer = Self { values, validity: None, string_bytes: 0 };
        if rows > 0 {
            buffer.bitmap(0).append_n(rows, false);
        }
        buffer
    }

    /// The validity bitmap, built on first use with the `valid_rows` rows before it all valid.
    fn bitmap(&mut self, valid_rows: usize) -> &mut BooleanBufferBuilder {
        self.validity.get_or_insert_with(|| {
            let mut b = BooleanBufferBuilder::new(valid_rows.max(64));
            b.append_n(valid_rows, true);
            b
        })
    }

    /// Appends `n` null rows.
    pub(crate) fn push_nulls(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self.len();
        match &mut self.values {
            Values::F64(v) => v.resize(v.len() + n, 0.0),
            Values::I64(v) => v.resize(v.len() + n, 0),
            Values::Bool(v) => v.resize(v.len() + n, false),
            Values::String(v) => v.resize(v.len() + n, String::new()),
        }
        self.bitmap(before).append_n(n, false);
    }

    /// Appends the values of a validated write (types already checked).
    pub(crate) fn push(&mut self, values: &ColumnValues, validity: Option<&[bool]>) {
        let n = values.len();
        let before = self.len();
        match (&mut self.values, values) {
            (Values::F64(dst), ColumnValues::F64(src)) => dst.extend_from_slice(src),
            (Values::I64(dst), ColumnValues::I64(src)) => dst.extend_from_slice(src),
            (Values::Bool(dst), ColumnValues::Bool(src)) => dst.extend_from_slice(src),
            (Values::String(dst), ColumnValues::String(src)) => {
                for (i, s) in src.iter().enumerate() {
                    let valid = validity.is_none_or(|v| v.get(i).copied().unwrap_or(false));
                    self.string_bytes += if valid { s.len() } else { 0 };
                    dst.push(if valid { s.clone() } else { String::new() });
                }
            }
            // Validation guarantees matching types; a mismatch here is a bug, so keep the rows
            // aligned with nulls rather than corrupting neighbouring data.
            _ => {
                debug_assert!(false, "column type mismatch after validation");
                self.push_nulls(n);
                return;
            }
        }
        match validity.filter(|v| !v.iter().take(n).all(|b| *b) || v.len() < n) {
            None => {
                if let Some(b) = &mut self.validity {
                    b.append_n(n, true);
                }
            }
            Some(v) => {
                let bits = self.bitmap(before);
                for i in 0..n {
                    bits.append(v.get(i).copied().unwrap_or(false));
                }
            }
        }
    }

    /// Heap memory held: the allocated capacity of the value vector (growth slack included, so
    /// the memtable budget counts what the allocator really handed out), string contents and
    /// the validity bitmap.
    pub(crate) fn heap_bytes(&self) -> usize {
        let values = match &self.values {
            Values::F64(v) => v.capacity() * 8,
            Values::I64(v) => v.capacity() * 8,
            Values::Bool(v) => v.capacity(),
            Values::String(v) => v.capacity() * std::mem::size_of::<String>() + self.string_bytes,
        };
        values + self.validity.as_ref().map_or(0, |b| b.capacity() / 8)
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// True when row `i` has a value.
    pub(crate) fn is_valid(&self, i: usize) -> bool {
        self.validity.as_ref().is_none_or(|b| b.get_bit(i))
    }

    /// The rows `start..end` in order, as an Arrow array.
    pub(crate) fn slice_to_array(&self, start: usize, end: usize) -> ArrayRef {
        let nulls = self.nulls(start..end);
        match &self.values {
            Values::F64(v) => Arc::new(Float64Array::new(rows(v, start, end).to_vec().into(), nulls)),
            Values::I64(v) => Arc::new(Int64Array::new(rows(v, start, end).to_vec().into(), nulls)),
            Values::Bool(v) => Arc::new(BooleanArray::new(BooleanBuffer::from(rows(v, start, end)), nulls)),
            Values::String(v) => strings(rows(v, start, end).iter().map(String::as_str), nulls),
        }
    }

    /// The rows at `picks` in order; `picks[i] = None` makes a null slot.
    pub(crate) fn gather_to_array(&self, picks: &[Option<usize>]) -> ArrayRef {
        let valid: Vec<bool> = picks.iter().map(|p| p.is_some_and(|i| self.is_valid(i))).collect();
        let nulls = Some(NullBuffer::from(valid)).filter(|n| n.null_count() > 0);
        let at = |i: &Option<usize>| i.unwrap_or(0);
        match &self.values {
            Values::F64(v) => Arc::new(Float64Array::new(picks.iter().map(|i| value_at(v, at(i))).collect(), nulls)),
            Values::I64(v) => Arc::new(Int64Array::new(picks.iter().map(|i| value_at(v, at(i))).collect(), nulls)),
            Values::Bool(v) => {
                let values: Vec<bool> = picks.iter().map(|i| value_at(v, at(i))).collect();
                Arc::new(BooleanArray::new(BooleanBuffer::from(values), nulls))
            }
            Values::String(v) => strings(picks.iter().map(|i| v.get(at(i)).map_or("", String::as_str)), nulls),
        }
    }

    fn nulls(&self, range: std::ops::Range<usize>) -> Option<NullBuffer> {
        let validity = self.validity.as_ref()?;
        let len = range.len();
        let first_byte = range.start / 8;
        let last_byte = range.end.div_ceil(8).min(validity.as_slice().len());
        let bytes = validity.as_slice().get(first_byte..last_byte.max(first_byte)).unwrap_or_default().to_vec();
        let bits = BooleanBuffer::new(bytes.into(), range.start % 8, len);
        Some(NullBuffer::new(bits)).filter(|n| n.null_count() > 0)
    }
}

/// Rows `start..end` of `v` (none when the range is outside it).
fn rows<T>(v: &[T], start: usize, end: usize) -> &[T] {
    v.get(start..end).unwrap_or_default()
}

/// Row `i` of `v` (the default value when `i` is outside it; its slot is null then).
fn value_at<T: Copy + Default>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or_default()
}

fn strings<'a>(values: impl Iterator<Item = &'a str>, nulls: Option<NullBuffer>) -> ArrayRef {
    let plain = StringArray::from_iter_values(values);
    Arc::new(StringArray::new(plain.offsets().clone(), plain.values().clone(), nulls))
}
