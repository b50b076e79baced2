//! The catalog one query plans against: the readable tables of one engine [`Snapshot`], shown
//! with the names of [`crate::relation`]. Built per statement (tables created, altered or
//! dropped are seen by the next one) and never cached; providers are made only for the
//! relations a statement names.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};
use isobar_storage::{Snapshot, TableDef};

use crate::provider::IsobarTable;
use crate::relation::{CATALOG, RelationDef, TABLE_SCHEMA, has_family_schema};

/// The catalog list of one statement: only [`CATALOG`].
#[derive(Debug)]
pub(crate) struct Catalogs {
    catalog: Arc<IsobarCatalog>,
}

impl Catalogs {
    /// The readable `tables` of `snapshot`, and a dialect's `system` schemas (which take
    /// precedence over a table's schema of the same name).
    pub(crate) fn new(
        snapshot: Snapshot,
        tables: Vec<TableDef>,
        system: Vec<(String, Arc<dyn SchemaProvider>)>,
    ) -> Self {
        Self { catalog: Arc::new(IsobarCatalog { snapshot, tables: Arc::new(tables), system }) }
    }
}

impl Catalogs {
    /// The relation `schema.name` or `name` (in `public`), if readable.
    pub(crate) fn relation(&self, name: &str) -> Option<IsobarTable> {
        let c = &self.catalog;
        let (schema, relation) = match name.split('.').collect::<Vec<_>>().as_slice() {
            [relation] => (TABLE_SCHEMA, *relation),
            [schema, relation] => (*schema, *relation),
            [catalog, schema, relation] if *catalog == CATALOG => (*schema, *relation),
            _ => return None,
        };
        if schema == TABLE_SCHEMA {
            let table = c.tables.iter().find(|t| t.name == relation)?;
            return Some(IsobarTable::new(c.snapshot.clone(), RelationDef::table(table)));
        }
        let table = c.tables.iter().find(|t| t.name == schema && has_family_schema(schema))?;
        let index = table.families.iter().position(|f| f.name == relation)?;
        Some(IsobarTable::new(c.snapshot.clone(), RelationDef::family(table, index)?))
    }
}

impl CatalogProviderList for Catalogs {
    fn register_catalog(&self, _name: String, _catalog: Arc<dyn CatalogProvider>) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        vec![CATALOG.to_string()]
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        (name == CATALOG).then(|| self.catalog.clone() as Arc<dyn CatalogProvider>)
    }
}

/// Catalog `isobar`: schema `public` and one schema per table.
#[derive(Debug)]
struct IsobarCatalog {
    snapshot: Snapshot,
    tables: Arc<Vec<TableDef>>,
    system: Vec<(String, Arc<dyn SchemaProvider>)>,
}

impl CatalogProvider for IsobarCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = vec![TABLE_SCHEMA.to_string()];
        names.extend(self.tables.iter().filter(|t| has_family_schema(&t.name)).map(|t| t.name.clone()));
        names.extend(self.system.iter().map(|(name, _)| name.clone()));
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some((_, schema)) = self.system.iter().find(|(n, _)| n == name) {
            return Some(schema.clone());
        }
        if name == TABLE_SCHEMA {
            return Some(Arc::new(PublicSchema { snapshot: self.snapshot.clone(), tables: self.tables.clone() }));
        }
        let table = self.tables.iter().find(|t| t.name == name && has_family_schema(name))?;
        Some(Arc::new(FamilySchema { snapshot: self.snapshot.clone(), table: table.clone() }))
    }
}

/// Schema `public`: one relation per table.
#[derive(Debug)]
struct PublicSchema {
    snapshot: Snapshot,
    tables: Arc<Vec<TableDef>>,
}

#[async_trait]
impl SchemaProvider for PublicSchema {
    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|t| t.name.clone()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        Ok(self.tables.iter().find(|t| t.name == name).map(|t| {
            Arc::new(IsobarTable::new(self.snapshot.clone(), RelationDef::table(t))) as Arc<dyn TableProvider>
        }))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.iter().any(|t| t.name == name)
    }
}

/// Schema `<table>`: one relation per family.
#[derive(Debug)]
struct FamilySchema {
    snapshot: Snapshot,
    table: TableDef,
}

#[async_trait]
impl SchemaProvider for FamilySchema {
    fn table_names(&self) -> Vec<String> {
        self.table.families.iter().map(|f| f.name.clone()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let Some(index) = self.table.families.iter().position(|f| f.name == name) else { return Ok(None) };
        Ok(RelationDef::family(&self.table, index)
            .map(|def| Arc::new(IsobarTable::new(self.snapshot.clone(), def)) as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.table.families.iter().any(|f| f.name == name)
    }
}
