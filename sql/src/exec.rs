//! [`IsobarExec`]: the leaf of every physical plan that reads Isobar. It runs one engine read
//! ([`EngineRead`]: a scan, an aggregate or a latest-value query) on tokio's blocking pool and
//! hands its record batches to DataFusion through a bounded channel; dropping the stream stops
//! the read at its next batch. `EXPLAIN` shows what the engine was asked (relation, columns,
//! series, time range, limit, aggregate, latest), so every push-down is visible.

use std::fmt;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream,
};

/// Batches a read may have queued ahead of the consumer.
const CHANNEL_BATCHES: usize = 2;

/// One read the engine answers; runs on a blocking thread.
pub(crate) trait EngineRead: fmt::Debug + Send + Sync + 'static {
    /// What the engine is asked, for `EXPLAIN` (e.g. `scan public.readings columns=[..] ...`).
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Reads, calling `emit` with each batch (of the exec's schema) until it returns false.
    fn run(&self, batch_rows: usize, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<()>;

    /// For rules that adjust a read already planned (gap filling).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The leaf plan node over an [`EngineRead`].
#[derive(Debug)]
pub(crate) struct IsobarExec {
    read: Arc<dyn EngineRead>,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
}

impl IsobarExec {
    /// A node producing `schema` from `read`, one partition, in `eq` (its orderings).
    pub(crate) fn new(read: Arc<dyn EngineRead>, schema: SchemaRef, eq: Option<EquivalenceProperties>) -> Self {
        let eq = eq.unwrap_or_else(|| EquivalenceProperties::new(schema.clone()));
        let props = PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self { read, schema, props: Arc::new(props) }
    }
}

impl DisplayAs for IsobarExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsobarExec: ")?;
        self.read.describe(f)
    }
}

impl ExecutionPlan for IsobarExec {
    fn name(&self) -> &str {
        "IsobarExec"
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("IsobarExec has one partition, asked for {partition}")));
        }
        let batch_rows = context.session_config().batch_size();
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), CHANNEL_BATCHES);
        let tx = builder.tx();
        let read = self.read.clone();
        builder.spawn_blocking(move || read.run(batch_rows, &mut |batch| tx.blocking_send(Ok(batch)).is_ok()));
        Ok(builder.build())
    }
}

/// An engine error as DataFusion carries it (classified again by [`crate::SqlError`]).
pub(crate) fn engine_err(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
