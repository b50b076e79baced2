//! Column references resolved against a table's definition: which families to read (and so
//! which files to open), which columns, and the Arrow schema of the answer.
//!
//! Output columns of a scan: `series` (Utf8, not null), `ts` (Timestamp(ns, UTC), not null),
//! then `family.column` (nullable, the column's Arrow type) in the order the request names them
//! (`family.*` expands to the family's columns in creation order; an empty request means every
//! family in creation order). A column named twice appears once, where first named.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use isobar_storage::ts_arrow_type;
use isobar_storage::{ColumnDef, ColumnType, FamilyId, TableDef};

use isobar_wire::shown::shown;

use crate::column_ref::ColumnRef;
use crate::queries::AggregateFunction;

/// The columns of one family that a read needs.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyColumns {
    /// Family id (its files).
    pub family: FamilyId,
    /// Family name.
    pub name: String,
    /// Columns in output order.
    pub columns: Vec<ColumnDef>,
}

/// Every column a read outputs, grouped by family, plus the output order.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedColumns {
    /// Families to read, in order of first mention.
    pub families: Vec<FamilyColumns>,
    /// Output order as `(index in families, index in that family's columns)`.
    pub order: Vec<(usize, usize)>,
}

/// A reference to something the table does not have, or a function its column cannot take.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No such family.
    #[error("table \"{table}\" has no column family \"{family}\" (it has: {known})")]
    UnknownFamily {
        /// Table name.
        table: String,
        /// Family named.
        family: String,
        /// The table's families, comma-separated.
        known: String,
    },
    /// No such column.
    #[error("table \"{table}\" family \"{family}\" has no column \"{column}\" (it has: {known})")]
    UnknownColumn {
        /// Table name.
        table: String,
        /// Family name.
        family: String,
        /// Column named.
        column: String,
        /// The family's columns, comma-separated.
        known: String,
    },
    /// A function that does not accept the column's type.
    #[error("{function} needs a numeric column but {column} is {ty}")]
    NotNumeric {
        /// The function's name.
        function: &'static str,
        /// `family.column`.
        column: String,
        /// The column's type.
        ty: ColumnType,
    },
}

/// Resolves `refs` against `table`; empty `refs` selects every column of every family.
pub fn resolve(table: &TableDef, refs: &[ColumnRef]) -> Result<ResolvedColumns, ResolveError> {
    let mut columns = ResolvedColumns { families: Vec::new(), order: Vec::new() };
    if refs.is_empty() {
        for family in &table.families {
            columns.add(family.id, &family.name, &family.columns);
        }
        return Ok(columns);
    }
    for r in refs {
        let family = table.family(&r.family).ok_or_else(|| ResolveError::UnknownFamily {
            table: shown(&table.name),
            family: shown(&r.family),
            known: table.families.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "),
        })?;
        match &r.column {
            None => columns.add(family.id, &family.name, &family.columns),
            Some(name) => {
                let column = family.column(name).ok_or_else(|| ResolveError::UnknownColumn {
                    table: shown(&table.name),
                    family: shown(&family.name),
                    column: shown(name),
                    known: family.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
                })?;
                columns.add(family.id, &family.name, std::slice::from_ref(column));
            }
        }
    }
    Ok(columns)
}

impl ResolvedColumns {
    /// Adds `columns` of a family, skipping those already present.
    fn add(&mut self, family: FamilyId, name: &str, columns: &[ColumnDef]) {
        let fi = match self.families.iter().position(|f| f.family == family) {
            Some(fi) => fi,
            None => {
                self.families.push(FamilyColumns { family, name: name.to_owned(), columns: Vec::new() });
                self.families.len() - 1
            }
        };
        for column in columns {
            let Some(f) = self.families.get_mut(fi) else {
                return;
            };
            if f.columns.iter().any(|c| c.id == column.id) {
                continue;
            }
            f.columns.push(column.clone());
            self.order.push((fi, f.columns.len() - 1));
        }
    }

    /// Output columns in order, as `(family name, column)`.
    pub fn output_columns(&self) -> impl Iterator<Item = (&str, &ColumnDef)> {
        self.order.iter().filter_map(|&(fi, ci)| {
            let family = self.families.get(fi)?;
            Some((family.name.as_str(), family.columns.get(ci)?))
        })
    }

    /// The Arrow schema of a scan answer (see the module doc).
    pub fn scan_schema(&self) -> Arc<Schema> {
        let mut fields = vec![series_field(), Field::new("ts", ts_arrow_type(), false)];
        fields.extend(
            self.output_columns()
                .map(|(family, c)| Field::new(format!("{family}.{}", c.name), c.ty.arrow_type(), true)),
        );
        Arc::new(Schema::new(fields))
    }
}

/// The `series` column of every answer.
pub fn series_field() -> Field {
    Field::new("series", DataType::Utf8, false)
}

/// One aggregation with its column reference parsed and its output name decided.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedAggregation {
    /// The function.
    pub function: AggregateFunction,
    /// The input column (never a wildcard).
    pub column: ColumnRef,
    /// Output column name: the alias, else `function(family.column)`.
    pub name: String,
}

