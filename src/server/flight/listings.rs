//! The metadata listings ADBC, JDBC and BI tools use to show what can be queried:
//! `CommandGetCatalogs`, `CommandGetDbSchemas`, `CommandGetTables` (with Arrow schemas when
//! asked) and `CommandGetTableTypes`.
//!
//! Each lists only what the caller may read: a table without `view` for the caller is absent
//! from every listing, its family schema included, exactly as it is absent from SQL. Relations
//! are named as SQL names them ([`isobar_sql::Relation`]): the catalog `isobar`, schema
//! `public` with one relation per table, and a schema per table with one relation per family.
//! Every relation is of type `TABLE`. Filters (`LIKE` patterns on schema and table names) are
//! applied by `arrow-flight`'s builders.

use std::collections::BTreeSet;

use arrow_array::RecordBatch;
use arrow_flight::sql::{CommandGetCatalogs, CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables};
use isobar_sql::{CATALOG, Relation, SqlEngine, TableAccess};
use tonic::Status;

use crate::auth::{Permission, Principal};

/// The one table type.
pub const TABLE_TYPE: &str = "TABLE";

/// What `principal` may read: `view` on the table (through `*` or `admin` too).
pub struct Readable<'a>(pub &'a Principal);

impl TableAccess for Readable<'_> {
    fn can_read(&self, table: &str) -> bool {
        self.0.allows(table, Permission::View)
    }
}

fn built(result: Result<RecordBatch, arrow_flight::error::FlightError>) -> Result<RecordBatch, Status> {
    result.map_err(|e| Status::internal(format!("building a listing: {e}")))
}

/// `CommandGetCatalogs`: the one catalog.
pub fn catalogs(command: CommandGetCatalogs) -> Result<RecordBatch, Status> {
    let mut builder = command.into_builder();
    builder.append(CATALOG);
    built(builder.build())
}

/// `CommandGetDbSchemas`: `public` and one schema per readable table with families.
pub fn schemas(engine: &SqlEngine, principal: &Principal, command: CommandGetDbSchemas) -> Result<RecordBatch, Status> {
    let relations = engine.relations(&Readable(principal));
    let mut schemas: BTreeSet<&str> = relations.iter().map(|r| r.schema.as_str()).collect();
    schemas.insert(isobar_sql::TABLE_SCHEMA);
    let mut builder = command.into_builder();
    for schema in schemas {
        builder.append(CATALOG, schema);
    }
    built(builder.build())
}

/// `CommandGetTables`: every readable relation, with its Arrow schema when asked.
pub fn tables(engine: &SqlEngine, principal: &Principal, command: CommandGetTables) -> Result<RecordBatch, Status> {
    let relations: Vec<Relation> = engine.relations(&Readable(principal));
    let mut builder = command.into_builder();
    for relation in &relations {
        builder
            .append(&relation.catalog, &relation.schema, &relation.name, TABLE_TYPE, &relation.arrow_schema)
            .map_err(|e| Status::internal(format!("listing {}.{}: {e}", relation.schema, relation.name)))?;
    }
    built(builder.build())
}

/// `CommandGetTableTypes`: `TABLE`.
pub fn table_types(command: CommandGetTableTypes) -> Result<RecordBatch, Status> {
    let mut builder = command.into_builder();
    builder.append(TABLE_TYPE);
    built(builder.build())
}
