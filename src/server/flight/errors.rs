//! The errors of the Flight SQL front end and the one table from them to gRPC status codes.
//!
//! Engine errors keep the server-wide mapping of [`isobar_wire::status`] (through
//! [`ApiError`]); what is specific to Flight SQL (a command Isobar does not serve, an ingest
//! whose columns do not fit the target) is mapped in [`IngestError::code`], one exhaustive
//! `match`, so a new variant cannot be served without deciding its code.

use isobar_wire::status::ApiError;
use tonic::{Code, Status};

/// Why a Flight SQL bulk ingest (`CommandStatementIngest`) was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A required column is missing from the Arrow schema.
    #[error("ingest: the record batches have no \"{column}\" column (expected columns: series, ts, then values)")]
    MissingColumn {
        /// `series` or `ts`.
        column: &'static str,
    },
    /// A value, series or ts column cannot be used.
    #[error("ingest: column \"{column}\": {reason}")]
    Column {
        /// The column as named in the Arrow schema.
        column: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A row without a series key or timestamp.
    #[error("ingest: row {row} has a null {column} (series and ts identify a row and cannot be null)")]
    NullKey {
        /// `series` or `ts`.
        column: &'static str,
        /// Row index in the request, counted over all its batches from 0.
        row: usize,
    },
    /// A later batch of the stream has another schema than the first.
    #[error("ingest: every record batch of one request must have the schema of the first")]
    SchemaChanged,
    /// The command asks for something Isobar's ingest does not do.
    #[error("ingest: {0}")]
    Unsupported(String),
    /// A field of the command is wrong (names, catalog, schema).
    #[error("ingest: {0}")]
    Argument(String),
    /// The target relation does not exist.
    #[error("ingest: {0}")]
    NotFound(String),
    /// The target exists and the command asked to fail when it does.
    #[error("ingest: {0}")]
    Exists(String),
    /// The request has more rows than `server.max_rows_per_request`.
    #[error("ingest: {rows} rows in one request, more than server.max_rows_per_request = {limit}; split the data")]
    TooManyRows {
        /// Rows sent.
        rows: usize,
        /// The limit.
        limit: usize,
    },
    /// The Arrow IPC stream could not be decoded.
    #[error("ingest: the Arrow IPC stream cannot be decoded: {0}")]
    Decode(String),
    /// The engine, the write budget or the server refused (its own status mapping).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl IngestError {
    /// The gRPC code of this error.
    pub fn code(&self) -> Code {
        match self {
            IngestError::MissingColumn { .. }
            | IngestError::Column { .. }
            | IngestError::NullKey { .. }
            | IngestError::SchemaChanged
            | IngestError::Argument(_)
            | IngestError::TooManyRows { .. }
            | IngestError::Decode(_) => Code::InvalidArgument,
            IngestError::Unsupported(_) => Code::Unimplemented,
            IngestError::NotFound(_) => Code::NotFound,
            IngestError::Exists(_) => Code::AlreadyExists,
            // Classified by the server-wide table in `isobar_wire::status`.
            IngestError::Api(_) => Code::Unknown,
        }
    }
}

impl From<IngestError> for Status {
    fn from(error: IngestError) -> Status {
        match error {
            IngestError::Api(api) => api.into(),
            other => Status::new(other.code(), other.to_string()),
        }
    }
}

impl From<isobar_storage::Error> for IngestError {
    fn from(error: isobar_storage::Error) -> Self {
        IngestError::Api(ApiError::Storage(error))
    }
}
