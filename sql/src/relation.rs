//! The SQL names of Isobar's data: which relations a table shows and what their columns are.
//!
//! Catalog `isobar`. Schema `public` holds one relation per table (`public.<table>`, or just
//! `<table>`) with `series`, `ts` and one column per stored column named `"<family>.<column>"`
//! (a quoted identifier in SQL); it has a row wherever any family has one. For each table there
//! is also a schema named after it holding one relation per family (`<table>.<family>`) with
//! `series`, `ts` and the plain column names; it has a row only where that family has a cell.
//! Two names cannot be shown: a table named `public` or `information_schema` has no schema of
//! families (its table relation still works), and a family column named `series` or `ts` is
//! reachable only through the table relation (as `"<family>.series"`).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use isobar_storage::{FamilyDef, TableDef, ts_arrow_type};

/// The catalog every relation is in.
pub const CATALOG: &str = "isobar";
/// The schema of the table relations.
pub const TABLE_SCHEMA: &str = "public";

/// A relation the caller may read, for metadata listings.
#[derive(Clone, Debug)]
pub struct Relation {
    /// Always [`CATALOG`].
    pub catalog: String,
    /// [`TABLE_SCHEMA`] for a table relation, the table name for a family relation.
    pub schema: String,
    /// The table name for a table relation, the family name for a family relation.
    pub name: String,
    /// The relation's columns.
    pub arrow_schema: SchemaRef,
}

/// How a relation maps onto the engine: its table, its family (for a family relation), its
/// schema, and for each value column (after `series` and `ts`) the engine's `family.column`.
#[derive(Clone, Debug)]
pub(crate) struct RelationDef {
    /// The table read.
    pub(crate) table: TableDef,
    /// The family a family relation shows; `None` for the table relation.
    pub(crate) family: Option<FamilyDef>,
    /// `series`, `ts`, then the value columns.
    pub(crate) schema: SchemaRef,
    /// For each value column, in schema order: the engine reference `family.column` and the
    /// family's index in `table.families`.
    pub(crate) columns: Vec<(String, usize)>,
}

impl RelationDef {
    /// The table relation of `table`: every column of every family.
    pub(crate) fn table(table: &TableDef) -> Self {
        let mut fields = key_fields();
        let mut columns = Vec::new();
        for (fi, family) in table.families.iter().enumerate() {
            for col in &family.columns {
                let name = format!("{}.{}", family.name, col.name);
                fields.push(Field::new(&name, col.ty.arrow_type(), true));
                columns.push((name, fi));
            }
        }
        Self { table: table.clone(), family: None, schema: Arc::new(Schema::new(fields)), columns }
    }

    /// The relation of one family (`family` indexes `table.families`); columns named `series`
    /// or `ts` are left out (see the module docs).
    pub(crate) fn family(table: &TableDef, family: usize) -> Option<Self> {
        let fam = table.families.get(family)?;
        let mut fields = key_fields();
        let mut columns = Vec::new();
        for col in fam.columns.iter().filter(|c| c.name != "series" && c.name != "ts") {
            fields.push(Field::new(&col.name, col.ty.arrow_type(), true));
            columns.push((format!("{}.{}", fam.name, col.name), family));
        }
        Some(Self { table: table.clone(), family: Some(fam.clone()), schema: Arc::new(Schema::new(fields)), columns })
    }

    /// The SQL name of this relation, `schema.name`.
    pub(crate) fn sql_name(&self) -> String {
        match &self.family {
            None => format!("{TABLE_SCHEMA}.{}", self.table.name),
            Some(f) => format!("{}.{}", self.table.name, f.name),
        }
    }

    /// The listing entry of this relation.
    pub(crate) fn listing(&self) -> Relation {
        let (schema, name) = match &self.family {
            None => (TABLE_SCHEMA.to_string(), self.table.name.clone()),
            Some(f) => (self.table.name.clone(), f.name.clone()),
        };
        Relation { catalog: CATALOG.to_string(), schema, name, arrow_schema: self.schema.clone() }
    }
}

/// True when `table` gets a schema of its family relations (see the module docs).
pub(crate) fn has_family_schema(table: &str) -> bool {
    table != TABLE_SCHEMA && table != "information_schema"
}

/// Every relation of `table`: the table relation, then one per family.
pub(crate) fn relations_of(table: &TableDef) -> Vec<RelationDef> {
    let mut out = vec![RelationDef::table(table)];
    if has_family_schema(&table.name) {
        out.extend((0..table.families.len()).filter_map(|i| RelationDef::family(table, i)));
    }
    out
}

/// `series` (Utf8, not null) and `ts` (Timestamp(ns, "UTC"), not null): the row key.
fn key_fields() -> Vec<Field> {
    vec![Field::new("series", DataType::Utf8, false), Field::new("ts", ts_arrow_type(), false)]
}
