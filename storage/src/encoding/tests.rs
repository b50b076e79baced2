//! Round-trip and corruption tests for the column encodings.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use proptest::prelude::*;

use super::*;
use crate::codec::{ByteReader, zigzag};

const LEVEL: i32 = 3;

fn round_trip(array: &dyn Array) -> ArrayRef {
    let mut out = Vec::new();
    encode_array(array, &mut out, LEVEL).expect("encode");
    let ty = match array.data_type() {
        DataType::Float64 => ColumnType::F64,
        DataType::Int64 => ColumnType::I64,
        DataType::Boolean => ColumnType::Bool,
        _ => ColumnType::String,
    };
    let back = decode_array(&out, ty, array.len()).expect("decode");
    assert_same(array, back.as_ref());
    back
}

/// Same length, same null positions, same values (floats compared by bits) in valid rows.
fn assert_same(a: &dyn Array, b: &dyn Array) {
    assert_eq!(a.len(), b.len(), "length");
    assert_eq!(a.data_type(), b.data_type(), "type");
    for i in 0..a.len() {
        assert_eq!(a.is_valid(i), b.is_valid(i), "validity of row {i}");
        if !a.is_valid(i) {
            continue;
        }
        match a.data_type() {
            DataType::Float64 => {
                let (x, y) = (
                    a.as_primitive::<Float64Type>(),
                    b.as_primitive::<Float64Type>(),
                );
                assert_eq!(
                    x.value(i).to_bits(),
                    y.value(i).to_bits(),
                    "row {i}: {} vs {}",
                    x.value(i),
                    y.value(i)
                );
            }
            DataType::Int64 => {
                assert_eq!(
                    a.as_primitive::<Int64Type>().value(i),
                    b.as_primitive::<Int64Type>().value(i),
                    "row {i}"
                );
            }
            DataType::Boolean => {
                assert_eq!(a.as_boolean().value(i), b.as_boolean().value(i), "row {i}")
            }
            _ => assert_eq!(
                a.as_string::<i32>().value(i),
                b.as_string::<i32>().value(i),
                "row {i}"
            ),
        }
    }
}

fn tag_of(array: &dyn Array) -> u8 {
    let mut out = Vec::new();
    encode_array(array, &mut out, LEVEL).expect("encode");
    out[0]
}

fn encoded_len(array: &dyn Array) -> usize {
    let mut out = Vec::new();
    encode_array(array, &mut out, LEVEL).expect("encode");
    out.len()
}

/// Small deterministic generator for the structured tests.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `series` random walks of `len` rows each, rounded to `decimals`, concatenated.
fn walks(series: usize, len: usize, sd: f64, decimals: i32) -> Vec<f64> {
    let mut rng = SplitMix(42);
    let p = 10f64.powi(decimals);
    let mut out = Vec::new();
    for _ in 0..series {
        let mut x = rng.unit() * 100.0;
        for _ in 0..len {
            x += rng.normal() * sd;
            out.push((x * p).round() / p);
        }
    }
    out
}

#[test]
fn regular_timestamps_cost_almost_nothing() {
    let ts: Vec<i64> = (0..8192)
        .map(|i| 1_704_067_200_000_000_000 + i * 10_000_000_000)
        .collect();
    let mut out = Vec::new();
    encode_ints(&ts, IntKind::Timestamp, &mut out, LEVEL);
    assert!(out.len() < 40, "{} bytes", out.len());
    assert_eq!(decode_ints(&out, ts.len()).unwrap(), ts);
}

#[test]
fn timestamps_of_several_series_stay_small() {
    let mut ts = Vec::new();
    for _ in 0..8 {
        ts.extend((0..1024).map(|i| 1_704_067_200_000_000_000 + i * 10_000_000_000));
    }
    let mut out = Vec::new();
    encode_ints(&ts, IntKind::Timestamp, &mut out, LEVEL);
    assert!(out.len() < 200, "{} bytes", out.len());
    assert_eq!(decode_ints(&out, ts.len()).unwrap(), ts);
}

