//! Table definitions between the wire and the engine.
//!
//! [`pb::TableSpec`] (what a client asks for) <-> [`TableSpec`]; [`TableDef`] (what the catalog
//! records, with ids) <-> [`pb::TableInfo`]. Names are passed through unchanged: the engine
//! validates them. Column types are checked here, since an unknown or unset enum value on the
//! wire has no engine equivalent.

use isobar_proto::v1 as pb;
use isobar_storage::{ColumnDef, ColumnType, FamilyDef, TableDef, TableSpec};
use isobar_storage::{ColumnSpec, FamilySpec};

use crate::shown::shown;

/// A table definition the server cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// A column whose type is unset or not a known `ColumnType` value.
    #[error(
        "table \"{table}\" family \"{family}\" column \"{column}\": type {got} is not one of COLUMN_TYPE_F64, COLUMN_TYPE_I64, COLUMN_TYPE_BOOL, COLUMN_TYPE_STRING"
    )]
    BadColumnType {
        /// Table name (escaped, shortened).
        table: String,
        /// Family name (escaped, shortened).
        family: String,
        /// Column name (escaped, shortened).
        column: String,
        /// The enum value sent.
        got: i32,
    },
}

/// The engine type of a wire enum value; `None` for unset (0) or unknown values.
pub fn column_type_from_proto(value: i32) -> Option<ColumnType> {
    match pb::ColumnType::try_from(value).ok()? {
        pb::ColumnType::Unspecified => None,
        pb::ColumnType::F64 => Some(ColumnType::F64),
        pb::ColumnType::I64 => Some(ColumnType::I64),
        pb::ColumnType::Bool => Some(ColumnType::Bool),
        pb::ColumnType::String => Some(ColumnType::String),
    }
}

/// The wire enum of an engine type.
pub fn column_type_to_proto(ty: ColumnType) -> pb::ColumnType {
    match ty {
        ColumnType::F64 => pb::ColumnType::F64,
        ColumnType::I64 => pb::ColumnType::I64,
        ColumnType::Bool => pb::ColumnType::Bool,
        ColumnType::String => pb::ColumnType::String,
    }
}

/// The engine spec of a wire table spec.
pub fn table_spec_from_proto(spec: pb::TableSpec) -> Result<TableSpec, TableError> {
    let families =
        spec.families.into_iter().map(|f| family_spec_from_proto(&spec.name, f)).collect::<Result<_, _>>()?;
    Ok(TableSpec { name: spec.name, families, dynamic_columns: spec.dynamic_columns, ttl_ns: spec.ttl_ns })
}

/// The wire spec of an engine table spec.
pub fn table_spec_to_proto(spec: TableSpec) -> pb::TableSpec {
    pb::TableSpec {
        name: spec.name,
        families: spec.families.into_iter().map(family_spec_to_proto).collect(),
        dynamic_columns: spec.dynamic_columns,
        ttl_ns: spec.ttl_ns,
    }
}

/// The engine spec of a wire family spec of table `table` (named in errors), e.g. for
/// `AlterTable`'s `add_family`.
pub fn family_spec_from_proto(table: &str, family: pb::FamilySpec) -> Result<FamilySpec, TableError> {
    let columns = column_specs_from_proto(table, &family.name, family.columns)?;
    Ok(FamilySpec { name: family.name, columns, ttl_ns: family.ttl_ns })
}

