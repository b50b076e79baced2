//! # isobar-postgres
//!
//! The PostgreSQL wire protocol (version 3) over Isobar's SQL layer, so that `psql`, psycopg,
//! SQLAlchemy, pandas, Grafana's PostgreSQL data source and DBeaver can query Isobar. `pgwire`
//! speaks the protocol; `arrow-pg` turns Arrow batches into PostgreSQL rows (text and binary);
//! `datafusion-pg-catalog` provides `pg_catalog` and the statement rewrites catalog queries need.
//! Every statement goes through the same [`isobar_sql::SqlEngine`] as Flight SQL, so answers,
//! push-down, permissions and bounds are the same.
//!
//! A connection: TLS negotiation (`SSLRequest`) -> startup: database `isobar`, then a password
//! that is an Isobar token, checked by the server's [`Login`] before any query is read ->
//! simple (`Query`) or extended (`Parse`/`Bind`/`Describe`/`Execute`) queries. Session commands
//! (`SET`, `SHOW`, `BEGIN`/`COMMIT`/`ROLLBACK`, `DISCARD`, `DEALLOCATE`) are answered here;
//! everything else is SQL, read-only.
//!
//! ## Map
//!
//! | module | owns |
//! |---|---|
//! | `login` | [`Login`]: the server's check of a user and token, [`LoginError`] |
//! | `startup` | the startup handler: database name, TLS rule, password, server parameters |
//! | `catalog` | [`PgDialect`]: `pg_catalog`, PostgreSQL's functions and `version()` |
//! | `infoschema` | `information_schema` with PostgreSQL's type names |
//! | `copy` | `COPY ... TO STDOUT` in text and CSV (psql's `\copy`) |
//! | `functions` | `version()`, `to_regtype`, `json_build_object` and other functions clients call |
//! | `statement` | parsing a query string into statements, and the extended protocol's parser |
//! | `session` | the session commands and the per-connection settings |
//! | `execute` | running a statement: plan, bind, execute, encode rows; cancel |
//! | `text` | PostgreSQL's text forms of floats and times, where `pgwire`'s differ |
//! | `errors` | SQL errors as PostgreSQL errors with SQLSTATE codes |
//! | `handlers` | the pgwire handlers that tie the above together |
//! | `server` | [`PgServer`]: one connection's life |
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(unreachable_pub)]

mod catalog;
mod copy;
mod errors;
mod execute;
mod functions;
mod handlers;
mod infoschema;
mod login;
mod server;
mod session;
mod startup;
mod statement;
mod text;

pub use catalog::PgDialect;
pub use login::{Login, LoginError, Session};
pub use server::{PgOptions, PgServer};

/// The one database name clients connect to.
pub const DATABASE: &str = "isobar";
/// The PostgreSQL version reported to clients (what `server_version` and `version()` say):
/// the protocol and catalog shapes Isobar follows.
pub const SERVER_VERSION: &str = "15.0";
