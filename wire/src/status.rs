//! Every error the server can answer with, and its gRPC status: one exhaustive `match`
//! ([`classify`]) decides the code and whether a retry may succeed.
//!
//! | error | code | retryable |
//! |---|---|---|
//! | wire shape ([`ConvertError`], [`TableError`], [`SelectorError`]), bad names, wrong types, limits | `INVALID_ARGUMENT` | no |
//! | unknown table, family or column | `NOT_FOUND` | no |
//! | table, family or column exists | `ALREADY_EXISTS` | no |
//! | engine behind ([`Error::Overloaded`]), too many bytes in flight ([`ApiError::Busy`]) | `RESOURCE_EXHAUSTED` | yes |
//! | database closing, flushes failing (retried), or read-only after a background failure | `UNAVAILABLE` | closing, flushing: yes |
//! | corrupt file or WAL record | `DATA_LOSS` | no |
//! | a feature this build does not have | `UNIMPLEMENTED` | no |
//! | disk errors, bugs, answers that cannot be encoded ([`IpcError`]) | `INTERNAL` | no |
//!
//! The read side's own errors (`isobar_query::Error`: unknown columns, bad aggregations,
//! export destinations) are classified in `isobar_query::status` with the same vocabulary
//! ([`Classified`], [`status_with`]) and hand every engine error back to [`classify_storage`]:
//! this crate sits below `isobar-query` and cannot name its types.
//!
//! A retryable status carries the metadata `grpc-retry-pushback-ms` (the hint gRPC clients with
//! a retry policy honour) and `isobar-retryable: true`; the message also says how long to wait.

use std::time::Duration;

use isobar_storage::{Error, InvalidInput};
use tonic::{Code, Status};

use crate::ipc::IpcError;
use crate::selector::SelectorError;
use crate::table::TableError;
use crate::write::ConvertError;

/// Metadata key of the retry hint, in milliseconds (gRPC's server pushback key).
pub const RETRY_PUSHBACK_KEY: &str = "grpc-retry-pushback-ms";
/// Metadata key set to `true` on statuses that may succeed when retried.
pub const RETRYABLE_KEY: &str = "isobar-retryable";

/// An error of a server call, before it becomes a [`Status`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The engine refused or failed.
    #[error(transparent)]
    Storage(#[from] Error),
    /// A write request of the wrong shape.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// A table definition the server cannot use.
    #[error(transparent)]
    Table(#[from] TableError),
    /// A series selector or time range the server cannot use.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// An answer that could not be encoded as Arrow IPC (a bug in the producer).
    #[error(transparent)]
    Ipc(#[from] IpcError),
    /// A request field that is missing or wrong (outside the conversions above).
    #[error("{field}: {reason}")]
    Argument {
        /// The field, e.g. `table` or `actions[2]`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Too many bytes of write requests are being processed; nothing was written.
    #[error(
        "server busy: {inflight} bytes of writes in progress and this request needs {needed} more (limit {limit}); retry in {retry_after:?}"
    )]
    Busy {
        /// Bytes admitted and not yet finished.
        inflight: u64,
        /// This request's size.
        needed: u64,
        /// `server.max_inflight_write_bytes`.
        limit: u64,
        /// Suggested wait.
        retry_after: Duration,
    },
    /// The method exists in the API but this build cannot serve it.
    #[error("{method} is not available: {reason}")]
    Unimplemented {
        /// The method, e.g. `Admin/Compact`.
        method: &'static str,
        /// Why, and what to do instead.
        reason: &'static str,
    },
    /// A worker task died (a bug); the request may or may not have been applied.
    #[error("internal error: worker task failed: {0}")]
    TaskFailed(String),
}

/// The gRPC code of an error, and whether the same request may succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The status code.
    pub code: Code,
    /// True when retrying may succeed; `retry_after` is the hint.
    pub retryable: bool,
    /// How long to wait before retrying, when known.
    pub retry_after: Option<Duration>,
}

impl Classified {
    /// A status that the same request will get again.
    pub const fn fatal(code: Code) -> Self {
        Self { code, retryable: false, retry_after: None }
    }

    /// A status that may go away after `after`.
    pub const fn retry(code: Code, after: Duration) -> Self {
        Self { code, retryable: true, retry_after: Some(after) }
    }
}

