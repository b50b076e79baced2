//! gRPC statuses of read-side errors. Engine, conversion and argument errors are classified by
//! [`isobar_ingest::status::classify`] (the one exhaustive mapping); this adds the read-request
//! checks and Arrow encoding of `isobar-query`.

use isobar_ingest::status::ApiError;
use isobar_query::ipc::IpcError;
use isobar_query::request::RequestError;
use tonic::{Code, Status};

/// An error of a read call.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The request is malformed (selector, range, column references, enums).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The answer could not be encoded as Arrow IPC (a bug).
    #[error(transparent)]
    Ipc(#[from] IpcError),
    /// The engine or another server-side check refused.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<isobar_storage::Error> for QueryError {
    fn from(e: isobar_storage::Error) -> Self {
        QueryError::Api(ApiError::Storage(e))
    }
}

impl From<QueryError> for Status {
    fn from(error: QueryError) -> Status {
        match error {
            QueryError::Request(e) => Status::new(Code::InvalidArgument, e.to_string()),
            QueryError::Ipc(e) => Status::new(Code::Internal, e.to_string()),
            QueryError::Api(e) => e.into(),
        }
    }
}
