//! `time_bucket(interval, ts [, origin | zone])`: with a timestamp (or no) third argument,
//! DataFusion's `date_bin`; with a time zone (text: an IANA name or an offset), TimescaleDB's
//! form: buckets of whole local days (counted from 1970-01-01, local) or of calendar months
//! (from January 1970), as the engine's `--bucket 1d` / `1mo` with `--tz`.
//!
//! Text that is not a zone but a timestamp (`'2000-01-01T00:00:00Z'`) is still an origin, as it
//! was when `time_bucket` was only `date_bin`: zone names and timestamps do not overlap.

use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, IntervalUnit};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::{coerce_like, constant, is_text, nulls, time_arg};
use crate::calendar::{Calendar, interval_parts, text, timestamp_type};

/// The function; see the module docs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TimeBucket {
    /// DataFusion's `date_bin`, for the forms without a zone.
    date_bin: Arc<ScalarUDF>,
    signature: Signature,
}

impl TimeBucket {
    pub(super) fn new() -> Self {
        Self {
            date_bin: datafusion::functions::datetime::date_bin(),
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Whether a call with these argument types is the zone form (text third argument).
fn zone_form(arg_types: &[DataType]) -> bool {
    matches!(arg_types, [_, _, t] if is_text(t) || t.is_null())
}

/// What the third argument of the zone form says.
enum Third {
    Zone,
    Origin(i64),
}

/// `text` as a zone or, failing that, an origin timestamp.
fn third(text: &str) -> Result<Third> {
    match isobar_query::parse_time_zone(text) {
        Ok(_) => Ok(Third::Zone),
        Err(reason) => match arrow_cast::parse::string_to_timestamp_nanos(text) {
            Ok(origin) => Ok(Third::Origin(origin)),
            Err(_) => Err(DataFusionError::Plan(format!(
                "time_bucket: {reason}; an origin is a timestamp (TIMESTAMPTZ '2000-01-01T00:00:00Z')"
            ))),
        },
    }
}

/// An interval for an error message: `'1 months 2 days'`, `'3600 s'`.
fn written(value: &ScalarValue) -> String {
    if let Some(t) = text(value) {
        return format!("'{t}'");
    }
    let Some((months, days, nanos)) = interval_parts(value) else { return value.to_string() };
    let mut parts = Vec::new();
    if months != 0 {
        parts.push(format!("{months} months"));
    }
    if days != 0 {
        parts.push(format!("{days} days"));
    }
    if nanos != 0 || parts.is_empty() {
        parts.push(format!("{} s", nanos as f64 / 1e9));
    }
    format!("'{}'", parts.join(" "))
}

/// The buckets of `interval` in zone `name`, or the error saying what is accepted.
fn calendar(interval: &ScalarValue, name: &str) -> Result<Calendar> {
    let parts = interval_parts(interval).ok_or_else(|| {
        DataFusionError::Plan(format!("time_bucket: {} is not an interval ('1 day', '1 month')", written(interval)))
    })?;
    Calendar::interval(parts, &written(interval), name)
}

impl ScalarUDFImpl for TimeBucket {
    fn name(&self) -> &str {
        "time_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() > 3 {
            return Err(DataFusionError::Plan(
                "time_bucket takes (interval, ts [, origin | zone]): a time zone takes no origin, its days and \
                 months start where the calendar says"
                    .into(),
            ));
        }
        let [width, ts, _] = arg_types else { return coerce_like(&self.date_bin, arg_types) };
        if !zone_form(arg_types) {
            return coerce_like(&self.date_bin, arg_types);
        }
        let interval = match width {
            DataType::Interval(_) | DataType::Null => DataType::Interval(IntervalUnit::MonthDayNano),
            t if is_text(t) => DataType::Interval(IntervalUnit::MonthDayNano),
            other => return Err(DataFusionError::Plan(format!("time_bucket: the width is an interval, not {other}"))),
        };
        Ok(vec![interval, time_arg("time_bucket", ts)?, DataType::Utf8])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if zone_form(arg_types) { Ok(timestamp_type()) } else { self.date_bin.return_type(arg_types) }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        if !zone_form(&types) {
            return self.date_bin.return_field_from_args(args);
        }
        // Constants are checked while planning, so a wrong zone or interval fails before any read.
        let interval = args.scalar_arguments.first().copied().flatten();
        let third_text = args.scalar_arguments.get(2).copied().flatten().and_then(text);
        if let Some(name) = third_text
            && let Third::Zone = third(name)?
            && let Some(interval) = interval.filter(|v| !v.is_null())
        {
            calendar(interval, name)?;
        }
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(self.name(), timestamp_type(), nullable)))
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(|a| a.data_type()).collect();
        if !zone_form(&types) {
            return self.date_bin.invoke_with_args(args);
        }
        let [interval, ts, zone] = args.args.as_slice() else { return self.date_bin.invoke_with_args(args) };
        let interval = constant("time_bucket", "width", interval)?;
        let zone = constant("time_bucket", "time zone", zone)?;
        let (Some(interval), Some(name)) = (interval, zone.and_then(text)) else { return nulls(ts) };
        match third(name)? {
            Third::Zone => calendar(interval, name)?.apply(ts),
            Third::Origin(origin) => {
                let origin = ScalarValue::TimestampNanosecond(Some(origin), Some("UTC".into()));
                if let Some(field) = args.arg_fields.get_mut(2) {
                    *field = Arc::new(Field::new("origin", origin.data_type(), false));
                }
                if let Some(arg) = args.args.get_mut(2) {
                    *arg = ColumnarValue::Scalar(origin);
                }
                self.date_bin.invoke_with_args(args)
            }
        }
    }

    fn output_ordering(&self, input: &[ExprProperties]) -> Result<SortProperties> {
        self.date_bin.output_ordering(input)
    }
}
