//! An OTLP `ExportMetricsServiceRequest` to the engine's columnar [`WriteBatch`].
//!
//! | OTLP | Isobar |
//! |---|---|
//! | metric name | table: `.`, `-` and `/` become `_` (`http.server.active` -> `http_server_active`) |
//! | resource + scope + data point attributes, sorted by key | series key `k1=v1,k2=v2` (none: the table name) |
//! | gauge / sum data point, `as_double` / `as_int` | column `value` (`f64` / `i64`) of the configured family |
//! | `time_unix_nano` | `ts` in ns; 0: the time of the request |
//! | histogram, exponential histogram, summary | not stored: counted in `partial_success` |
//!
//! A key set at several levels keeps the most specific value (data point over scope over
//! resource). Attribute values are written as text: strings as they are, booleans `true`/`false`,
//! integers and doubles in decimal; array, key-list and bytes values reject the data point. The
//! series key escapes `,`, `=` and `\` with a backslash, exactly like line-protocol tags.
//!
//! Whole-request errors (a metric name that makes no table name, a timestamp or series key out of
//! the engine's limits, one table receiving both double and int values) fail the request; data
//! points Isobar does not store are only counted, with the reasons, and the rest is written.

use std::collections::{BTreeMap, HashMap};

use isobar_storage::{ColumnType, ColumnValues, ColumnWrite, Limits, SeriesWrite, WriteBatch};
use isobar_storage::{NameKind, validate_name};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{NumberDataPoint, metric, number_data_point};

use super::error::OtlpError;
use crate::line_protocol::map::{MappedColumn, MappedTable, push_escaped};

/// The column every gauge and sum value goes to.
pub const VALUE_COLUMN: &str = "value";

/// Flag bit of a data point that carries no recorded value (`DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK`).
const NO_RECORDED_VALUE: u32 = 1;

/// How a request is mapped.
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpMapOptions {
    /// The column family of the `value` column.
    pub family: String,
    /// Timestamp (ns) of data points whose `time_unix_nano` is 0: the time the request arrived.
    pub now_ns: i64,
    /// The engine's limits (timestamp range, series key length).
    pub limits: Limits,
}

/// A mapped request: what to write and what was left out.
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpMapped {
    /// The batch to write atomically (empty when no data point is stored).
    pub batch: WriteBatch,
    /// The tables and the `value` column each receives.
    pub tables: Vec<MappedTable>,
    /// Data points in the batch.
    pub points: usize,
    /// Data points not stored (histograms, summaries, points without a value...).
    pub rejected: u64,
    /// Why they were not stored: one line per kind of reason, empty when none was rejected.
    pub rejection: String,
}

/// A series being filled: its table and rows.
struct SeriesAcc {
    table: usize,
    key: String,
    ts: Vec<i64>,
    values: ColumnValues,
}

/// Maps a whole request; whole-request errors fail it, unsupported points are counted.
pub fn map_request(request: &ExportMetricsServiceRequest, options: &OtlpMapOptions) -> Result<OtlpMapped, OtlpError> {
    let mut tables: Vec<MappedTable> = Vec::new();
    let mut table_index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<SeriesAcc> = Vec::new();
    let mut series_index: HashMap<(usize, String), usize> = HashMap::new();
    let mut rejections: BTreeMap<String, u64> = BTreeMap::new();
    let mut points = 0;
    for (ri, resource_metrics) in request.resource_metrics.iter().enumerate() {
        let resource_attrs = resource_metrics.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        for scope_metrics in &resource_metrics.scope_metrics {
            let scope_attrs = scope_metrics.scope.as_ref().map_or(&[][..], |s| &s.attributes[..]);
            for m in &scope_metrics.metrics {
                let data_points = match &m.data {
                    Some(metric::Data::Gauge(g)) => &g.data_points,
                    Some(metric::Data::Sum(s)) => &s.data_points,
                    other => {
                        let (kind, n) = match other {
                            Some(metric::Data::Histogram(h)) => ("histogram", h.data_points.len()),
                            Some(metric::Data::ExponentialHistogram(h)) => {
                                ("exponential histogram", h.data_points.len())
                            }
                            Some(metric::Data::Summary(s)) => ("summary", s.data_points.len()),
                            _ => ("empty", 0),
                        };
                        if n > 0 {
                            let reason = format!(
                                "{kind} data points (metric \"{}\") are not stored: Isobar stores gauge and sum data \
                                 points only",
                                m.name
                            );
                            *rejections.entry(reason).or_default() += n as u64;
                        }
                        continue;
                    }
                };
                if data_points.is_empty() {
                    continue;
                }
                let table_name = table_for(&m.name)?;
                let ti = match table_index.get(&table_name) {
                    Some(&i) => i,
                    None => {
                        table_index.insert(table_name.clone(), tables.len());
                        tables.push(MappedTable { name: table_name, line: ri + 1, columns: Vec::new() });
                        tables.len() - 1
                    }
                };
                for point in data_points {
                    let value = match point_value(point) {
                        Ok(v) => v,
                        Err(reason) => {
                            *rejections.entry(format!("metric \"{}\": {reason}", m.name)).or_default() += 1;
                            continue;
                        }
                    };
                    let key = match series_key(&tables[ti].name, [resource_attrs, scope_attrs, &point.attributes]) {
                        Ok(k) => k,
                        Err(reason) => {
                            *rejections.entry(format!("metric \"{}\": {reason}", m.name)).or_default() += 1;
                            continue;
                        }
                    };
                    if key.len() > options.limits.max_series_key_len {
                        return Err(OtlpError::SeriesKeyTooLong {
                            metric: m.name.clone(),
                            len: key.len(),
                            max: options.limits.max_series_key_len,
                        });
                    }
                    let ts = timestamp(point.time_unix_nano, &m.name, options)?;
                    let table = &mut tables[ti];
                    match table.columns.first() {
                        Some(c) if c.ty != value.ty() => {
                            return Err(OtlpError::TypeConflict {
                                table: table.name.clone(),
                                got: value.ty(),
                                expected: c.ty,
                                origin: "earlier in the request".into(),
                            });
                        }
                        Some(_) => {}
                        None => {
                            table.columns.push(MappedColumn { name: VALUE_COLUMN.into(), ty: value.ty(), line: ri + 1 })
                        }
                    }
                    let si = *series_index.entry((ti, key)).or_insert_with_key(|(_, key)| {
                        series.push(SeriesAcc { table: ti, key: key.clone(), ts: Vec::new(), values: value.empty() });
                        series.len() - 1
                    });
                    let acc = &mut series[si];
                    acc.ts.push(ts);
                    value.push(&mut acc.values);
                    points += 1;
                }
            }
        }
    }
    let rejected = rejections.values().sum();
    let rejection = rejections.iter().map(|(reason, n)| format!("{n} {reason}")).collect::<Vec<_>>().join("; ");
    let batch = WriteBatch {
        series: series
            .into_iter()
            .map(|s| SeriesWrite {
                table: tables[s.table].name.clone(),
                series: s.key,
                ts: s.ts,
                columns: vec![ColumnWrite {
                    family: options.family.clone(),
                    column: VALUE_COLUMN.into(),
                    values: s.values,
                    validity: None,
                    nulls: None,
                }],
            })
            .collect(),
    };
    tables.retain(|t| !t.columns.is_empty());
    Ok(OtlpMapped { batch, tables, points, rejected, rejection })
}

