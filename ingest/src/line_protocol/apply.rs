//! Writing a line-protocol body into a [`Db`]: parse and map, check against the catalog, create
//! missing tables, then one atomic engine write.
//!
//! ```text
//! body ─► map_body (every line checked) ─► catalog check (types, families, unknown tables)
//!      ─► create missing tables (create_tables = true) ─► Db::write (one batch) ─► receipt
//! ```
//!
//! A bad line or a type conflict with an existing column refuses the request before anything is
//! written. A table is created as `TableSpec::new(measurement).family(family, &[])` with dynamic
//! columns, so the first write of each field fixes its type. The one thing a refused request can
//! leave behind is such an empty table, when the engine refuses the write after the table was
//! created (back-pressure) — the retry then finds it.

use isobar_storage::{Db, Error, FamilySpec, InvalidInput, TableChange, TableDef, TableSpec, WriteReceipt};

use super::error::{LineError, LineErrorKind};
use super::map::{MapOptions, Mapped, MappedTable, map_body};
use super::precision::Precision;

/// How the server maps line protocol (the `[line_protocol]` config section).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineProtocolOptions {
    /// The family every field goes to.
    pub family: String,
    /// Whether a measurement without a table creates one.
    pub create_tables: bool,
}

/// What a request wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineWrite {
    /// Records in the body.
    pub lines: usize,
    /// Field values written.
    pub points: usize,
    /// The engine's receipt.
    pub receipt: WriteReceipt,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum LineWriteError {
    /// A line is bad or conflicts with the catalog; nothing was written.
    #[error(transparent)]
    Line(#[from] LineError),
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] Error),
}

/// Parses `body` and writes it atomically: [`prepare`] then [`apply`].
pub fn write_lines(
    db: &Db,
    body: &[u8],
    precision: Precision,
    now_ns: i64,
    options: &LineProtocolOptions,
) -> Result<LineWrite, LineWriteError> {
    let mapped = prepare(db, body, precision, now_ns, options)?;
    apply(db, mapped, options)
}

/// Parses and maps `body` and checks it against the catalog, changing nothing; `now_ns`
/// stamps lines without a timestamp. The caller may authorize [`Mapped::tables`] next.
/// A front end that authorizes should call [`map_lines`], authorize, then [`check_catalog`],
/// so that no catalog answer reaches a caller without permission.
pub fn prepare(
    db: &Db,
    body: &[u8],
    precision: Precision,
    now_ns: i64,
    options: &LineProtocolOptions,
) -> Result<Mapped, LineWriteError> {
    let mapped = map_lines(db, body, precision, now_ns, options)?;
    check_catalog(db, &mapped, options)?;
    Ok(mapped)
}

/// Parses and maps `body` without consulting the catalog (only the engine's limits):
/// the first half of [`prepare`]. Adds `body.len()` to [`bytes_parsed`](super::bytes_parsed).
pub fn map_lines(
    db: &Db,
    body: &[u8],
    precision: Precision,
    now_ns: i64,
    options: &LineProtocolOptions,
) -> Result<Mapped, LineWriteError> {
    super::count_parsed(body.len());
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body.get(..e.valid_up_to()).map_or(1, |ok| ok.iter().filter(|b| **b == b'\n').count() + 1);
        LineError { line, kind: LineErrorKind::NotUtf8 }
    })?;
    let map = MapOptions { family: options.family.clone(), precision, now_ns, limits: db.options().limits.clone() };
    let mapped = map_body(text, &map)?;
    crate::request_limits::check_batch(&mapped.batch, &map.limits).map_err(Error::from)?;
    if mapped.batch.is_empty() {
        return Err(Error::Invalid(InvalidInput::Empty("the body has no lines")).into());
    }
    Ok(mapped)
}

/// Checks a mapped request against the catalog (types, families, unknown tables), changing
/// nothing: the second half of [`prepare`]. Its errors name families and columns, so call it
/// only once the caller is authorized to write every table of `mapped`.
pub fn check_catalog(db: &Db, mapped: &Mapped, options: &LineProtocolOptions) -> Result<(), LineWriteError> {
    for table in &mapped.tables {
        match db.table_def(&table.name) {
            Ok(def) => check_table(&def, table, options)?,
            Err(Error::Invalid(InvalidInput::UnknownTable { .. })) if options.create_tables => {}
            Err(Error::Invalid(InvalidInput::UnknownTable { .. })) => {
                return Err(LineError {
                    line: table.line,
                    kind: LineErrorKind::UnknownTable { table: table.name.clone() },
                }
                .into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Creates the missing tables (and families) of a [`prepare`]d request, then writes it in one
/// engine write.
pub fn apply(db: &Db, mapped: Mapped, options: &LineProtocolOptions) -> Result<LineWrite, LineWriteError> {
    for table in &mapped.tables {
        let change = match db.table_def(&table.name) {
            Ok(def) if def.family(&options.family).is_some() => continue,
            Ok(_) => {
                let spec = FamilySpec::new(options.family.clone(), &[]);
                db.alter_table(&table.name, TableChange::AddFamily(spec))
            }
            Err(Error::Invalid(InvalidInput::UnknownTable { .. })) => {
                let spec = TableSpec::new(table.name.clone()).family(options.family.clone(), &[]).dynamic_columns(true);
                db.create_table(spec)
            }
            Err(e) => Err(e),
        };
        match change {
            // Another request made the same change meanwhile: the write checks the columns.
            Ok(_) | Err(Error::Invalid(InvalidInput::TableExists { .. } | InvalidInput::FamilyExists { .. })) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (lines, points) = (mapped.lines, mapped.points);
    let receipt = db.write(mapped.batch)?;
    Ok(LineWrite { lines, points, receipt })
}

/// Checks the columns `table` receives against the existing table `def`. A dynamic table that
/// lacks the family gets it in [`apply`] when the server creates tables.
fn check_table(def: &TableDef, table: &MappedTable, options: &LineProtocolOptions) -> Result<(), LineWriteError> {
    let family = match def.family(&options.family) {
        Some(f) => f,
        None if options.create_tables && def.dynamic_columns => return Ok(()),
        None => {
            return Err(Error::Invalid(InvalidInput::UnknownFamily {
                table: def.name.clone(),
                family: options.family.clone(),
                known: def.families.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "),
            })
            .into());
        }
    };
    for column in &table.columns {
        match family.columns.iter().find(|c| c.name == column.name) {
            Some(existing) if existing.ty != column.ty => {
                return Err(LineError {
                    line: column.line,
                    kind: LineErrorKind::TypeConflict {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        got: column.ty,
                        expected: existing.ty,
                        origin: "in the table's schema".into(),
                    },
                }
                .into());
            }
            Some(_) => {}
            None if def.dynamic_columns => {}
            None => {
                return Err(LineError {
                    line: column.line,
                    kind: LineErrorKind::UnknownColumn {
                        table: table.name.clone(),
                        family: options.family.clone(),
                        column: column.name.clone(),
                    },
                }
                .into());
            }
        }
    }
    Ok(())
}
