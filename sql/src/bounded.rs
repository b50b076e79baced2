//! [`Bounded`]: the stream a query's caller reads. It holds the query's concurrency slot until it
//! ends or is dropped, fails with `DeadlineExceeded` once the timeout passes, and names the
//! memory limit when DataFusion's pool refuses an allocation.

use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::RecordBatchStream;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::Stream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;

use crate::error::{SqlError, SqlErrorKind};

/// A query's output under its bounds.
pub(crate) struct Bounded {
    inner: Option<SendableRecordBatchStream>,
    schema: SchemaRef,
    deadline: Pin<Box<Sleep>>,
    timeout: std::time::Duration,
    memory_limit: usize,
    _permit: OwnedSemaphorePermit,
}

impl Bounded {
    /// `inner` bounded by `deadline`, holding `permit`.
    pub(crate) fn new(
        inner: SendableRecordBatchStream,
        deadline: Pin<Box<Sleep>>,
        timeout: std::time::Duration,
        memory_limit: usize,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let schema = inner.schema();
        Self { inner: Some(inner), schema, deadline, timeout, memory_limit, _permit: permit }
    }
}

impl Stream for Bounded {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.inner.is_none() {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.inner = None; // stops the reads and frees the query's memory
            return Poll::Ready(Some(Err(timeout_error(self.timeout))));
        }
        let limit = self.memory_limit;
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Err(e))) => {
                self.inner = None;
                Poll::Ready(Some(Err(name_limit(e, limit))))
            }
            Poll::Ready(None) => {
                self.inner = None;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

impl RecordBatchStream for Bounded {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// The error for a query past its timeout.
pub(crate) fn timeout_error(timeout: std::time::Duration) -> DataFusionError {
    DataFusionError::External(Box::new(timeout_sql_error(timeout)))
}

/// [`timeout_error`] as a [`SqlError`].
pub(crate) fn timeout_sql_error(timeout: std::time::Duration) -> SqlError {
    SqlError::new(
        SqlErrorKind::DeadlineExceeded,
        format!(
            "the query ran longer than the SQL timeout of {timeout:?} ([sql] timeout, ISOBAR_SQL_TIMEOUT) and was \
             stopped; narrow the time range or series, or raise the timeout"
        ),
    )
}

/// A memory-pool refusal rewritten to name the configured limit; other errors unchanged.
pub(crate) fn name_limit(e: DataFusionError, limit: usize) -> DataFusionError {
    if let DataFusionError::ResourcesExhausted(msg) = e.find_root() {
        return DataFusionError::External(Box::new(SqlError::new(
            SqlErrorKind::ResourceExhausted,
            format!(
                "the query needs more memory than the SQL memory limit of {limit} bytes ([sql] memory_limit, \
                 ISOBAR_SQL_MEMORY_LIMIT): {msg}; narrow the query (time range, series, fewer groups) or raise the limit"
            ),
        )));
    }
    e
}
