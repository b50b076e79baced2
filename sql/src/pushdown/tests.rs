use datafusion::logical_expr::{col, lit};
use datafusion::prelude::Expr;

use super::*;

fn ts(ns: i64) -> Expr {
    lit(ScalarValue::TimestampNanosecond(Some(ns), Some("UTC".into())))
}

#[test]
fn series_and_time_conditions_are_accepted_and_combined() {
    let filters = vec![
        col("series").in_list(vec![lit("b"), lit("a"), lit("c")], false),
        col("series").gt_eq(lit("b")),
        col("ts").gt_eq(ts(10)),
        col("ts").lt(ts(20)),
        ts(15).gt(col("ts")),
    ];
    assert!(filters.iter().all(|f| accepts(f) == TableProviderFilterPushDown::Exact));
    let pushed = Pushed::from_filters(&filters);
    assert_eq!(pushed.range, TimeRange { from: 10, to: 15 });
    let plan = pushed.series_plan();
    assert_eq!(plan.selectors, vec![SeriesSelector::Exact("b".into()), SeriesSelector::Exact("c".into())]);
    assert!(plan.post.is_empty());
}

#[test]
fn like_with_a_literal_prefix_reads_that_prefix_exactly_or_inexactly() {
    use TableProviderFilterPushDown::{Exact, Inexact, Unsupported};
    assert_eq!(accepts(&col("series").like(lit("truck%"))), Exact);
    let plan = Pushed::from_filters(&[col("series").like(lit("truck%"))]).series_plan();
    assert_eq!(plan.selectors, vec![SeriesSelector::Prefix("truck".into())]);
    // `_` is a wildcard: the engine reads prefix "truck", DataFusion applies the pattern.
    assert_eq!(accepts(&col("series").like(lit("truck_%"))), Inexact);
    let plan = Pushed::from_filters(&[col("series").like(lit("truck_0%"))]).series_plan();
    assert_eq!(plan.selectors, vec![SeriesSelector::Prefix("truck".into())]);
    assert_eq!(accepts(&col("series").like(lit("exact"))), Exact);
    assert_eq!(accepts(&col("series").like(lit("%truck"))), Unsupported);
    assert_eq!(accepts(&col("series").not_like(lit("truck%"))), Unsupported);
}

#[test]
fn other_columns_and_disjunctions_are_left_to_datafusion() {
    let unsupported = |e: Expr| accepts(&e) == TableProviderFilterPushDown::Unsupported;
    assert!(unsupported(col("velocity").gt(lit(1.0))));
    assert!(unsupported(col("series").eq(lit("a")).or(col("velocity").gt(lit(1.0)))));
    assert!(unsupported(col("series").eq(lit("a")).or(col("series").gt(lit("b")))));
    assert!(unsupported(col("ts").not_eq(ts(1))));
}

#[test]
fn a_disjunction_of_series_keys_is_a_key_set() {
    let either = col("series").eq(lit("b")).or(col("series").eq(lit("a")).or(col("series").eq(lit("c"))));
    assert_eq!(accepts(&either), TableProviderFilterPushDown::Exact);
    let plan = Pushed::from_filters(&[either]).series_plan();
    assert_eq!(plan.selectors, ["a", "b", "c"].map(|k| SeriesSelector::Exact(k.into())).to_vec());
}

#[test]
fn contradictory_conditions_select_nothing() {
    assert!(Pushed::from_filters(&[col("series").eq(lit("a")), col("series").eq(lit("b"))]).is_empty());
    assert!(Pushed::from_filters(&[col("ts").gt(ts(10)), col("ts").lt(ts(5))]).is_empty());
}

#[test]
fn series_ranges_are_inclusive_and_exclusive_as_written() {
    let plan = Pushed::from_filters(&[col("series").gt(lit("a")), col("series").lt_eq(lit("c"))]).series_plan();
    assert_eq!(plan.selectors, vec![SeriesSelector::Range { start: Some("a\0".into()), end: None }]);
    assert_eq!(plan.post, vec![SeriesSelector::Range { start: None, end: Some("c\0".into()) }]);
}
