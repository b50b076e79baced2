//! `date_trunc(unit, ts, zone)`: PostgreSQL 12's three-argument form, the start (a timestamp
//! in UTC) of the local `unit` of `zone` holding `ts`; units `microsecond` to `year`, zones as
//! `--tz` takes them (an IANA name or an offset). `date_trunc(unit, ts)` is DataFusion's,
//! unchanged: `ts`'s own zone, UTC for Isobar's `ts`.

use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::{coerce_like, constant, nulls, text_arg, time_arg};
use crate::calendar::{Calendar, Unit, text, timestamp_type, zone};

/// The function; see the module docs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct DateTrunc {
    /// DataFusion's, for two arguments.
    inner: Arc<ScalarUDF>,
    signature: Signature,
    aliases: Vec<String>,
}

impl DateTrunc {
    pub(super) fn new() -> Self {
        let inner = datafusion::functions::datetime::date_trunc();
        let aliases = inner.aliases().to_vec();
        Self { inner, signature: Signature::user_defined(Volatility::Immutable), aliases }
    }
}

impl ScalarUDFImpl for DateTrunc {
    fn name(&self) -> &str {
        "date_trunc"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [unit, ts, zone] => Ok(vec![
                text_arg("date_trunc", "unit", unit)?,
                time_arg("date_trunc", ts)?,
                text_arg("date_trunc", "time zone", zone)?,
            ]),
            _ => coerce_like(&self.inner, arg_types),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.len() {
            3 => Ok(timestamp_type()),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.len() != 3 {
            return self.inner.return_field_from_args(args);
        }
        // Constants are checked while planning, so a wrong unit or zone fails before any read.
        if let Some(unit) = args.scalar_arguments.first().copied().flatten().and_then(text) {
            Unit::parse(unit)?;
        }
        if let Some(name) = args.scalar_arguments.get(2).copied().flatten().and_then(text) {
            zone("date_trunc", name)?;
        }
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(self.name(), timestamp_type(), nullable)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [unit, ts, zone_name] = args.args.as_slice() else { return self.inner.invoke_with_args(args) };
        let unit = constant("date_trunc", "unit", unit)?;
        let zone_name = constant("date_trunc", "time zone", zone_name)?;
        let (Some(unit), Some(zone_name)) = (unit.and_then(text), zone_name.and_then(text)) else {
            return nulls(ts);
        };
        Calendar::truncation(Unit::parse(unit)?, zone_name)?.apply(ts)
    }

    fn output_ordering(&self, input: &[ExprProperties]) -> Result<SortProperties> {
        match input {
            [unit, ts, zone] => Ok(
                if unit.sort_properties == SortProperties::Singleton
                    && zone.sort_properties == SortProperties::Singleton
                {
                    ts.sort_properties
                } else {
                    SortProperties::Unordered
                },
            ),
            _ => self.inner.output_ordering(input),
        }
    }
}
