//! Writing an OTLP request into a [`Db`]: map, check against the catalog, create missing tables,
//! then one atomic engine write.
//!
//! ```text
//! request ─► map (whole-request checks; histograms etc. counted as rejected; no catalog)
//!         ─► [caller authorizes OtlpMapped::tables]
//!         ─► check_catalog (value column type, family, unknown tables)
//!         ─► create missing tables (dynamic columns) ─► Db::write (one batch) ─► response counts
//! ```
//!
//! Authorization sits between [`map`] and [`check_catalog`] because catalog errors name families,
//! column types and whether a table exists or takes new columns: a caller without permission on a
//! table must be refused before any of that is looked up (issue 20, finding 3).
//!
//! Table creation and the write are those of the line protocol ([`crate::line_protocol::apply`]):
//! a new table is `TableSpec::new(table).family(family, &[])` with dynamic columns.

use isobar_storage::{Db, Error, InvalidInput, TableDef, WriteReceipt};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

use super::error::OtlpError;
use super::map::{OtlpMapOptions, OtlpMapped, VALUE_COLUMN, map_request};
use crate::line_protocol::map::{Mapped, MappedTable};
use crate::line_protocol::{LineProtocolOptions, LineWriteError};

/// How the server maps OTLP (the `[otlp]` config section).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpOptions {
    /// The family of the `value` column.
    pub family: String,
    /// Whether a metric without a table creates one.
    pub create_tables: bool,
}

/// What a request wrote and left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpWrite {
    /// Data points written.
    pub points: usize,
    /// Data points not stored.
    pub rejected: u64,
    /// Why (empty when none was rejected).
    pub rejection: String,
    /// The engine's receipt; `None` when there was nothing to write.
    pub receipt: Option<WriteReceipt>,
}

/// Maps `request` without consulting the catalog, so its errors carry only what the caller sent;
/// `now_ns` stamps data points without a time. The caller authorizes [`OtlpMapped::tables`] next,
/// then calls [`check_catalog`].
pub fn map(
    db: &Db,
    request: &ExportMetricsServiceRequest,
    now_ns: i64,
    options: &OtlpOptions,
) -> Result<OtlpMapped, OtlpError> {
    let map = OtlpMapOptions { family: options.family.clone(), now_ns, limits: db.options().limits.clone() };
    let mapped = map_request(request, &map)?;
    crate::request_limits::check_batch(&mapped.batch, &map.limits).map_err(Error::from)?;
    Ok(mapped)
}

/// [`map`] then [`check_catalog`], changing nothing: for callers with no authorization step.
pub fn prepare(
    db: &Db,
    request: &ExportMetricsServiceRequest,
    now_ns: i64,
    options: &OtlpOptions,
) -> Result<OtlpMapped, OtlpError> {
    let mapped = map(db, request, now_ns, options)?;
    check_catalog(db, &mapped, options)?;
    Ok(mapped)
}

/// Checks a mapped request against the catalog (value column type, family, unknown tables),
/// changing nothing. Its errors disclose schema: call it only once the caller is authorized on
/// every table of `mapped`.
pub fn check_catalog(db: &Db, mapped: &OtlpMapped, options: &OtlpOptions) -> Result<(), OtlpError> {
    for table in &mapped.tables {
        match db.table_def(&table.name) {
            Ok(def) => check_table(&def, table, options)?,
            Err(Error::Invalid(InvalidInput::UnknownTable { .. })) if options.create_tables => {}
            Err(Error::Invalid(InvalidInput::UnknownTable { .. })) => {
                return Err(OtlpError::UnknownTable { table: table.name.clone() });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Creates the missing tables of a [`prepare`]d request and writes it in one engine write.
pub fn apply(db: &Db, mapped: OtlpMapped, options: &OtlpOptions) -> Result<OtlpWrite, OtlpError> {
    let OtlpMapped { batch, tables, points, rejected, rejection } = mapped;
    if batch.is_empty() {
        return Ok(OtlpWrite { points: 0, rejected, rejection, receipt: None });
    }
    let lp = LineProtocolOptions { family: options.family.clone(), create_tables: options.create_tables };
    let written = crate::line_protocol::apply(db, Mapped { batch, tables, lines: points, points }, &lp);
    match written {
        Ok(w) => Ok(OtlpWrite { points, rejected, rejection, receipt: Some(w.receipt) }),
        Err(LineWriteError::Engine(e)) => Err(e.into()),
        Err(LineWriteError::Line(e)) => Err(OtlpError::Write(e.to_string())),
    }
}

/// [`prepare`] then [`apply`].
pub fn write_metrics(
    db: &Db,
    request: &ExportMetricsServiceRequest,
    now_ns: i64,
    options: &OtlpOptions,
) -> Result<OtlpWrite, OtlpError> {
    let mapped = prepare(db, request, now_ns, options)?;
    apply(db, mapped, options)
}

/// Checks the `value` column `table` receives against the existing table `def`.
fn check_table(def: &TableDef, table: &MappedTable, options: &OtlpOptions) -> Result<(), OtlpError> {
    let no_column = || OtlpError::NoValueColumn { table: def.name.clone(), family: options.family.clone() };
    let Some(family) = def.family(&options.family) else {
        return if options.create_tables && def.dynamic_columns { Ok(()) } else { Err(no_column()) };
    };
    for column in &table.columns {
        match family.columns.iter().find(|c| c.name == VALUE_COLUMN) {
            Some(existing) if existing.ty != column.ty => {
                return Err(OtlpError::TypeConflict {
                    table: def.name.clone(),
                    got: column.ty,
                    expected: existing.ty,
                    origin: "in the table's schema".into(),
                });
            }
            Some(_) => {}
            None if def.dynamic_columns => {}
            None => return Err(no_column()),
        }
    }
    Ok(())
}