#[test]
fn sequence_numbers_round_trip_small() {
    let seq: Vec<i64> = (1000..9192).collect();
    let mut out = Vec::new();
    encode_ints(&seq, IntKind::Sequence, &mut out, LEVEL);
    assert!(out.len() < 40, "{} bytes", out.len());
    assert_eq!(decode_ints(&out, seq.len()).unwrap(), seq);
}

#[test]
fn decimal_walks_use_decimal_encoding_and_compress() {
    let v = walks(8, 1024, 0.002, 3);
    let a = Float64Array::from(v);
    assert_eq!(tag_of(&a), tag::FLOAT_DECIMAL);
    round_trip(&a);
    let per_value = encoded_len(&a) as f64 / a.len() as f64;
    assert!(per_value < 0.6, "{per_value} bytes per value");
}

#[test]
fn wide_walks_split_low_bits_and_stay_near_entropy() {
    // sd 100 units: about 8.7 bits of entropy per value.
    let v = walks(8, 1024, 10.0, 1);
    let a = Float64Array::from(v);
    round_trip(&a);
    let per_value = encoded_len(&a) as f64 / a.len() as f64;
    assert!(per_value < 1.14, "{per_value} bytes per value");
}

#[test]
fn slowly_changing_values_pack_small_symbols() {
    // Steps of 0.2 units: deltas are mostly 0 and sometimes +-1 (about 0.8 bits of entropy),
    // below the 1 bit per value that byte-wise Huffman cannot go under.
    let v = walks(8, 1024, 0.002, 2);
    let a = Float64Array::from(v);
    round_trip(&a);
    let per_value = encoded_len(&a) as f64 / a.len() as f64;
    assert!(per_value < 0.125, "{per_value} bytes per value");
}

#[test]
fn special_floats_become_exceptions() {
    let mut v = walks(1, 1000, 0.5, 1);
    v[3] = -0.0;
    v[10] = f64::from_bits(0x7ff8_0000_dead_beef);
    v[11] = f64::INFINITY;
    v[12] = f64::NEG_INFINITY;
    v[500] = f64::MIN_POSITIVE / 8.0;
    v[999] = 0.1 + 0.2;
    let a = Float64Array::from(v);
    assert_eq!(tag_of(&a), tag::FLOAT_DECIMAL);
    round_trip(&a);
}

#[test]
fn non_decimal_floats_fall_back_to_xor() {
    let mut rng = SplitMix(7);
    let a = Float64Array::from((0..1000).map(|_| rng.normal()).collect::<Vec<_>>());
    assert_eq!(tag_of(&a), tag::FLOAT_XOR);
    round_trip(&a);
}

#[test]
fn sliced_arrays_with_nulls_round_trip() {
    let a = Float64Array::from(vec![
        Some(1.5),
        None,
        Some(2.5),
        Some(-3.0),
        None,
        Some(7.25),
    ]);
    round_trip(&a.slice(1, 4));
    let s = StringArray::from(vec![Some("a"), None, Some("bc"), Some("a"), None]);
    round_trip(&s.slice(1, 3));
    let b = BooleanArray::from(vec![Some(true), None, Some(false), Some(true)]);
    round_trip(&b.slice(1, 3));
}

#[test]
fn low_cardinality_strings_use_a_dictionary() {
    let v: Vec<String> = (0..4096).map(|i| format!("truck_{}", i / 512)).collect();
    let a = StringArray::from(v);
    assert_eq!(tag_of(&a), tag::STRING_DICT);
    round_trip(&a);
    assert!(encoded_len(&a) < 200, "{}", encoded_len(&a));
}

#[test]
fn rare_status_changes_compress_well() {
    let v: Vec<i64> = (0..8192).map(|i| (i / 700) % 5).collect();
    let a = Int64Array::from(v);
    round_trip(&a);
    assert!(encoded_len(&a) < 100, "{}", encoded_len(&a));
}

#[test]
fn unsupported_types_are_refused() {
    let a = arrow_array::Int32Array::from(vec![1, 2]);
    let mut out = Vec::new();
    assert!(matches!(
        encode_array(&a, &mut out, LEVEL),
        Err(EncodingError::UnsupportedType(_))
    ));
    assert!(out.is_empty());
}

