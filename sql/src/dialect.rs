//! [`Dialect`]: what a front end adds to SQL for its clients' sake, without this crate knowing
//! the protocol. PostgreSQL clients (psql's `\d`, DBeaver, Grafana, SQLAlchemy) read
//! `pg_catalog` and call functions such as `format_type` and `pg_table_is_visible`; a dialect
//! brings those, as schemas built per statement over the relations the caller may read and as
//! functions installed once.

use std::sync::Arc;

use datafusion::catalog::SchemaProvider;
use datafusion::execution::context::SessionState;

use crate::relation::Relation;

/// A front end's additions to the SQL layer (see the module doc).
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// The shared state with the dialect's functions, type planners and rules; called once, when
    /// the engine is made.
    fn extend_state(&self, state: SessionState) -> SessionState;

    /// The names of the system schemas [`Dialect::system_schemas`] provides. A statement may
    /// name them without any table permission: they show only what the caller may read.
    fn system_schema_names(&self) -> &[&'static str];

    /// The system schemas of one statement, over `relations` (every relation the caller may
    /// read, as [`crate::SqlEngine::relations`] lists them).
    fn system_schemas(&self, relations: Arc<Vec<Relation>>) -> Vec<(String, Arc<dyn SchemaProvider>)>;
}
