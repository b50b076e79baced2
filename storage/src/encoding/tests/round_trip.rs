//! Every type and kind round-trips exactly, including special values, nulls and empty input.

use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};
use proptest::prelude::*;

use super::*;

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
}
