//! `latest('<relation>')`: the newest row of every series of a relation, answered by the
//! engine's latest path ([`isobar_query::latest`]: the newest chunks only, no history read).
//!
//! `SELECT * FROM latest('iot.readings') WHERE series LIKE 'truck_%'` reads like the relation
//! itself with one row per series: the row with the greatest `ts` at which the relation has a
//! row (the family's cells for a family relation; any family's for a table relation), with its
//! cells there (null where that row has no value). Conditions on `series` are pushed into the
//! engine (they select series, which commutes with taking each series' newest row); conditions
//! on `ts` and values apply to those newest rows afterwards, as SQL says.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use isobar_query::{LatestMode, LatestQuery};

use crate::catalog::Catalogs;
use crate::exec::{EngineRead, IsobarExec, engine_err};
use crate::provider::IsobarTable;
use crate::pushdown::accepts_series;
use crate::scan::{ScanRead, write_series};

/// The `latest` table function.
#[derive(Debug, Default)]
pub(crate) struct LatestFunction;

impl TableFunctionImpl for LatestFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = match args.exprs() {
            [
                Expr::Literal(
                    ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
                    _,
                ),
            ] => s.clone(),
            _ => {
                return Err(DataFusionError::Plan(
                    "latest() takes one string, the relation: latest('iot.readings') or latest('iot')".into(),
                ));
            }
        };
        let catalogs = args.session().catalog_list();
        let table = catalogs
            .downcast_ref::<Catalogs>()
            .and_then(|c| c.relation(&name))
            .ok_or_else(|| DataFusionError::Plan(format!("latest('{name}'): relation {name} not found")))?;
        Ok(Arc::new(LatestTable { table }))
    }
}

/// The relation of `latest(..)`.
#[derive(Debug)]
struct LatestTable {
    table: IsobarTable,
}

#[async_trait]
impl TableProvider for LatestTable {
    fn schema(&self) -> SchemaRef {
        self.table.def().schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters.iter().map(|f| accepts_series(f)).collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(scan) = self.table.scan_read(projection, filters, limit) else {
            let schema = match projection {
                Some(p) => Arc::new(self.table.def().schema.project(p)?),
                None => self.table.def().schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        };
        let schema = scan.schema.clone();
        Ok(Arc::new(IsobarExec::new(Arc::new(LatestRead { scan }), schema, None)))
    }
}

/// The newest row per series, through the engine's latest path.
#[derive(Debug)]
struct LatestRead {
    /// The scan this replaces: its columns, selectors, output mapping, schema and limit.
    scan: ScanRead,
}

impl EngineRead for LatestRead {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "latest {} columns=[{}]", self.scan.relation, self.scan.projected.join(", "))?;
        write_series(f, &self.scan.selectors, &self.scan.post)?;
        if let Some(limit) = self.scan.request.limit {
            write!(f, " limit={limit}")?;
        }
        Ok(())
    }

    fn run(&self, _batch_rows: usize, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<()> {
        let columns = self
            .scan
            .request
            .columns
            .iter()
            .map(|c| c.parse().map_err(|e| DataFusionError::Internal(format!("column {c}: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let mut remaining = self.scan.request.limit;
        for selector in &self.scan.selectors {
            if remaining == Some(0) {
                break;
            }
            let mut q = LatestQuery::new(self.scan.request.table.clone());
            q.selector = selector.clone();
            q.columns = columns.clone();
            q.mode = LatestMode::Row;
            let batch = self.scan.filter(isobar_query::latest(self.scan.snapshot_ref(), &q).map_err(engine_err)?)?;
            let batch = match remaining {
                Some(r) if batch.num_rows() > r => batch.slice(0, r),
                _ => batch,
            };
            if let Some(r) = remaining.as_mut() {
                *r -= batch.num_rows();
            }
            if batch.num_rows() > 0 && !emit(self.scan.project(&batch)?) {
                return Ok(());
            }
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