#[test]
fn wrong_type_unknown_tag_and_trailing_bytes_are_errors() {
    let a = Int64Array::from(vec![1, 2, 3]);
    let mut out = Vec::new();
    encode_array(&a, &mut out, LEVEL).unwrap();
    assert!(matches!(
        decode_array(&out, ColumnType::F64, 3),
        Err(EncodingError::TypeMismatch {
            expected: ColumnType::F64,
            ..
        })
    ));
    let mut bad = out.clone();
    bad[0] = 200;
    assert!(matches!(
        decode_array(&bad, ColumnType::I64, 3),
        Err(EncodingError::UnknownTag { tag: 200, .. })
    ));
    let mut long = out.clone();
    long.push(0);
    assert!(matches!(
        decode_array(&long, ColumnType::I64, 3),
        Err(EncodingError::TrailingBytes { count: 1, .. })
    ));
    assert!(matches!(
        decode_array(&out, ColumnType::I64, 4),
        Err(EncodingError::LengthMismatch {
            what: "row count",
            expected: 4,
            got: 3
        })
    ));
}

#[test]
fn zstd_blocks_claiming_huge_output_are_rejected_before_allocating() {
    // tag STRING_PLAIN, 1 row, no nulls, lengths: no low bits, 3 FILL byte planes (0x7fffff), no
    // patches; then the bytes as a ZSTD block of a 2-byte frame claiming 8 MiB.
    let mut bytes = vec![tag::STRING_PLAIN, 1, 0, 0, 24, 0, 0xff, 0, 0xff, 0, 0x7f, 0];
    bytes.extend_from_slice(&[2, 2, 0x28, 0xb5]);
    let err = decode_array(&bytes, ColumnType::String, 1).unwrap_err();
    assert!(
        matches!(
            err,
            EncodingError::OutOfRange {
                what: "string bytes",
                got: 0x7f_ffff,
                max: 65536
            }
        ),
        "{err}"
    );
}

fn words_round_trip(words: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    planes::put_words(&mut out, words, LEVEL);
    let mut r = ByteReader::new(&out);
    let back = planes::read_words(&mut r, words.len(), "test").unwrap();
    assert!(r.is_empty(), "{} bytes left", r.remaining());
    assert_eq!(back.iter().map(|&x| x as u64).collect::<Vec<_>>(), words);
    out
}

#[test]
fn planes_pick_packed_symbols_split_bits_and_patches() {
    let mut rng = SplitMix(3);
    // Mostly 0..4 with a few huge outliers: one 2-bit plane plus patches.
    let small: Vec<u64> = (0..8192)
        .map(|i| {
            if i % 1000 == 7 {
                rng.next()
            } else {
                rng.next() % 3
            }
        })
        .collect();
    let enc = words_round_trip(&small);
    assert_eq!((enc[0], enc[1]), (0, 2), "b and q");
    // Zigzagged deltas of sd ~100: low bits split off.
    let wide: Vec<u64> = (0..8192)
        .map(|_| zigzag((rng.normal() * 100.0) as i64))
        .collect();
    let enc = words_round_trip(&wide);
    assert!(enc[0] > 0, "b = {}", enc[0]);
    // Full-width words: all eight byte planes, no patches.
    let full: Vec<u64> = (0..100).map(|_| rng.next() | (1 << 63)).collect();
    let enc = words_round_trip(&full);
    assert_eq!((enc[0], enc[1]), (0, 64));
    assert_eq!(words_round_trip(&[]).len(), 3);
    assert_eq!(words_round_trip(&[0; 5000]), vec![0, 0, 0]);
}

fn float_strategy() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![
        4 => (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
        1 => any::<u64>().prop_map(f64::from_bits),
        1 => prop::sample::select(vec![
            0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::from_bits(0x7ff0_0000_0000_0001),
            f64::from_bits(0xfff8_0000_0000_1234), f64::MIN_POSITIVE, 5e-324, -5e-324, f64::MAX, f64::MIN,
            f64::EPSILON, 4503599627370496.5, 9007199254740993.0, 1e300, 2251799813685247.0,
        ]),
    ]
}

