//! [`Projection`]: which families and columns a scan reads, and the order of its output columns.

use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};

use super::snapshot::unknown_column;
use crate::error::InvalidInput;
use crate::schema::{ColumnDef, FamilyDef, TableDef, ts_arrow_type};

/// A resolved projection: for each family read, its columns; and the output order.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Families to read with the ids of their columns (ascending).
    pub families: Vec<(FamilyDef, Vec<ColumnDef>)>,
    /// Output columns in order: (index into `families`, column).
    pub output: Vec<(usize, ColumnDef)>,
}

impl Projection {
    /// Resolves `columns` (`family.column`, `family.*`; empty = all) against `table`.
    pub fn resolve(table: &TableDef, columns: &[String]) -> Result<Projection, InvalidInput> {
        let mut wanted: Vec<(&FamilyDef, ColumnDef)> = Vec::new();
        if columns.is_empty() {
            for f in &table.families {
                wanted.extend(f.columns.iter().map(|c| (f, c.clone())));
            }
        }
        for spec in columns {
            let Some((fam, col)) = spec.split_once('.') else {
                return Err(InvalidInput::Impossible(format!(
                    "column \"{spec}\" must be written family.column or family.* (table \"{}\" has families: {})",
                    table.name,
                    crate::catalog::known_families(table)
                )));
            };
            let family = table.family(fam).ok_or_else(|| InvalidInput::UnknownFamily {
                table: table.name.clone(),
                family: fam.to_string(),
                known: crate::catalog::known_families(table),
            })?;
            if col == "*" {
                wanted.extend(family.columns.iter().map(|c| (family, c.clone())));
            } else {
                let c = family.column(col).ok_or_else(|| unknown_column(table, family, col))?;
                wanted.push((family, c.clone()));
            }
        }
        let mut out = Projection { families: Vec::new(), output: Vec::new() };
        for (family, column) in wanted {
            let idx = match out.families.iter().position(|(f, _)| f.id == family.id) {
                Some(i) => i,
                None => {
                    out.families.push((family.clone(), Vec::new()));
                    out.families.len() - 1
                }
            };
            if out.output.iter().any(|(i, c)| *i == idx && c.id == column.id) {
                continue;
            }
            if let Some((_, cols)) = out.families.get_mut(idx) {
                cols.push(column.clone());
            }
            out.output.push((idx, column));
        }
        for (_, cols) in &mut out.families {
            cols.sort_by_key(|c| c.id);
        }
        Ok(out)
    }

    /// The Arrow schema of the scan output.
    pub fn schema(&self) -> SchemaRef {
        let mut fields =
            vec![Field::new("series", arrow_schema::DataType::Utf8, false), Field::new("ts", ts_arrow_type(), false)];
        for (idx, col) in &self.output {
            let Some((family, _)) = self.families.get(*idx) else { continue };
            fields.push(Field::new(format!("{}.{}", family.name, col.name), col.ty.arrow_type(), true));
        }
        Arc::new(Schema::new(fields))
    }
}