/// The one place that decides codes: every variant is named, so a new error must be classified.
pub fn classify(error: &ApiError) -> Classified {
    match error {
        ApiError::Storage(e) => classify_storage(e),
        ApiError::Convert(
            ConvertError::EmptyRequest
            | ConvertError::TooManyRows { .. }
            | ConvertError::ValuesLength { .. }
            | ConvertError::ValidityLength { .. }
            | ConvertError::ValidityPadding { .. }
            | ConvertError::NullsLength { .. }
            | ConvertError::NullsPadding { .. }
            | ConvertError::MissingValues { .. }
            | ConvertError::MissingCellValue { .. }
            | ConvertError::NullWithValue { .. }
            | ConvertError::DuplicateCell { .. }
            | ConvertError::CellTypeConflict { .. }
            | ConvertError::UnknownTsUnit { .. }
            | ConvertError::TsOutOfRange { .. },
        ) => Classified::fatal(Code::InvalidArgument),
        ApiError::Table(TableError::BadColumnType { .. }) => Classified::fatal(Code::InvalidArgument),
        ApiError::Selector(SelectorError::Missing | SelectorError::InvertedRange { .. }) => {
            Classified::fatal(Code::InvalidArgument)
        }
        ApiError::Ipc(IpcError::Arrow(_) | IpcError::SchemaMismatch { .. }) => Classified::fatal(Code::Internal),
        ApiError::Argument { .. } => Classified::fatal(Code::InvalidArgument),
        ApiError::Busy { retry_after, .. } => Classified::retry(Code::ResourceExhausted, *retry_after),
        ApiError::Unimplemented { .. } => Classified::fatal(Code::Unimplemented),
        ApiError::TaskFailed(_) => Classified::fatal(Code::Internal),
    }
}

/// Codes of engine errors.
pub fn classify_storage(error: &Error) -> Classified {
    match error {
        Error::Invalid(invalid) => Classified::fatal(invalid_code(invalid)),
        Error::Overloaded { retry_after, .. } => Classified::retry(Code::ResourceExhausted, *retry_after),
        Error::Closed => Classified::retry(Code::Unavailable, Duration::from_secs(1)),
        Error::Poisoned(_) => Classified::fatal(Code::Unavailable),
        Error::Suspended(_) => Classified::retry(Code::Unavailable, Duration::from_secs(5)),
        Error::Locked { .. } => Classified::fatal(Code::Unavailable),
        Error::WalPayload { .. } | Error::WalMismatch { .. } => Classified::fatal(Code::DataLoss),
        Error::FlushFailing { .. } => Classified::retry(Code::Unavailable, Duration::from_secs(1)),
        Error::DiskFull { resumes: true, .. } => Classified::retry(Code::ResourceExhausted, Duration::from_secs(5)),
        Error::DiskFull { resumes: false, .. } => Classified::fatal(Code::ResourceExhausted),
        Error::Wal(isobar_storage::wal::Error::Corrupt { .. }) => Classified::fatal(Code::DataLoss),
        Error::Wal(isobar_storage::wal::Error::Closed) => Classified::retry(Code::Unavailable, Duration::from_secs(1)),
        Error::Sst(isobar_storage::sst::Error::Corrupt { .. }) => Classified::fatal(Code::DataLoss),
        Error::Manifest(isobar_storage::manifest::Error::Corrupt { .. }) => Classified::fatal(Code::DataLoss),
        Error::Wal(_) | Error::Sst(_) | Error::Manifest(_) | Error::Arrow(_) | Error::Io { .. } => {
            Classified::fatal(Code::Internal)
        }
        // `Error` is non-exhaustive: a variant added later is internal until it is classified here.
        _ => Classified::fatal(Code::Internal),
    }
}

/// Codes of requests the engine refuses.
fn invalid_code(invalid: &InvalidInput) -> Code {
    match invalid {
        InvalidInput::UnknownTable { .. } | InvalidInput::UnknownFamily { .. } | InvalidInput::UnknownColumn { .. } => {
            Code::NotFound
        }
        InvalidInput::TableExists { .. } | InvalidInput::FamilyExists { .. } | InvalidInput::ColumnExists { .. } => {
            Code::AlreadyExists
        }
        InvalidInput::InvalidName { .. }
        | InvalidInput::TypeMismatch { .. }
        | InvalidInput::LengthMismatch { .. }
        | InvalidInput::DuplicateColumn { .. }
        | InvalidInput::TimestampOutOfRange { .. }
        | InvalidInput::AllExpired { .. }
        | InvalidInput::BadSeriesKey { .. }
        | InvalidInput::StringTooLong { .. }
        | InvalidInput::TooManyRows { .. }
        | InvalidInput::BadProducerId { .. }
        | InvalidInput::ProducerSeqZero { .. }
        | InvalidInput::Empty(_)
        | InvalidInput::Impossible(_) => Code::InvalidArgument,
        InvalidInput::TooManyColumns { .. }
        | InvalidInput::TooManyNewColumns { .. }
        | InvalidInput::TooManySeries { .. }
        | InvalidInput::TooManyCells { .. }
        | InvalidInput::TooManyProducers { .. } => Code::ResourceExhausted,
        // `InvalidInput` is non-exhaustive: a variant added later is a bad argument until classified here.
        _ => Code::InvalidArgument,
    }
}

