//! Arrow Flight SQL on the gRPC port: the `arrow.flight.protocol.FlightService` that ADBC,
//! JDBC and other Flight SQL clients speak, served by the same tonic server as the Isobar
//! services (same TLS, same bearer-token authentication in [`super::call`]: a call without a
//! valid token is refused before any command is decoded).
//!
//! Every command decides its permission in its handler, on the tables it touches, through
//! [`super::guard::require_permission`]: bulk ingest needs `add` on its table; a statement needs
//! `view` on every table it names (checked by the SQL layer before it answers anything about
//! the catalog); the listings show only tables the caller may view.
//!
//! Modules, one concern each:
//!
//! - [`service`]: the `FlightSqlService` implementation, dispatching each command to its handler.
//! - [`ingest`]: `CommandStatementIngest` (ADBC `adbc_ingest`): target relation, modes,
//!   permission, write budget, the atomic write.
//! - [`batches`]: Arrow record batches -> the engine's `WriteBatch` (pure, unit-tested).
//! - [`query`]: SQL statements, one-shot and prepared, planned and run by `isobar_sql`.
//! - [`prepared`]: the open prepared statements, bounded, each usable only by its creator.
//! - [`listings`]: catalogs, schemas, tables (with Arrow schemas) and table types, readable
//!   tables only.
//! - [`metadata`]: the answers to `CommandGetSqlInfo`.
//! - [`errors`]: the front end's errors and their gRPC codes.

pub mod batches;
pub mod errors;
pub mod ingest;
pub mod listings;
pub mod metadata;
pub mod prepared;
pub mod query;
pub mod service;

pub use service::FlightSql;
