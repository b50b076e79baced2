//! [`SqlPlan`]: a planned statement: its result schema and parameters, binding, `EXPLAIN`, and
//! execution under the bounds of [`crate::SqlOptions`].

use std::sync::Arc;

use arrow_schema::{DataType, SchemaRef};
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionState;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream, displayable, execute_stream};
use datafusion::scalar::ScalarValue;
use tokio::time::Instant;

use crate::bounded::{Bounded, name_limit, timeout_sql_error};
use crate::engine::Shared;
use crate::error::{SqlError, SqlErrorKind};

/// A parsed, checked and planned statement over one snapshot.
pub struct SqlPlan {
    shared: Arc<Shared>,
    state: SessionState,
    plan: LogicalPlan,
}

impl std::fmt::Debug for SqlPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlPlan").field("plan", &self.plan.display_indent().to_string()).finish_non_exhaustive()
    }
}

impl SqlPlan {
    pub(crate) fn new(shared: Arc<Shared>, state: SessionState, plan: LogicalPlan) -> Self {
        Self { shared, state, plan }
    }

    /// The result schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(self.plan.schema().as_arrow().clone())
    }

    /// The types of `$1`, `$2`, ... in order; `Null` where the statement does not fix a type
    /// (any value is then accepted and coerced where it is used).
    pub fn parameter_types(&self) -> Vec<DataType> {
        let Ok(types) = self.plan.get_parameter_types() else { return Vec::new() };
        let mut numbered: Vec<(usize, DataType)> = types
            .into_iter()
            .filter_map(|(id, ty)| Some((id.strip_prefix('$')?.parse().ok()?, ty.unwrap_or(DataType::Null))))
            .collect();
        numbered.sort_by_key(|(n, _)| *n);
        let count = numbered.last().map_or(0, |(n, _)| *n);
        let mut out = vec![DataType::Null; count];
        for (n, ty) in numbered {
            if let Some(slot) = n.checked_sub(1).and_then(|i| out.get_mut(i)) {
                *slot = ty;
            }
        }
        out
    }

    /// Binds `$1`, `$2`, ... to `params`; a wrong count or a value of the wrong type answers
    /// `InvalidArgument`.
    pub fn bind(self, params: Vec<ScalarValue>) -> Result<SqlPlan, SqlError> {
        let expected = self.parameter_types().len();
        if params.len() != expected {
            return Err(SqlError::new(
                SqlErrorKind::InvalidArgument,
                format!(
                    "the statement has {expected} parameter(s) ($1..${expected}) but {} value(s) were bound",
                    params.len()
                ),
            ));
        }
        let plan = self.plan.with_param_values(params).map_err(|e| {
            let e = SqlError::from(e);
            SqlError::new(SqlErrorKind::InvalidArgument, format!("cannot bind parameters: {}", e.message()))
        })?;
        Ok(SqlPlan { plan, ..self })
    }

    /// Runs under the memory limit, timeout and concurrency cap; dropping the stream cancels.
    pub async fn execute(self) -> Result<SendableRecordBatchStream, SqlError> {
        let options = &self.shared.options;
        let permit = self.shared.slots.clone().try_acquire_owned().map_err(|_| {
            SqlError::new(
                SqlErrorKind::ResourceExhausted,
                format!(
                    "{} SQL queries are already running, the most allowed at once ([sql] max_concurrent_queries, \
                     ISOBAR_SQL_MAX_CONCURRENT_QUERIES); retry when one has finished",
                    options.max_concurrent_queries
                ),
            )
        })?;
        let deadline = Instant::now() + options.timeout;
        let (timeout, limit) = (options.timeout, options.memory_limit_bytes);
        let started = tokio::time::timeout_at(deadline, self.start()).await;
        let stream = started.map_err(|_| timeout_sql_error(timeout))??;
        Ok(Box::pin(Bounded::new(stream, Box::pin(tokio::time::sleep_until(deadline)), timeout, limit, permit)))
    }

    /// The optimized logical plan and the physical plan, as text (the physical plan's
    /// `IsobarExec` lines say what the engine answers).
    pub async fn explain(&self) -> Result<String, SqlError> {
        let optimized = self.state.optimize(&self.plan)?;
        let physical = self.state.create_physical_plan(&self.plan).await?;
        Ok(format!(
            "logical plan:\n{}\nphysical plan:\n{}",
            optimized.display_indent(),
            displayable(physical.as_ref()).indent(true)
        ))
    }

    /// The physical plan (tests look at it).
    pub(crate) async fn physical(&self) -> Result<Arc<dyn ExecutionPlan>, SqlError> {
        Ok(self.state.create_physical_plan(&self.plan).await?)
    }

    /// Plans physically and starts the stream with the query's own memory pool.
    async fn start(&self) -> Result<SendableRecordBatchStream, SqlError> {
        let limit = self.shared.options.memory_limit_bytes;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(limit, 1.0)
            .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled))
            .build_arc()?;
        let physical = self.physical().await?;
        let task = Arc::new(TaskContext::from(&self.state).with_runtime(runtime));
        execute_stream(physical, task).map_err(|e| SqlError::from(name_limit(e, limit)))
    }
}
