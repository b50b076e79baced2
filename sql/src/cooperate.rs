//! [`YieldingJoins`]: joins hand control back to the runtime between batches, so that a query's
//! timeout and a client's cancel can stop it.
//!
//! A join can make thousands of output batches from one input batch (a cross join of 20,000
//! rows makes 20,000 x 20,000 rows per batch of the other side) without waiting on anything;
//! the aggregate above it then runs inside one poll and nothing else in the task, the deadline
//! of [`crate::SqlOptions::timeout`] included, gets a turn until it is done. Wrapped in
//! DataFusion's `CooperativeExec`, each join spends the task's cooperative budget per batch and
//! yields when it is used up (as DataFusion's own rule does for leaves).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;

/// Wraps every join in `CooperativeExec` (see the module doc).
#[derive(Debug)]
pub(crate) struct YieldingJoins;

impl PhysicalOptimizerRule for YieldingJoins {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.name().ends_with("JoinExec") {
                Ok(Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "isobar_yielding_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