/// An aggregation resolved against the table.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedAggregation {
    /// The aggregation it came from.
    pub plan: NamedAggregation,
    /// Family id of the input column.
    pub family: FamilyId,
    /// The input column.
    pub column: ColumnDef,
    /// Arrow type of the output column.
    pub output_type: DataType,
}

/// Resolves aggregations: the columns must exist and numeric-only functions need numeric
/// columns. Output types: COUNT Int64; SUM, MIN, MAX the column's type; AVG and STDDEV Float64;
/// FIRST and LAST the column's type.
pub fn resolve_aggregations(
    table: &TableDef,
    aggregations: &[NamedAggregation],
) -> Result<Vec<ResolvedAggregation>, ResolveError> {
    aggregations
        .iter()
        .map(|plan| {
            let columns = resolve(table, std::slice::from_ref(&plan.column))?;
            let (family, column) =
                columns.families.first().and_then(|f| Some((f.family, f.columns.first()?.clone()))).ok_or_else(
                    || ResolveError::UnknownColumn {
                        table: shown(&table.name),
                        family: shown(&plan.column.family),
                        column: plan.column.column.as_deref().map(shown).unwrap_or_default(),
                        known: String::new(),
                    },
                )?;
            use AggregateFunction as F;
            let numeric_only = matches!(plan.function, F::Sum | F::Min | F::Max | F::Avg | F::Stddev);
            if numeric_only && !column.ty.is_numeric() {
                return Err(ResolveError::NotNumeric {
                    function: plan.function.name(),
                    column: plan.column.to_string(),
                    ty: column.ty,
                });
            }
            let output_type = match plan.function {
                F::Count => DataType::Int64,
                F::Avg | F::Stddev => DataType::Float64,
                F::Sum | F::Min | F::Max | F::First | F::Last => column.ty.arrow_type(),
            };
            Ok(ResolvedAggregation { plan: plan.clone(), family, column, output_type })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use isobar_storage::FamilyDef;

    use super::*;

    fn table() -> TableDef {
        let col = |id, name: &str, ty| ColumnDef { id, name: name.into(), ty };
        TableDef {
            id: 1,
            name: "trucks".into(),
            families: vec![
                FamilyDef {
                    id: 10,
                    name: "gps".into(),
                    columns: vec![col(0, "lat", ColumnType::F64), col(1, "lon", ColumnType::F64)],
                    ttl_ns: None,
                },
                FamilyDef {
                    id: 11,
                    name: "diag".into(),
                    columns: vec![col(0, "code", ColumnType::I64), col(1, "msg", ColumnType::String)],
                    ttl_ns: None,
                },
            ],
            dynamic_columns: false,
            ttl_ns: None,
        }
    }

    fn refs(texts: &[&str]) -> Vec<ColumnRef> {
        texts.iter().map(|t| ColumnRef::parse(t).expect("valid")).collect()
    }

    fn names(p: &ResolvedColumns) -> Vec<String> {
        p.output_columns().map(|(f, c)| format!("{f}.{}", c.name)).collect()
    }

    #[test]
    fn empty_request_reads_everything_in_creation_order() {
        let p = resolve(&table(), &[]).expect("valid");
        assert_eq!(names(&p), ["gps.lat", "gps.lon", "diag.code", "diag.msg"]);
        let schema = p.scan_schema();
        assert_eq!(schema.field(1).data_type(), &ts_arrow_type());
        assert_eq!(schema.field(5).name(), "diag.msg");
        assert_eq!(schema.field(5).data_type(), &DataType::Utf8);
    }

    #[test]
    fn only_named_families_are_read_and_duplicates_collapse() {
        let p = resolve(&table(), &refs(&["diag.msg", "diag.*"])).expect("valid");
        assert_eq!(p.families.len(), 1, "gps is not read");
        assert_eq!(p.families[0].family, 11);
        assert_eq!(names(&p), ["diag.msg", "diag.code"]);
    }

    #[test]
    fn unknown_names_list_what_exists() {
        let err = resolve(&table(), &refs(&["env.t"])).unwrap_err();
        assert_eq!(err.to_string(), "table \"trucks\" has no column family \"env\" (it has: gps, diag)");
        let err = resolve(&table(), &refs(&["gps.alt"])).unwrap_err();
        assert!(matches!(err, ResolveError::UnknownColumn { ref known, .. } if known == "lat, lon"), "{err}");
    }

    #[test]
    fn aggregations_check_types_and_give_output_types() {
        let plan = |function, column: &str| NamedAggregation {
            function,
            column: ColumnRef::parse(column).expect("valid"),
            name: String::new(),
        };
        let ok = resolve_aggregations(
            &table(),
            &[plan(AggregateFunction::Avg, "diag.code"), plan(AggregateFunction::Last, "diag.msg")],
        )
        .expect("valid");
        assert_eq!(ok[0].output_type, DataType::Float64);
        assert_eq!(ok[1].output_type, DataType::Utf8);
        assert_eq!(ok[1].family, 11);
        let err = resolve_aggregations(&table(), &[plan(AggregateFunction::Sum, "diag.msg")]).unwrap_err();
        assert_eq!(
            err,
            ResolveError::NotNumeric { function: "sum", column: "diag.msg".into(), ty: ColumnType::String }
        );
    }
}
