//! Unit tests of the OTLP mapping.

use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics, Sum, metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::*;

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }) }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn point(ts: u64, value: number_data_point::Value, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint { attributes, time_unix_nano: ts, value: Some(value), ..Default::default() }
}

fn request(resource: Vec<KeyValue>, scope: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: resource, ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope { attributes: scope, ..Default::default() }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric { name: name.into(), data: Some(metric::Data::Gauge(Gauge { data_points: points })), ..Default::default() }
}

fn options() -> OtlpMapOptions {
    OtlpMapOptions { family: "metrics".into(), now_ns: 42, limits: Limits::default() }
}

#[test]
fn attributes_of_every_level_merge_sorted_and_escaped_with_the_most_specific_winning() {
    let p = point(
        5,
        number_data_point::Value::AsDouble(1.5),
        vec![text("host", "a,b"), kv("core", any_value::Value::IntValue(3)), text("service.name", "override")],
    );
    let req = request(
        vec![text("service.name", "api"), kv("up", any_value::Value::BoolValue(true))],
        vec![text("lib", "x=y")],
        vec![gauge("system.cpu-usage", vec![p])],
    );
    let mapped = map_request(&req, &options()).expect("maps");
    let s = &mapped.batch.series[0];
    assert_eq!(s.table, "system_cpu_usage");
    assert_eq!(s.series, r"core=3,host=a\,b,lib=x\=y,service.name=override,up=true");
    assert_eq!(s.ts, vec![5]);
    assert_eq!(s.columns[0].values, ColumnValues::F64(vec![1.5]));
    assert_eq!((s.columns[0].family.as_str(), s.columns[0].column.as_str()), ("metrics", "value"));
}

#[test]
fn points_group_by_series_and_time_zero_is_now() {
    let sum = Metric {
        name: "requests".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![
                point(0, number_data_point::Value::AsInt(7), vec![text("code", "200")]),
                point(10, number_data_point::Value::AsInt(1), vec![text("code", "500")]),
                point(20, number_data_point::Value::AsInt(9), vec![text("code", "200")]),
            ],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    let mapped = map_request(&request(vec![], vec![], vec![sum]), &options()).expect("maps");
    assert_eq!(mapped.points, 3);
    assert_eq!(mapped.batch.series.len(), 2);
    let ok = &mapped.batch.series[0];
    assert_eq!((ok.series.as_str(), ok.ts.clone()), ("code=200", vec![42, 20]));
    assert_eq!(ok.columns[0].values, ColumnValues::I64(vec![7, 9]));
    assert_eq!(mapped.tables[0].columns[0].ty, ColumnType::I64);
}

#[test]
fn histograms_and_unusable_points_are_counted_not_written() {
    let histogram = Metric {
        name: "latency".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint::default(), HistogramDataPoint::default()],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    };
    let array = kv("tags", any_value::Value::ArrayValue(ArrayValue { values: vec![] }));
    let no_value = NumberDataPoint { time_unix_nano: 1, ..Default::default() };
    let flagged = NumberDataPoint { flags: 1, ..point(1, number_data_point::Value::AsDouble(0.0), vec![]) };
    let req = request(
        vec![],
        vec![],
        vec![
            histogram,
            gauge("temp", vec![point(1, number_data_point::Value::AsDouble(2.0), vec![]), no_value, flagged]),
            gauge("other", vec![point(1, number_data_point::Value::AsDouble(2.0), vec![array])]),
        ],
    );
    let mapped = map_request(&req, &options()).expect("maps");
    assert_eq!((mapped.points, mapped.rejected), (1, 5));
    assert!(mapped.rejection.contains("2 histogram data points (metric \"latency\")"), "{}", mapped.rejection);
    assert!(mapped.rejection.contains("array"), "{}", mapped.rejection);
    assert_eq!(mapped.batch.series.len(), 1);
    assert_eq!(mapped.batch.series[0].series, "temp");
    assert_eq!(mapped.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["temp"]);
}

#[test]
fn whole_request_errors_name_the_metric() {
    let one = || vec![point(1, number_data_point::Value::AsInt(1), vec![])];
    let bad_name = request(vec![], vec![], vec![gauge("9lives", one())]);
    let err = map_request(&bad_name, &options()).expect_err("bad table name");
    assert!(matches!(&err, OtlpError::BadMetricName { metric, .. } if metric == "9lives"), "{err}");

    let late =
        request(vec![], vec![], vec![gauge("t", vec![point(u64::MAX, number_data_point::Value::AsInt(1), vec![])])]);
    let err = map_request(&late, &options()).expect_err("timestamp");
    assert!(err.to_string().contains("time_unix_nano 18446744073709551615"), "{err}");

    let mixed = request(
        vec![],
        vec![],
        vec![gauge(
            "t",
            vec![
                point(1, number_data_point::Value::AsInt(1), vec![]),
                point(2, number_data_point::Value::AsDouble(1.0), vec![]),
            ],
        )],
    );
    let err = map_request(&mixed, &options()).expect_err("mixed types");
    assert!(matches!(err, OtlpError::TypeConflict { got: ColumnType::F64, expected: ColumnType::I64, .. }), "{err}");

    let long = request(vec![text("k", &"x".repeat(2000))], vec![], vec![gauge("t", one())]);
    assert!(matches!(map_request(&long, &options()), Err(OtlpError::SeriesKeyTooLong { .. })));
}
