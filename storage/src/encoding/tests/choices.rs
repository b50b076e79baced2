//! Which encoding each kind of data gets, and how small it is.

use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};

use super::*;
use crate::codec::zigzag;

#[test]
fn regular_timestamps_cost_almost_nothing() {
    let ts: Vec<i64> = (0..8192).map(|i| 1_704_067_200_000_000_000 + i * 10_000_000_000).collect();
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
    let a = Float64Array::from(vec![Some(1.5), None, Some(2.5), Some(-3.0), None, Some(7.25)]);
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
fn planes_pick_packed_symbols_split_bits_and_patches() {
    let mut rng = SplitMix(3);
    // Mostly 0..4 with a few huge outliers: one 2-bit plane plus patches.
    let small: Vec<u64> = (0..8192).map(|i| if i % 1000 == 7 { rng.next() } else { rng.next() % 3 }).collect();
    let enc = words_round_trip(&small);
    assert_eq!((enc[0], enc[1]), (0, 2), "b and q");
    // Zigzagged deltas of sd ~100: low bits split off.
    let wide: Vec<u64> = (0..8192).map(|_| zigzag((rng.normal() * 100.0) as i64)).collect();
    let enc = words_round_trip(&wide);
    assert!(enc[0] > 0, "b = {}", enc[0]);
    // Full-width words: all eight byte planes, no patches.
    let full: Vec<u64> = (0..100).map(|_| rng.next() | (1 << 63)).collect();
    let enc = words_round_trip(&full);
    assert_eq!((enc[0], enc[1]), (0, 64));
    assert_eq!(words_round_trip(&[]).len(), 3);
    assert_eq!(words_round_trip(&[0; 5000]), vec![0, 0, 0]);
}

#[test]
fn high_cardinality_strings_are_plain_and_compressed() {
    let v: Vec<String> = (0..4096).map(|i| format!("device-{i:05}.eu-west-1.fleet.example")).collect();
    let raw: usize = v.iter().map(String::len).sum();
    let a = StringArray::from(v);
    assert_eq!(tag_of(&a), tag::STRING_PLAIN);
    round_trip(&a);
    assert!(encoded_len(&a) * 5 < raw, "{} of {raw} bytes", encoded_len(&a));
}
