//! [`Naming`]: what an export calls its columns, and [`ExportGroup`]: one set of files of an
//! export, with the columns its scans read and the schema its files have.
//!
//! | naming | files | a column `obs.temp` is called |
//! |---|---|---|
//! | [`Naming::Dotted`] | one set | `obs.temp` (quote it in SQL: `"obs.temp"`) |
//! | [`Naming::Underscore`] | one set | `obs_temp` (plain SQL identifiers) |
//! | [`Naming::Family`] | one set per family, under `dest/<family>/` | `temp`, in `dest/obs/` |
//!
//! Every file starts with `series` and `ts`. Names that would clash are refused before anything
//! is written: two columns with one name (`a_b.c` and `a.b_c` are both `a_b_c` with
//! underscores), a column called `series` or `ts` under its bare name, or one named like the
//! partition column (`date`, `month`, `year`), which Hive readers add themselves.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use isobar_storage::{Projection, TableDef};
use serde::{Deserialize, Serialize};

use super::partition::Partition;
use crate::error::{Error, Result};

/// What an export calls its columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// `family.column`, as scans answer (the default, as before this choice existed).
    #[default]
    Dotted,
    /// `family_column`: plain identifiers for DuckDB, Spark and other SQL engines.
    Underscore,
    /// One set of files per family, in `dest/<family>/`, its columns under their bare names.
    Family,
}

impl Naming {
    /// The name a person reads (`dotted`, `underscore`, `family`).
    pub fn name(self) -> &'static str {
        match self {
            Naming::Dotted => "dotted",
            Naming::Underscore => "underscore",
            Naming::Family => "family",
        }
    }
}

/// One set of files: the columns its scans read and the schema of its files.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportGroup {
    /// The family whose directory (`dest/<family>/`) holds the files, with [`Naming::Family`].
    pub family: Option<String>,
    /// The columns to scan, `family.column`, in the order of the schema.
    pub columns: Vec<String>,
    /// The files' schema: `series`, `ts`, then the columns under their exported names.
    pub schema: SchemaRef,
}

impl ExportGroup {
    /// A scan batch of [`ExportGroup::columns`] (`series`, `ts`, then those columns in order)
    /// with the exported names.
    pub fn adapt(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), batch.columns().to_vec())?)
    }
}

/// A column of a group: its reference (`family.column`), its exported name, its field.
type Named = (String, String, Field);

