//! The data model's types: column types, values and the catalog's table definitions.
//!
//! A table has column families; a family has typed columns. Every table, family and column gets a
//! numeric id when it is created; files and WAL records refer to ids only, never to names.

use std::fmt;

use arrow_schema::{DataType, TimeUnit};
use serde::{Deserialize, Serialize};

/// Id of a table, unique in a database and never reused.
pub type TableId = u32;
/// Id of a column family, unique in a database (not only in its table) and never reused.
pub type FamilyId = u32;
/// Id of a column, unique within its family and never reused there.
pub type ColumnId = u32;

/// The bit that makes a column id the id of a null marker (see [`null_marker`]).
const NULL_MARKER_BIT: ColumnId = 1 << 31;

/// The id of the hidden null-marker column of column `id`: a `bool` column whose cell is present
/// (and true) at a row where a write set `id` to null on purpose, overriding an older value (an
/// explicit null, as a Cassandra cell tombstone). An absent cell keeps the old value instead.
///
/// Markers are stored like any column (WAL, memtables, SSTables), so every layer keeps them
/// without knowing; merges pair each column with its marker ([`merge_partner`]: the newer of a
/// value and an explicit null wins), and reads drop markers before anyone sees them. Their ids
/// sort after every real column; real ids never reach the bit (they count up from 0 per family).
pub fn null_marker(id: ColumnId) -> ColumnId {
    id | NULL_MARKER_BIT
}

/// The column whose null marker `id` is, or `None` when `id` is a real column.
pub fn marked_column(id: ColumnId) -> Option<ColumnId> {
    (id & NULL_MARKER_BIT != 0).then_some(id & !NULL_MARKER_BIT)
}

/// The column a merge pairs with `id` when it decides which row's cell wins: a real column's
/// null marker, a marker's column. The newest row that has a cell in either of the two gives
/// both (so a newer explicit null hides an older value, and a newer value an older null).
pub(crate) fn merge_partner(id: ColumnId) -> ColumnId {
    id ^ NULL_MARKER_BIT
}

/// `ids` (ascending) with the null marker of each real column among them, ascending.
pub(crate) fn with_null_markers(ids: &[ColumnId]) -> Vec<ColumnId> {
    let markers = ids.iter().filter(|id| marked_column(**id).is_none()).map(|id| null_marker(*id));
    let mut out: Vec<ColumnId> = ids.iter().copied().chain(markers).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The type of a column's values, fixed when the column is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// 64-bit IEEE float.
    F64,
    /// 64-bit signed integer.
    I64,
    /// Boolean.
    Bool,
    /// UTF-8 string.
    String,
}

impl ColumnType {
    /// All types, in tag order.
    pub const ALL: [ColumnType; 4] = [Self::F64, Self::I64, Self::Bool, Self::String];

    /// The Arrow type scans return for this column type.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::F64 => DataType::Float64,
            ColumnType::I64 => DataType::Int64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::String => DataType::Utf8,
        }
    }

    /// True for types that aggregates such as `sum` and `avg` accept.
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::F64 | ColumnType::I64)
    }

    /// The stable one-byte tag used in files.
    pub fn tag(self) -> u8 {
        match self {
            ColumnType::F64 => 1,
            ColumnType::I64 => 2,
            ColumnType::Bool => 3,
            ColumnType::String => 4,
        }
    }

    /// The type for a tag read from a file, if the tag is known.
    pub fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.tag() == tag)
    }

    /// Parses `f64`, `i64`, `bool` or `string` (also `float`, `int`, `str`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f64" | "float" | "double" => Some(Self::F64),
            "i64" | "int" | "integer" => Some(Self::I64),
            "bool" | "boolean" => Some(Self::Bool),
            "string" | "str" | "utf8" => Some(Self::String),
            _ => None,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColumnType::F64 => "f64",
            ColumnType::I64 => "i64",
            ColumnType::Bool => "bool",
            ColumnType::String => "string",
        })
    }
}

