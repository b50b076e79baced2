//! Tests of read-request checking.

use isobar_storage::{SeriesSelector, TimeRange};

use super::*;

fn all() -> Option<pb::SeriesSelector> {
    Some(isobar_wire::selector::selector_to_proto(SeriesSelector::All))
}

fn bounded(from: i64, to: i64) -> Option<pb::TimeRange> {
    Some(pb::TimeRange { from_ns: Some(from), to_ns: Some(to) })
}

fn aggregation(function: pb::AggregateFunction, column: &str, alias: &str) -> pb::Aggregation {
    pb::Aggregation { function: function.into(), column: column.into(), alias: alias.into() }
}

fn agg_request(aggregations: Vec<pb::Aggregation>) -> pb::AggregateRequest {
    pb::AggregateRequest {
        table: "w".into(),
        selector: all(),
        range: bounded(0, 100),
        bucket_ns: 10,
        bucket_origin_ns: 5,
        aggregations,
        group_by: pb::GroupBy::None.into(),
        fill: pb::Fill::Previous.into(),
        ..Default::default()
    }
}

#[test]
fn scan_request_becomes_the_engine_request() {
    let request = pb::ScanRequest {
        table: "t".into(),
        selector: all(),
        range: Some(pb::TimeRange { from_ns: Some(5), to_ns: None }),
        columns: vec!["gps.lat".into(), "diag.*".into()],
        limit: 0,
        limit_per_series: 1,
        order: pb::Order::Desc.into(),
        batch_rows: 0,
    };
    let scan = scan_request(request).expect("valid");
    assert_eq!(scan.range, TimeRange::new(5, i64::MAX));
    assert_eq!(scan.columns, ["gps.lat", "diag.*"]);
    assert_eq!((scan.limit, scan.limit_per_series, scan.order), (None, Some(1), Order::Desc));
    assert_eq!(scan.batch_rows, DEFAULT_BATCH_ROWS);
}

#[test]
fn scan_batch_rows_are_clamped() {
    let request = |batch_rows| pb::ScanRequest { table: "t".into(), selector: all(), batch_rows, ..Default::default() };
    assert_eq!(scan_request(request(1)).expect("valid").batch_rows, 1);
    assert_eq!(scan_request(request(u32::MAX)).expect("valid").batch_rows, MAX_BATCH_ROWS);
    let limited = pb::ScanRequest { limit: 7, ..request(0) };
    assert_eq!(scan_request(limited).expect("valid").limit, Some(7));
}

#[test]
fn scan_errors_name_the_field() {
    let base = pb::ScanRequest { table: "t".into(), selector: all(), ..Default::default() };
    let no_selector = pb::ScanRequest { selector: None, ..base.clone() };
    assert_eq!(scan_request(no_selector), Err(RequestError::Selector(SelectorError::Missing)));
    let bad_column = pb::ScanRequest { columns: vec!["a.b".into(), "lat".into()], ..base.clone() };
    assert!(matches!(scan_request(bad_column), Err(RequestError::Column { index: 1, .. })));
    let bad_order = pb::ScanRequest { order: 9, ..base };
    assert_eq!(scan_request(bad_order), Err(RequestError::UnknownEnum { field: "order", value: 9 }));
}

#[test]
fn aggregate_request_becomes_a_query_with_output_names() {
    let request = agg_request(vec![
        aggregation(pb::AggregateFunction::Avg, "env.t", ""),
        aggregation(pb::AggregateFunction::Avg, "env.t", "mean_t"),
    ]);
    let query = aggregate_query(request).expect("valid");
    let names: Vec<String> = query.aggregations.iter().map(Aggregation::output_name).collect();
    assert_eq!(names, ["avg(env.t)", "mean_t"]);
    assert_eq!(query.bucket, Some(Bucket::fixed(10, 5)));
    assert_eq!((query.group_by, query.fill, query.push_down), (GroupBy::None, Fill::Previous, true));
}

#[test]
fn aggregate_errors() {
    use pb::AggregateFunction as F;
    assert_eq!(aggregate_query(agg_request(vec![])), Err(RequestError::NoAggregations));
    assert_eq!(
        aggregate_query(agg_request(vec![aggregation(F::Unspecified, "env.t", "")])),
        Err(RequestError::FunctionUnset { index: 0 })
    );
    assert_eq!(
        aggregate_query(agg_request(vec![aggregation(F::Sum, "env.t", ""), aggregation(F::Max, "env.*", "")])),
        Err(RequestError::WildcardAggregation { index: 1, column: "env.*".into() })
    );
    assert_eq!(
        aggregate_query(agg_request(vec![aggregation(F::Sum, "env.t", "x"), aggregation(F::Max, "env.t", "x")])),
        Err(RequestError::DuplicateOutput { name: "x".into() })
    );
    let negative = pb::AggregateRequest { bucket_ns: -1, ..agg_request(vec![aggregation(F::Sum, "env.t", "")]) };
    assert_eq!(aggregate_query(negative), Err(RequestError::NegativeBucket { bucket_ns: -1 }));
    let open = pb::AggregateRequest {
        range: Some(pb::TimeRange { from_ns: Some(0), to_ns: None }),
        ..agg_request(vec![aggregation(F::Sum, "env.t", "")])
    };
    assert_eq!(aggregate_query(open.clone()), Err(RequestError::FillNeedsBoundedRange));
    let open_no_fill = pb::AggregateRequest { fill: pb::Fill::None.into(), ..open };
    assert!(aggregate_query(open_no_fill).is_ok());
}

#[test]
fn latest_defaults_to_row_mode() {
    let request = pb::LatestRequest { table: "t".into(), selector: all(), ..Default::default() };
    let query = latest_query(request).expect("valid");
    assert_eq!((query.mode, query.range), (LatestMode::Row, TimeRange::ALL));
    let bad = pb::LatestRequest { table: "t".into(), selector: all(), mode: 7, ..Default::default() };
    assert_eq!(latest_query(bad), Err(RequestError::UnknownEnum { field: "mode", value: 7 }));
}

#[test]
fn calendar_buckets_carry_months_and_the_zone() {
    use pb::AggregateFunction as F;
    let monthly = pb::AggregateRequest {
        bucket_ns: 0,
        bucket_origin_ns: 0,
        bucket_months: 12,
        time_zone: "Europe/Berlin".into(),
        ..agg_request(vec![aggregation(F::Sum, "env.t", "")])
    };
    let query = aggregate_query(monthly).expect("query");
    assert_eq!(query.bucket, Some(Bucket::months(12, Some("Europe/Berlin".into()))));
    let daily = pb::AggregateRequest {
        bucket_ns: 86_400_000_000_000,
        bucket_origin_ns: 0,
        time_zone: "America/New_York".into(),
        ..agg_request(vec![aggregation(F::Sum, "env.t", "")])
    };
    let query = aggregate_query(daily).expect("query");
    assert_eq!(query.bucket, Some(Bucket::local_days(86_400_000_000_000, "America/New_York".into())));
    // Without a zone the request is exactly what it was before the fields existed.
    let fixed = aggregate_query(agg_request(vec![aggregation(F::Sum, "env.t", "")])).expect("query");
    assert_eq!(fixed.bucket, Some(Bucket::fixed(10, 5)));
}
