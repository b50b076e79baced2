//! Functions PostgreSQL clients call that neither DataFusion nor `datafusion-pg-catalog` has:
//! `version()` naming a PostgreSQL version (SQLAlchemy parses it), `to_regtype`,
//! `pg_get_serial_sequence` (Isobar has no sequences: NULL), `pg_collation_is_visible` and
//! `json_build_object` (SQLAlchemy's column reflection), `current_setting` (Grafana asks for
//! `server_version_num`; it answers the server's settings, not a session's `SET`).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, Int32Array, StringArray};
use arrow_schema::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use pgwire::api::Type;

/// What `version()` answers: the PostgreSQL version first (drivers parse it), then Isobar's.
pub(crate) fn version_string() -> String {
    format!("PostgreSQL {} (Isobar {}) on {}", crate::SERVER_VERSION, env!("CARGO_PKG_VERSION"), std::env::consts::ARCH)
}

/// Registers the functions of this module in `ctx`.
pub(crate) fn register(ctx: &SessionContext) {
    let version = version_string();
    ctx.register_udf(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(version.clone()))))),
    ));
    ctx.register_udf(create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(|args| {
            let names = strings(args, 0, "to_regtype")?;
            let oids: Int32Array = names.iter().map(|n| n.and_then(builtin_type_oid)).collect();
            Ok(ColumnarValue::Array(Arc::new(oids)))
        }),
    ));
    ctx.register_udf(create_udf(
        "pg_get_serial_sequence",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))),
    ));
    ctx.register_udf(create_udf(
        "pg_collation_is_visible",
        vec![DataType::Int32],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(|args| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let n = arrays.first().map_or(1, |a| a.len());
            Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(vec![true; n]))))
        }),
    ));
    ctx.register_udf(ScalarUDF::from(JsonBuildObject::new()));
    ctx.register_udf(create_udf(
        "current_setting",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|args| {
            let names = strings(args, 0, "current_setting")?;
            let mut values = Vec::with_capacity(names.len());
            for name in names.iter() {
                let Some(name) = name else {
                    values.push(None);
                    continue;
                };
                match crate::session::show(&std::collections::HashMap::new(), name) {
                    Some(v) => values.push(Some(v)),
                    None => {
                        return Err(DataFusionError::Plan(format!("unrecognized configuration parameter \"{name}\"")));
                    }
                }
            }
            Ok(ColumnarValue::Array(Arc::new(StringArray::from(values))))
        }),
    ));
}

/// Argument `i` as strings.
fn strings(args: &[ColumnarValue], i: usize, name: &str) -> Result<StringArray, DataFusionError> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let array = arrays.get(i).ok_or_else(|| DataFusionError::Plan(format!("{name} takes a text argument")))?;
    let cast = arrow_cast::cast(array, &DataType::Utf8)?;
    cast.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| DataFusionError::Plan(format!("{name} takes a text argument")))
}

/// The OID of a built-in type named `name`; `None` for any other (no extension types here).
fn builtin_type_oid(name: &str) -> Option<i32> {
    let name = name.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase();
    let t = match name.as_str() {
        "bool" | "boolean" => Type::BOOL,
        "int8" | "bigint" => Type::INT8,
        "int4" | "integer" | "int" => Type::INT4,
        "int2" | "smallint" => Type::INT2,
        "float8" | "double precision" => Type::FLOAT8,
        "float4" | "real" => Type::FLOAT4,
        "text" => Type::TEXT,
        "varchar" | "character varying" => Type::VARCHAR,
        "timestamptz" | "timestamp with time zone" => Type::TIMESTAMPTZ,
        "timestamp" | "timestamp without time zone" => Type::TIMESTAMP,
        "date" => Type::DATE,
        "oid" => Type::OID,
        _ => return None,
    };
    i32::try_from(t.oid()).ok()
}

/// `json_build_object(key, value, ...)`: a JSON object as text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

impl JsonBuildObject {
    fn new() -> Self {
        Self { signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        if !args.args.len().is_multiple_of(2) {
            return Err(DataFusionError::Plan("json_build_object takes key/value pairs".into()));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = args.number_rows;
        let text: Vec<ArrayRef> =
            arrays.iter().map(|a| arrow_cast::cast(a, &DataType::Utf8)).collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let mut object = String::from("{");
            for (pair, chunk) in arrays.chunks(2).zip(text.chunks(2)).enumerate() {
                let (Some(value), Some(key), Some(value_text)) = (chunk.0.get(1), chunk.1.first(), chunk.1.get(1))
                else {
                    continue;
                };
                if pair > 0 {
                    object.push_str(", ");
                }
                object.push_str(&json_string(text_at(key, row).unwrap_or_default()));
                object.push_str(" : ");
                match text_at(value_text, row) {
                    None => object.push_str("null"),
                    Some(v) if value.data_type().is_numeric() || *value.data_type() == DataType::Boolean => {
                        object.push_str(v)
                    }
                    Some(v) => object.push_str(&json_string(v)),
                }
            }
            object.push('}');
            out.push(object);
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
    }
}

fn text_at(array: &ArrayRef, row: usize) -> Option<&str> {
    let strings = array.as_any().downcast_ref::<StringArray>()?;
    (!strings.is_null(row)).then(|| strings.value(row))
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn functions_answer_as_postgres_does() {
        let ctx = SessionContext::new();
        register(&ctx);
        let one = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
                let column = arrow_cast::cast(batches[0].column(0), &DataType::Utf8).unwrap();
                text_at(&column, 0).map(str::to_owned)
            }
        };
        assert!(one("SELECT version()").await.unwrap().starts_with("PostgreSQL 15.0 (Isobar"));
        assert_eq!(one("SELECT to_regtype('float8')").await.as_deref(), Some("701"));
        assert_eq!(one("SELECT to_regtype('hstore')").await, None);
        assert_eq!(one("SELECT current_setting('server_version_num')").await.as_deref(), Some("150000"));
        assert_eq!(
            one("SELECT json_build_object('a', 1, 'b', 'x\"y', 'c', NULL)").await.as_deref(),
            Some(r#"{"a" : 1, "b" : "x\"y", "c" : null}"#)
        );
    }
}