/// The Arrow type of the `ts` column of every scan: nanoseconds since the epoch, UTC.
pub fn ts_arrow_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// A column of a family, as the catalog records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Id, unique within the family.
    pub id: ColumnId,
    /// Name, unique within the family.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

/// A column family: the unit of physical storage (its own memtable, SSTables and compaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyDef {
    /// Id, unique in the database.
    pub id: FamilyId,
    /// Name, unique within the table.
    pub name: String,
    /// Columns in creation order.
    pub columns: Vec<ColumnDef>,
    /// Retention for this family in nanoseconds; overrides the table's when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ns: Option<i64>,
}

impl FamilyDef {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column with id `id`.
    pub fn column_by_id(&self, id: ColumnId) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.id == id)
    }

    /// The type of stored column `id`: a real column's type, `bool` for the null marker of a
    /// real column ([`null_marker`]), `None` for an unknown id.
    pub fn stored_type(&self, id: ColumnId) -> Option<ColumnType> {
        match marked_column(id) {
            Some(column) => self.column_by_id(column).map(|_| ColumnType::Bool),
            None => self.column_by_id(id).map(|c| c.ty),
        }
    }

    /// The id the next new column gets.
    pub fn next_column_id(&self) -> ColumnId {
        self.columns.iter().map(|c| c.id + 1).max().unwrap_or(0)
    }
}

/// A table as the catalog records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    /// Id, unique in the database and never reused.
    pub id: TableId,
    /// Name, unique in the database.
    pub name: String,
    /// Column families in creation order.
    pub families: Vec<FamilyDef>,
    /// Whether a write may create a new column in an existing family (its type is then fixed by
    /// that first write).
    #[serde(default)]
    pub dynamic_columns: bool,
    /// Retention for the whole table in nanoseconds (a family's own TTL overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ns: Option<i64>,
}

impl TableDef {
    /// The family named `name`.
    pub fn family(&self, name: &str) -> Option<&FamilyDef> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The family with id `id`.
    pub fn family_by_id(&self, id: FamilyId) -> Option<&FamilyDef> {
        self.families.iter().find(|f| f.id == id)
    }

    /// The TTL in force for `family`: the family's own, else the table's.
    pub fn ttl_of(&self, family: &FamilyDef) -> Option<i64> {
        family.ttl_ns.or(self.ttl_ns)
    }
}

/// What a user asks for when creating a table (no ids yet).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Families with their initial columns.
    pub families: Vec<FamilySpec>,
    /// Allow new columns to appear on write.
    #[serde(default)]
    pub dynamic_columns: bool,
    /// Retention for the whole table, in nanoseconds.
    #[serde(default)]
    pub ttl_ns: Option<i64>,
}

impl TableSpec {
    /// A table named `name` with no families yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// Adds a family with `columns` given as `(name, type)`.
    pub fn family(mut self, name: impl Into<String>, columns: &[(&str, ColumnType)]) -> Self {
        self.families.push(FamilySpec::new(name, columns));
        self
    }

    /// Allows or forbids new columns on write.
    pub fn dynamic_columns(mut self, on: bool) -> Self {
        self.dynamic_columns = on;
        self
    }

    /// Sets the table's retention.
    pub fn ttl(mut self, ttl: std::time::Duration) -> Self {
        self.ttl_ns = Some(i64::try_from(ttl.as_nanos()).unwrap_or(i64::MAX));
        self
    }
}

/// A family in a [`TableSpec`] or in an "add family" change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilySpec {
    /// Family name.
    pub name: String,
    /// Columns as `(name, type)`.
    pub columns: Vec<ColumnSpec>,
    /// Retention for this family, in nanoseconds.
    #[serde(default)]
    pub ttl_ns: Option<i64>,
}

impl FamilySpec {
    /// A family named `name` with `columns`.
    pub fn new(name: impl Into<String>, columns: &[(&str, ColumnType)]) -> Self {
        Self {
            name: name.into(),
            columns: columns.iter().map(|(n, t)| ColumnSpec { name: (*n).to_string(), ty: *t }).collect(),
            ttl_ns: None,
        }
    }
}

/// A column in a [`FamilySpec`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// Column type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
}