fn with_nulls<T: std::fmt::Debug + Clone>(
    values: impl Strategy<Value = T> + Clone,
    max: usize,
) -> impl Strategy<Value = Vec<Option<T>>> {
    prop_oneof![
        prop::collection::vec(values.clone().prop_map(Some), 0..max),
        prop::collection::vec(prop::option::weighted(0.7, values.clone()), 0..max),
        prop::collection::vec(prop::option::weighted(0.02, values), 0..max),
    ]
}

fn string_strategy() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => prop::sample::select(vec!["", "a", "East", "West", "truck_12", "héllo", "日本"]).prop_map(String::from),
        2 => "\\PC{0,12}",
        1 => "[a-z]{200,2000}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn ints_round_trip(values in prop::collection::vec(
        prop_oneof![any::<i64>(), -5i64..5, Just(i64::MIN), Just(i64::MAX)], 0..600),
        ts in any::<bool>()) {
        let kind = if ts { IntKind::Timestamp } else { IntKind::Sequence };
        let mut out = Vec::new();
        encode_ints(&values, kind, &mut out, LEVEL);
        prop_assert_eq!(decode_ints(&out, values.len()).unwrap(), values);
    }

    #[test]
    fn jittered_timestamps_round_trip(start in any::<i64>(), step in 0i64..1_000_000,
        jitter in prop::collection::vec(-3i64..3, 0..2000)) {
        let ts: Vec<i64> = jitter.iter().enumerate()
            .map(|(i, j)| start.wrapping_add(step.wrapping_mul(i as i64)).wrapping_add(*j)).collect();
        let mut out = Vec::new();
        encode_ints(&ts, IntKind::Timestamp, &mut out, LEVEL);
        prop_assert_eq!(decode_ints(&out, ts.len()).unwrap(), ts);
    }

    #[test]
    fn floats_round_trip(values in with_nulls(float_strategy(), 700)) {
        round_trip(&Float64Array::from(values));
    }

    #[test]
    fn decimal_walks_round_trip(start in -1000i64..1000, steps in prop::collection::vec(-30i64..30, 1..3000),
        e in 0i32..8) {
        let p = 10f64.powi(e);
        let mut s = start;
        let v: Vec<f64> = steps.iter().map(|d| { s += d; s as f64 / p }).collect();
        round_trip(&Float64Array::from(v));
    }

    #[test]
    fn wide_int_walks_round_trip(start in any::<i64>(), steps in prop::collection::vec(-3000i64..3000, 1..3000)) {
        let mut s = start;
        let v: Vec<i64> = steps.iter().map(|d| { s = s.wrapping_add(*d); s }).collect();
        round_trip(&Int64Array::from(v.clone()));
        let mut out = Vec::new();
        encode_ints(&v, IntKind::Sequence, &mut out, LEVEL);
        prop_assert_eq!(decode_ints(&out, v.len()).unwrap(), v);
    }

    #[test]
    fn planes_round_trip(words in prop::collection::vec(prop_oneof![
        4 => 0u64..4, 2 => 0u64..300, 1 => 0u64..100_000, 1 => any::<u64>()], 0..3000)) {
        words_round_trip(&words);
    }

    #[test]
    fn i64_columns_round_trip(values in with_nulls(
        prop_oneof![any::<i64>(), 0i64..5, Just(i64::MIN), Just(i64::MAX)], 700)) {
        round_trip(&Int64Array::from(values));
    }

    #[test]
    fn bools_round_trip(values in with_nulls(any::<bool>(), 700)) {
        round_trip(&BooleanArray::from(values));
    }

    #[test]
    fn strings_round_trip(values in with_nulls(string_strategy(), 300)) {
        round_trip(&StringArray::from(values));
    }

    #[test]
    fn all_null_columns_round_trip(n in 0usize..300) {
        round_trip(&Float64Array::from(vec![None; n]));
        round_trip(&Int64Array::from(vec![None; n]));
        round_trip(&BooleanArray::from(vec![None; n]));
        round_trip(&StringArray::from(vec![None::<&str>; n]));
    }

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
            3 => (Arc::new(BooleanArray::from((0..n).map(|_| rng.next() % 3 == 0).collect::<Vec<_>>())), ColumnType::Bool),
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
