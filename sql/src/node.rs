//! [`EngineNode`]: a logical plan leaf standing for a read the engine answers whole (an
//! aggregate that replaced DataFusion's `Aggregate`), and the planner that turns it into an
//! [`IsobarExec`]. The optimizer rules of [`crate::rewrite`] put these nodes into plans.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::error::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use crate::exec::{EngineRead, IsobarExec};

/// A read the engine answers, with the schema of the plan node it replaced.
#[derive(Clone, Debug)]
pub(crate) struct EngineNode {
    pub(crate) read: Arc<dyn EngineRead>,
    pub(crate) schema: DFSchemaRef,
}

impl PartialEq for EngineNode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.read, &other.read) && self.schema == other.schema
    }
}

impl Eq for EngineNode {}

impl PartialOrd for EngineNode {
    fn partial_cmp(&self, _other: &Self) -> Option<Ordering> {
        None
    }
}

impl Hash for EngineNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.read) as *const () as usize).hash(state);
    }
}

/// Shows the read in `EXPLAIN`'s logical plan.
struct Described<'a>(&'a dyn EngineRead);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)
    }
}

impl UserDefinedLogicalNodeCore for EngineNode {
    fn name(&self) -> &str {
        "IsobarEngine"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        Vec::new()
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsobarEngine: {}", Described(self.read.as_ref()))
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, _inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(self.clone())
    }
}

/// Plans [`EngineNode`]s; everything else is DataFusion's.
#[derive(Debug, Default)]
pub(crate) struct IsobarQueryPlanner;

#[async_trait]
impl QueryPlanner for IsobarQueryPlanner {
    async fn create_physical_plan(&self, plan: &LogicalPlan, session: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(EnginePlanner)])
            .create_physical_plan(plan, session)
            .await
    }
}

struct EnginePlanner;

#[async_trait]
impl ExtensionPlanner for EnginePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        _physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<EngineNode>() else { return Ok(None) };
        let schema = Arc::new(node.schema.as_arrow().clone());
        Ok(Some(Arc::new(IsobarExec::new(node.read.clone(), schema, None))))
    }
}
