//! [`IsobarTable`]: the DataFusion table provider of one relation. A thin adapter: it turns
//! DataFusion's projection, filters and limit into the engine's [`ScanRequest`] and says which
//! filters the engine answers (`Exact` or `Inexact` as [`crate::pushdown`] decides; everything
//! else `Unsupported`, evaluated by DataFusion above the scan).

use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::expressions::col;
use isobar_storage::{Order, ScanRequest, Snapshot};

use crate::exec::IsobarExec;
use crate::pushdown::{Pushed, accepts};
use crate::relation::RelationDef;
use crate::scan::ScanRead;

/// One relation of one snapshot.
#[derive(Debug)]
pub(crate) struct IsobarTable {
    snapshot: Snapshot,
    def: RelationDef,
}

impl IsobarTable {
    /// The relation `def` read at `snapshot`.
    pub(crate) fn new(snapshot: Snapshot, def: RelationDef) -> Self {
        Self { snapshot, def }
    }

    /// The relation's definition.
    pub(crate) fn def(&self) -> &RelationDef {
        &self.def
    }

    /// The snapshot it reads.
    pub(crate) fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The scan read for a projection (indices into the relation's schema), the accepted
    /// filters and a limit; `None` when no row can match.
    pub(crate) fn scan_read(
        &self,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Option<ScanRead> {
        let all: Vec<usize>;
        let projection = match projection {
            Some(p) => p,
            None => {
                all = (0..self.def.schema.fields().len()).collect();
                &all
            }
        };
        let pushed = Pushed::from_filters(filters);
        if pushed.is_empty() {
            return None;
        }
        let mut columns: Vec<String> = Vec::new();
        let mut output = Vec::with_capacity(projection.len());
        let mut read_families = vec![false; self.def.table.families.len()];
        for &i in projection {
            match i {
                0 | 1 => output.push(i),
                _ => {
                    let (name, family) = self.def.columns.get(i - 2)?;
                    if let Some(r) = read_families.get_mut(*family) {
                        *r = true;
                    }
                    output.push(2 + columns.len());
                    columns.push(name.clone());
                }
            }
        }
        let projected = columns.clone();
        // Existence: every family whose rows the relation shows is read (see crate::scan).
        for (fi, family) in self.def.table.families.iter().enumerate() {
            let shown = self.def.family.as_ref().is_none_or(|f| f.id == family.id);
            if shown
                && !read_families.get(fi).copied().unwrap_or(true)
                && let Some(first) = family.columns.first()
            {
                columns.push(format!("{}.{}", family.name, first.name));
            }
        }
        if columns.is_empty() {
            return None; // no family with a column: no cell, no row
        }
        let plan = pushed.series_plan();
        let schema = Arc::new(self.def.schema.project(projection).unwrap_or_else(|_| Schema::empty()));
        let request = ScanRequest {
            table: self.def.table.name.clone(),
            selector: isobar_storage::SeriesSelector::All,
            range: pushed.range,
            columns,
            limit,
            limit_per_series: None,
            order: Order::Asc,
            batch_rows: isobar_query::request::DEFAULT_BATCH_ROWS,
        };
        Some(ScanRead {
            snapshot: self.snapshot.clone(),
            relation: self.def.sql_name(),
            request,
            selectors: plan.selectors,
            post: plan.post,
            output,
            schema,
            projected,
        })
    }
}

#[async_trait]
impl TableProvider for IsobarTable {
    fn schema(&self) -> SchemaRef {
        self.def.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters.iter().map(|f| accepts(f)).collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(read) = self.scan_read(projection, filters, limit) else {
            let schema = match projection {
                Some(p) => Arc::new(self.def.schema.project(p)?),
                None => self.def.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        };
        let schema = read.schema.clone();
        let eq = ordering(&schema);
        Ok(Arc::new(IsobarExec::new(Arc::new(read), schema, eq)))
    }
}

/// Scans come out by series, then time: said to DataFusion so that `ORDER BY series, ts` costs
/// nothing. Only when both columns are in the output.
fn ordering(schema: &SchemaRef) -> Option<EquivalenceProperties> {
    let series = col("series", schema).ok()?;
    let ts = col("ts", schema).ok()?;
    let order = vec![PhysicalSortExpr::new_default(series), PhysicalSortExpr::new_default(ts)];
    Some(EquivalenceProperties::new_with_orderings(schema.clone(), [order]))
}
