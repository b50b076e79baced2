//! [`PgDialect`]: what PostgreSQL clients expect of the SQL layer beyond Isobar's relations:
//! the `pg_catalog` schema (`pg_class`, `pg_namespace`, `pg_attribute`, `pg_type`, ... over the
//! relations the caller may read), PostgreSQL's catalog functions (`format_type`,
//! `pg_table_is_visible`, `current_schema`, `has_table_privilege`, ...) and the functions of
//! [`crate::functions`].
//!
//! The catalog tables come from `datafusion-pg-catalog`; this module only feeds them Isobar's
//! relation listing, built per statement, so they show exactly what SQL would let the caller read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_schema::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{MemoryCatalogProvider, SchemaProvider};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SessionState;
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};
use isobar_sql::{CATALOG, Dialect, Relation, TABLE_SCHEMA};

/// The schema PostgreSQL keeps its catalog in.
pub(crate) const PG_CATALOG: &str = "pg_catalog";

/// PostgreSQL's catalog and functions for [`isobar_sql::SqlEngine::with_dialect`].
///
/// `pg_catalog` numbers relations and schemas with OIDs as it first meets them, and clients
/// carry an OID from one statement to the next (psql's `\d` looks a table up in `pg_class`,
/// then reads `pg_attribute` by its OID). So the catalog of one relation listing is kept and
/// reused while that listing is what a caller may read; a listing that changes (a table
/// created, altered or dropped, or a grant) gets a catalog of its own.
#[derive(Debug)]
pub struct PgDialect {
    static_tables: Arc<PgCatalogStaticTables>,
    catalogs: Mutex<HashMap<String, Arc<dyn SchemaProvider>>>,
}

/// Most relation listings whose `pg_catalog` is kept (past it, all are dropped and OIDs are
/// handed out afresh).
const MAX_CATALOGS: usize = 64;

impl PgDialect {
    /// Loads the static catalog tables (`pg_type`, `pg_proc`, ...; built into the binary).
    pub fn new() -> Result<Self, String> {
        let static_tables =
            PgCatalogStaticTables::try_new().map_err(|e| format!("loading the pg_catalog tables: {e}"))?;
        Ok(Self { static_tables: Arc::new(static_tables), catalogs: Mutex::default() })
    }
}

impl Dialect for PgDialect {
    fn extend_state(&self, state: SessionState) -> SessionState {
        let ctx = SessionContext::new_with_state(state);
        // `setup_pg_catalog` registers into a catalog of this name; the per-statement catalog
        // list replaces it, and `system_schemas` supplies `pg_catalog` there.
        ctx.register_catalog(CATALOG, Arc::new(MemoryCatalogProvider::new()));
        if let Err(error) = datafusion_pg_catalog::setup_pg_catalog(&ctx, CATALOG, EmptyContextProvider) {
            tracing::error!(%error, "installing PostgreSQL catalog functions failed; psql's \\d may not work");
        }
        crate::functions::register(&ctx);
        // `information_schema` comes from `system_schemas`, with PostgreSQL's type names.
        let state = ctx.state();
        let mut config = state.config().clone();
        config.options_mut().catalog.information_schema = false;
        datafusion::execution::SessionStateBuilder::new_from_existing(state).with_config(config).build()
    }

    fn system_schema_names(&self) -> &[&'static str] {
        &[PG_CATALOG, crate::infoschema::INFORMATION_SCHEMA]
    }

    fn system_schemas(&self, relations: Arc<Vec<Relation>>) -> Vec<(String, Arc<dyn SchemaProvider>)> {
        let system = vec![PG_CATALOG.to_owned(), crate::infoschema::INFORMATION_SCHEMA.to_owned()];
        let information: Arc<dyn SchemaProvider> =
            Arc::new(crate::infoschema::InformationSchema::new(relations.clone(), system));
        let mut schemas = vec![(crate::infoschema::INFORMATION_SCHEMA.to_owned(), information)];
        schemas.extend(self.pg_catalog(relations));
        schemas
    }
}

impl PgDialect {
    /// `pg_catalog` over `relations` (kept per listing, see the type's doc).
    fn pg_catalog(&self, relations: Arc<Vec<Relation>>) -> Vec<(String, Arc<dyn SchemaProvider>)> {
        let key = listing_key(&relations);
        let Ok(mut catalogs) = self.catalogs.lock() else { return Vec::new() };
        if let Some(schema) = catalogs.get(&key) {
            return vec![(PG_CATALOG.to_owned(), schema.clone())];
        }
        let info = Relations(relations);
        match PgCatalogSchemaProvider::try_new(info, self.static_tables.clone(), EmptyContextProvider) {
            Ok(schema) => {
                let schema: Arc<dyn SchemaProvider> = Arc::new(schema);
                if catalogs.len() >= MAX_CATALOGS {
                    catalogs.clear();
                }
                catalogs.insert(key, schema.clone());
                vec![(PG_CATALOG.to_owned(), schema)]
            }
            Err(error) => {
                tracing::error!(%error, "building pg_catalog failed");
                Vec::new()
            }
        }
    }
}

/// What identifies a relation listing: every relation's name and columns.
fn listing_key(relations: &[Relation]) -> String {
    let mut key = String::new();
    for r in relations {
        key.push_str(&r.schema);
        key.push('.');
        key.push_str(&r.name);
        for f in r.arrow_schema.fields() {
            key.push_str(&format!("|{}:{}", f.name(), f.data_type()));
        }
        key.push('\n');
    }
    key
}

/// The relations of one statement as `datafusion-pg-catalog` asks for them.
#[derive(Clone, Debug)]
struct Relations(Arc<Vec<Relation>>);

impl Relations {
    fn schemas(&self) -> Vec<String> {
        let mut schemas = vec![TABLE_SCHEMA.to_owned()];
        for r in self.0.iter() {
            if !schemas.contains(&r.schema) {
                schemas.push(r.schema.clone());
            }
        }
        schemas
    }

    fn find(&self, catalog: &str, schema: &str, name: &str) -> Option<&Relation> {
        (catalog == CATALOG).then(|| self.0.iter().find(|r| r.schema == schema && r.name == name)).flatten()
    }
}

#[async_trait]
impl CatalogInfo for Relations {
    async fn catalog_names(&self) -> Result<Vec<String>, DataFusionError> {
        Ok(vec![CATALOG.to_owned()])
    }

    async fn schema_names(&self, catalog: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        Ok((catalog == CATALOG).then(|| self.schemas()))
    }

    async fn table_names(&self, catalog: &str, schema: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        if catalog != CATALOG {
            return Ok(None);
        }
        Ok(Some(self.0.iter().filter(|r| r.schema == schema).map(|r| r.name.clone()).collect()))
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<SchemaRef>, DataFusionError> {
        Ok(self.find(catalog, schema, name).map(|r| r.arrow_schema.clone()))
    }

    async fn table_type(&self, catalog: &str, schema: &str, name: &str) -> Result<Option<TableType>, DataFusionError> {
        Ok(self.find(catalog, schema, name).map(|_| TableType::Base))
    }
}
