//! The time-series functions Isobar adds to DataFusion's:
//!
//! - `time_bucket(interval, ts [, origin])`: `date_bin` (the name TimescaleDB and QuestDB users
//!   type); `time_bucket(interval, ts, zone)`, TimescaleDB's form with a time zone: local days
//!   or calendar months ([`time_bucket`]).
//! - `date_trunc(unit, ts, zone)`, PostgreSQL's form with a time zone: the start of the local
//!   unit holding `ts`; `date_trunc(unit, ts)` stays DataFusion's ([`date_trunc`]).
//!
//! Both zone forms bucket with the engine's own arithmetic ([`crate::calendar`]), and
//! [`crate::rewrite`] hands a `GROUP BY` of them to the engine where it answers the same.
//! - `date_bin_gapfill(interval, ts [, origin])`: `date_bin` for a `GROUP BY` whose empty
//!   buckets are filled, over a bounded `ts` range; `locf(<aggregate>)` (last observation carried
//!   forward) and `interpolate(<aggregate>)` (linear) choose the fill, nulls otherwise. These
//!   three are answered by the engine's aggregate path ([`crate::rewrite`]); where a query cannot
//!   be answered there, evaluating them fails with a message saying what shape works, rather
//!   than returning unfilled buckets.

mod date_trunc;
mod time_bucket;

use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionState;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

/// `state` with Isobar's functions registered.
pub(crate) fn register(mut state: SessionState) -> SessionState {
    let time_bucket = ScalarUDF::new_from_impl(time_bucket::TimeBucket::new());
    let date_trunc = ScalarUDF::new_from_impl(date_trunc::DateTrunc::new());
    let gapfill = Marker {
        name: "date_bin_gapfill",
        signature: Signature::one_of(vec![TypeSignature::Any(2), TypeSignature::Any(3)], Volatility::Immutable),
        result_arg: 1,
    };
    let locf = Marker { name: "locf", signature: Signature::any(1, Volatility::Immutable), result_arg: 0 };
    let interpolate =
        Marker { name: "interpolate", signature: Signature::any(1, Volatility::Immutable), result_arg: 0 };
    for udf in [
        time_bucket,
        date_trunc,
        ScalarUDF::new_from_impl(gapfill),
        ScalarUDF::new_from_impl(locf),
        ScalarUDF::new_from_impl(interpolate),
    ] {
        // `date_trunc` replaces DataFusion's (which it calls for two arguments).
        let _ = state.register_udf(Arc::new(udf));
    }
    state
}

/// A function only the engine's aggregate path answers (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Marker {
    name: &'static str,
    signature: Signature,
    /// The argument whose type the result has.
    result_arg: usize,
}

impl ScalarUDFImpl for Marker {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        arg_types.get(self.result_arg).cloned().ok_or_else(|| {
            DataFusionError::Plan(format!("{} takes at least {} arguments", self.name, self.result_arg + 1))
        })
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Err(DataFusionError::Plan(format!(
            "{}() is answered by Isobar's aggregate path only: use it as SELECT [series,] \
             date_bin_gapfill(INTERVAL '1 hour', ts) AS t, locf(avg(x)) | interpolate(avg(x)) | avg(x) FROM <relation> \
             WHERE ts >= '<start>' AND ts < '<end>' [AND series ...] GROUP BY [series,] t, with avg, min, max, sum, \
             count, first_value or last_value of columns",
            self.name
        )))
    }
}

/// The argument types `udf` coerces `arg_types` to (for the forms a wrapper hands to DataFusion's
/// own function).
fn coerce_like(udf: &ScalarUDF, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let fields: Vec<FieldRef> = arg_types.iter().map(|t| Arc::new(Field::new("arg", t.clone(), true))).collect();
    Ok(fields_with_udf(&fields, udf)?.iter().map(|f| f.data_type().clone()).collect())
}

/// Whether `t` is text.
fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// The type a text argument (`what` of `function`) is taken as.
fn text_arg(function: &str, what: &str, t: &DataType) -> Result<DataType> {
    match t {
        t if is_text(t) => Ok(t.clone()),
        DataType::Null => Ok(DataType::Utf8),
        other => Err(DataFusionError::Plan(format!("{function}: the {what} is text, not {other}"))),
    }
}

/// The type a time argument of a zone form is taken as: `ts`'s own, `Timestamp(ns, "UTC")`.
fn time_arg(function: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 | DataType::Null => {
            Ok(crate::calendar::timestamp_type())
        }
        t if is_text(t) => Ok(crate::calendar::timestamp_type()),
        other => Err(DataFusionError::Plan(format!("{function}: the second argument is a timestamp, not {other}"))),
    }
}

/// The value of a constant argument (`what` of `function`), `None` when it is null.
fn constant<'a>(function: &str, what: &str, arg: &'a ColumnarValue) -> Result<Option<&'a ScalarValue>> {
    match arg {
        ColumnarValue::Scalar(s) if s.is_null() => Ok(None),
        ColumnarValue::Scalar(s) => Ok(Some(s)),
        ColumnarValue::Array(_) => {
            Err(DataFusionError::Plan(format!("{function}: the {what} must be a constant, not a column")))
        }
    }
}

/// A null bucket start for every row of `ts`.
fn nulls(ts: &ColumnarValue) -> Result<ColumnarValue> {
    let null = ScalarValue::TimestampNanosecond(None, Some("UTC".into()));
    Ok(match ts {
        ColumnarValue::Scalar(_) => ColumnarValue::Scalar(null),
        ColumnarValue::Array(a) => ColumnarValue::Array(null.to_array_of_size(a.len())?),
    })
}