/// The groups of an export of `columns` (`family.column` or `family.*`; empty: all) of `table`
/// named by `naming`; refuses names that clash (module docs). The partition column is checked
/// by [`check_partition_column`] once the partition is known.
pub fn groups(table: &TableDef, columns: &[String], naming: Naming) -> Result<Vec<ExportGroup>> {
    let projection = Projection::resolve(table, columns).map_err(isobar_storage::Error::from)?;
    let scan_schema = projection.schema();
    let fixed: Vec<Field> = scan_schema.fields().iter().take(2).map(|f| f.as_ref().clone()).collect();
    // (family, column, Arrow field of the scan) in output order.
    let mut output = Vec::with_capacity(projection.output.len());
    for (field, (idx, column)) in scan_schema.fields().iter().skip(2).zip(&projection.output) {
        let Some((family, _)) = projection.families.get(*idx) else { continue };
        output.push((family.name.as_str(), column.name.as_str(), field));
    }
    let mut groups: Vec<(Option<&str>, Vec<Named>)> = Vec::new();
    for (family, column, field) in output {
        let (group, name) = match naming {
            Naming::Dotted => (None, format!("{family}.{column}")),
            Naming::Underscore => (None, format!("{family}_{column}")),
            Naming::Family => (Some(family), column.to_owned()),
        };
        let at = match groups.iter().position(|(g, _)| *g == group) {
            Some(at) => at,
            None => {
                groups.push((group, Vec::new()));
                groups.len() - 1
            }
        };
        let reference = format!("{family}.{column}");
        let field = field.as_ref().clone().with_name(name.clone());
        if let Some((_, cols)) = groups.get_mut(at) {
            cols.push((reference, name, field));
        }
    }
    if groups.is_empty() {
        groups.push((None, Vec::new()));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (family, cols) in groups {
        for (i, (reference, name, _)) in cols.iter().enumerate() {
            let clash = if fixed.iter().any(|f| f.name() == name) {
                Some(format!("the {name} column every file starts with"))
            } else {
                cols.iter().take(i).find(|(_, other, _)| other == name).map(|(r, _, _)| format!("column {r}"))
            };
            if let Some(clash) = clash {
                return Err(Error::ExportColumnName {
                    column: reference.clone(),
                    name: name.clone(),
                    clash,
                    naming: naming.name(),
                });
            }
        }
        let mut fields = fixed.clone();
        fields.extend(cols.iter().map(|(_, _, f)| f.clone()));
        out.push(ExportGroup {
            family: family.map(str::to_owned),
            columns: cols.into_iter().map(|(reference, _, _)| reference).collect(),
            schema: Arc::new(Schema::new(fields)),
        });
    }
    Ok(out)
}

/// Refuses a column exported under the name of `partition`'s Hive column (`date`, `month`,
/// `year`): readers that discover partitions would see two columns of that name.
pub fn check_partition_column(groups: &[ExportGroup], naming: Naming, partition: Partition) -> Result<()> {
    let Some(hive) = partition.column() else { return Ok(()) };
    for group in groups {
        let names = group.schema.fields().iter().skip(2).map(|f| f.name());
        for (reference, name) in group.columns.iter().zip(names) {
            if name == hive {
                return Err(Error::ExportColumnName {
                    column: reference.clone(),
                    name: name.clone(),
                    clash: format!("the {hive}= partition column of --partition {}", partition.name()),
                    naming: naming.name(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::DataType;
    use isobar_storage::{ColumnDef, ColumnType, FamilyDef};

    fn table(families: &[(&str, &[(&str, ColumnType)])]) -> TableDef {
        let mut id = 0;
        let families = families
            .iter()
            .enumerate()
            .map(|(f, (name, cols))| FamilyDef {
                id: f as u32 + 1,
                name: (*name).to_owned(),
                columns: cols
                    .iter()
                    .map(|(c, ty)| {
                        id += 1;
                        ColumnDef { id, name: (*c).to_owned(), ty: *ty }
                    })
                    .collect(),
                ttl_ns: None,
            })
            .collect();
        TableDef { id: 1, name: "t".into(), families, dynamic_columns: false, ttl_ns: None }
    }

    fn names(group: &ExportGroup) -> Vec<&str> {
        group.schema.fields().iter().map(|f| f.name().as_str()).collect()
    }

    fn weather() -> TableDef {
        table(&[
            ("obs", &[("temp", ColumnType::F64), ("rh", ColumnType::F64)]),
            ("meta", &[("note", ColumnType::String)]),
        ])
    }

    #[test]
    fn dotted_and_underscore_make_one_group() {
        let t = weather();
        let dotted = groups(&t, &[], Naming::Dotted).expect("ok");
        assert_eq!(dotted.len(), 1);
        assert_eq!(names(&dotted[0]), ["series", "ts", "obs.temp", "obs.rh", "meta.note"]);
        assert_eq!(dotted[0].columns, ["obs.temp", "obs.rh", "meta.note"]);
        assert_eq!(dotted[0].family, None);
        let under = groups(&t, &["meta.note".into(), "obs.*".into()], Naming::Underscore).expect("ok");
        assert_eq!(names(&under[0]), ["series", "ts", "meta_note", "obs_temp", "obs_rh"]);
        assert_eq!(under[0].columns, ["meta.note", "obs.temp", "obs.rh"], "the scan's order");
        assert_eq!(under[0].schema.field(4).data_type(), &DataType::Float64);
        assert!(under[0].schema.field(4).is_nullable());
    }

    #[test]
    fn family_makes_one_group_per_family_with_bare_names() {
        let t = weather();
        let fam = groups(&t, &["obs.rh".into(), "meta.*".into(), "obs.temp".into()], Naming::Family).expect("ok");
        assert_eq!(fam.len(), 2);
        assert_eq!((fam[0].family.as_deref(), names(&fam[0])), (Some("obs"), vec!["series", "ts", "rh", "temp"]));
        assert_eq!(fam[0].columns, ["obs.rh", "obs.temp"]);
        assert_eq!((fam[1].family.as_deref(), names(&fam[1])), (Some("meta"), vec!["series", "ts", "note"]));
    }

    #[test]
    fn clashing_names_are_refused_naming_both_columns() {
        let t = table(&[("a_b", &[("c", ColumnType::F64)]), ("a", &[("b_c", ColumnType::I64)])]);
        assert!(groups(&t, &[], Naming::Dotted).is_ok());
        let err = groups(&t, &[], Naming::Underscore).expect_err("a_b_c twice");
        assert!(
            matches!(&err, Error::ExportColumnName { column, name, clash, .. }
                if column == "a.b_c" && name == "a_b_c" && clash == "column a_b.c"),
            "{err}"
        );
        assert!(err.to_string().contains("--naming underscore"), "{err}");
        assert!(groups(&t, &[], Naming::Family).is_ok(), "different families, different files");

        let t = table(&[("obs", &[("ts", ColumnType::I64), ("series", ColumnType::String)])]);
        let err = groups(&t, &[], Naming::Family).expect_err("ts is taken");
        assert!(matches!(&err, Error::ExportColumnName { name, .. } if name == "ts"), "{err}");
        assert!(groups(&t, &["obs.series".into()], Naming::Family).is_err());
        assert!(groups(&t, &[], Naming::Underscore).is_ok(), "obs_ts is free");
    }

    #[test]
    fn a_column_named_like_the_partition_is_refused_only_with_that_partition() {
        let t = table(&[("obs", &[("month", ColumnType::I64)])]);
        let fam = groups(&t, &[], Naming::Family).expect("ok without a partition");
        for ok in [Partition::None, Partition::Day, Partition::Year] {
            assert!(check_partition_column(&fam, Naming::Family, ok).is_ok(), "{ok:?}");
        }
        let err = check_partition_column(&fam, Naming::Family, Partition::Month).expect_err("month twice");
        assert!(err.to_string().contains("obs.month") && err.to_string().contains("month="), "{err}");
        let dotted = groups(&t, &[], Naming::Dotted).expect("ok");
        assert!(check_partition_column(&dotted, Naming::Dotted, Partition::Month).is_ok(), "obs.month");
    }

    #[test]
    fn adapt_renames_without_copying() {
        let t = weather();
        let g = &groups(&t, &["obs.temp".into()], Naming::Underscore).expect("ok")[0];
        let scan = Arc::new(Schema::new(vec![
            Field::new("series", DataType::Utf8, false),
            Field::new("ts", isobar_storage::ts_arrow_type(), false),
            Field::new("obs.temp", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            scan,
            vec![
                Arc::new(arrow_array::StringArray::from(vec!["s"])),
                Arc::new(arrow_array::TimestampNanosecondArray::from(vec![1]).with_timezone("UTC")),
                Arc::new(arrow_array::Float64Array::from(vec![Some(1.5)])),
            ],
        )
        .expect("batch");
        let out = g.adapt(&batch).expect("same types");
        assert_eq!(out.schema().field(2).name(), "obs_temp");
        assert!(Arc::ptr_eq(out.column(2), batch.column(2)));
    }
}
