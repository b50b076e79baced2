//! OpenTelemetry metrics (OTLP, `opentelemetry.proto.collector.metrics.v1`): the mapping of an
//! `ExportMetricsServiceRequest` to one engine write. The gRPC `MetricsService` lives in the
//! server crate; this module has no network code. `docs/protocols.md` has the mapping with
//! examples.
//!
//! - [`map`]: request -> columnar [`WriteBatch`](isobar_storage::WriteBatch) (metric -> table,
//!   attributes -> series key, `value` column), histograms and summaries counted as rejected.
//! - [`apply`]: mapping against the database's limits, catalog checks (after the caller's
//!   authorization), table creation, the atomic write.
//! - [`error`]: whole-request refusals.
//!
//! ```
//! use isobar_ingest::otlp::{OtlpMapOptions, map_request};
//! use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
//! use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
//! use opentelemetry_proto::tonic::metrics::v1::{
//!     Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
//! };
//!
//! let point = NumberDataPoint {
//!     attributes: vec![KeyValue {
//!         key: "room".into(),
//!         value: Some(AnyValue { value: Some(any_value::Value::StringValue("lab".into())) }),
//!     }],
//!     time_unix_nano: 1_700_000_000_000_000_000,
//!     value: Some(number_data_point::Value::AsDouble(21.5)),
//!     ..Default::default()
//! };
//! let metric = Metric {
//!     name: "room.temperature".into(),
//!     data: Some(metric::Data::Gauge(Gauge { data_points: vec![point] })),
//!     ..Default::default()
//! };
//! let request = ExportMetricsServiceRequest {
//!     resource_metrics: vec![ResourceMetrics {
//!         scope_metrics: vec![ScopeMetrics { metrics: vec![metric], ..Default::default() }],
//!         ..Default::default()
//!     }],
//! };
//! let options = OtlpMapOptions { family: "metrics".into(), now_ns: 0, limits: Default::default() };
//! let mapped = map_request(&request, &options).unwrap();
//! let series = &mapped.batch.series[0];
//! assert_eq!((series.table.as_str(), series.series.as_str()), ("room_temperature", "room=lab"));
//! assert_eq!((mapped.points, mapped.rejected), (1, 0));
//! ```

pub mod apply;
pub mod error;
pub mod map;

pub use apply::{OtlpOptions, OtlpWrite, apply, check_catalog, map, prepare, write_metrics};
pub use error::OtlpError;
pub use map::{OtlpMapOptions, OtlpMapped, VALUE_COLUMN, map_request, table_for};
