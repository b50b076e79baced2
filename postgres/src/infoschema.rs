//! `information_schema` as PostgreSQL shows it: `schemata`, `tables`, `columns` (with
//! PostgreSQL's type names in `data_type`, which Grafana's and DBeaver's column pickers read)
//! and an empty `views`, over the relations the caller may read. It replaces DataFusion's own
//! `information_schema` (Arrow type names) for PostgreSQL clients.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use isobar_sql::{CATALOG, Relation};

/// The schema's name.
pub(crate) const INFORMATION_SCHEMA: &str = "information_schema";

const TABLES: [&str; 4] = ["schemata", "tables", "columns", "views"];

/// `information_schema` over one statement's relations.
#[derive(Debug)]
pub(crate) struct InformationSchema {
    relations: Arc<Vec<Relation>>,
    /// The other schemas PostgreSQL lists in `schemata`.
    system: Vec<String>,
}

impl InformationSchema {
    pub(crate) fn new(relations: Arc<Vec<Relation>>, system: Vec<String>) -> Self {
        Self { relations, system }
    }

    fn schemata(&self) -> Result<RecordBatch> {
        let mut names: Vec<String> = vec![isobar_sql::TABLE_SCHEMA.to_owned()];
        for r in self.relations.iter() {
            if !names.contains(&r.schema) {
                names.push(r.schema.clone());
            }
        }
        names.extend(self.system.iter().cloned());
        let n = names.len();
        batch(
            &["catalog_name", "schema_name", "schema_owner"],
            vec![strings(vec![CATALOG.to_owned(); n]), strings(names), strings(vec!["isobar".to_owned(); n])],
        )
    }

    fn tables(&self) -> Result<RecordBatch> {
        let r = &self.relations;
        batch(
            &["table_catalog", "table_schema", "table_name", "table_type"],
            vec![
                strings(r.iter().map(|_| CATALOG.to_owned()).collect()),
                strings(r.iter().map(|r| r.schema.clone()).collect()),
                strings(r.iter().map(|r| r.name.clone()).collect()),
                strings(r.iter().map(|_| "BASE TABLE".to_owned()).collect()),
            ],
        )
    }

    fn columns(&self) -> Result<RecordBatch> {
        let (mut schema, mut table, mut column, mut position, mut nullable, mut ty, mut udt) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in self.relations.iter() {
            for (i, f) in r.arrow_schema.fields().iter().enumerate() {
                schema.push(r.schema.clone());
                table.push(r.name.clone());
                column.push(f.name().clone());
                position.push(i32::try_from(i + 1).unwrap_or(i32::MAX));
                nullable.push(if f.is_nullable() { "YES" } else { "NO" }.to_owned());
                let (data_type, udt_name) = pg_type_names(f.data_type());
                ty.push(data_type.to_owned());
                udt.push(udt_name.to_owned());
            }
        }
        let n = schema.len();
        let catalog = strings(vec![CATALOG.to_owned(); n]);
        let schema = strings(schema);
        let columns = vec![
            catalog,
            schema,
            strings(table),
            strings(column),
            Arc::new(Int32Array::from(position)) as ArrayRef,
            Arc::new(StringArray::from(vec![None::<&str>; n])) as ArrayRef,
            strings(nullable),
            strings(ty),
            strings(udt),
        ];
        let fields = vec![
            Field::new("table_catalog", DataType::Utf8, false),
            Field::new("table_schema", DataType::Utf8, false),
            Field::new("table_name", DataType::Utf8, false),
            Field::new("column_name", DataType::Utf8, false),
            Field::new("ordinal_position", DataType::Int32, false),
            Field::new("column_default", DataType::Utf8, true),
            Field::new("is_nullable", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("udt_name", DataType::Utf8, false),
        ];
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
    }

    fn views(&self) -> Result<RecordBatch> {
        batch(
            &["table_catalog", "table_schema", "table_name", "view_definition"],
            vec![strings(Vec::new()), strings(Vec::new()), strings(Vec::new()), strings(Vec::new())],
        )
    }
}

/// PostgreSQL's `data_type` and `udt_name` of an Arrow type.
pub(crate) fn pg_type_names(t: &DataType) -> (&'static str, &'static str) {
    match t {
        DataType::Float64 => ("double precision", "float8"),
        DataType::Float32 => ("real", "float4"),
        DataType::Int64 | DataType::UInt64 => ("bigint", "int8"),
        DataType::Int32 | DataType::UInt32 => ("integer", "int4"),
        DataType::Int16 | DataType::Int8 | DataType::UInt16 | DataType::UInt8 => ("smallint", "int2"),
        DataType::Boolean => ("boolean", "bool"),
        DataType::Timestamp(_, Some(_)) => ("timestamp with time zone", "timestamptz"),
        DataType::Timestamp(_, None) => ("timestamp without time zone", "timestamp"),
        DataType::Date32 | DataType::Date64 => ("date", "date"),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => ("bytea", "bytea"),
        _ => ("text", "text"),
    }
}

fn strings(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn batch(names: &[&str], columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let fields: Vec<Field> = names.iter().map(|n| Field::new(*n, DataType::Utf8, false)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|t| (*t).to_owned()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let batch = match name {
            "schemata" => self.schemata()?,
            "tables" => self.tables()?,
            "columns" => self.columns()?,
            "views" => self.views()?,
            _ => return Ok(None),
        };
        let schema: SchemaRef = batch.schema();
        Ok(Some(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLES.contains(&name)
    }
}
