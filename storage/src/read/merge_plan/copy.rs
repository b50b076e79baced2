//! Copying the stretches of a merged order into one primitive column (`f64`, `i64`).
//!
//! `MutableArrayData::try_extend` goes through boxed closures for values and validity on every
//! stretch, which costs more than the copy itself when late rows cut a big source into a hundred
//! short stretches. For the primitive types every merged column of a time series mostly is, a
//! stretch is one `extend_from_slice` of values and, only when a source has gaps, one append of
//! validity bits.

use std::sync::Arc;

use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};

use super::Stretch;

/// The column made of `stretches` of `sources` (one per run; `None` where the run lacks the
/// column, whose stretches become nulls), `rows` long. `None` when a source is not a
/// `PrimitiveArray<T>` or a stretch lies outside its source (the caller then copies generically).
pub(super) fn copy_primitive<T: ArrowPrimitiveType>(
    sources: &[Option<&ArrayRef>],
    stretches: &[Stretch],
    rows: usize,
) -> Option<ArrayRef> {
    let mut typed: Vec<Option<&PrimitiveArray<T>>> = Vec::with_capacity(sources.len());
    for s in sources {
        typed.push(match s {
            Some(a) => Some(a.as_any().downcast_ref::<PrimitiveArray<T>>()?),
            None => None,
        });
    }
    let with_nulls = typed.iter().any(|a| a.is_none_or(|a| a.null_count() > 0));
    let mut values: Vec<T::Native> = Vec::with_capacity(rows);
    let mut validity = with_nulls.then(|| BooleanBufferBuilder::new(rows));
    for s in stretches {
        match typed.get(s.run).copied().flatten() {
            Some(a) => {
                values.extend_from_slice(a.values().get(s.first..s.first + s.len)?);
                if let Some(v) = &mut validity {
                    match a.nulls() {
                        Some(n) => v.append_buffer(&n.inner().slice(s.first, s.len)),
                        None => v.append_n(s.len, true),
                    }
                }
            }
            None => {
                values.resize(values.len() + s.len, T::Native::default());
                if let Some(v) = &mut validity {
                    v.append_n(s.len, false);
                }
            }
        }
    }
    let nulls = validity.map(|mut v| NullBuffer::new(v.finish()));
    Some(Arc::new(PrimitiveArray::<T>::new(values.into(), nulls)))
}
