//! The header line: which field is the series key, which the timestamp, and which go to which
//! column of the table with which type.
//!
//! Rules, in order: the series and timestamp columns are taken by name (`series` and `ts` unless
//! `--series`/`--ts-column`/`--date-column` say otherwise); a `--map`ped column goes where its
//! mapping says; with any `--map`, every other column is skipped; without one, every other column
//! must be named `family.column` (optionally `:type`). A type missing from the header and the
//! mapping is taken from the table, so the CSV that `scan --format csv` prints imports back;
//! without a table (`--dry-run`), from the file when it types its columns (Parquet).

use isobar_storage::{ColumnType, TableDef};

use super::error::{ImportError, Place};
use super::options::{ImportOptions, Part, SeriesSpec, Target, TsSpec};
use super::source::FieldKind;

/// A field of each row and where its value goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueColumn {
    /// 0-based field index.
    pub index: usize,
    /// The header's text (for messages).
    pub label: String,
    /// Family name.
    pub family: String,
    /// Column name.
    pub column: String,
    /// Value type.
    pub ty: ColumnType,
}

/// How the series key of a row is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeriesSource {
    /// The same key for every row.
    Constant(String),
    /// Text and field values.
    Template(Vec<TemplatePart>),
}

/// A resolved piece of a series template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// The field at this index.
    Field(usize),
}

/// Where the timestamp of a row is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TsSource {
    /// One field.
    Field(usize),
    /// A date field and a time field.
    DateTime(usize, usize),
}

/// The header resolved against the options and the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Fields per line.
    pub width: usize,
    /// The series key.
    pub series: SeriesSource,
    /// Where the series key comes from, for messages.
    pub series_label: String,
    /// The timestamp.
    pub ts: TsSource,
    /// The timestamp's column(s), for messages.
    pub ts_label: String,
    /// The timestamp column holds instants (a Parquet timestamp): read as RFC 3339, whatever
    /// `--ts-format`, `--tz` and `--ts-unit` say.
    pub ts_instant: bool,
    /// The value columns.
    pub values: Vec<ValueColumn>,
    /// Header columns skipped (not mapped).
    pub skipped: Vec<String>,
}

impl Plan {
    /// The fields that rows are read from (sorted, each once).
    pub fn fields(&self) -> Vec<usize> {
        let mut fields: Vec<usize> = self.values.iter().map(|v| v.index).collect();
        match self.ts {
            TsSource::Field(i) => fields.push(i),
            TsSource::DateTime(d, t) => fields.extend([d, t]),
        }
        if let SeriesSource::Template(parts) = &self.series {
            fields.extend(parts.iter().filter_map(|p| match p {
                TemplatePart::Field(i) => Some(*i),
                TemplatePart::Text(_) => None,
            }));
        }
        fields.sort_unstable();
        fields.dedup();
        fields
    }
}

/// Resolves `header` (found at `at`) with `options`; `table` gives missing types, and failing a
/// table, `kinds` (what the file says each column holds; may be empty).
pub fn resolve(
    header: &[String],
    at: Place,
    kinds: &[FieldKind],
    options: &ImportOptions,
    table: Option<&TableDef>,
) -> Result<Plan, ImportError> {
    let find = |what: &'static str, name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| ImportError::MissingColumn {
            at,
            what,
            column: name.to_owned(),
            header: header.join(", "),
        })
    };
    let mut used = vec![false; header.len()];
    let (series, series_label) = match &options.series {
        SeriesSpec::Default => {
            let i = find("the series key (default; or give --series)", "series")?;
            mark(&mut used, i);
            (SeriesSource::Template(vec![TemplatePart::Field(i)]), "column \"series\"".to_owned())
        }
        SeriesSpec::Constant(key) => (SeriesSource::Constant(key.clone()), "--series".to_owned()),
        SeriesSpec::Template(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                out.push(match part {
                    Part::Text(t) => TemplatePart::Text(t.clone()),
                    Part::Column(name) => {
                        let i = find("--series", name)?;
                        mark(&mut used, i);
                        TemplatePart::Field(i)
                    }
                });
            }
            (SeriesSource::Template(out), "--series".to_owned())
        }
    };
    let (ts, ts_label) = match &options.ts {
        TsSpec::Column(name) => {
            let i = find("the timestamp (default ts; or give --ts-column or --date-column/--time-column)", name)?;
            mark(&mut used, i);
            (TsSource::Field(i), name.clone())
        }
        TsSpec::DateTime { date, time } => {
            let d = find("--date-column", date)?;
            let t = find("--time-column", time)?;
            mark(&mut used, d);
            mark(&mut used, t);
            (TsSource::DateTime(d, t), format!("{date} + {time}"))
        }
    };
    let mut targets: Vec<(usize, Target)> = Vec::new();
    let mut skipped = Vec::new();
    if options.maps.is_empty() {
        for (i, name) in header.iter().enumerate() {
            if used.get(i).copied().unwrap_or(false) {
                continue;
            }
            let target = Target::parse(name).ok_or_else(|| ImportError::UnknownColumn {
                at,
                field: i + 1,
                column: name.clone(),
            })?;
            targets.push((i, target));
        }
    } else {
        for (source, target) in &options.maps {
            let i = find("--map", source)?;
            targets.push((i, target.clone()));
        }
        let mapped: Vec<usize> = targets.iter().map(|(i, _)| *i).collect();
        skipped = header
            .iter()
            .enumerate()
            .filter(|(i, _)| !mapped.contains(i) && !used.get(*i).copied().unwrap_or(false))
            .map(|(_, h)| h.clone())
            .collect();
    }
    let mut values: Vec<ValueColumn> = Vec::with_capacity(targets.len());
    for (index, target) in targets {
        let label = header.get(index).cloned().unwrap_or_default();
        let name = format!("{}.{}", target.family, target.column);
        if let Some(first) = values.iter().find(|v| v.family == target.family && v.column == target.column) {
            return Err(ImportError::DuplicateTarget { at, first: first.label.clone(), second: label, target: name });
        }
        let from_file = match kinds.get(index) {
            Some(FieldKind::Typed(ty)) => Some(*ty),
            _ => None,
        };
        let ty = match (target.ty, table, from_file) {
            (Some(ty), _, _) => ty,
            (None, None, Some(ty)) => ty,
            (None, _, _) => type_from_table(table, &target, &label, &name)?,
        };
        values.push(ValueColumn { index, label, family: target.family, column: target.column, ty });
    }
    let ts_instant = matches!(ts, TsSource::Field(i) if kinds.get(i) == Some(&FieldKind::Instant));
    Ok(Plan { width: header.len(), series, series_label, ts, ts_label, ts_instant, values, skipped })
}

fn mark(used: &mut [bool], i: usize) {
    if let Some(u) = used.get_mut(i) {
        *u = true;
    }
}

/// The type of `target` in the table, or why it is not known.
fn type_from_table(
    table: Option<&TableDef>,
    target: &Target,
    label: &str,
    name: &str,
) -> Result<ColumnType, ImportError> {
    let no_type = |why: String| ImportError::NoType { column: label.to_owned(), target: name.to_owned(), why };
    let Some(table) = table else {
        return Err(no_type("the table was not asked (--dry-run has no server)".into()));
    };
    let family = table
        .family(&target.family)
        .ok_or_else(|| no_type(format!("table {} has no family {}", table.name, target.family)))?;
    let column = family
        .column(&target.column)
        .ok_or_else(|| no_type(format!("family {}.{} has no column {}", table.name, target.family, target.column)))?;
    Ok(column.ty)
}
