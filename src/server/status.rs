//! gRPC statuses of read-side errors. Engine, conversion and argument errors are classified by
//! [`isobar_ingest::status::classify`] (the one mapping of engine errors); this adds, in one
//! exhaustive `match`, the read-request checks, the query engine's errors and Arrow encoding.

use isobar_ingest::status::{ApiError, storage_status};
use isobar_query::ipc::IpcError;
use isobar_query::projection::ProjectionError;
use isobar_query::request::RequestError;
use tonic::{Code, Status};

/// An error of a read or export call.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The request is malformed (selector, range, column references, enums).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The query engine refused or failed (boxed: it is large).
    #[error(transparent)]
    Engine(Box<isobar_query::Error>),
    /// The answer could not be encoded as Arrow IPC (a bug).
    #[error(transparent)]
    Ipc(#[from] IpcError),
    /// The engine or another server-side check refused.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<isobar_query::Error> for QueryError {
    fn from(e: isobar_query::Error) -> Self {
        QueryError::Engine(Box::new(e))
    }
}

impl From<arrow_schema::ArrowError> for QueryError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        QueryError::Api(ApiError::Storage(isobar_storage::Error::Arrow(e)))
    }
}

impl From<isobar_storage::Error> for QueryError {
    fn from(e: isobar_storage::Error) -> Self {
        QueryError::Api(ApiError::Storage(e))
    }
}

/// The code of a query-engine error other than an engine (storage) error.
fn engine_code(e: &isobar_query::Error) -> Code {
    use isobar_query::Error as E;
    match e {
        E::Projection(ProjectionError::UnknownFamily { .. } | ProjectionError::UnknownColumn { .. }) => Code::NotFound,
        E::Projection(ProjectionError::NotNumeric { .. })
        | E::EmptyRange { .. }
        | E::BucketWidth { .. }
        | E::NoAggregations
        | E::Column { .. }
        | E::WildcardAggregation { .. }
        | E::DuplicateOutput { .. }
        | E::FillNeedsBucket { .. }
        | E::FillNeedsBoundedRange { .. }
        | E::TooManyBuckets { .. } => Code::InvalidArgument,
        E::SumOverflow { .. } => Code::OutOfRange,
        E::DestinationNotEmpty { .. } => Code::FailedPrecondition,
        E::Io { .. } | E::WorkerPanicked | E::Arrow(_) | E::Parquet(_) | E::Storage(_) => Code::Internal,
    }
}

impl From<QueryError> for Status {
    fn from(error: QueryError) -> Status {
        match error {
            QueryError::Request(e) => Status::new(Code::InvalidArgument, e.to_string()),
            QueryError::Engine(e) => match *e {
                isobar_query::Error::Storage(e) => storage_status(e),
                e => Status::new(engine_code(&e), e.to_string()),
            },
            QueryError::Ipc(e) => Status::new(Code::Internal, e.to_string()),
            QueryError::Api(e) => e.into(),
        }
    }
}
