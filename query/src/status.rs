//! gRPC statuses of read-side errors, in one exhaustive `match` ([`ReadError::classified`]):
//! the read-request checks and the query engine's own errors are decided here; every engine
//! (storage), wire-conversion and server error is handed to the one table in
//! [`isobar_wire::status`], so a storage error reads the same from every service.
//!
//! | error | code | retryable |
//! |---|---|---|
//! | malformed request ([`RequestError`]), bad aggregation or fill, function on a non-numeric column | `INVALID_ARGUMENT` | no |
//! | unknown family or column | `NOT_FOUND` | no |
//! | integer sum overflow | `OUT_OF_RANGE` | no |
//! | export column names that clash | `INVALID_ARGUMENT` | no |
//! | export destination not empty, or holding files no export wrote | `FAILED_PRECONDITION` | no |
//! | export I/O, worker panics, Arrow/Parquet failures | `INTERNAL` | no |
//! | engine errors | as [`isobar_wire::status::classify_storage`] | as there |

use isobar_wire::status::{ApiError, Classified, classify, classify_storage, status_with};
use tonic::{Code, Status};

use crate::request::RequestError;
use crate::resolve::ResolveError;

/// An error of a read or export call.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The request is malformed (selector, range, column references, enums).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The query engine refused or failed (boxed: it is large).
    #[error(transparent)]
    Engine(Box<crate::Error>),
    /// The engine, the wire encoding or another server-side check refused.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<crate::Error> for ReadError {
    fn from(e: crate::Error) -> Self {
        ReadError::Engine(Box::new(e))
    }
}

impl From<isobar_wire::ipc::IpcError> for ReadError {
    fn from(e: isobar_wire::ipc::IpcError) -> Self {
        ReadError::Api(ApiError::Ipc(e))
    }
}

impl From<arrow_schema::ArrowError> for ReadError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        ReadError::Api(ApiError::Storage(isobar_storage::Error::Arrow(e)))
    }
}

impl From<isobar_storage::Error> for ReadError {
    fn from(e: isobar_storage::Error) -> Self {
        ReadError::Api(ApiError::Storage(e))
    }
}

impl ReadError {
    /// The code of this error and whether a retry may succeed.
    pub fn classified(&self) -> Classified {
        use crate::Error as E;
        let fatal = Classified::fatal;
        match self {
            ReadError::Request(_) => fatal(Code::InvalidArgument),
            ReadError::Api(e) => classify(e),
            ReadError::Engine(e) => match e.as_ref() {
                E::Storage(e) => classify_storage(e),
                E::Resolve(ResolveError::UnknownFamily { .. } | ResolveError::UnknownColumn { .. }) => {
                    fatal(Code::NotFound)
                }
                E::Resolve(ResolveError::NotNumeric { .. })
                | E::EmptyRange { .. }
                | E::BucketWidth { .. }
                | E::TimeZone { .. }
                | E::CalendarOrigin
                | E::MonthsAndWidth { .. }
                | E::ZoneNeedsDays { .. }
                | E::NoAggregations
                | E::WildcardAggregation { .. }
                | E::DuplicateOutput { .. }
                | E::FillNeedsBucket { .. }
                | E::FillNeedsBoundedRange { .. }
                | E::TooManyBuckets { .. }
                | E::ExportColumnName { .. } => fatal(Code::InvalidArgument),
                E::SumOverflow { .. } => fatal(Code::OutOfRange),
                E::DestinationNotEmpty { .. } | E::DestinationForeign { .. } => fatal(Code::FailedPrecondition),
                E::ExportQuota { .. } => fatal(Code::ResourceExhausted),
                E::Io { .. } | E::WorkerPanicked | E::Arrow(_) | E::Parquet(_) => fatal(Code::Internal),
            },
        }
    }
}

impl From<ReadError> for Status {
    fn from(error: ReadError) -> Status {
        status_with(error.classified(), error.to_string())
    }
}
