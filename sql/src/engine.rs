//! [`SqlEngine`]: parses, checks and plans a statement against one snapshot of the database.
//!
//! Every statement goes the same way: parse (syntax errors with line and column) -> read-only
//! check ([`crate::readonly`]) -> the access check on every table it names, before any catalog
//! lookup -> a catalog of the readable tables of a fresh engine snapshot ([`crate::catalog`]) ->
//! DataFusion's logical plan. The resulting [`SqlPlan`] executes under the bounds of
//! [`SqlOptions`].

use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::{SQLOptions, SessionState};
use datafusion::prelude::SessionConfig;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as Ast;
use isobar_storage::Db;
use tokio::sync::Semaphore;

use crate::access::TableAccess;
use crate::catalog::Catalogs;
use crate::dialect::Dialect;
use crate::error::{SqlError, SqlErrorKind};
use crate::options::SqlOptions;
use crate::plan::SqlPlan;
use crate::relation::{CATALOG, Relation, TABLE_SCHEMA, relations_of};

/// The SQL layer of one database: cheap to clone, one per server.
#[derive(Clone)]
pub struct SqlEngine {
    shared: Arc<Shared>,
}

/// What every query of an engine shares.
pub(crate) struct Shared {
    pub(crate) db: Db,
    pub(crate) options: SqlOptions,
    /// Functions, optimizer rules and configuration; cloned per statement with its catalog.
    pub(crate) base: SessionState,
    /// Slots of executing queries.
    pub(crate) slots: Arc<Semaphore>,
    /// The front end's additions, if any.
    pub(crate) dialect: Option<Arc<dyn Dialect>>,
}

impl std::fmt::Debug for SqlEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlEngine").field("options", &self.shared.options).finish_non_exhaustive()
    }
}

impl SqlEngine {
    /// The SQL layer over `db` with `options`.
    pub fn new(db: Db, options: SqlOptions) -> Self {
        let config = SessionConfig::new()
            .with_default_catalog_and_schema(CATALOG, TABLE_SCHEMA)
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(true);
        let mut base = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_query_planner(Arc::new(crate::node::IsobarQueryPlanner))
            .with_optimizer_rule(Arc::new(crate::rewrite::PushDownAggregate))
            .with_physical_optimizer_rule(Arc::new(crate::cooperate::YieldingJoins))
            .build();
        base.register_udtf("latest", Arc::new(crate::latest::LatestFunction));
        let base = crate::functions::register(base);
        let slots = Arc::new(Semaphore::new(options.max_concurrent_queries.max(1)));
        Self { shared: Arc::new(Shared { db, options, base, slots, dialect: None }) }
    }

    /// The same engine (database, bounds and query slots shared) with `dialect`'s system schemas
    /// and functions: what a front end such as PostgreSQL holds.
    pub fn with_dialect(&self, dialect: Arc<dyn Dialect>) -> Self {
        let s = &self.shared;
        let base = dialect.extend_state(s.base.clone());
        let shared = Shared {
            db: s.db.clone(),
            options: s.options.clone(),
            base,
            slots: s.slots.clone(),
            dialect: Some(dialect),
        };
        Self { shared: Arc::new(shared) }
    }

    /// The bounds queries run under.
    pub fn options(&self) -> &SqlOptions {
        &self.shared.options
    }

    /// Parses and plans; checks `can_read` on every table the query touches (before any
    /// catalog answer leaks: a table the caller may not read answers `PermissionDenied` naming
    /// it, whether it exists or not).
    pub async fn prepare(&self, sql: &str, access: &dyn TableAccess) -> Result<SqlPlan, SqlError> {
        let state = &self.shared.base;
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect)?;
        self.plan(statement, access).await
    }

    /// [`SqlEngine::prepare`] for a statement the front end has parsed itself (a PostgreSQL
    /// client's query string may hold several, and its dialect rewrites some).
    pub async fn prepare_parsed(&self, statement: Ast, access: &dyn TableAccess) -> Result<SqlPlan, SqlError> {
        self.plan(DfStatement::Statement(Box::new(statement)), access).await
    }

    async fn plan(&self, statement: DfStatement, access: &dyn TableAccess) -> Result<SqlPlan, SqlError> {
        let mut state = self.shared.base.clone();
        crate::readonly::check(&statement)?;
        let system: &[&str] = self.shared.dialect.as_ref().map_or(&[], |d| d.system_schema_names());
        for reference in state.resolve_table_references(&statement)? {
            check_reference(&reference, access, system)?;
        }
        let snapshot = self.shared.db.snapshot();
        let tables: Vec<_> = snapshot.tables().into_iter().filter(|t| access.can_read(&t.name)).collect();
        let extra = match &self.shared.dialect {
            None => Vec::new(),
            Some(dialect) => {
                let mut sorted = tables.clone();
                sorted.sort_by(|a, b| a.name.cmp(&b.name));
                let relations = sorted.iter().flat_map(relations_of).map(|r| r.listing()).collect();
                dialect.system_schemas(Arc::new(relations))
            }
        };
        state.register_catalog_list(Arc::new(Catalogs::new(snapshot, tables, extra)));
        let plan = state.statement_to_plan(statement).await?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)?;
        Ok(SqlPlan::new(self.shared.clone(), state, plan))
    }

    /// Every relation the caller may read, for metadata listings (catalog, schema, name, Arrow
    /// schema): per readable table its table relation in `public`, then its family relations.
    pub fn relations(&self, access: &dyn TableAccess) -> Vec<Relation> {
        let mut tables = self.shared.db.tables();
        tables.retain(|t| access.can_read(&t.name));
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        tables.iter().flat_map(relations_of).map(|r| r.listing()).collect()
    }
}

/// The access check of one table reference (see [`SqlEngine::prepare`]).
fn check_reference(reference: &TableReference, access: &dyn TableAccess, system: &[&str]) -> Result<(), SqlError> {
    if let Some(catalog) = reference.catalog()
        && catalog != CATALOG
    {
        return Err(SqlError::new(
            SqlErrorKind::NotFound,
            format!("catalog \"{catalog}\" does not exist in {reference}; the only catalog is \"{CATALOG}\""),
        ));
    }
    let table = match reference.schema() {
        None | Some(TABLE_SCHEMA) => reference.table(),
        Some("information_schema") => return Ok(()),
        Some(schema) if system.contains(&schema) => return Ok(()),
        Some(schema) => schema,
    };
    if access.can_read(table) {
        Ok(())
    } else {
        Err(SqlError::new(
            SqlErrorKind::PermissionDenied,
            format!("no read permission on table \"{table}\" (named as {reference}); ask for a token with read on it"),
        ))
    }
}