/// The wire spec of an engine family spec.
pub fn family_spec_to_proto(family: FamilySpec) -> pb::FamilySpec {
    pb::FamilySpec {
        name: family.name,
        columns: family
            .columns
            .into_iter()
            .map(|c| pb::ColumnSpec { name: c.name, r#type: column_type_to_proto(c.ty).into() })
            .collect(),
        ttl_ns: family.ttl_ns,
    }
}

/// Engine column specs of wire column specs of `table.family` (named in errors), e.g. for
/// `AlterTable`'s `add_columns`.
pub fn column_specs_from_proto(
    table: &str,
    family: &str,
    columns: Vec<pb::ColumnSpec>,
) -> Result<Vec<ColumnSpec>, TableError> {
    columns
        .into_iter()
        .map(|c| match column_type_from_proto(c.r#type) {
            Some(ty) => Ok(ColumnSpec { name: c.name, ty }),
            None => Err(TableError::BadColumnType {
                table: shown(table),
                family: shown(family),
                column: shown(&c.name),
                got: c.r#type,
            }),
        })
        .collect()
}

/// The wire description of a catalog table.
pub fn table_def_to_info(def: &TableDef) -> pb::TableInfo {
    pb::TableInfo {
        id: def.id,
        name: def.name.clone(),
        families: def
            .families
            .iter()
            .map(|f| pb::FamilyInfo {
                id: f.id,
                name: f.name.clone(),
                columns: f
                    .columns
                    .iter()
                    .map(|c| pb::ColumnInfo {
                        id: c.id,
                        name: c.name.clone(),
                        r#type: column_type_to_proto(c.ty).into(),
                    })
                    .collect(),
                ttl_ns: f.ttl_ns,
                // Kept by the manifest beside the catalog; `isobar_query::service::admin::table_info`
                // fills them.
                compaction_window_ns: None,
                closed_after_ns: None,
            })
            .collect(),
        dynamic_columns: def.dynamic_columns,
        ttl_ns: def.ttl_ns,
    }
}

/// The catalog table a wire description describes (for clients that print or compare it).
pub fn table_info_to_def(info: pb::TableInfo) -> Result<TableDef, TableError> {
    let mut families = Vec::with_capacity(info.families.len());
    for family in info.families {
        let mut columns = Vec::with_capacity(family.columns.len());
        for column in family.columns {
            let Some(ty) = column_type_from_proto(column.r#type) else {
                return Err(TableError::BadColumnType {
                    table: shown(&info.name),
                    family: shown(&family.name),
                    column: shown(&column.name),
                    got: column.r#type,
                });
            };
            columns.push(ColumnDef { id: column.id, name: column.name, ty });
        }
        families.push(FamilyDef { id: family.id, name: family.name, columns, ttl_ns: family.ttl_ns });
    }
    Ok(TableDef { id: info.id, name: info.name, families, dynamic_columns: info.dynamic_columns, ttl_ns: info.ttl_ns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TableSpec {
        TableSpec::new("trucks")
            .family("gps", &[("lat", ColumnType::F64), ("moving", ColumnType::Bool)])
            .family("diag", &[("code", ColumnType::I64), ("msg", ColumnType::String)])
            .dynamic_columns(true)
            .ttl(std::time::Duration::from_secs(86_400))
    }

    #[test]
    fn table_spec_round_trips() {
        let wire = table_spec_to_proto(spec());
        assert_eq!(wire.families[0].columns[1].r#type, pb::ColumnType::Bool as i32);
        assert_eq!(wire.ttl_ns, Some(86_400_000_000_000));
        assert_eq!(table_spec_from_proto(wire), Ok(spec()));
    }

    #[test]
    fn unset_or_unknown_column_type_is_refused_with_its_place() {
        for bad in [0, 5, -1] {
            let mut wire = table_spec_to_proto(spec());
            wire.families[1].columns[0].r#type = bad;
            assert_eq!(
                table_spec_from_proto(wire),
                Err(TableError::BadColumnType {
                    table: "trucks".into(),
                    family: "diag".into(),
                    column: "code".into(),
                    got: bad,
                })
            );
        }
    }

    #[test]
    fn table_def_round_trips_through_info() {
        let def = TableDef {
            id: 7,
            name: "weather".into(),
            families: vec![FamilyDef {
                id: 12,
                name: "env".into(),
                columns: vec![ColumnDef { id: 3, name: "temp".into(), ty: ColumnType::F64 }],
                ttl_ns: Some(5),
            }],
            dynamic_columns: false,
            ttl_ns: None,
        };
        let info = table_def_to_info(&def);
        assert_eq!((info.id, info.families[0].id, info.families[0].columns[0].id), (7, 12, 3));
        assert_eq!(table_info_to_def(info), Ok(def));
    }

    #[test]
    fn column_types_map_one_to_one() {
        for ty in ColumnType::ALL {
            assert_eq!(column_type_from_proto(column_type_to_proto(ty).into()), Some(ty));
            // The wire numbers are the engine's file tags.
            assert_eq!(column_type_to_proto(ty) as i32, i32::from(ty.tag()));
        }
    }
}
