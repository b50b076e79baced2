//! The time-series functions Isobar adds to DataFusion's:
//!
//! - `time_bucket(interval, ts [, origin])`: an alias of `date_bin` (the name TimescaleDB and
//!   QuestDB users type).
//! - `date_bin_gapfill(interval, ts [, origin])`: `date_bin` for a `GROUP BY` whose empty
//!   buckets are filled, over a bounded `ts` range; `locf(<aggregate>)` (last observation carried
//!   forward) and `interpolate(<aggregate>)` (linear) choose the fill, nulls otherwise. These
//!   three are answered by the engine's aggregate path ([`crate::rewrite`]); where a query cannot
//!   be answered there, evaluating them fails with a message saying what shape works, rather
//!   than returning unfilled buckets.

use std::sync::Arc;

use arrow_schema::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionState;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

/// `state` with Isobar's functions registered.
pub(crate) fn register(mut state: SessionState) -> SessionState {
    let date_bin = datafusion::functions::datetime::date_bin();
    let time_bucket = date_bin.as_ref().clone().with_aliases(["time_bucket"]);
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
        ScalarUDF::new_from_impl(gapfill),
        ScalarUDF::new_from_impl(locf),
        ScalarUDF::new_from_impl(interpolate),
    ] {
        // Re-registering date_bin under its aliases only adds the new name.
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
