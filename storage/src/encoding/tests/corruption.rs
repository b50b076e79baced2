//! Errors for malformed input; random and damaged bytes never panic.

use std::sync::Arc;

use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};
use proptest::prelude::*;

use super::*;

#[test]
fn unsupported_types_are_refused() {
    let a = arrow_array::Int32Array::from(vec![1, 2]);
    let mut out = Vec::new();
    assert!(matches!(encode_array(&a, &mut out, LEVEL), Err(EncodingError::UnsupportedType(_))));
    assert!(out.is_empty());
}

#[test]
fn wrong_type_unknown_tag_and_trailing_bytes_are_errors() {
    let a = Int64Array::from(vec![1, 2, 3]);
    let mut out = Vec::new();
    encode_array(&a, &mut out, LEVEL).unwrap();
    assert!(matches!(
        decode_array(&out, ColumnType::F64, 3),
        Err(EncodingError::TypeMismatch { expected: ColumnType::F64, .. })
    ));
    let mut bad = out.clone();
    bad[0] = 200;
    assert!(matches!(decode_array(&bad, ColumnType::I64, 3), Err(EncodingError::UnknownTag { tag: 200, .. })));
    let mut long = out.clone();
    long.push(0);
    assert!(matches!(decode_array(&long, ColumnType::I64, 3), Err(EncodingError::TrailingBytes { count: 1, .. })));
    assert!(matches!(
        decode_array(&out, ColumnType::I64, 4),
        Err(EncodingError::LengthMismatch { what: "row count", expected: 4, got: 3 })
    ));
}

#[test]
fn zstd_blocks_claiming_huge_output_are_rejected_before_allocating() {
    // tag STRING_PLAIN, 1 row, no nulls, lengths: no low bits, 3 FILL byte planes (0x7fffff), no
    // patches; then the bytes as a ZSTD pack of a 2-byte frame claiming 8 MiB.
    let mut bytes = vec![tag::STRING_PLAIN, 1, 0, 0, 24, 0, 0xff, 0, 0xff, 0, 0x7f, 0];
    bytes.extend_from_slice(&[2, 2, 0x28, 0xb5]);
    let err = decode_array(&bytes, ColumnType::String, 1).unwrap_err();
    assert!(matches!(err, EncodingError::OutOfRange { what: "string bytes", got: 0x7f_ffff, max: 65536 }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), n in 0usize..5000,
        first in 0u8..10) {
        let mut bytes = bytes;
        if let Some(b) = bytes.first_mut() { *b = first; }
        let _ = decode_ints(&bytes, n);
        for ty in ColumnType::ALL {
            if let Ok(a) = decode_array(&bytes, ty, n) {
                prop_assert_eq!(a.len(), n);
            }
        }
    }

    #[test]
    fn damaged_encodings_never_panic(seed in any::<u64>(), which in 0usize..5, cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4)) {
        let mut rng = SplitMix(seed);
        let n = 300;
        let (array, ty): (ArrayRef, ColumnType) = match which {
            0 => (Arc::new(Float64Array::from(walks(2, n / 2, 0.5, 2))), ColumnType::F64),
            1 => (Arc::new(Float64Array::from((0..n).map(|_| rng.normal()).collect::<Vec<_>>())), ColumnType::F64),
            2 => (Arc::new(Int64Array::from((0..n).map(|i| if i % 7 == 0 { None } else { Some(rng.next() as i64 % 50) }).collect::<Vec<_>>())), ColumnType::I64),
            3 => (Arc::new(BooleanArray::from((0..n).map(|_| rng.next().is_multiple_of(3)).collect::<Vec<_>>())), ColumnType::Bool),
            _ => (Arc::new(StringArray::from((0..n).map(|_| format!("s{}", rng.next() % 40)).collect::<Vec<_>>())), ColumnType::String),
        };
        let mut out = Vec::new();
        encode_array(array.as_ref(), &mut out, LEVEL).unwrap();
        let truncated = &out[..cut.index(out.len())];
        prop_assert!(decode_array(truncated, ty, n).is_err());
        let mut flipped = out.clone();
        for (i, bit) in &flips {
            flipped[i.index(out.len())] ^= 1 << bit;
        }
        if let Ok(a) = decode_array(&flipped, ty, n) {
            prop_assert_eq!(a.len(), n);
        }
        let ts: Vec<i64> = (0..n as i64).map(|i| i * 1000 + (rng.next() % 3) as i64).collect();
        let mut enc = Vec::new();
        encode_ints(&ts, IntKind::Timestamp, &mut enc, LEVEL);
        prop_assert!(decode_ints(&enc[..cut.index(enc.len())], n).is_err());
        let mut flipped = enc.clone();
        for (i, bit) in &flips {
            flipped[i.index(enc.len())] ^= 1 << bit;
        }
        if let Ok(v) = decode_ints(&flipped, n) {
            prop_assert_eq!(v.len(), n);
        }
    }
}
