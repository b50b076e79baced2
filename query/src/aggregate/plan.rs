//! Checking an [`AggregateQuery`] against the catalog and turning it into a [`Plan`]: the
//! families to read with their input columns (each read once however many functions use it),
//! the output columns, and the bucketing arithmetic.

use arrow_schema::DataType;
use isobar_storage::{ColumnDef, ColumnId, FamilyDef, SeriesSelector, Snapshot, TableDef, TimeRange};

use super::acc::Needs;
use super::bucketing::Bucketing;
use crate::error::{Error, Result};
use crate::queries::AggregateQuery;
use crate::queries::{AggregateFunction, Fill, GroupBy};
use crate::resolve::{NamedAggregation, resolve_aggregations};

/// Most buckets per group that filling may produce.
pub(crate) const MAX_FILL_BUCKETS: u128 = 10_000_000;

/// One input column and what its functions need.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    /// Index of its accumulator in every bucket.
    pub slot: usize,
    /// The column.
    pub column: ColumnDef,
    /// What to keep.
    pub needs: Needs,
}

/// A family to read and its input columns.
#[derive(Clone, Debug)]
pub(crate) struct FamilyInputs {
    /// The family.
    pub family: FamilyDef,
    /// Input columns.
    pub inputs: Vec<Input>,
    /// Their ids, ascending.
    pub ids: Vec<ColumnId>,
}

impl FamilyInputs {
    /// True when chunk statistics can answer every function over this family.
    pub(crate) fn stats_suffice(&self) -> bool {
        self.inputs.iter().all(|i| i.needs.answerable_from_stats())
    }
}

/// One output column.
#[derive(Clone, Debug)]
pub(crate) struct Output {
    /// Column name.
    pub name: String,
    /// The function.
    pub function: AggregateFunction,
    /// Accumulator slot of its input.
    pub slot: usize,
    /// `family.column` of its input.
    pub input: String,
    /// Arrow type of the answer.
    pub data_type: DataType,
}

/// A checked aggregate query.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The table.
    pub table: TableDef,
    /// Which series.
    pub selector: SeriesSelector,
    /// Which times.
    pub range: TimeRange,
    /// Buckets, if any.
    pub bucket: Option<Bucketing>,
    /// Grouping.
    pub group_by: GroupBy,
    /// Filling.
    pub fill: Fill,
    /// Whether chunk statistics may be used.
    pub push_down: bool,
    /// Families to read.
    pub families: Vec<FamilyInputs>,
    /// Output columns in order.
    pub outputs: Vec<Output>,
    /// Number of accumulator slots.
    pub slots: usize,
}

fn fill_name(fill: Fill) -> &'static str {
    match fill {
        Fill::None => "none",
        Fill::Null => "null",
        Fill::Previous => "previous",
        Fill::Linear => "linear",
    }
}

impl Plan {
    /// Checks `q` against the snapshot's catalog.
    pub(crate) fn new(snapshot: &Snapshot, q: &AggregateQuery) -> Result<Plan> {
        if q.aggregations.is_empty() {
            return Err(Error::NoAggregations);
        }
        if q.range.is_empty() {
            return Err(Error::EmptyRange { from: q.range.from, to: q.range.to });
        }
        let bucket = q.bucket.as_ref().map(Bucketing::new).transpose()?;
        if q.fill != Fill::None {
            let fill = fill_name(q.fill);
            let Some(b) = &bucket else { return Err(Error::FillNeedsBucket { fill }) };
            if q.range.from == i64::MIN || q.range.to == i64::MAX {
                return Err(Error::FillNeedsBoundedRange { fill });
            }
            let buckets = (i128::from(q.range.to) - i128::from(q.range.from)) as u128 / b.min_width_ns() as u128 + 2;
            if buckets > MAX_FILL_BUCKETS {
                return Err(Error::TooManyBuckets { buckets, limit: MAX_FILL_BUCKETS });
            }
        }
        let table = snapshot.table(&q.table)?.clone();
        let mut plans = Vec::with_capacity(q.aggregations.len());
        for (index, a) in q.aggregations.iter().enumerate() {
            let column = a.column.clone();
            if column.is_wildcard() {
                return Err(Error::WildcardAggregation { index, column: column.to_string() });
            }
            let name = a.output_name();
            if plans.iter().any(|p: &NamedAggregation| p.name == name) {
                return Err(Error::DuplicateOutput { name });
            }
            plans.push(NamedAggregation { function: a.function, column, name });
        }
        let resolved = resolve_aggregations(&table, &plans)?;
        let mut families: Vec<FamilyInputs> = Vec::new();
        let mut outputs = Vec::with_capacity(resolved.len());
        let mut slots = 0;
        for r in resolved {
            let Some(family) = table.family_by_id(r.family) else { continue };
            let fi = match families.iter().position(|f| f.family.id == r.family) {
                Some(i) => i,
                None => {
                    families.push(FamilyInputs { family: family.clone(), inputs: Vec::new(), ids: Vec::new() });
                    families.len() - 1
                }
            };
            let fam = &mut families[fi];
            let slot = match fam.inputs.iter().position(|i| i.column.id == r.column.id) {
                Some(i) => fam.inputs[i].slot,
                None => {
                    fam.inputs.push(Input { slot: slots, column: r.column.clone(), needs: Needs::default() });
                    fam.ids.push(r.column.id);
                    slots += 1;
                    slots - 1
                }
            };
            if let Some(input) = fam.inputs.iter_mut().find(|i| i.slot == slot) {
                input.needs.add(r.plan.function);
            }
            outputs.push(Output {
                name: r.plan.name.clone(),
                function: r.plan.function,
                slot,
                input: r.plan.column.to_string(),
                data_type: r.output_type,
            });
        }
        for f in &mut families {
            f.ids.sort_unstable();
        }
        Ok(Plan {
            table,
            selector: q.selector.clone(),
            range: q.range,
            bucket,
            group_by: q.group_by,
            fill: q.fill,
            push_down: q.push_down,
            families,
            outputs,
            slots,
        })
    }

    /// True when the one whole-range bucket is labelled with the earliest time at which an
    /// aggregated column has a value (no buckets and no `from`), so that time must be exact.
    pub(crate) fn labels_by_first_value(&self) -> bool {
        self.bucket.is_none() && self.range.from == i64::MIN
    }

    /// Start of the bucket holding `ts` (`i64::MIN` when there are no buckets).
    pub(crate) fn bucket_of(&self, ts: i64) -> i64 {
        self.bucket.as_ref().map_or(i64::MIN, |b| b.start_of(ts))
    }

    /// First timestamp after the bucket starting at `start` (saturating).
    pub(crate) fn bucket_end(&self, start: i64) -> i64 {
        self.bucket.as_ref().map_or(i64::MAX, |b| b.end_of(start))
    }
}