/// The table of metric `name`: `.`, `-` and `/` replaced by `_`, then checked as a table name.
pub fn table_for(name: &str) -> Result<String, OtlpError> {
    let table: String = name.chars().map(|c| if matches!(c, '.' | '-' | '/') { '_' } else { c }).collect();
    validate_name(NameKind::Table, &table)
        .map_err(|e| OtlpError::BadMetricName { metric: name.to_owned(), reason: e.to_string() })?;
    Ok(table)
}

/// The series key of a data point: the attributes of every level merged (later levels win),
/// sorted by key and escaped; `table` when there are none.
fn series_key<'a>(table: &str, levels: [&'a [KeyValue]; 3]) -> Result<String, String> {
    let mut merged: BTreeMap<&'a str, String> = BTreeMap::new();
    for attrs in levels {
        for kv in attrs {
            merged.insert(kv.key.as_str(), attribute_text(kv)?);
        }
    }
    if merged.is_empty() {
        return Ok(table.to_owned());
    }
    let mut key = String::new();
    for (i, (k, v)) in merged.iter().enumerate() {
        if i > 0 {
            key.push(',');
        }
        push_escaped(&mut key, k);
        key.push('=');
        push_escaped(&mut key, v);
    }
    Ok(key)
}

/// An attribute value as series-key text.
fn attribute_text(kv: &KeyValue) -> Result<String, String> {
    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
    Ok(match value {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::ArrayValue(_) | any_value::Value::KvlistValue(_) | any_value::Value::BytesValue(_)) => {
            return Err(format!(
                "data points with attribute \"{}\" holding an array, key-list or bytes value are not stored (series \
                 keys take strings, booleans and numbers)",
                kv.key
            ));
        }
    })
}

/// The time of a data point in ns, checked against the limits.
fn timestamp(time_unix_nano: u64, metric: &str, options: &OtlpMapOptions) -> Result<i64, OtlpError> {
    if time_unix_nano == 0 {
        return Ok(options.now_ns);
    }
    let (min, max) = (options.limits.min_ts, options.limits.max_ts);
    match i64::try_from(time_unix_nano) {
        Ok(ts) if (min..=max).contains(&ts) => Ok(ts),
        _ => Err(OtlpError::TimestampOutOfRange { metric: metric.to_owned(), ts: time_unix_nano, min, max }),
    }
}

/// A data point's value.
enum Value {
    F64(f64),
    I64(i64),
}

fn point_value(point: &NumberDataPoint) -> Result<Value, &'static str> {
    if point.flags & NO_RECORDED_VALUE != 0 {
        return Err("data points flagged \"no recorded value\" are not stored");
    }
    match point.value {
        Some(number_data_point::Value::AsDouble(d)) => Ok(Value::F64(d)),
        Some(number_data_point::Value::AsInt(i)) => Ok(Value::I64(i)),
        None => Err("data points without a value are not stored"),
    }
}

impl Value {
    fn ty(&self) -> ColumnType {
        match self {
            Value::F64(_) => ColumnType::F64,
            Value::I64(_) => ColumnType::I64,
        }
    }

    fn empty(&self) -> ColumnValues {
        match self {
            Value::F64(_) => ColumnValues::F64(Vec::new()),
            Value::I64(_) => ColumnValues::I64(Vec::new()),
        }
    }

    /// Appends to `values`, whose type the caller checked (the table's one column type).
    fn push(&self, values: &mut ColumnValues) {
        match (values, self) {
            (ColumnValues::F64(v), Value::F64(x)) => v.push(*x),
            (ColumnValues::I64(v), Value::I64(x)) => v.push(*x),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