/// A status with `code`, `message` and, when `class` is retryable, the retry metadata.
pub fn status_with(class: Classified, message: String) -> Status {
    let mut status = Status::new(class.code, message);
    if class.retryable {
        let meta = status.metadata_mut();
        meta.insert(RETRYABLE_KEY, tonic::metadata::MetadataValue::from_static("true"));
        if let Some(after) = class.retry_after {
            let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
            meta.insert(RETRY_PUSHBACK_KEY, ms.into());
        }
    }
    status
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        status_with(classify(&error), error.to_string())
    }
}

impl ApiError {
    /// The status of this error with `prefix: ` before its message (e.g. the message index of a
    /// stream).
    pub fn into_status_at(self, prefix: &str) -> Status {
        status_with(classify(&self), format!("{prefix}: {self}"))
    }
}

/// The status of an engine error.
pub fn storage_status(error: Error) -> Status {
    ApiError::Storage(error).into()
}

/// The retry hint a status carries, if it is retryable.
pub fn retry_hint(status: &Status) -> Option<Duration> {
    let ms = status.metadata().get(RETRY_PUSHBACK_KEY)?.to_str().ok()?.parse().ok()?;
    Some(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_is_resource_exhausted_with_a_hint() {
        let e =
            ApiError::Storage(Error::Overloaded { reason: "flush behind".into(), retry_after: Duration::from_secs(2) });
        let status = Status::from(e);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(status.message().contains("flush behind"), "{}", status.message());
        assert_eq!(retry_hint(&status), Some(Duration::from_secs(2)));
        assert_eq!(status.metadata().get(RETRYABLE_KEY).and_then(|v| v.to_str().ok()), Some("true"));
    }

    #[test]
    fn caller_errors_are_not_retryable() {
        let unknown = ApiError::Storage(InvalidInput::UnknownTable { table: "nope".into() }.into());
        let status = Status::from(unknown);
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "table \"nope\" does not exist");
        assert_eq!(retry_hint(&status), None);
        assert_eq!(Status::from(ApiError::Convert(ConvertError::EmptyRequest)).code(), Code::InvalidArgument);
        let exists = ApiError::Storage(InvalidInput::TableExists { table: "t".into() }.into());
        assert_eq!(Status::from(exists).code(), Code::AlreadyExists);
    }

    #[test]
    fn column_limits_are_resource_exhausted_naming_their_config_key() {
        let columns = InvalidInput::TooManyColumns { table: "t".into(), columns: 4097, max: 4096 };
        let status = Status::from(ApiError::Storage(columns.into()));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(status.message().contains("storage.max_columns_per_table"), "{}", status.message());
        assert_eq!(retry_hint(&status), None);
        let new = InvalidInput::TooManyNewColumns { table: "t".into(), new: 1025, max: 1024 };
        let status = Status::from(ApiError::Storage(new.into()));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(status.message().contains("storage.max_new_columns_per_request"), "{}", status.message());
    }

    #[test]
    fn busy_and_closed_are_retryable() {
        let busy = ApiError::Busy { inflight: 10, needed: 5, limit: 12, retry_after: Duration::from_millis(250) };
        let status = Status::from(busy);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(retry_hint(&status), Some(Duration::from_millis(250)));
        let closed = classify(&ApiError::Storage(Error::Closed));
        assert_eq!((closed.code, closed.retryable), (Code::Unavailable, true));
        let poisoned = classify(&ApiError::Storage(Error::Poisoned("disk".into())));
        assert_eq!((poisoned.code, poisoned.retryable), (Code::Unavailable, false));
    }

    #[test]
    fn prefix_names_the_message() {
        let status = ApiError::Convert(ConvertError::EmptyRequest).into_status_at("message 3");
        assert!(status.message().starts_with("message 3: the write request has no rows"), "{}", status.message());
    }
}
