//! # isobar-sql
//!
//! SQL over Isobar: DataFusion parses and plans, Isobar's engine answers what it can answer
//! cheaply. Front ends (Flight SQL, `isobar sql`, later PostgreSQL and the console) hold one
//! [`SqlEngine`] and go the same way for every statement: [`SqlEngine::prepare`] (parse, read-only
//! check, access check on every table named, plan against a fresh snapshot) ->
//! [`SqlPlan::bind`] (parameters) -> [`SqlPlan::execute`] (a stream of Arrow record batches under
//! the memory limit, timeout and concurrency cap of [`SqlOptions`]). Errors are [`SqlError`]s
//! whose [`SqlErrorKind`] each front end maps to its own codes; this crate knows no protocol.
//!
//! ## Names
//!
//! Catalog `isobar`. Schema `public` holds one relation per Isobar table with columns `series`
//! (Utf8, not null), `ts` (Timestamp(ns, "UTC"), not null) and one column per stored column named
//! `"<family>.<column>"` (a quoted identifier in SQL); it has a row wherever any family has one.
//! For each table there is also a schema named after it holding one relation per family with
//! `series`, `ts` and the plain column names; it has a row only where that family has a cell.
//! Unquoted identifiers are lower-cased (SQL's rule): quote mixed-case names (`"Weather"`).
//! The catalog is resolved per statement (tables created, altered or dropped are seen by the next
//! one) and one statement reads one engine snapshot. SQL is read-only.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use futures::TryStreamExt;
//! use isobar_sql::{AllowAll, SqlEngine, SqlOptions};
//! use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, TableSpec};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = Db::open(dir.path(), Options::default()).unwrap();
//! db.create_table(TableSpec::new("iot").family("readings", &[("velocity", ColumnType::F64)])).unwrap();
//! let hour = 3_600_000_000_000;
//! db.write(SeriesWrite::new("iot", "truck_1", vec![0, hour / 2, hour])
//!     .column("readings", "velocity", ColumnValues::F64(vec![10.0, 20.0, 40.0]))).unwrap();
//! let sql = SqlEngine::new(db.clone(), SqlOptions::default());
//! let plan = sql.prepare(
//!     "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity) AS v \
//!      FROM iot.readings GROUP BY 1, 2 ORDER BY 2",
//!     &AllowAll,
//! ).await.unwrap();
//! let batches: Vec<_> = plan.execute().await.unwrap().try_collect().await.unwrap();
//! assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
//! db.close().unwrap();
//! # });
//! ```
//!
//! ## Map
//!
//! | module | owns |
//! |---|---|
//! | [`engine`](SqlEngine) | [`SqlEngine`]: parse, checks, catalog, logical plan |
//! | `plan` | [`SqlPlan`]: schema, parameters, bind, explain, bounded execution |
//! | `dialect` | [`Dialect`]: a front end's system schemas and functions (PostgreSQL's `pg_catalog`) |
//! | `relation` | the naming rule above, [`Relation`] listings |
//! | `catalog` | the per-statement catalog over one snapshot, readable tables only |
//! | `provider` | the table provider: projection, filters, limit -> the engine's request |
//! | `pushdown` | which `series` / `ts` filters the engine answers, as selectors and a time range |
//! | `scan`, `exec` | the engine's range scan as a read; `IsobarExec`, the plan leaf `EXPLAIN` shows |
//! | `rewrite`, `node`, `aggregate` | the optimizer rule that hands bucketed aggregates (and gap filling) to the engine's aggregate path |
//! | `latest` | the `latest('<relation>')` table function over the engine's latest path |
//! | `functions` | `time_bucket`, `date_trunc` with a time zone, and the other time-series functions |
//! | `calendar` | calendar buckets in a zone, row by row with the engine's arithmetic, and the engine bucket a `GROUP BY` of them becomes |
//! | `cooperate` | joins that yield between batches, so timeouts and cancels stop them |
//! | `readonly` | read-only SQL: what is refused and how |
//! | `bounded` | the timeout, memory-limit message and concurrency slot of a running query |
//! | `error` | [`SqlError`], [`SqlErrorKind`]: DataFusion and engine errors classified once |
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod access;
mod aggregate;
mod bounded;
mod calendar;
mod catalog;
mod cooperate;
mod dialect;
mod engine;
mod error;
mod exec;
mod functions;
mod latest;
mod node;
mod options;
mod plan;
mod provider;
mod pushdown;
mod readonly;
mod relation;
mod rewrite;
mod scan;

pub use access::{AllowAll, TableAccess};
/// A SQL value, as bound to a parameter (`$1`, `$2`, ...) by [`SqlPlan::bind`].
pub use datafusion::scalar::ScalarValue;
pub use dialect::Dialect;
pub use engine::SqlEngine;
pub use error::{SqlError, SqlErrorKind};
pub use options::SqlOptions;
pub use plan::SqlPlan;
pub use relation::{CATALOG, Relation, TABLE_SCHEMA};
